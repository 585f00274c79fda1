//! Ceremonies in flight, kept so that no flood of anonymous requests can
//! lock anyone out of passkey sign-in or registration.
//!
//! **Starts keep nothing.** `login/start` needs no credentials, so anything
//! it stored could be filled by anyone: a table of 256 pending ceremonies
//! was full after 256 requests, and every real sign-in was refused until
//! they expired. So a start keeps no server state at all: the ceremony
//! (webauthn-rs's state, serialised) goes to the browser sealed
//! ([`super::seal`]: HMAC-SHA256 under a per-process random key, expiry
//! inside the seal) and comes back with the finish. A million starts cost
//! a million small answers and no memory. Registrations are sealed the same
//! way (their start also needs a valid one-time token, limited per address
//! by the login limiter).
//!
//! **Finishes are remembered until their seal expires**, so a ceremony can
//! be finished once: a replayed finish (a captured answer sent again) is
//! refused, whatever became of the first. This set is the only state, and
//! it grows only through finish calls with a seal this process issued;
//! those calls go through the brute-force limiter per client address
//! first (`login/finish`), so they are slow to come by. Limits on it:
//!
//! * **per source**: at most [`PER_SOURCE`] remembered finishes per source
//!   within one ceremony lifetime; a source over it is refused (429) —
//!   only that source. A source is an IPv4 address, an IPv6 /64, and all
//!   of loopback together ([`source_of`]): local processes are one source.
//! * **globally**: at most [`MAX_REMEMBERED`]. When full, the entries that
//!   expire first are forgotten and every seal expiring no later than they
//!   do is from then on refused as expired (the "floor"), so forgetting
//!   never opens a replay; fresh ceremonies are never refused. Churning the
//!   whole set to cut a user's ceremony short takes that many verified-seal
//!   finishes from at least `MAX_REMEMBERED / PER_SOURCE` sources within
//!   the seconds the user takes to touch their key.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::error::{PasskeyError, PasskeyErrorKind};
use super::seal::{Sealed, Sealer};

/// At most this many finished ceremonies are remembered (about 100 bytes each).
pub const MAX_REMEMBERED: usize = 65_536;
/// At most this many finished ceremonies per source are remembered.
pub const PER_SOURCE: usize = 256;

/// The two kinds of ceremony; a seal of one never finishes the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Login,
    Registration,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Registration => "register",
        }
    }
}

/// The source an address counts as (see [`crate::serve::ratelimit::source_of`]).
pub use crate::serve::ratelimit::source_of;

pub struct Ceremonies {
    sealer: Sealer,
    ttl: Duration,
    finished: Mutex<Finished>,
}

#[derive(Default)]
struct Finished {
    /// Ceremony id → (expiry in ms, source).
    ids: HashMap<String, (u64, String)>,
    per_source: HashMap<String, usize>,
    /// Seals expiring at or before this (ms) are refused: their ids may
    /// have been forgotten.
    floor: u64,
    /// Expired entries are swept when the set reaches this size.
    sweep_at: usize,
}

impl Ceremonies {
    pub fn new(ttl: Duration) -> Result<Ceremonies, PasskeyError> {
        Ok(Ceremonies {
            sealer: Sealer::new()?,
            ttl,
            finished: Mutex::new(Finished {
                sweep_at: 1024,
                ..Finished::default()
            }),
        })
    }

    /// Seals `state` as a new ceremony of `kind`; returns the token the
    /// browser sends back with the finish.
    pub fn start(&self, kind: Kind, state: Value) -> Result<String, PasskeyError> {
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        self.sealer.seal(&Sealed {
            kind: kind.name().into(),
            id: super::random_hex(16)?,
            exp: now_ms().saturating_add(ttl_ms),
            state,
        })
    }

    /// The state sealed in `token`, if it is a live, never finished
    /// ceremony of `kind` from this process; it counts as finished from
    /// now on, whatever the outcome of the finish.
    pub fn finish(&self, kind: Kind, token: &str, source: &str) -> Result<Value, PasskeyError> {
        let sealed = self.sealer.open(token)?;
        if sealed.kind != kind.name() {
            return Err(PasskeyError::new(
                PasskeyErrorKind::UnknownCeremony,
                "this ceremony belongs to another kind of passkey ceremony; start again",
            ));
        }
        let now = now_ms();
        let mut f = self.lock();
        if sealed.exp <= now || sealed.exp <= f.floor {
            return Err(PasskeyError::new(
                PasskeyErrorKind::UnknownCeremony,
                "this passkey ceremony has expired; start again",
            ));
        }
        if f.ids.contains_key(&sealed.id) {
            return Err(PasskeyError::new(
                PasskeyErrorKind::UnknownCeremony,
                "this passkey ceremony is already finished; start again",
            ));
        }
        if f.ids.len() >= f.sweep_at || f.count(source) >= PER_SOURCE {
            f.sweep(now);
        }
        if f.count(source) >= PER_SOURCE {
            return Err(PasskeyError::new(
                PasskeyErrorKind::TooManyCeremonies,
                format!(
                    "too many passkey ceremonies finished from your address in the last {} s; wait a few minutes and try again",
                    self.ttl.as_secs()
                ),
            ));
        }
        if f.ids.len() >= MAX_REMEMBERED {
            f.forget_oldest(MAX_REMEMBERED / 8);
        }
        f.ids.insert(sealed.id, (sealed.exp, source.to_string()));
        *f.per_source.entry(source.to_string()).or_default() += 1;
        Ok(sealed.state)
    }

