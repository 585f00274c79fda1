//! OpenSSH `allowed_signers` files (ssh-keygen(1), ALLOWED SIGNERS): which
//! public keys may sign for which principals. A line is
//! `principals [options] keytype base64 [comment]`; principals are
//! comma-separated patterns (`*`, `?`, `!` to exclude). Of the options,
//! `namespaces="…"` limits a key to those namespaces and `valid-after` /
//! `valid-before` (UTC `YYYYMMDD[HHMM[SS]]`) to a period around now;
//! `cert-authority` lines are skipped (certificates are not supported).

use ssh_key::public::KeyData;
use ssh_key::PublicKey;

/// One usable line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    principals: Vec<String>,
    namespaces: Option<Vec<String>>,
    valid_after: Option<String>,
    valid_before: Option<String>,
    key: KeyData,
}

/// The parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    entries: Vec<Entry>,
}

impl AllowedSigners {
    /// Parses the file's text; lines that cannot be used are skipped and
    /// described in the second value (with their line numbers).
    pub fn parse(text: &str) -> (AllowedSigners, Vec<String>) {
        let mut out = AllowedSigners::default();
        let mut problems = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Ok(Some(e)) => out.entries.push(e),
                Ok(None) => {}
                Err(why) => problems.push(format!("line {}: {why}", i + 1)),
            }
        }
        (out, problems)
    }

    /// Whether `key` may sign in `namespace` for `principal` now (`now`:
    /// UTC `YYYYMMDDHHMMSS`).
    pub fn allows(&self, principal: &str, key: &KeyData, namespace: &str, now: &str) -> bool {
        self.entries.iter().any(|e| {
            &e.key == key
                && principal_matches(&e.principals, principal)
                && e.namespaces.as_ref().is_none_or(|ns| {
                    ns.iter()
                        .any(|n| crate::governance::actor::fnmatch(n, namespace))
                })
                && e.valid_after.as_deref().is_none_or(|t| now >= t)
                && e.valid_before.as_deref().is_none_or(|t| now < t)
        })
    }

    /// Whether any line names `principal`.
    pub fn knows(&self, principal: &str) -> bool {
        self.entries
            .iter()
            .any(|e| principal_matches(&e.principals, principal))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// OpenSSH's `match_pattern_list`: an excluded (`!`) match refuses, else
/// any match accepts.
fn principal_matches(patterns: &[String], principal: &str) -> bool {
    let mut ok = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(neg) if crate::governance::actor::fnmatch(neg, principal) => return false,
            Some(_) => {}
            None => ok |= crate::governance::actor::fnmatch(p, principal),
        }
    }
    ok
}

/// Splits on blanks, keeping `"…"` together (quotes kept inside options).
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' | '\t' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")
}

/// A time option's value as 14 digits (missing parts are zeros).
fn stamp(v: &str) -> Result<String, String> {
    let digits = v.trim_end_matches(['Z', 'z']);
    if ![8, 12, 14].contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("cannot read time '{v}' (write YYYYMMDD[HHMM[SS]])"));
    }
    Ok(format!("{digits:0<14}"))
}

fn parse_line(line: &str) -> Result<Option<Entry>, String> {
    let t = tokens(line);
    if t.len() < 3 {
        return Err("expected 'principals [options] keytype key'".into());
    }
    let unquote = |s: &str| s.trim_matches('"').to_string();
    let principals: Vec<String> = unquote(&t[0]).split(',').map(str::to_string).collect();
    let (options, at) = if is_key_type(&t[1]) {
        (None, 1)
    } else {
        (Some(t[1].as_str()), 2)
    };
    let (Some(kind), Some(b64)) = (t.get(at), t.get(at + 1)) else {
        return Err("no public key".into());
    };
    let key = PublicKey::from_openssh(&format!("{kind} {b64}"))
        .map_err(|e| format!("cannot read the public key: {e}"))?;
    let mut entry = Entry {
        principals,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: key.key_data().clone(),
    };
    for opt in options.map(split_options).unwrap_or_default() {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n.to_ascii_lowercase(), unquote(v)),
            None => (opt.to_ascii_lowercase(), String::new()),
        };
        match name.as_str() {
            "cert-authority" => return Ok(None),
            "namespaces" => entry.namespaces = Some(value.split(',').map(str::to_string).collect()),
            "valid-after" => entry.valid_after = Some(stamp(&value)?),
            "valid-before" => entry.valid_before = Some(stamp(&value)?),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(Some(entry))
}

/// Options are comma-separated, with commas inside quotes kept.
fn split_options(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXPkJPI4TMFWZP4xRBQjNeizUG99KuZCt9G23rX48kz";

    fn key() -> KeyData {
        PublicKey::from_openssh(KEY).unwrap().key_data().clone()
    }

    #[test]
    fn principals_namespaces_and_periods() {
        let text = format!(
            "# team\namy,bob*,!bobby {KEY} amy@laptop\n\
             carol namespaces=\"git,htrac-op\",valid-after=\"20260101\",valid-before=\"20270101Z\" {KEY}\n\
             dave cert-authority {KEY}\n\
             erin {KEY}x\n"
        );
        let (s, problems) = AllowedSigners::parse(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("line 5:"), "{problems:?}");
        let now = "20261206000000";
        assert!(s.allows("amy", &key(), "htrac-op", now));
        assert!(s.allows("bobo", &key(), "htrac-op", now));
        assert!(!s.allows("bobby", &key(), "htrac-op", now));
        assert!(!s.allows("mallory", &key(), "htrac-op", now));
        assert!(s.allows("carol", &key(), "htrac-op", now));
        assert!(!s.allows("carol", &key(), "file", now));
        assert!(!s.allows("carol", &key(), "htrac-op", "20270101000000"));
        assert!(
            !s.allows("dave", &key(), "htrac-op", now),
            "cert-authority lines are skipped"
        );
        assert!(s.knows("amy") && !s.knows("dave"));
    }
}
