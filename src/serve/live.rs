//! The live item state behind `/ws`: every item's JSON, a sequence number
//! bumped by each delta, a ring buffer of recent deltas (so a reconnecting
//! client gets what it missed), and the connected clients' outboxes.
//! The watcher ([`super::watch`]) tells it which items changed; only those
//! are recompiled, and a `delta` goes to every client.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::items::tiers::Tier;
use crate::tracker::{ItemFile, Tracker};

/// Deltas kept for `resume`.
pub const RING: usize = 1024;
/// Messages a client may have waiting before it is sent a fresh snapshot instead.
pub const MAX_QUEUED: usize = 512;

#[derive(Debug, Clone)]
struct Entry {
    key: (i64, String),
    json: Value,
}

#[derive(Debug, Default)]
struct State {
    seq: u64,
    items: BTreeMap<String, Entry>,
    ring: VecDeque<(u64, Arc<str>)>,
}

/// One connected WebSocket client's outbox.
#[derive(Debug)]
pub struct Client {
    queue: Mutex<VecDeque<Arc<str>>>,
    /// Set when the outbox overflowed: the client needs a snapshot.
    overflowed: AtomicBool,
    closed: AtomicBool,
    /// An eventfd the client's thread polls; written on every new message.
    pub wake: OwnedFd,
}

impl Client {
    fn new() -> std::io::Result<Client> {
        let wake = rustix::event::eventfd(
            0,
            rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
        )?;
        Ok(Client {
            queue: Mutex::new(VecDeque::new()),
            overflowed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            wake,
        })
    }

    fn push(&self, msg: Arc<str>) {
        {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            if q.len() >= MAX_QUEUED {
                q.clear();
                self.overflowed.store(true, Ordering::SeqCst);
            } else {
                q.push_back(msg);
            }
        }
        self.notify();
    }

    /// Wakes the client's thread.
    pub fn notify(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    /// Takes the waiting messages; `true` first if a snapshot must replace them.
    pub fn drain(&self) -> (bool, Vec<Arc<str>>) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.wake, &mut buf);
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let over = self.overflowed.swap(false, Ordering::SeqCst);
        (over, q.drain(..).collect())
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// The shared live state.
#[derive(Debug)]
pub struct Live {
    state: Mutex<State>,
    clients: Mutex<Vec<Arc<Client>>>,
}

fn entry(item: &crate::Item) -> Entry {
    Entry {
        key: (item.priority_num(), item.created_at.clone()),
        json: item.to_json(false, false),
    }
}

/// An item's current state on disk: `Some(Ok)` compiled, `None` gone,
/// `Some(Err)` unreadable (left as it was).
fn load_one(t: &Tracker, id: &str) -> Option<Result<crate::Item, String>> {
    let tier = Tier::ALL.into_iter().find(|tier| {
        std::fs::symlink_metadata(t.item_path(*tier, id)).is_ok_and(|m| m.file_type().is_file())
    })?;
    let file = ItemFile {
        id: id.to_string(),
        tier,
        path: t.item_path(tier, id),
    };
    Some(t.load(&file).map_err(|e| e.message))
}

impl Live {
    /// Reads every item once.
    pub fn new(t: &Tracker) -> crate::Result<Live> {
        let snap = t.snapshot()?;
        let items = snap
            .items
            .iter()
            .map(|i| (i.id.clone(), entry(i)))
            .collect();
        Ok(Live {
            state: Mutex::new(State {
                // Starts at the clock in milliseconds, so a client of an
                // earlier run of the server never mistakes its old sequence
                // number for a current one.
                seq: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(1),
                items,
                ring: VecDeque::new(),
            }),
            clients: Mutex::new(Vec::new()),
        })
    }

    pub fn seq(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).seq
    }

    fn snapshot_of(st: &State) -> String {
        let mut entries: Vec<&Entry> = st.items.values().collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        let items: Vec<&Value> = entries.iter().map(|e| &e.json).collect();
        json!({"type": "snapshot", "seq": st.seq, "items": items}).to_string()
    }

