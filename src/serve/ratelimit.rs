//! Brute-force limits on logins. Every attempt is counted under several
//! keys, each with its own policy:
//!
//! - `pair:NAME@SOURCE` — one user name from one source. After the n-th
//!   failure in a row the next attempt waits `base_delay × 2^(n−1)` seconds;
//!   at `max_failures` the pair is locked out until a human clears it
//!   (`htrac-serve unlock-login NAME`). Only this key ever locks: a stranger
//!   elsewhere can lock a name out of *their own* source, never the real
//!   user's, and passkey sign-in is never locked.
//! - `user:NAME`, `addr:SOURCE`, `key:CREDENTIAL` — shared keys with the
//!   same exponential backoff, capped at [`SHARED_BACKOFF_CAP`]: they slow
//!   guessing spread over many sources (or many names from one source) to a
//!   trickle, and whoever they delay is delayed by a minute at most.
//!
//! A source is a client address with all of loopback counted as one
//! (`127.x.y.z`, `::1`), IPv4-mapped IPv6 as its IPv4 address, and IPv6 as
//! its /64 network (one host usually owns a whole /64).
//! Backoff uses the monotonic clock. Lockouts persist in
//! `.agent/serve/lockouts.json`, which the server re-reads at every check,
//! so a human's clear takes effect without a restart.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// At most this many keys' failure counts are remembered (oldest dropped).
const MAX_TRACKED: usize = 10_000;

/// The longest backoff a shared key (name, source, credential) imposes.
pub const SHARED_BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Why a login attempt is refused before the password is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Wait this many seconds.
    Backoff(u64),
    /// Locked out until a human clears it.
    Locked(String),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug)]
pub struct Limiter {
    file: PathBuf,
    base_delay: f64,
    max_failures: u32,
    state: Mutex<HashMap<String, Failures>>,
    /// Lockouts that could not be written to the file (kept until restart).
    unsaved: Mutex<Vec<String>>,
    /// Keys with an attempt being checked now: parallel guesses must wait
    /// for its outcome instead of slipping past the backoff.
    inflight: Mutex<std::collections::HashSet<String>>,
}

/// The directory of the server's private state (git-ignored).
pub fn state_dir(root: &Path) -> PathBuf {
    root.join("serve")
}

/// Creates `.agent/serve/` (private to its owner, with a `.gitignore` of
/// `*`), refusing one that others could write.
pub fn ensure_state_dir(root: &Path) -> Result<PathBuf> {
    super::passkey::store::PrivateDir::open(root)
        .map(|d| d.path().to_path_buf())
        .map_err(Error::from)
}

pub fn lockouts_path(root: &Path) -> PathBuf {
    state_dir(root).join("lockouts.json")
}

/// The persisted lockouts: key → details.
pub fn read_lockouts(path: &Path) -> BTreeMap<String, Value> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("locked").and_then(Value::as_object).cloned())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}

fn write_lockouts(path: &Path, locked: &BTreeMap<String, Value>) -> std::io::Result<()> {
    let doc = json!({ "locked": locked });
    let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
    crate::atomic::replace(path, text.as_bytes(), 0o600)
}

/// The source a client address counts as: all of loopback is one source,
/// an IPv4-mapped IPv6 address is its IPv4 address, and an IPv6 address
/// stands for its /64 network. Anything that is not an address is kept as is.
pub fn source(addr: &str) -> String {
    match addr.parse::<IpAddr>() {
        Ok(ip) => source_of(ip),
        Err(_) => addr.to_string(),
    }
}

