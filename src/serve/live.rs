//! The live item state behind `/ws`: every item's JSON, a sequence number
//! bumped by each delta, a ring buffer of recent deltas (so a reconnecting
//! client gets what it missed), and the connected clients' outboxes.
//! The watcher ([`super::watch`]) tells it which items changed; only those
//! are recompiled, and a `delta` goes to every client.
//!
//! Each item's JSON is encoded once, when it changes, and kept as text; a
//! snapshot is those texts joined in list order, built at most once per
//! sequence number and shared (like every delta) by all the clients.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::items::tiers::Tier;
use crate::tracker::{ItemFile, Tracker};

/// Deltas kept for `resume`.
pub const RING: usize = 1024;
/// Messages a client may have waiting before it is sent a fresh snapshot instead.
pub const MAX_QUEUED: usize = 512;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: (i64, String),
    /// The item's JSON (`show --json`), encoded.
    json: Box<str>,
}

#[derive(Debug, Default)]
struct State {
    seq: u64,
    items: BTreeMap<String, Entry>,
    ring: VecDeque<(u64, Arc<str>)>,
    /// The snapshot message at `seq`, once one was asked for.
    snapshot: Option<Arc<str>>,
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
        json: item.to_json(false, false).to_string().into(),
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
                snapshot: None,
            }),
            clients: Mutex::new(Vec::new()),
        })
    }

    pub fn seq(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).seq
    }

    /// The snapshot message: every item in list order (priority, then
    /// creation time), built once per sequence number.
    fn snapshot_of(st: &mut State) -> Arc<str> {
        if let Some(s) = &st.snapshot {
            return s.clone();
        }
        let mut entries: Vec<&Entry> = st.items.values().collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        let len = entries.iter().map(|e| e.json.len() + 1).sum::<usize>() + 64;
        let mut out = String::with_capacity(len);
        out.push_str(&format!(
            r#"{{"type":"snapshot","seq":{},"items":["#,
            st.seq
        ));
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&e.json);
        }
        out.push_str("]}");
        let snap: Arc<str> = Arc::from(out);
        st.snapshot = Some(snap.clone());
        snap
    }

    /// A `snapshot` message of the current state.
    pub fn snapshot(&self) -> Arc<str> {
        Self::snapshot_of(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Registers a client and returns its first messages: a snapshot, or,
    /// for a client that has seen up to `resume`, the deltas after it when
    /// they are all still buffered. No delta can fall between the two.
    pub fn subscribe(&self, resume: Option<u64>) -> std::io::Result<(Arc<Client>, Vec<Arc<str>>)> {
        let client = Arc::new(Client::new()?);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let first = match resume {
            Some(seq) => Self::resume_of(&mut st, seq),
            None => vec![Self::snapshot_of(&mut st)],
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
        Self::resume_of(
            &mut self.state.lock().unwrap_or_else(|p| p.into_inner()),
            seq,
        )
    }

    fn resume_of(st: &mut State, seq: u64) -> Vec<Arc<str>> {
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
        vec![Self::snapshot_of(st)]
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
                    if st.items.get(&id) != Some(&e) {
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
        let changed: Vec<Box<str>> = fresh
            .iter()
            .filter(|(id, e)| st.items.get(*id) != Some(*e))
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

    fn publish(&self, st: &mut State, changed: Vec<Box<str>>, removed: Vec<String>) -> Option<u64> {
        if changed.is_empty() && removed.is_empty() {
            return None;
        }
        st.seq += 1;
        st.snapshot = None;
        // The items' texts as they are: encoded once, for every client.
        let mut text = format!(r#"{{"type":"delta","seq":{},"items":["#, st.seq);
        for (i, j) in changed.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(j);
        }
        text.push_str(&format!(r#"],"removed":{}}}"#, json!(removed)));
        let msg: Arc<str> = Arc::from(text);
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