    /// How many finished ceremonies are remembered (for tests and status).
    pub fn remembered(&self) -> usize {
        self.lock().ids.len()
    }

    fn lock(&self) -> MutexGuard<'_, Finished> {
        // A panic while holding the lock leaves consistent maps.
        self.finished.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Finished {
    fn count(&self, source: &str) -> usize {
        self.per_source.get(source).copied().unwrap_or(0)
    }

    fn remove(&mut self, id: &str) {
        if let Some((_, source)) = self.ids.remove(id) {
            if let Some(n) = self.per_source.get_mut(&source) {
                *n -= 1;
                if *n == 0 {
                    self.per_source.remove(&source);
                }
            }
        }
    }

    /// Drops what has expired; the next sweep comes at twice the size left.
    fn sweep(&mut self, now: u64) {
        let dead: Vec<String> = self
            .ids
            .iter()
            .filter(|(_, (exp, _))| *exp <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in dead {
            self.remove(&id);
        }
        self.sweep_at = (self.ids.len() * 2).max(1024);
    }

    /// Forgets the `n` entries that expire first and raises the floor to
    /// the latest expiry forgotten, so none of them can be finished again.
    fn forget_oldest(&mut self, n: usize) {
        let mut by_exp: Vec<(u64, String)> = self
            .ids
            .iter()
            .map(|(id, (exp, _))| (*exp, id.clone()))
            .collect();
        by_exp.sort_unstable();
        for (exp, id) in by_exp.into_iter().take(n) {
            self.floor = self.floor.max(exp);
            self.remove(&id);
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loopback_is_one_source_and_ipv6_counts_by_its_slash_64() {
        let src = |s: &str| source_of(s.parse().unwrap());
        for lo in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.2"] {
            assert_eq!(src(lo), "loopback", "{lo}");
        }
        assert_eq!(src("192.0.2.7"), "192.0.2.7");
        assert_eq!(src("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(src("2001:db8:1:2:aaaa::1"), src("2001:db8:1:2:bbbb::9"));
        assert_ne!(src("2001:db8:1:2::1"), src("2001:db8:1:3::1"));
    }

    #[test]
    fn a_ceremony_finishes_once_and_only_as_its_kind() {
        let c = Ceremonies::new(Duration::from_secs(60)).unwrap();
        let t = c.start(Kind::Login, json!({"a": 1})).unwrap();
        let e = c.finish(Kind::Registration, &t, "x").unwrap_err();
        assert_eq!(e.kind, PasskeyErrorKind::UnknownCeremony);
        assert_eq!(c.remembered(), 0, "a refused finish remembers nothing");
        assert_eq!(c.finish(Kind::Login, &t, "x").unwrap(), json!({"a": 1}));
        let e = c.finish(Kind::Login, &t, "y").unwrap_err();
        assert!(e.message.contains("already finished"), "{e}");
        assert_eq!(c.remembered(), 1);
    }

    #[test]
    fn one_source_is_limited_without_limiting_the_others() {
        let c = Ceremonies::new(Duration::from_secs(60)).unwrap();
        for _ in 0..PER_SOURCE {
            let t = c.start(Kind::Login, json!(null)).unwrap();
            c.finish(Kind::Login, &t, "loopback").unwrap();
        }
        let t = c.start(Kind::Login, json!(null)).unwrap();
        let e = c.finish(Kind::Login, &t, "loopback").unwrap_err();
        assert_eq!(
            (e.kind, e.status()),
            (PasskeyErrorKind::TooManyCeremonies, 429)
        );
        c.finish(Kind::Login, &t, "192.0.2.1").unwrap();
    }

    #[test]
    fn a_full_set_forgets_the_oldest_and_refuses_their_seals() {
        let c = Ceremonies::new(Duration::from_secs(60)).unwrap();
        let old = c.start(Kind::Login, json!(null)).unwrap();
        let mut f = c.lock();
        // Fill the set with entries that expire after `old`'s seal.
        let later = c.sealer.open(&old).unwrap().exp + 1;
        for i in 0..MAX_REMEMBERED {
            f.ids
                .insert(format!("f{i}"), (later, format!("s{}", i % 1000)));
            *f.per_source.entry(format!("s{}", i % 1000)).or_default() += 1;
        }
        f.sweep_at = usize::MAX;
        drop(f);
        let fresh = c.start(Kind::Login, json!(1)).unwrap();
        assert_eq!(c.finish(Kind::Login, &fresh, "x").unwrap(), json!(1));
        assert!(c.remembered() <= MAX_REMEMBERED);
        // `old` expires before everything forgotten: refused, never replayable.
        let e = c.finish(Kind::Login, &old, "x").unwrap_err();
        assert!(e.message.contains("expired"), "{e}");
    }
}
