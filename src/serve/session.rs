//! Server-side login sessions: an opaque random token (the cookie) maps to
//! the user, a CSRF token, the login and last-use times, and a fingerprint
//! of the user's password hash at login. A session expires when idle too
//! long or too old, whichever comes first; logout deletes it; a user has at
//! most [`MAX_PER_USER`] live sessions (a new login ends the least recently
//! used one beyond that).
//!
//! Sessions survive a restart: they are kept in `.agent/serve/sessions.json`
//! (mode 0600, in the server's private directory) under the SHA-256 of
//! their token — neither the file nor the server's memory holds a token
//! that would let a reader sign in. Times there are wall-clock seconds; the
//! last use is written at most once a minute, so after a restart a session
//! may count as idle up to a minute longer than it was. On loading, expired
//! sessions and those whose user's password changed meanwhile are dropped;
//! an unreadable file means no sessions (and a warning), never a refusal to
//! start.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most live sessions one user may have.
pub const MAX_PER_USER: usize = 20;

/// How stale a persisted last-use time may get before it is written again.
const LAST_USE_SLACK: u64 = 60;

/// 32 random bytes from the kernel, hex-encoded (64 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    let mut filled = 0;
    while filled < b.len() {
        match rustix::rand::getrandom(&mut b[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("the kernel's random source failed: {e}"),
        }
    }
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|x| format!("{x:02x}")).collect()
}

/// The SHA-256 of `text`, hex-encoded: how tokens and password hashes are
/// kept.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Seconds since the Unix epoch, now.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    /// Login time, Unix seconds.
    created: u64,
    /// Last use, Unix seconds.
    last_used: u64,
    /// SHA-256 of the user's password hash at login ("" without one).
    password: String,
}

/// The file's shape.
#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    /// Token SHA-256 → session.
    sessions: BTreeMap<String, Session>,
}

struct State {
    /// Token SHA-256 → session.
    map: HashMap<String, Session>,
    /// Token SHA-256 → the last-use time the file holds.
    saved_use: HashMap<String, u64>,
}

/// Every live session.
pub struct Sessions {
    idle: Duration,
    absolute: Duration,
    file: Option<PathBuf>,
    state: Mutex<State>,
}

/// Where sessions are kept.
pub fn sessions_path(root: &Path) -> PathBuf {
    super::ratelimit::state_dir(root).join("sessions.json")
}

