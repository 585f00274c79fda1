//! Idempotency keys for writes: a REST write's `Idempotency-Key` header or a
//! WebSocket command's `idempotency_key`. A user's key is applied once; a
//! repeat gets the first answer back (it waits while the first is still
//! being applied), and the same key on a different request is refused.
//!
//! An answer is kept when the write succeeded or something was written on
//! the way (an error after a write must not be re-run); an error with
//! nothing written frees the key, so a retry is a fresh attempt. Kept
//! answers expire after [`TTL`]; a user has at most [`PER_USER`] keys and
//! [`PER_USER_BYTES`] of kept answers, and past either cap that user's
//! oldest kept answers are forgotten. They are
//! written to `.agent/serve/idempotency.jsonl` ([`journal`]) so a retry
//! after a restart is not applied again.

mod journal;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::api::ApiError;
use journal::Journal;

/// The REST request header.
pub const HEADER: &str = "idempotency-key";
/// The WebSocket command field.
pub const FIELD: &str = "idempotency_key";
/// The answer header of a replayed answer.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// Longest key accepted.
pub const MAX_KEY: usize = 255;
/// Keys kept per user (kept answers and writes in progress).
pub const PER_USER: usize = 1000;
/// Bytes of kept answers per user (a single larger answer is still kept).
pub const PER_USER_BYTES: usize = 16 << 20;
/// How long an answer is kept.
pub const TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a repeat waits for the first attempt before `409 in_progress`.
pub const WAIT: Duration = Duration::from_secs(10);

/// An answer as it is sent (and replayed): the status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl From<std::result::Result<(u16, Value), ApiError>> for Answer {
    fn from(r: std::result::Result<(u16, Value), ApiError>) -> Answer {
        match r {
            Ok((status, body)) => Answer { status, body },
            Err(e) => Answer {
                status: e.status,
                body: e.to_json(),
            },
        }
    }
}

/// The key from a header or field: 1 to [`MAX_KEY`] visible ASCII
/// characters (a quoted string's quotes are not part of it).
pub fn parse_key(raw: &str) -> std::result::Result<String, ApiError> {
    let k = raw.trim();
    let k = k
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(k);
    if k.is_empty() || k.len() > MAX_KEY || !k.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ApiError::new(
            400,
            "bad_idempotency_key",
            format!(
                "an idempotency key must be 1 to {MAX_KEY} visible ASCII characters (a UUID is a good one)"
            ),
        ));
    }
    Ok(k.to_string())
}

/// What a key stands for: the method, the path and the body (object keys
/// in any order), hashed.
pub fn fingerprint(method: &str, path: &str, body: &Value) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(canonical(body).to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `v` with every object's keys sorted.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Debug, Clone)]
enum State {
    Running,
    Done(Answer),
}

#[derive(Debug, Clone)]
struct Entry {
    fp: String,
    state: State,
    /// When it was kept (seconds since the epoch).
    at: u64,
    /// Keeping order: the lowest is forgotten first at the cap.
    order: u64,
    /// The kept answer's size in bytes (its body as JSON).
    size: usize,
}

/// Forgets the oldest kept answers in `m` (never `newest`'s) while they
/// hold more than [`PER_USER_BYTES`].
fn trim_bytes(m: &mut HashMap<String, Entry>, newest: &str) {
    let mut total: usize = m.values().map(|e| e.size).sum();
    while total > PER_USER_BYTES {
        let Some(oldest) = m
            .iter()
            .filter(|(k, e)| k.as_str() != newest && matches!(e.state, State::Done(_)))
            .min_by_key(|(_, e)| e.order)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        total -= m.remove(&oldest).map_or(0, |e| e.size);
    }
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<String, HashMap<String, Entry>>,
    next: u64,
    journal: Option<Journal>,
    warnings: Vec<String>,
}

impl Inner {
    fn expire(&mut self, user: &str, now: u64) {
        if let Some(m) = self.users.get_mut(user) {
            m.retain(|_, e| matches!(e.state, State::Running) || e.at + TTL.as_secs() > now);
        }
    }

    /// Keys kept, and the bytes of their answers.
    fn kept(&self) -> (usize, usize) {
        let entries = self.users.values().flat_map(|m| m.values());
        (
            self.users.values().map(|m| m.len()).sum(),
            entries.map(|e| e.size).sum(),
        )
    }
}

/// Every user's keys.
#[derive(Debug)]
pub struct Keys {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// How long a repeat waits for the first attempt ([`WAIT`]).
    wait: Duration,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            inner: Mutex::default(),
            changed: Condvar::new(),
            wait: WAIT,
        }
    }
}

/// What a write with a key came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub answer: Answer,
    /// The answer of an earlier request with the same key.
    pub replayed: bool,
}

impl Keys {
    /// Keys kept in memory only.
    pub fn in_memory() -> Keys {
        Keys::default()
    }

