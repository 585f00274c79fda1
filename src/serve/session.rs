//! Server-side login sessions: an opaque random token (the cookie) maps to
//! the user, a CSRF token, and the login and last-use times. A session
//! expires when idle too long or too old, whichever comes first; logout
//! deletes it. Sessions live in memory: a restart logs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    created: Instant,
    last_used: Instant,
}

/// Every live session.
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    absolute: Duration,
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            idle,
            absolute,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `user`; returns its token.
    pub fn create(&self, user: &str) -> (String, Session) {
        let now = Instant::now();
        let token = random_token();
        let s = Session {
            user: user.to_string(),
            csrf: random_token(),
            created: now,
            last_used: now,
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Expired sessions are dropped whenever a new one starts.
        map.retain(|_, s| !expired(s, now, self.idle, self.absolute));
        map.insert(token.clone(), s.clone());
        (token, s)
    }

    /// The live session of `token`, marked as used now.
    pub fn touch(&self, token: &str) -> Option<Session> {
        self.touch_at(token, Instant::now())
    }

    fn touch_at(&self, token: &str, now: Instant) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let s = map.get_mut(token)?;
        if expired(s, now, self.idle, self.absolute) {
            map.remove(token);
            return None;
        }
        s.last_used = now;
        Some(s.clone())
    }

    /// Whether `token`'s session is live (without marking it used).
    pub fn is_live(&self, token: &str) -> bool {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .is_some_and(|s| !expired(s, Instant::now(), self.idle, self.absolute))
    }

    /// Ends every session of `user`; returns how many there were.
    pub fn remove_user(&self, user: &str) -> usize {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let before = map.len();
        map.retain(|_, s| s.user != user);
        before - map.len()
    }

    pub fn remove(&self, token: &str) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(token).is_some()
    }
}

fn expired(s: &Session, now: Instant, idle: Duration, absolute: Duration) -> bool {
    now.saturating_duration_since(s.last_used) > idle
        || now.saturating_duration_since(s.created) > absolute
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
        let (tok, sess) = s.create("amy");
        let t0 = sess.created;
        assert_eq!(
            s.touch_at(&tok, t0 + Duration::from_secs(8)).unwrap().user,
            "amy"
        );
        assert!(s.touch_at(&tok, t0 + Duration::from_secs(16)).is_some());
        assert!(s.touch_at(&tok, t0 + Duration::from_secs(24)).is_some());
        // Used every 8 s, but older than the absolute limit.
        assert!(s.touch_at(&tok, t0 + Duration::from_secs(26)).is_none());
        let (tok2, sess2) = s.create("bob");
        assert!(s
            .touch_at(&tok2, sess2.created + Duration::from_secs(11))
            .is_none());
        let (tok3, _) = s.create("cy");
        assert!(s.remove(&tok3));
        assert!(s.touch(&tok3).is_none());
        assert!(s.touch("nonsense").is_none());
    }
}
