//! Password logins: bcrypt hashing (`htrac-serve passwd`) and checking a
//! login against the configured users. An unknown user costs the same
//! bcrypt work as a known one, so timing does not reveal which names exist.

use crate::error::{Error, Result};

use super::authcfg::AuthConfig;

/// bcrypt's default cost (2^12 rounds).
pub const DEFAULT_COST: u32 = bcrypt::DEFAULT_COST;

/// The bcrypt hash of `password` at `cost` (4..=31).
pub fn hash(password: &str, cost: u32) -> Result<String> {
    if password.is_empty() {
        return Err(Error::user("the password must not be empty"));
    }
    if password.len() > 72 {
        return Err(Error::user(
            "the password is longer than 72 bytes, which bcrypt cannot use in full",
        )
        .with_hint("choose a password of at most 72 bytes"));
    }
    bcrypt::hash(password, cost).map_err(|e| Error::user(format!("cannot hash the password: {e}")))
}

/// Whether `user`/`password` match a configured user.
pub fn verify(cfg: &AuthConfig, user: &str, password: &str) -> bool {
    match cfg.users.get(user) {
        Some(h) => bcrypt::verify(password, h).unwrap_or(false),
        None => {
            // Same work as a real check, against a hash of the same cost as
            // the first configured user's.
            let cost = cfg
                .users
                .values()
                .next()
                .and_then(|h| h.get(4..6))
                .and_then(|c| c.parse::<u32>().ok())
                .unwrap_or(DEFAULT_COST);
            if let Ok(dummy) = bcrypt::hash("htrac-dummy-password", cost) {
                let _ = bcrypt::verify(password, &dummy);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse", 4).unwrap();
        let mut cfg = AuthConfig::default();
        cfg.users.insert("amy".into(), h);
        assert!(verify(&cfg, "amy", "correct horse"));
        assert!(!verify(&cfg, "amy", "wrong"));
        assert!(!verify(&cfg, "bob", "correct horse"));
        assert!(hash("", 4).is_err());
        assert!(hash(&"x".repeat(73), 4).is_err());
    }
}