    /// The keys kept in `dir`'s journal (created if missing). Never fails:
    /// an unreadable or unsafe journal is reported in the warnings and
    /// the keys are then kept in memory only (or its bad lines skipped).
    pub fn open(dir: &Path) -> (Keys, Vec<String>) {
        let (journal, users, next, warnings) = journal::load(dir, now_secs());
        let keys = Keys {
            inner: Mutex::new(Inner {
                users,
                next,
                journal,
                warnings: Vec::new(),
            }),
            changed: Condvar::new(),
            wait: WAIT,
        };
        (keys, warnings)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What went wrong writing the journal since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().warnings)
    }

    /// Runs `apply` (which returns its answer and whether it wrote
    /// anything) unless `user` already sent `key`: then the first answer
    /// is returned. Without a key, `apply` just runs. Errors: `422` the key
    /// was used for another request, `409` the first attempt is still
    /// being applied after [`WAIT`], `429` every one of the user's
    /// [`PER_USER`] keys is in progress.
    pub fn run(
        &self,
        user: &str,
        key: Option<&str>,
        fp: &str,
        apply: impl FnOnce() -> (Answer, bool),
    ) -> std::result::Result<Outcome, ApiError> {
        let Some(key) = key else {
            return Ok(Outcome {
                answer: apply().0,
                replayed: false,
            });
        };
        self.run_at(user, key, fp, now_secs(), apply)
    }

    /// [`Keys::run`] with a key, at `now` (seconds since the epoch).
    fn run_at(
        &self,
        user: &str,
        key: &str,
        fp: &str,
        now: u64,
        apply: impl FnOnce() -> (Answer, bool),
    ) -> std::result::Result<Outcome, ApiError> {
        let ticket = match self.claim(user, key, fp, now)? {
            Ok(answer) => {
                return Ok(Outcome {
                    answer,
                    replayed: true,
                })
            }
            Err(ticket) => ticket,
        };
        let (answer, wrote) = apply();
        ticket.finish(&answer, wrote || answer.status < 400, now);
        Ok(Outcome {
            answer,
            replayed: false,
        })
    }

    /// The kept answer of `key` (`Ok`), or the right to apply it (`Err`).
    fn claim<'k>(
        &'k self,
        user: &str,
        key: &str,
        fp: &str,
        now: u64,
    ) -> std::result::Result<std::result::Result<Answer, Ticket<'k>>, ApiError> {
        let deadline = Instant::now() + self.wait;
        let mut inner = self.lock();
        loop {
            inner.expire(user, now);
            match inner.users.get(user).and_then(|m| m.get(key)) {
                Some(e) if e.fp != fp => {
                    return Err(ApiError::new(
                        422,
                        "idempotency_key_reused",
                        "this idempotency key was already used for a different request \
                         (another method, path or body); use a new key for a new change",
                    ))
                }
                Some(Entry {
                    state: State::Done(a),
                    ..
                }) => return Ok(Ok(a.clone())),
                Some(_) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ApiError::new(
                            409,
                            "in_progress",
                            "a request with this idempotency key is still being applied; \
                             send it again in a moment to get its answer",
                        ));
                    }
                    inner = self
                        .changed
                        .wait_timeout(inner, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                None => break,
            }
        }
        let mine = inner.users.entry(user.to_string()).or_default();
        if mine.len() >= PER_USER {
            let oldest = mine
                .iter()
                .filter(|(_, e)| matches!(e.state, State::Done(_)))
                .min_by_key(|(_, e)| e.order)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    mine.remove(&k);
                }
                None => {
                    return Err(ApiError::new(
                        429,
                        "too_many_in_progress",
                        format!("{PER_USER} of your changes are being applied; wait for them"),
                    ))
                }
            }
        }
        mine.insert(
            key.to_string(),
            Entry {
                fp: fp.to_string(),
                state: State::Running,
                at: now,
                order: 0,
                size: 0,
            },
        );
        Ok(Err(Ticket {
            keys: self,
            user: user.to_string(),
            key: key.to_string(),
            done: false,
        }))
    }
}

/// The right to apply one key; dropped unfinished (a panic), it frees the
/// key.
struct Ticket<'k> {
    keys: &'k Keys,
    user: String,
    key: String,
    done: bool,
}

impl Ticket<'_> {
    /// Keeps `answer` for the key (as of `now`), or (`keep` false) frees
    /// the key.
    fn finish(mut self, answer: &Answer, keep: bool, now: u64) {
        self.done = true;
        let mut guard = self.keys.lock();
        let inner = &mut *guard;
        if !keep {
            if let Some(m) = inner.users.get_mut(&self.user) {
                m.remove(&self.key);
            }
        } else if let Some(e) = inner
            .users
            .get_mut(&self.user)
            .and_then(|m| m.get_mut(&self.key))
        {
            e.state = State::Done(answer.clone());
            e.at = now;
            e.order = inner.next;
            e.size = answer.body.to_string().len();
            let fp = e.fp.clone();
            inner.next += 1;
            if let Some(m) = inner.users.get_mut(&self.user) {
                trim_bytes(m, &self.key);
            }
            let (kept, kept_bytes) = inner.kept();
            if let Some(j) = &mut inner.journal {
                if let Err(w) = j.append(&self.user, &self.key, &fp, answer, now) {
                    inner.warnings.push(w);
                }
                if j.needs_compaction(kept, kept_bytes) {
                    if let Err(w) = j.compact(&inner.users) {
                        inner.warnings.push(w);
                    }
                }
            }
        }
        self.keys.changed.notify_all();
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut inner = self.keys.lock();
            if let Some(m) = inner.users.get_mut(&self.user) {
                m.remove(&self.key);
            }
            self.keys.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests;
