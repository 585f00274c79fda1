//! Ceremonies in flight: the server-side state of each started
//! registration or login, kept in memory under a random id, single-use
//! (taken out by the finish call, whatever its outcome), expiring, and
//! bounded in number so unauthenticated starts cannot grow memory.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration, Uuid};

use super::error::{PasskeyError, PasskeyErrorKind};

/// How many ceremonies may be in flight at once.
pub const MAX_CEREMONIES: usize = 256;

/// What a finish call needs from its start.
pub enum Pending {
    Registration {
        state: PasskeyRegistration,
        user: String,
        user_handle: Uuid,
        /// The registration token's hash, consumed when the key is stored.
        token_sha256: String,
    },
    Login {
        state: PasskeyAuthentication,
    },
}

pub struct Ceremonies {
    map: HashMap<String, (Instant, Pending)>,
    ttl: Duration,
}

impl Ceremonies {
    pub fn new(ttl: Duration) -> Ceremonies {
        Ceremonies {
            map: HashMap::new(),
            ttl,
        }
    }

    /// Stores `pending` under a fresh random id and returns the id.
    pub fn insert(&mut self, pending: Pending) -> Result<String, PasskeyError> {
        let now = Instant::now();
        self.map.retain(|_, (expires, _)| *expires > now);
        if self.map.len() >= MAX_CEREMONIES {
            return Err(PasskeyError::new(
                PasskeyErrorKind::TooManyCeremonies,
                "too many passkey ceremonies in progress; wait a few minutes and try again",
            ));
        }
        let id = super::random_hex(32)?;
        self.map.insert(id.clone(), (now + self.ttl, pending));
        Ok(id)
    }

    /// Takes the ceremony `id` out (so it can be finished only once).
    pub fn take(&mut self, id: &str) -> Result<Pending, PasskeyError> {
        let now = Instant::now();
        match self.map.remove(id) {
            Some((expires, pending)) if expires > now => Ok(pending),
            _ => Err(PasskeyError::new(
                PasskeyErrorKind::UnknownCeremony,
                "this passkey ceremony is unknown, expired or already finished; start again",
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
