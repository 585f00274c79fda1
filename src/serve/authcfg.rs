//! The `auth:` section of the tracker's config.yaml: session lifetimes,
//! brute-force limits, WebAuthn relying party, allowed host names and the
//! users' bcrypt password hashes; and writing a user's hash back
//! (`htrac-serve passwd`).
//!
//! Keys kept from the reference: `session_ttl_minutes` (here the idle
//! expiry), `rate_limit.base_delay`, `rate_limit.max_failures`,
//! `webauthn.{rp_id, rp_name, origin}`, `duress_module` (read, unused).
//! Added: `session_max_hours` (absolute expiry), `allowed_hosts`,
//! `users.<name>.password_hash`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What the server reads from `auth:`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// A session unused this long expires.
    pub idle_secs: u64,
    /// A session expires this long after login, used or not.
    pub absolute_secs: u64,
    /// Backoff after the first failure (doubles each further failure).
    pub base_delay_secs: f64,
    /// Failures after which a user or address is locked out (0: never).
    pub max_failures: u32,
    /// Host names (optionally `:port`) besides loopback that may reach the server.
    pub allowed_hosts: Vec<String>,
    pub webauthn: Map<String, Value>,
    /// User name → bcrypt hash.
    pub users: BTreeMap<String, String>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            idle_secs: 15 * 60,
            absolute_secs: 12 * 3600,
            base_delay_secs: 2.0,
            max_failures: 10,
            allowed_hosts: Vec::new(),
            webauthn: Map::new(),
            users: BTreeMap::new(),
        }
    }
}

fn bad(key: &str, msg: &str) -> Error {
    Error::user(format!("invalid config: auth.{key}: {msg}"))
        .with_hint("fix the auth: section of .agent/tracker/config.yaml")
}

fn number(m: &Map<String, Value>, key: &str, full: &str) -> Result<Option<f64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| bad(full, "must be a number")),
    }
}

impl AuthConfig {
    /// Reads `auth:` from the whole config document (`Config::raw`).
    pub fn from_raw(raw: &Value) -> Result<AuthConfig> {
        let mut cfg = AuthConfig::default();
        let auth = match raw.get("auth") {
            None | Some(Value::Null) => return Ok(cfg),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad("(section)", "must be a mapping")),
        };
        if let Some(ttl) = number(auth, "session_ttl_minutes", "session_ttl_minutes")? {
            if ttl <= 0.0 {
                return Err(bad("session_ttl_minutes", "must be > 0"));
            }
            cfg.idle_secs = (ttl * 60.0) as u64;
        }
        if let Some(h) = number(auth, "session_max_hours", "session_max_hours")? {
            if h <= 0.0 {
                return Err(bad("session_max_hours", "must be > 0"));
            }
            cfg.absolute_secs = (h * 3600.0) as u64;
        }
        if let Some(Value::Object(rl)) = auth.get("rate_limit") {
            if let Some(d) = number(rl, "base_delay", "rate_limit.base_delay")? {
                if d < 0.0 {
                    return Err(bad("rate_limit.base_delay", "must be >= 0"));
                }
                cfg.base_delay_secs = d;
            }
            if let Some(n) = number(rl, "max_failures", "rate_limit.max_failures")? {
                if n < 0.0 || n.fract() != 0.0 {
                    return Err(bad("rate_limit.max_failures", "must be an integer >= 0"));
                }
                cfg.max_failures = n as u32;
            }
        }
        if let Some(Value::Object(w)) = auth.get("webauthn") {
            cfg.webauthn = w.clone();
        }
        match auth.get("allowed_hosts") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for h in a {
                    let h = h
                        .as_str()
                        .ok_or_else(|| bad("allowed_hosts", "must be a list of host names"))?;
                    cfg.allowed_hosts.push(h.to_ascii_lowercase());
                }
            }
            Some(_) => return Err(bad("allowed_hosts", "must be a list of host names")),
        }
        match auth.get("users") {
            None | Some(Value::Null) => {}
            Some(Value::Object(users)) => {
                for (name, spec) in users {
                    let hash = spec
                        .get("password_hash")
                        .and_then(Value::as_str)
                        .filter(|h| h.starts_with("$2"));
                    if let Some(h) = hash {
                        cfg.users.insert(name.clone(), h.to_string());
                    } else if spec.get("password_hash").is_some_and(|v| !v.is_null()) {
                        return Err(bad(
                            &format!("users.{name}.password_hash"),
                            "must be a bcrypt hash ($2b$...); set it with 'htrac-serve passwd'",
                        ));
                    }
                }
            }
            Some(_) => return Err(bad("users", "must be a mapping of user names")),
        }
        Ok(cfg)
    }

    /// Reads `auth:` fresh from the tracker's config file (so a password set
    /// while the server runs takes effect at the next login).
    pub fn load(root: &Path) -> Result<AuthConfig> {
        let cfg = crate::config::Config::load(root)?;
        AuthConfig::from_raw(&cfg.raw)
    }

    /// Whether any way to log in is configured (passwords here; passkeys
    /// are counted by the caller).
    pub fn has_passwords(&self) -> bool {
        !self.users.is_empty()
    }
}