    /// A `snapshot` message of the current state.
    pub fn snapshot(&self) -> String {
        Self::snapshot_of(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Registers a client and returns its first messages: a snapshot, or,
    /// for a client that has seen up to `resume`, the deltas after it when
    /// they are all still buffered. No delta can fall between the two.
    pub fn subscribe(&self, resume: Option<u64>) -> std::io::Result<(Arc<Client>, Vec<Arc<str>>)> {
        let client = Arc::new(Client::new()?);
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let first = match resume {
            Some(seq) => Self::resume_of(&st, seq),
            None => vec![Arc::from(Self::snapshot_of(&st))],
        };
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(client.clone());
        Ok((client, first))
    }

    pub fn unsubscribe(&self, client: &Arc<Client>) {
        client.close();
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|c| !Arc::ptr_eq(c, client));
    }

    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Wakes every client (at shutdown).
    pub fn wake_all(&self) {
        for c in self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            c.notify();
        }
    }

    /// What a client that has seen up to `seq` needs: the deltas after it
    /// if they are all still buffered, else a snapshot.
    pub fn resume(&self, seq: u64) -> Vec<Arc<str>> {
        Self::resume_of(&self.state.lock().unwrap_or_else(|p| p.into_inner()), seq)
    }

    fn resume_of(st: &State, seq: u64) -> Vec<Arc<str>> {
        if seq == st.seq {
            return Vec::new();
        }
        let first = st.ring.front().map(|(s, _)| *s);
        if seq < st.seq && first.is_some_and(|f| f <= seq + 1) {
            return st
                .ring
                .iter()
                .filter(|(s, _)| *s > seq)
                .map(|(_, m)| m.clone())
                .collect();
        }
        vec![Arc::from(Self::snapshot_of(st))]
    }

    /// Recompiles the items `ids` and sends one delta for those that
    /// changed. Returns the delta's sequence number, if one was sent.
    pub fn apply(&self, t: &Tracker, ids: &BTreeSet<String>) -> Option<u64> {
        // Read the files outside the lock; apply under it.
        let loaded: Vec<(String, Option<Result<crate::Item, String>>)> =
            ids.iter().map(|id| (id.clone(), load_one(t, id))).collect();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for (id, now) in loaded {
            match now {
                Some(Ok(item)) => {
                    let e = entry(&item);
                    if st.items.get(&id).map(|old| &old.json) != Some(&e.json) {
                        changed.push(e.json.clone());
                        st.items.insert(id, e);
                    }
                }
                None => {
                    if st.items.remove(&id).is_some() {
                        removed.push(id);
                    }
                }
                Some(Err(msg)) => {
                    super::log::line(format_args!("{id} is unreadable, left as it was: {msg}"))
                }
            }
        }
        for w in t.take_warnings() {
            super::log::line(w);
        }
        self.publish(&mut st, changed, removed)
    }

    /// Re-reads every item (a tier directory appeared, an edit-mode log
    /// changed, or inotify overflowed) and sends a delta of the differences.
    pub fn rescan(&self, t: &Tracker) -> Option<u64> {
        let snap = match t.snapshot() {
            Ok(s) => s,
            Err(e) => {
                super::log::line(format_args!("cannot read the tracker: {}", e.message));
                return None;
            }
        };
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut fresh: BTreeMap<String, Entry> = snap
            .items
            .iter()
            .map(|i| (i.id.clone(), entry(i)))
            .collect();
        // Unreadable items keep their last good state.
        for b in &snap.broken {
            if let Some(old) = st.items.get(&b.file.id) {
                fresh.insert(b.file.id.clone(), old.clone());
            }
        }
        let changed: Vec<Value> = fresh
            .iter()
            .filter(|(id, e)| st.items.get(*id).map(|o| &o.json) != Some(&e.json))
            .map(|(_, e)| e.json.clone())
            .collect();
        let removed: Vec<String> = st
            .items
            .keys()
            .filter(|id| !fresh.contains_key(*id))
            .cloned()
            .collect();
        st.items = fresh;
        self.publish(&mut st, changed, removed)
    }

    fn publish(&self, st: &mut State, changed: Vec<Value>, removed: Vec<String>) -> Option<u64> {
        if changed.is_empty() && removed.is_empty() {
            return None;
        }
        st.seq += 1;
        let msg: Arc<str> = Arc::from(
            json!({"type": "delta", "seq": st.seq, "items": changed, "removed": removed})
                .to_string(),
        );
        st.ring.push_back((st.seq, msg.clone()));
        while st.ring.len() > RING {
            st.ring.pop_front();
        }
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.retain(|c| !c.closed.load(Ordering::SeqCst));
        for c in clients.iter() {
            c.push(msg.clone());
        }
        Some(st.seq)
    }
}
