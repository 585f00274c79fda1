//! Item IDs: `<KIND_PREFIX>-<8 proquint syllables>`, a content hash of the
//! create op's data, computed bit for bit as the reference does
//! (SHA-256 over Python's `json.dumps(data, sort_keys=True)` + salt).

use serde_json::Value;
use sha2::{Digest, Sha256};

const CONSONANTS: &[u8; 16] = b"bdfghjklmnprstvz";
const VOWELS: &[u8; 4] = b"aiou";

/// The ID of an item of kind `prefix` created with `data`.
pub fn compute_id(prefix: &str, data: &Value, salt: &str) -> String {
    let mut canonical = python_json(data);
    canonical.push_str(salt);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut syllables = Vec::with_capacity(8);
    for word in digest[..16].chunks(4) {
        let w = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        syllables.push(proquint16((w >> 16) as u16));
        syllables.push(proquint16(w as u16));
    }
    format!("{prefix}-{}", syllables.join("-"))
}

/// One proquint syllable (consonant-vowel-consonant-vowel-consonant) for 16 bits.
fn proquint16(n: u16) -> String {
    let n = n as usize;
    let chars = [
        CONSONANTS[(n >> 12) & 0xF],
        VOWELS[(n >> 10) & 0x3],
        CONSONANTS[(n >> 6) & 0xF],
        VOWELS[(n >> 4) & 0x3],
        CONSONANTS[n & 0xF],
    ];
    String::from_utf8(chars.to_vec()).expect("ascii")
}

/// The kind prefix and proquint part of an ID: `WI-fohog-...` → (`WI`, `fohog-...`).
pub fn split_id(id: &str) -> (&str, &str) {
    match id.split_once('-') {
        Some((p, rest)) => (p, rest),
        None => ("", id),
    }
}

/// Whether `spec` (what a user typed) names `id`: a prefix of the whole ID
/// or of its part after the kind prefix (`WI-foh` or `foh`).
pub fn prefix_matches(id: &str, spec: &str) -> bool {
    !spec.is_empty() && (id.starts_with(spec) || split_id(id).1.starts_with(spec))
}

/// Finds item IDs in free text (descriptions, messages), as the
/// reference's `id_matching` does: one of the configured kind prefixes,
/// then two or more `-CVCVC` proquint syllables (consonants
/// `bcdfghjklmnpqrstvz`, vowels `aeiou`), not preceded or followed by an
/// ASCII letter or digit; the longest such run of syllables wins. A
/// shortened ID (`WI-fohog-lubid`) is found too; resolving it is the
/// caller's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPattern {
    /// Prefixes, sorted (the order the reference's alternation tries them).
    prefixes: Vec<String>,
}

fn is_consonant(b: u8) -> bool {
    b"bcdfghjklmnpqrstvz".contains(&b)
}

fn is_vowel(b: u8) -> bool {
    b"aeiou".contains(&b)
}

/// Whether `s[i..]` starts with `-CVCVC`.
fn syllable_at(s: &[u8], i: usize) -> bool {
    s.len() >= i + 6
        && s[i] == b'-'
        && is_consonant(s[i + 1])
        && is_vowel(s[i + 2])
        && is_consonant(s[i + 3])
        && is_vowel(s[i + 4])
        && is_consonant(s[i + 5])
}

impl IdPattern {
    /// The pattern for a configuration's kinds (`None` without kinds).
    pub fn for_config(config: &crate::config::Config) -> Option<IdPattern> {
        IdPattern::for_prefixes(config.kinds.iter().map(|k| k.prefix.as_str()))
    }

