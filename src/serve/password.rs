//! Password logins: bcrypt hashing (`htrac-serve passwd`) and checking a
//! login against the configured users. An unknown user costs exactly the
//! work of a known one — one bcrypt check, against a dummy hash of the
//! configured cost made once per process — so timing does not reveal which
//! names exist.

use std::collections::BTreeMap;
use std::sync::Mutex;

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
            // The same single check a known user gets, against a hash of
            // the cost the configured users have.
            if let Some(dummy) = dummy_hash(usual_cost(&cfg.users)) {
                let _ = bcrypt::verify(password, &dummy);
            }
            false
        }
    }
}

/// Makes the dummy hash for `users`' cost now (at start-up), so that even
/// the first unknown name costs no more than a known one.
pub fn prepare(users: &BTreeMap<String, String>) {
    dummy_hash(usual_cost(users));
}

/// The cost most configured hashes have (the default when there are none).
fn usual_cost(users: &BTreeMap<String, String>) -> u32 {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for h in users.values() {
        if let Some(c) = h.get(4..6).and_then(|c| c.parse::<u32>().ok()) {
            *counts.entry(c).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(cost, n)| (n, cost))
        .map(|(cost, _)| cost)
        .unwrap_or(DEFAULT_COST)
}

/// A hash of a password nobody knows, at `cost`, made once per process.
fn dummy_hash(cost: u32) -> Option<String> {
    static DUMMIES: Mutex<BTreeMap<u32, String>> = Mutex::new(BTreeMap::new());
    let mut dummies = DUMMIES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = dummies.get(&cost) {
        return Some(h.clone());
    }
    let secret = super::session::random_token();
    let h = bcrypt::hash(secret, cost).ok()?;
    dummies.insert(cost, h.clone());
    Some(h)
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

    #[test]
    fn the_dummy_hash_has_the_usual_cost_and_is_made_once() {
        let mut users = BTreeMap::new();
        assert_eq!(usual_cost(&users), DEFAULT_COST);
        users.insert("a".into(), hash("x", 5).unwrap());
        users.insert("b".into(), hash("y", 4).unwrap());
        users.insert("c".into(), hash("z", 5).unwrap());
        assert_eq!(usual_cost(&users), 5);
        let d = dummy_hash(5).unwrap();
        assert_eq!(&d[4..6], "05");
        assert_eq!(dummy_hash(5).unwrap(), d);
    }
}