impl Sessions {
    /// Sessions kept in memory only.
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            idle,
            absolute,
            file: None,
            state: Mutex::new(State {
                map: HashMap::new(),
                saved_use: HashMap::new(),
            }),
        }
    }

    /// Sessions kept in `file`, with those it holds loaded: the live ones
    /// whose user's password fingerprint is still `password(user)`.
    /// Returns warnings about what could not be loaded.
    pub fn open(
        idle: Duration,
        absolute: Duration,
        file: PathBuf,
        password: impl Fn(&str) -> String,
    ) -> (Sessions, Vec<String>) {
        let mut warnings = Vec::new();
        let loaded: BTreeMap<String, Session> = match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<Saved>(&bytes) {
                Ok(saved) if saved.version == 1 => saved.sessions,
                Ok(saved) => {
                    warnings.push(format!(
                        "{} has version {}, not 1: starting without sessions",
                        file.display(),
                        saved.version
                    ));
                    BTreeMap::new()
                }
                Err(e) => {
                    warnings.push(format!(
                        "{} is unreadable ({e}): starting without sessions",
                        file.display()
                    ));
                    BTreeMap::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                warnings.push(format!(
                    "cannot read {}: {e}: starting without sessions",
                    file.display()
                ));
                BTreeMap::new()
            }
        };
        let mut s = Sessions::new(idle, absolute);
        s.file = Some(file);
        let now = now_secs();
        {
            let mut st = s.lock();
            for (key, sess) in loaded {
                if !s.expired(&sess, now) && password(&sess.user) == sess.password {
                    st.saved_use.insert(key.clone(), sess.last_used);
                    st.map.insert(key, sess);
                }
            }
            if let Some(w) = s.save(&mut st) {
                warnings.push(w);
            }
        }
        (s, warnings)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, s: &Session, now: u64) -> bool {
        now.saturating_sub(s.last_used) > self.idle.as_secs()
            || now.saturating_sub(s.created) > self.absolute.as_secs()
    }

    /// Writes the sessions to the file (when there is one); returns a
    /// warning when it cannot.
    fn save(&self, st: &mut State) -> Option<String> {
        let file = self.file.as_ref()?;
        let saved = Saved {
            version: 1,
            sessions: st.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let text = serde_json::to_string_pretty(&saved).expect("JSON") + "\n";
        match crate::atomic::replace(file, text.as_bytes(), 0o600) {
            Ok(()) => {
                st.saved_use = st
                    .map
                    .iter()
                    .map(|(k, v)| (k.clone(), v.last_used))
                    .collect();
                None
            }
            Err(e) => Some(format!(
                "cannot save sessions to {}: {e}; they will not survive a restart",
                file.display()
            )),
        }
    }

    fn save_or_log(&self, st: &mut State) {
        if let Some(w) = self.save(st) {
            super::log::line(w);
        }
    }

    /// Starts a session for `user` whose password fingerprint is
    /// `password` ([`sha256_hex`] of the hash, "" without one); returns its
    /// token.
    pub fn create(&self, user: &str, password: &str) -> (String, Session) {
        self.create_at(user, password, now_secs())
    }

    fn create_at(&self, user: &str, password: &str, now: u64) -> (String, Session) {
        let token = random_token();
        let s = Session {
            user: user.to_string(),
            csrf: random_token(),
            created: now,
            last_used: now,
            password: password.to_string(),
        };
        let mut st = self.lock();
        // Expired sessions are dropped whenever a new one starts.
        st.map.retain(|_, s| !self.expired(s, now));
        let mut mine: Vec<(u64, String)> = st
            .map
            .iter()
            .filter(|(_, s)| s.user == user)
            .map(|(k, s)| (s.last_used, k.clone()))
            .collect();
        if mine.len() >= MAX_PER_USER {
            mine.sort();
            for (_, k) in &mine[..=mine.len() - MAX_PER_USER] {
                st.map.remove(k);
            }
        }
        st.map.insert(sha256_hex(&token), s.clone());
        self.save_or_log(&mut st);
        (token, s)
    }

    /// The live session of `token`, marked as used now.
    pub fn touch(&self, token: &str) -> Option<Session> {
        self.touch_at(token, now_secs())
    }

    fn touch_at(&self, token: &str, now: u64) -> Option<Session> {
        let key = sha256_hex(token);
        let mut st = self.lock();
        let s = st.map.get_mut(&key)?;
        if self.expired(s, now) {
            st.map.remove(&key);
            self.save_or_log(&mut st);
            return None;
        }
        s.last_used = s.last_used.max(now);
        let s = s.clone();
        let saved = st.saved_use.get(&key).copied().unwrap_or(0);
        if s.last_used.saturating_sub(saved) >= LAST_USE_SLACK {
            self.save_or_log(&mut st);
        }
        Some(s)
    }

    /// Whether `token`'s session is live (without marking it used).
    pub fn is_live(&self, token: &str) -> bool {
        let st = self.lock();
        st.map
            .get(&sha256_hex(token))
            .is_some_and(|s| !self.expired(s, now_secs()))
    }

    /// Ends every session of `user`; returns how many there were.
    pub fn remove_user(&self, user: &str) -> usize {
        let mut st = self.lock();
        let before = st.map.len();
        st.map.retain(|_, s| s.user != user);
        let n = before - st.map.len();
        if n > 0 {
            self.save_or_log(&mut st);
        }
        n
    }

    pub fn remove(&self, token: &str) -> bool {
        let mut st = self.lock();
        let gone = st.map.remove(&sha256_hex(token)).is_some();
        if gone {
            self.save_or_log(&mut st);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_token());
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let s = Sessions::new(Duration::from_secs(10), Duration::from_secs(25));
        let t0 = 1_000_000;
        let (tok, _) = s.create_at("amy", "", t0);
        assert_eq!(s.touch_at(&tok, t0 + 8).unwrap().user, "amy");
        assert!(s.touch_at(&tok, t0 + 16).is_some());
        assert!(s.touch_at(&tok, t0 + 24).is_some());
        // Used every 8 s, but older than the absolute limit.
        assert!(s.touch_at(&tok, t0 + 26).is_none());
        let (tok2, _) = s.create_at("bob", "", t0);
        assert!(s.touch_at(&tok2, t0 + 11).is_none());
        let (tok3, _) = s.create("cy", "");
        assert!(s.remove(&tok3));
        assert!(s.touch(&tok3).is_none());
        assert!(s.touch("nonsense").is_none());
    }

    #[test]
    fn a_user_has_at_most_the_cap_and_loses_the_least_recently_used() {
        let s = Sessions::new(Duration::from_secs(3600), Duration::from_secs(7200));
        let t0 = 1_000_000;
        let tokens: Vec<String> = (0..MAX_PER_USER as u64)
            .map(|i| s.create_at("amy", "", t0 + i).0)
            .collect();
        let (bob, _) = s.create_at("bob", "", t0);
        // The first is used again, so the second is the least recently used.
        assert!(s.touch_at(&tokens[0], t0 + 100).is_some());
        let (newest, _) = s.create_at("amy", "", t0 + 101);
        assert!(s.touch_at(&tokens[1], t0 + 102).is_none());
        for t in tokens.iter().skip(2).chain([&tokens[0], &newest, &bob]) {
            assert!(s.touch_at(t, t0 + 102).is_some());
        }
    }

    #[test]
    fn sessions_survive_a_restart_hashed_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sessions.json");
        let open = |pw: &'static str| {
            Sessions::open(
                Duration::from_secs(600),
                Duration::from_secs(3600),
                file.clone(),
                move |_| pw.to_string(),
            )
        };
        let (s, w) = open("fp1");
        assert!(w.is_empty(), "{w:?}");
        let (amy, sess) = s.create("amy", "fp1");
        let (gone, _) = s.create("amy", "fp1");
        s.remove(&gone);
        drop(s);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&amy), "a raw token was written");
        assert!(text.contains(&sha256_hex(&amy)));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (s, _) = open("fp1");
        assert_eq!(s.touch(&amy).unwrap().csrf, sess.csrf);
        assert!(s.touch(&gone).is_none());
        drop(s);
        // The password changed while the server was down: the session ends.
        let (s, _) = open("fp2");
        assert!(s.touch(&amy).is_none());
        drop(s);
        // A corrupt file: a warning, no sessions, and the server goes on.
        std::fs::write(&file, "{not json").unwrap();
        let (s, w) = open("fp1");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(s.touch(&amy).is_none());
        let (tok, _) = s.create("amy", "fp1");
        assert!(open("fp1").0.is_live(&tok));
    }
}