/// [`source`] of an address: the one rule for logins' limits and passkey
/// ceremonies' limits alike.
pub fn source_of(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match ip {
        ip if ip.is_loopback() => "loopback".to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// The rate-limit key of a user name (shared: backoff only).
pub fn user_key(user: &str) -> String {
    format!("user:{user}")
}

/// The rate-limit key of a client address's source (shared: backoff only).
pub fn addr_key(addr: &str) -> String {
    format!("addr:{}", source(addr))
}

/// The rate-limit key of a user name tried from a client address's source:
/// the one key that locks out.
pub fn pair_key(user: &str, addr: &str) -> String {
    format!("pair:{user}@{}", source(addr))
}

/// Whether `key` locks out at `max_failures` (only name-and-source pairs do).
fn locks(key: &str) -> bool {
    key.starts_with("pair:")
}

impl Limiter {
    pub fn new(root: &Path, base_delay: f64, max_failures: u32) -> Limiter {
        Limiter {
            file: lockouts_path(root),
            base_delay,
            max_failures,
            state: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(Vec::new()),
            inflight: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// [`Limiter::check`], then marks the keys busy until [`Limiter::failure`]
    /// or [`Limiter::success`]; a key already busy means "retry in a second".
    pub fn begin(&self, keys: &[String]) -> std::result::Result<(), Refusal> {
        self.check(keys)?;
        let mut busy = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if keys.iter().any(|k| busy.contains(k)) {
            return Err(Refusal::Backoff(1));
        }
        busy.extend(keys.iter().cloned());
        Ok(())
    }

    /// Ends an attempt that was neither a failure nor a success (the
    /// server could not check it).
    pub fn abort(&self, keys: &[String]) {
        let mut busy = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            busy.remove(k);
        }
    }

    /// Whether an attempt under all of `keys` may go ahead now.
    pub fn check(&self, keys: &[String]) -> std::result::Result<(), Refusal> {
        self.check_at(keys, Instant::now())
    }

    fn check_at(&self, keys: &[String], now: Instant) -> std::result::Result<(), Refusal> {
        let locked = read_lockouts(&self.file);
        let unsaved = self.unsaved.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for k in keys {
            if locked.contains_key(k) || unsaved.contains(k) {
                return Err(Refusal::Locked(k.clone()));
            }
            if let Some(f) = state.get(k) {
                if locks(k) && self.max_failures > 0 && f.count >= self.max_failures {
                    // Cleared by a human since: start afresh.
                    state.remove(k);
                    continue;
                }
                let delay = self.delay(k, f.count);
                let until = f.last + delay;
                if until > now {
                    let left = until - now;
                    wait = wait.max(left.as_secs() + u64::from(left.subsec_nanos() > 0));
                }
            }
        }
        if wait > 0 {
            Err(Refusal::Backoff(wait))
        } else {
            Ok(())
        }
    }

    fn delay(&self, key: &str, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let secs = self.base_delay * 2f64.powi((failures - 1).min(30) as i32);
        let delay = Duration::from_secs_f64(secs.min(86_400.0 * 365.0));
        if locks(key) {
            delay
        } else {
            delay.min(SHARED_BACKOFF_CAP)
        }
    }

    /// Records a failed attempt under each key; returns the keys now locked out.
    pub fn failure(&self, keys: &[String]) -> Vec<String> {
        self.failure_at(keys, Instant::now())
    }

    fn failure_at(&self, keys: &[String], now: Instant) -> Vec<String> {
        self.abort(keys);
        let mut newly = Vec::new();
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.len() >= MAX_TRACKED {
                if let Some(oldest) = state
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
                {
                    state.remove(&oldest);
                }
            }
            for k in keys {
                let f = state.entry(k.clone()).or_insert(Failures {
                    count: 0,
                    last: now,
                });
                f.count += 1;
                f.last = now;
                if locks(k) && self.max_failures > 0 && f.count >= self.max_failures {
                    newly.push(k.clone());
                }
            }
        }
        if !newly.is_empty() {
            let mut locked = read_lockouts(&self.file);
            for k in &newly {
                locked.insert(
                    k.clone(),
                    json!({"at": crate::timestamp::now_utc(), "failures": self.max_failures}),
                );
            }
            let saved = self
                .file
                .parent()
                .map(std::fs::create_dir_all)
                .transpose()
                .and_then(|_| write_lockouts(&self.file, &locked));
            if let Err(e) = saved {
                super::log::line(format_args!(
                    "cannot save lockouts to {}: {e}; they hold until restart",
                    self.file.display()
                ));
                self.unsaved
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(newly.iter().cloned());
            }
            for k in &newly {
                super::log::line(format_args!(
                    "{k} locked out after {} failed logins",
                    self.max_failures
                ));
            }
        }
        newly
    }

    /// A successful login clears the keys' failure counts.
    pub fn success(&self, keys: &[String]) {
        self.abort(keys);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            state.remove(k);
        }
    }
}

/// Clears lockouts (a human's `htrac-serve unlock-login`): `who` is a user
/// name (every source it is locked out from), a key as listed
/// (`pair:NAME@SOURCE`, or `user:NAME` / `addr:IP` from older versions), or
/// `--all`. Returns the keys cleared.
pub fn unlock(root: &Path, who: &str) -> Result<Vec<String>> {
    let path = lockouts_path(root);
    let mut locked = read_lockouts(&path);
    let cleared: Vec<String> = if who == "--all" {
        locked.keys().cloned().collect()
    } else {
        let keyed = ["pair:", "user:", "addr:"]
            .iter()
            .any(|p| who.starts_with(p));
        locked
            .keys()
            .filter(|k| {
                if keyed {
                    k.as_str() == who
                } else {
                    let name = k.strip_prefix("pair:").and_then(|r| r.rsplit_once('@'));
                    name.is_some_and(|(n, _)| n == who) || **k == user_key(who)
                }
            })
            .cloned()
            .collect()
    };
    if cleared.is_empty() {
        let list: Vec<&String> = locked.keys().collect();
        return Err(Error::user(format!("'{who}' is not locked out")).with_hint(
            if list.is_empty() {
                "nothing is locked out".to_string()
            } else {
                format!(
                    "locked out: {}",
                    list.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        ));
    }
    for k in &cleared {
        locked.remove(k);
    }
    write_lockouts(&path, &locked)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", path.display())))?;
    Ok(cleared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_count_loopback_as_one_and_ipv6_by_network() {
        assert_eq!(source("127.0.0.1"), "loopback");
        assert_eq!(source("127.3.4.5"), "loopback");
        assert_eq!(source("::1"), "loopback");
        assert_eq!(source("::ffff:127.9.9.9"), "loopback");
        assert_eq!(source("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(source("192.0.2.7"), "192.0.2.7");
        assert_eq!(source("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(source("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(addr_key("127.0.0.2"), addr_key("127.0.0.1"));
        assert_eq!(pair_key("amy", "127.8.0.1"), "pair:amy@loopback");
    }

    #[test]
    fn a_pair_backs_off_exponentially_then_locks_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let l = Limiter::new(dir.path(), 2.0, 4);
        let keys = vec![pair_key("amy", "127.0.0.1")];
        let t0 = Instant::now();
        assert_eq!(l.check_at(&keys, t0), Ok(()));
        l.failure_at(&keys, t0);
        assert_eq!(l.check_at(&keys, t0), Err(Refusal::Backoff(2)));
        assert_eq!(l.check_at(&keys, t0 + Duration::from_millis(2001)), Ok(()));
        l.failure_at(&keys, t0 + Duration::from_secs(3));
        assert_eq!(
            l.check_at(&keys, t0 + Duration::from_secs(4)),
            Err(Refusal::Backoff(3))
        );
        l.failure_at(&keys, t0 + Duration::from_secs(10));
        assert_eq!(
            l.check_at(&keys, t0 + Duration::from_secs(10)),
            Err(Refusal::Backoff(8))
        );
        let newly = l.failure_at(&keys, t0 + Duration::from_secs(20));
        assert_eq!(newly, keys);
        let far = t0 + Duration::from_secs(100_000);
        assert_eq!(
            l.check_at(&keys, far),
            Err(Refusal::Locked("pair:amy@loopback".into()))
        );
        // The same name from another source is not locked.
        assert_eq!(l.check_at(&[pair_key("amy", "192.0.2.7")], far), Ok(()));
        // Persisted: a new limiter (a restart) still refuses.
        let l2 = Limiter::new(dir.path(), 2.0, 4);
        assert!(matches!(l2.check(&keys), Err(Refusal::Locked(_))));
        assert!(unlock(dir.path(), "bob").is_err());
        assert_eq!(
            unlock(dir.path(), "amy").unwrap(),
            vec!["pair:amy@loopback".to_string()]
        );
        assert_eq!(l.check_at(&keys, far), Ok(()));
        // A success resets the count.
        let cy = vec![pair_key("cy", "::1")];
        l.failure_at(&cy, far);
        l.success(&cy);
        assert_eq!(l.check_at(&cy, far), Ok(()));
        // An attempt in progress makes a parallel one wait.
        let k = vec![pair_key("dee", "::1")];
        assert_eq!(l.begin(&k), Ok(()));
        assert_eq!(l.begin(&k), Err(Refusal::Backoff(1)));
        l.success(&k);
        assert_eq!(l.begin(&k), Ok(()));
    }

    #[test]
    fn shared_keys_back_off_at_most_a_minute_and_never_lock() {
        let dir = tempfile::tempdir().unwrap();
        let l = Limiter::new(dir.path(), 2.0, 3);
        let keys = vec![user_key("amy"), addr_key("192.0.2.7")];
        let t0 = Instant::now();
        let mut t = t0;
        for _ in 0..40 {
            assert!(l.failure_at(&keys, t).is_empty(), "a shared key locked");
            t += Duration::from_secs(1);
        }
        assert_eq!(l.check_at(&keys, t), Err(Refusal::Backoff(60 - 1)));
        assert_eq!(l.check_at(&keys, t + SHARED_BACKOFF_CAP), Ok(()));
        assert!(read_lockouts(&lockouts_path(dir.path())).is_empty());
    }

    #[test]
    fn unlock_clears_every_source_of_a_name_and_older_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = lockouts_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut locked = BTreeMap::new();
        for k in [
            "pair:amy@loopback",
            "pair:amy@192.0.2.7",
            "pair:amy@x@loopback",
            "user:amy",
            "addr:10.0.0.1",
        ] {
            locked.insert(k.to_string(), json!({}));
        }
        write_lockouts(&path, &locked).unwrap();
        let mut cleared = unlock(dir.path(), "amy").unwrap();
        cleared.sort();
        assert_eq!(
            cleared,
            ["pair:amy@192.0.2.7", "pair:amy@loopback", "user:amy"]
        );
        assert_eq!(
            unlock(dir.path(), "addr:10.0.0.1").unwrap(),
            ["addr:10.0.0.1"]
        );
        assert_eq!(
            unlock(dir.path(), "amy@x").unwrap(),
            ["pair:amy@x@loopback"]
        );
        assert!(read_lockouts(&path).is_empty());
    }
}