    /// The pattern for these kind prefixes (`None` when all are empty).
    pub fn for_prefixes<'a>(prefixes: impl IntoIterator<Item = &'a str>) -> Option<IdPattern> {
        let mut prefixes: Vec<String> = prefixes
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        prefixes.sort();
        prefixes.dedup();
        (!prefixes.is_empty()).then_some(IdPattern { prefixes })
    }

    /// The end of an ID starting at byte `i`, if one does.
    fn match_at(&self, s: &[u8], i: usize) -> Option<usize> {
        for p in &self.prefixes {
            let p = p.as_bytes();
            if !s[i..].starts_with(p) {
                continue;
            }
            let mut ends = Vec::new();
            let mut j = i + p.len();
            while syllable_at(s, j) {
                j += 6;
                ends.push(j);
            }
            // Longest first, at least two syllables, not followed by [A-Za-z0-9].
            for (n, &end) in ends.iter().enumerate().rev() {
                if n >= 1 && !s.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                    return Some(end);
                }
            }
        }
        None
    }

    /// The byte ranges of the IDs in `text`, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let s = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if i == 0 || !s[i - 1].is_ascii_alphanumeric() {
                if let Some(end) = self.match_at(s, i) {
                    out.push(i..end);
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        out
    }
}

/// Python's `json.dumps(value, sort_keys=True)` with default separators and
/// `ensure_ascii=True`.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.is_nan() {
                    out.push_str("NaN");
                } else if f.is_infinite() {
                    out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    out.push_str(&python_float_repr(f));
                }
            }
        }
        Value::String(s) => write_json_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(k, out);
                out.push_str(": ");
                write_json(&map[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{C}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7E => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: the shortest round-trip digits, fixed notation for
/// exponents in [-4, 16), scientific (`1e+16`, `1.5e-05`) otherwise.
pub fn python_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{f:e}"); // e.g. "-1.2345e17", "1e-5"
    let (mantissa, exp) = sci.split_once('e').expect("scientific");
    let exp: i32 = exp.parse().expect("exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    }
}

/// An ID without its hash's tail: `WI-foh` for `WI-foh-k3j...`.
pub fn short_id(id: &str) -> String {
    id.splitn(3, '-').take(2).collect::<Vec<_>>().join("-")
}

/// `SHORT (title)` for an item, or just the short ID when its title is
/// unknown; control characters in the title are shown escaped.
pub fn label(id: &str, title: Option<&str>) -> String {
    match title {
        Some(t) => format!("{} ({})", short_id(id), crate::safetext::one_line(t)),
        None => short_id(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_text_as_the_reference_finds_them() {
        let p = IdPattern::for_prefixes(["WI", "INV", ""]).unwrap();
        let found =
            |t: &str| -> Vec<String> { p.find(t).into_iter().map(|r| t[r].to_string()).collect() };
        assert_eq!(
            found("see WI-fohog-lubid, (INV-zumov-posab-ridul) and fix-WI-bahab-kilop-x"),
            vec!["WI-fohog-lubid", "INV-zumov-posab-ridul", "WI-bahab-kilop"]
        );
        // One syllable is not enough; letters or digits around are not IDs;
        // a sixth letter is not a syllable's end.
        assert!(found("WI-fohog aWI-fohog-lubid WI-fohog-lubid9 WI-fohog-lubida").is_empty());
        // The longest run of syllables wins, cut where a syllable breaks.
        assert_eq!(found("WI-fohog-lubid-nosa"), vec!["WI-fohog-lubid"]);
        assert_eq!(found("é WI-fohog-lubid"), vec!["WI-fohog-lubid"]);
        assert!(IdPattern::for_prefixes([""]).is_none());
        assert!(prefix_matches("WI-fohog-lubid", "WI-foh"));
        assert!(prefix_matches("WI-fohog-lubid", "fohog-lu"));
        assert!(!prefix_matches("WI-fohog-lubid", "lubid"));
        assert!(!prefix_matches("WI-fohog-lubid", ""));
    }

    #[test]
    fn float_repr_matches_python() {
        for (f, s) in [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e100, "1e+100"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (3.0, "3.0"),
        ] {
            assert_eq!(python_float_repr(f), s);
        }
    }

    #[test]
    fn proquint_words() {
        // Known proquint vectors: 127.0.0.1 → lusab-babad, 63.84.220.193 → gutih-tugad.
        assert_eq!(
            format!("{}-{}", proquint16(0x7F00), proquint16(0x0001)),
            "lusab-babad"
        );
        assert_eq!(
            format!("{}-{}", proquint16(0x3F54), proquint16(0xDCC1)),
            "gutih-tugad"
        );
    }
}