/// The human's config file (`tracker/config.yaml`).
pub fn config_path(root: &Path) -> PathBuf {
    root.join("tracker").join("config.yaml")
}

/// Sets `auth.users.<user>.password_hash` in config.yaml — where hashes
/// were kept before `.agent/serve/passwords.json` (see
/// [`super::passwords`]); `htrac-serve passwd` no longer writes here. When the file has
/// no `auth:` section yet, one is appended (the rest of the file, comments
/// included, is kept byte for byte); otherwise the document is rewritten
/// through the YAML library (comments are lost) after a backup to
/// `config.yaml.bak`. Returns what was done, for the user.
pub fn set_password_hash(root: &Path, user: &str, hash: &str) -> Result<String> {
    if user.is_empty() || user.chars().any(|c| c.is_control() || c == ':') {
        return Err(Error::user(format!("invalid user name '{user}'")));
    }
    let path = config_path(root);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::user(format!("cannot read {}: {e}", path.display()))),
    };
    let doc: Value = if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_norway::from_str(&text)
            .map_err(|e| Error::user(format!("{} is not valid YAML: {e}", path.display())))?
    };
    let doc = if doc.is_null() {
        Value::Object(Map::new())
    } else {
        doc
    };
    let Value::Object(mut top) = doc else {
        return Err(Error::user(format!(
            "{} must be a YAML mapping",
            path.display()
        )));
    };
    let mut entry = Map::new();
    entry.insert("password_hash".into(), Value::String(hash.into()));
    let (new_text, how) = match top.get_mut("auth") {
        None | Some(Value::Null) if !text.contains("\nauth:") && !text.starts_with("auth:") => {
            let mut users = Map::new();
            users.insert(user.into(), Value::Object(entry));
            let mut auth = Map::new();
            auth.insert("users".into(), Value::Object(users));
            let mut section = Map::new();
            section.insert("auth".into(), Value::Object(auth));
            let yaml = serde_norway::to_string(&Value::Object(section))
                .map_err(|e| Error::internal(format!("cannot write YAML: {e}")))?;
            let mut t = text.clone();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str("\n# Web server logins (htrac-serve passwd).\n");
            t.push_str(&yaml);
            (t, "appended an auth: section")
        }
        _ => {
            let auth = top
                .entry("auth")
                .or_insert_with(|| Value::Object(Map::new()));
            if !auth.is_object() {
                *auth = Value::Object(Map::new());
            }
            let users = auth
                .as_object_mut()
                .expect("object")
                .entry("users")
                .or_insert_with(|| Value::Object(Map::new()));
            if !users.is_object() {
                *users = Value::Object(Map::new());
            }
            let u = users
                .as_object_mut()
                .expect("object")
                .entry(user)
                .or_insert_with(|| Value::Object(Map::new()));
            if !u.is_object() {
                *u = Value::Object(Map::new());
            }
            u.as_object_mut()
                .expect("object")
                .insert("password_hash".into(), Value::String(hash.into()));
            let yaml = serde_norway::to_string(&Value::Object(top))
                .map_err(|e| Error::internal(format!("cannot write YAML: {e}")))?;
            let bak = path.with_extension("yaml.bak");
            crate::atomic::replace(&bak, text.as_bytes(), 0o600)
                .map_err(|e| Error::user(format!("cannot write {}: {e}", bak.display())))?;
            (
                yaml,
                "rewrote the file (its comments are in config.yaml.bak)",
            )
        }
    };
    // The result must still be a valid tracker config.
    crate::config::Config::parse(&new_text, crate::config::Source::File(path.clone()))?;
    AuthConfig::from_raw(&serde_norway::from_str::<Value>(&new_text).unwrap_or(Value::Null))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // The human's config stays read-only, as `init` leaves it.
    crate::atomic::replace(&path, new_text.as_bytes(), 0o444)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", path.display())))?;
    Ok(how.to_string())
}

