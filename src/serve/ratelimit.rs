//! Brute-force limits on logins, per user name and per client address:
//! after the n-th failure in a row the next attempt must wait
//! `base_delay × 2^(n−1)` seconds (monotonic clock); at `max_failures` the
//! key is locked out until a human clears it (`htrac-serve unlock-login`).
//! Lockouts persist in `.agent/serve/lockouts.json`, which the server
//! re-reads at every check, so a clear takes effect without a restart.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// At most this many keys' failure counts are remembered (oldest dropped).
const MAX_TRACKED: usize = 10_000;

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

/// Creates `.agent/serve/` with a `.gitignore` of `*`.
pub fn ensure_state_dir(root: &Path) -> std::io::Result<PathBuf> {
    let dir = state_dir(root);
    std::fs::create_dir_all(&dir)?;
    let gi = dir.join(".gitignore");
    if !gi.exists() {
        std::fs::write(gi, "*\n")?;
    }
    Ok(dir)
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

/// The rate-limit key of a user name.
pub fn user_key(user: &str) -> String {
    format!("user:{user}")
}

/// The rate-limit key of a client address.
pub fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
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
                if self.max_failures > 0 && f.count >= self.max_failures {
                    // Cleared by a human since: start afresh.
                    state.remove(k);
                    continue;
                }
                let delay = self.delay(f.count);
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

    fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let secs = self.base_delay * 2f64.powi((failures - 1).min(30) as i32);
        Duration::from_secs_f64(secs.min(86_400.0 * 365.0))
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
                if self.max_failures > 0 && f.count >= self.max_failures {
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
                eprintln!(
                    "htrac-serve: cannot save lockouts to {}: {e}; they hold until restart",
                    self.file.display()
                );
                self.unsaved
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(newly.iter().cloned());
            }
            for k in &newly {
                eprintln!(
                    "htrac-serve: {k} locked out after {} failed logins",
                    self.max_failures
                );
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
/// name, `addr:IP`, `user:NAME`, or `--all`. Returns the keys cleared.
pub fn unlock(root: &Path, who: &str) -> Result<Vec<String>> {
    let path = lockouts_path(root);
    let mut locked = read_lockouts(&path);
    let cleared: Vec<String> = if who == "--all" {
        locked.keys().cloned().collect()
    } else {
        let key = if who.starts_with("user:") || who.starts_with("addr:") {
            who.to_string()
        } else {
            user_key(who)
        };
        locked.keys().filter(|k| **k == key).cloned().collect()
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
    fn exponential_backoff_then_lockout_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let l = Limiter::new(dir.path(), 2.0, 4);
        let keys = vec![user_key("amy"), addr_key("127.0.0.1")];
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
            Err(Refusal::Locked(user_key("amy")))
        );
        // Persisted: a new limiter (a restart) still refuses.
        let l2 = Limiter::new(dir.path(), 2.0, 4);
        assert!(matches!(l2.check(&keys), Err(Refusal::Locked(_))));
        assert!(unlock(dir.path(), "bob").is_err());
        assert_eq!(unlock(dir.path(), "amy").unwrap(), vec![user_key("amy")]);
        assert_eq!(
            l.check_at(&keys, far),
            Err(Refusal::Locked(addr_key("127.0.0.1")))
        );
        unlock(dir.path(), "--all").unwrap();
        assert_eq!(l.check_at(&keys, far), Ok(()));
        // A success resets the count.
        l.failure_at(&[user_key("cy")], far);
        l.success(&[user_key("cy")]);
        assert_eq!(l.check_at(&[user_key("cy")], far), Ok(()));
        // An attempt in progress makes a parallel one wait.
        let k = vec![user_key("dee")];
        assert_eq!(l.begin(&k), Ok(()));
        assert_eq!(l.begin(&k), Err(Refusal::Backoff(1)));
        l.success(&k);
        assert_eq!(l.begin(&k), Ok(()));
    }
}