/// Removes every `password_hash` from config.yaml's `auth.users` (after
/// `htrac-serve passwd` moved them to `.agent/serve/`), after a backup to
/// `<private_dir>/config.yaml.bak` (mode 0600, in the private, git-ignored
/// `.agent/serve/`: it holds the hashes). The `password_hash:`
/// lines alone are cut, so comments stay, when the result reads as the
/// same document without the hashes; otherwise the document is rewritten
/// through the YAML library. Returns what was done.
pub fn remove_users(root: &Path, private_dir: &Path) -> Result<String> {
    let path = config_path(root);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::user(format!("cannot read {}: {e}", path.display())))?;
    let parse = |t: &str| -> Result<Value> {
        serde_norway::from_str(t)
            .map_err(|e| Error::user(format!("{} is not valid YAML: {e}", path.display())))
    };
    let doc = parse(&text)?;
    // The document without hashes: a user left with nothing is null.
    let mut want = doc.clone();
    if let Some(Value::Object(users)) = want.get_mut("auth").and_then(|a| a.get_mut("users")) {
        for spec in users.values_mut() {
            if let Value::Object(m) = spec {
                m.shift_remove("password_hash");
                if m.is_empty() {
                    *spec = Value::Null;
                }
            }
        }
    }
    if want == doc {
        return Ok("config.yaml holds no password hashes".into());
    }
    let cut: String = text
        .split_inclusive('\n')
        .filter(|l| !l.trim_start().starts_with("password_hash:"))
        .collect();
    let (new_text, how) = if parse(&cut).ok().as_ref() == Some(&want) {
        (cut, "cut the password_hash lines")
    } else {
        let yaml = serde_norway::to_string(&want)
            .map_err(|e| Error::internal(format!("cannot write YAML: {e}")))?;
        (yaml, "rewrote the file without the password hashes")
    };
    crate::config::Config::parse(&new_text, crate::config::Source::File(path.clone()))?;
    let bak = private_dir.join("config.yaml.bak");
    crate::atomic::replace(&bak, text.as_bytes(), 0o600)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", bak.display())))?;
    crate::atomic::replace(&path, new_text.as_bytes(), 0o444)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", path.display())))?;
    Ok(format!(
        "{how} from {} (the old file is {}, readable only by you)",
        path.display(),
        bak.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_reference_keys() {
        let c = AuthConfig::from_raw(&json!({})).unwrap();
        assert_eq!(c, AuthConfig::default());
        let c = AuthConfig::from_raw(&json!({"auth": {
            "session_ttl_minutes": 30, "duress_module": null,
            "rate_limit": {"base_delay": 1.5, "max_failures": 3},
            "webauthn": {"rp_id": "example.org"},
            "users": {"amy": {"password_hash": "$2b$04$abc"}}
        }}))
        .unwrap();
        assert_eq!(c.idle_secs, 1800);
        assert_eq!(c.base_delay_secs, 1.5);
        assert_eq!(c.max_failures, 3);
        assert_eq!(c.users["amy"], "$2b$04$abc");
        assert_eq!(c.webauthn["rp_id"], "example.org");
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            json!({"auth": {"session_ttl_minutes": 0}}),
            json!({"auth": {"rate_limit": {"base_delay": -1}}}),
            json!({"auth": {"rate_limit": {"max_failures": 1.5}}}),
            json!({"auth": {"users": {"amy": {"password_hash": "plain"}}}}),
            json!({"auth": "yes"}),
        ] {
            assert!(AuthConfig::from_raw(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_hash_appends_then_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tracker")).unwrap();
        let path = config_path(root);
        let template = format!("# my comment\n{}", crate::config::DEFAULT_CONFIG_YAML);
        std::fs::write(&path, &template).unwrap();
        set_password_hash(root, "amy", "$2b$04$one").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&template), "{text}");
        let c = AuthConfig::load(root).unwrap();
        assert_eq!(c.users["amy"], "$2b$04$one");
        set_password_hash(root, "bob", "$2b$04$two").unwrap();
        set_password_hash(root, "amy", "$2b$04$three").unwrap();
        let c = AuthConfig::load(root).unwrap();
        assert_eq!(c.users["amy"], "$2b$04$three");
        assert_eq!(c.users["bob"], "$2b$04$two");
        assert!(path.with_extension("yaml.bak").exists());
    }
}
