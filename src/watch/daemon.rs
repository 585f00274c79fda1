//! The resident watcher's loop (`htrac watch --foreground`): one inotify
//! instance on the three tier directories and the directories above them,
//! a session id and an event sequence number, and for each name the
//! sequence number of its last event; one Unix socket on which it answers
//! "what changed since (session, seq)" (see [`super`] for the protocol).
//!
//! Before answering it syncs: it makes a cookie file in its private
//! directory (next to its socket, never in the repository) and reads
//! events until it sees that file's. One inotify instance has one queue,
//! in the order things happened, so every change made before the request
//! has then been read. Then it checks that each watched path is still the
//! directory it watches (a `stat` each), re-adding watches where not.
//!
//! It answers "rescan" to a stamp of another session and to one older
//! than the last time events may have been lost: queue overflow, a watch
//! removed (its directory deleted, moved or unmounted), a directory above
//! a tier created, deleted or moved in, a watched path that now names
//! another directory. Writes through `mmap`, or through a hard link in
//! another directory, make no event in the tier directory: like git's
//! fsmonitor, the watcher does not see them.
//!
//! Test knob: with `HTRAC_WATCH_TEST_DROP` set, creating a file named
//! `.htrac-test-drop` in a tier directory makes the watcher drop every
//! event until that file is deleted, then act as on a queue overflow.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, ReadFlags, WatchFlags};

use super::Stamp;
use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::tracker::Tracker;

/// The name that switches the test knob's event dropping on and off.
const DROP_TRIGGER: &str = ".htrac-test-drop";
/// How often the watcher checks that its socket is still its own and its
/// tracker still there (else it exits).
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long a sync waits for its cookie's event.
const SYNC_WAIT: Duration = Duration::from_secs(1);

/// A watched directory: a tier directory, or one above them.
struct Watched {
    path: PathBuf,
    /// The tier's index, or `None` for a directory above the tiers.
    tier: Option<u8>,
    /// For a directory above: the names of the watched directories in it.
    children: HashSet<String>,
    wd: Option<i32>,
    /// (dev, ino) of the directory watched.
    id: Option<(u64, u64)>,
}

/// The watcher's state.
struct State {
    root: PathBuf,
    inotify: OwnedFd,
    watched: Vec<Watched>,
    cookie_wd: i32,
    cookie_dir: PathBuf,
    session: u64,
    seq: u64,
    /// Stamps older than this must rescan.
    rescan_at: u64,
    rescans: u64,
    /// The last event's sequence number per (tier, name).
    last: HashMap<(u8, Box<str>), u64>,
    /// (seq, tier, name) in order, each name's last one current in `last`.
    log: Vec<(u64, u8, Box<str>)>,
    /// The test knob's event dropping.
    drop_test: bool,
    dropping: bool,
    cookie_seen: Option<String>,
}

/// Whether the file system at `path` is one whose changes other machines
/// make (inotify sees none of them): NFS, SMB/CIFS, FUSE (sshfs...).
// `f_type` is an `i64` here, a narrower integer on other architectures.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn is_remote(path: &Path) -> bool {
    const REMOTE: [i64; 5] = [0x6969, 0x517b, 0xff53_4d42, 0xfe53_4d42, 0x6573_5546];
    rustix::fs::statfs(path).is_ok_and(|s| REMOTE.contains(&(s.f_type as i64)))
}

fn io_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("htrac watch: {what}: {e}"))
}

/// Runs the watcher of `t` until asked to stop (or its socket or tracker
/// disappears, or with `idle`, that long passes without a request);
/// `ready` is called once it answers on its socket.
pub fn run(t: &Tracker, idle: Option<Duration>, ready: impl FnOnce()) -> Result<()> {
    let socket = super::socket_path(&t.root).ok_or_else(|| {
        Error::user("htrac watch: no cache directory (set HOME or HTRAC_CACHE_DIR)")
    })?;
    if is_remote(&t.root) {
        return Err(Error::user(
            "htrac watch: the tracker is on a network file system, whose changes inotify does not see",
        ));
    }
    if socket.as_os_str().len() >= 100 {
        return Err(Error::user(format!(
            "htrac watch: the socket path {} is too long for a Unix socket",
            socket.display()
        ))
        .with_hint("set HTRAC_CACHE_DIR to a shorter directory"));
    }
    let dir = socket.parent().expect("a socket path has a directory");
    std::fs::create_dir_all(dir).map_err(|e| io_err("cannot create the cache directory", e))?;
    // One start at a time, until the winner answers: two watchers starting
    // at once would each remove the other's socket and private directory,
    // leaving one that cannot sync (every read a rescan) and others that
    // run on unheard. The lock goes with the process, killed or not.
    let starting = start_lock(&socket)?;
    if super::status(&socket).is_some() {
        return Err(
            Error::user("htrac watch: a watcher already runs for this tracker")
                .with_hint("'htrac watch status' shows it; 'htrac watch stop' stops it"),
        );
    }
    // A socket left by a watcher that was killed.
    let _ = std::fs::remove_file(&socket);
    let cookie_dir = super::cookie_dir(&socket);
    let _ = std::fs::remove_dir_all(&cookie_dir);
    std::fs::create_dir(&cookie_dir).map_err(|e| io_err("cannot create its directory", e))?;
    let _ = std::fs::set_permissions(&cookie_dir, std::fs::Permissions::from_mode(0o700));

    let listener = UnixListener::bind(&socket).map_err(|e| io_err("cannot listen", e))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io_err("cannot restrict the socket", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| io_err("socket", e))?;
    let ours = file_id(&socket);

    let result = (|| {
        let mut state = State::new(t, &cookie_dir)?;
        state.verify();
        // From here a starter that waited finds this one answering.
        drop(starting);
        ready();
        serve(&mut state, &listener, &socket, ours, t, idle)
    })();
    // Only our own socket is removed (not one a newer watcher made), and
    // last: `watch stop` waits for it to go, and a watcher started then
    // makes its directory anew, which must not be ours being removed. All
    // under the start lock: a watcher starting meanwhile (a read's own
    // start, as this one exits unused) either finds this clean-up done, or
    // has replaced the socket and directory before it looks (and then
    // there is nothing of ours left to remove). Should the lock not come,
    // the clean-up is done all the same. (No longer listening first: a
    // reader or a starter that connects now is refused at once instead of
    // waiting out its timeout for an answer that will not come.)
    drop(listener);
    let cleaning = start_lock(&socket).ok();
    if file_id(&socket) == ours {
        let _ = std::fs::remove_dir_all(&cookie_dir);
        let _ = std::fs::remove_file(&socket);
    }
    drop(cleaning);
    result
}

/// How long a start waits for another start of the same tracker's watcher.
pub const START_WAIT: Duration = Duration::from_secs(10);

/// Takes the start lock beside `socket` (`watch-<fingerprint>.lock`: the
/// same `flock` with a wait, naming its holder, as a sync's), waiting up
/// to [`START_WAIT`] for another start to finish.
fn start_lock(socket: &Path) -> Result<crate::sync::lock::SyncLock> {
    use crate::sync::lock::{acquire, Acquire};
    let path = socket.with_extension("lock");
    match acquire(&path, START_WAIT).map_err(|e| io_err("cannot take its start lock", e))? {
        Acquire::Got(lock) => Ok(lock),
        Acquire::Busy(holder) => Err(Error::user(format!(
            "htrac watch: another watcher for this tracker ({}) has been starting for {} s ({} is locked)",
            holder.describe(),
            START_WAIT.as_secs(),
            path.display()
        ))),
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    rustix::fs::stat(path).ok().map(|st| (st.st_dev, st.st_ino))
}

/// The loop: events as they come, one client at a time.
fn serve(
    state: &mut State,
    listener: &UnixListener,
    socket: &Path,
    ours: Option<(u64, u64)>,
    t: &Tracker,
    idle: Option<Duration>,
) -> Result<()> {
    let mut last_check = Instant::now();
    let mut last_request = Instant::now();
    loop {
        let mut wait = IDLE_CHECK;
        if let Some(idle) = idle {
            match idle.checked_sub(last_request.elapsed()) {
                Some(left) if !left.is_zero() => wait = wait.min(left),
                _ => return Ok(()),
            }
        }
        let timeout = rustix::fs::Timespec::try_from(wait).ok();
        let (client_ready, events_ready) = {
            let mut fds = [
                PollFd::new(listener, PollFlags::IN),
                PollFd::new(&state.inotify, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(io_err("poll", e)),
            }
            (!fds[0].revents().is_empty(), !fds[1].revents().is_empty())
        };
        if events_ready {
            state.drain()?;
        }
        if client_ready {
            if let Ok((stream, _)) = listener.accept() {
                match state.client(stream) {
                    Some(Request::Stop) => return Ok(()),
                    // Only a read keeps it from idling out (not `status`).
                    Some(Request::Since(_)) => last_request = Instant::now(),
                    _ => {}
                }
            }
        }
        if last_check.elapsed() >= IDLE_CHECK {
            last_check = Instant::now();
            if file_id(socket) != ours || !t.root.is_dir() {
                return Ok(());
            }
        }
    }
}

#[derive(PartialEq)]
enum Request {
    Since(Option<Stamp>),
    Status,
    Stop,
}

fn parse_request(line: &str) -> Option<Request> {
    let w: Vec<&str> = line.split(' ').collect();
    match w.as_slice() {
        ["since", "none"] => Some(Request::Since(None)),
        ["since", session, seq] => Some(Request::Since(Some(Stamp {
            session: u64::from_str_radix(session, 16).ok()?,
            seq: seq.parse().ok()?,
        }))),
        ["status"] => Some(Request::Status),
        ["stop"] => Some(Request::Stop),
        _ => None,
    }
}

impl State {
    fn new(t: &Tracker, cookie_dir: &Path) -> Result<State> {
        use inotify::CreateFlags;
        let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)
            .map_err(|e| io_err("inotify", e))?;
        let cookie_wd =
            inotify::add_watch(&fd, cookie_dir, WatchFlags::CREATE | WatchFlags::ONLYDIR)
                .map_err(|e| io_err("cannot watch its directory", e))?;
        // The root, the directories between it and each tier, the tiers.
        let mut watched: Vec<Watched> = Vec::new();
        let above = |path: &Path, child: &str, watched: &mut Vec<Watched>| {
            if let Some(w) = watched.iter_mut().find(|w| w.path == path) {
                w.children.insert(child.to_string());
            } else {
                watched.push(Watched {
                    path: path.to_path_buf(),
                    tier: None,
                    children: HashSet::from([child.to_string()]),
                    wd: None,
                    id: None,
                });
            }
        };
        for &tier in &Tier::ALL {
            let dir = t.tier_dir(tier);
            let mut p = dir.as_path();
            while let (Some(parent), Some(name)) = (p.parent(), p.file_name()) {
                above(parent, &name.to_string_lossy(), &mut watched);
                if parent == t.root {
                    break;
                }
                p = parent;
            }
        }
        for (i, &tier) in Tier::ALL.iter().enumerate() {
            watched.push(Watched {
                path: t.tier_dir(tier),
                tier: Some(i as u8),
                children: HashSet::new(),
                wd: None,
                id: None,
            });
        }
        let mut session = [0u8; 8];
        rustix::rand::getrandom(&mut session, rustix::rand::GetRandomFlags::empty())
            .map_err(|e| io_err("random", e))?;
        Ok(State {
            root: t.root.clone(),
            inotify: fd,
            watched,
            cookie_wd,
            cookie_dir: cookie_dir.to_path_buf(),
            session: u64::from_le_bytes(session),
            seq: 0,
            rescan_at: 0,
            rescans: 0,
            last: HashMap::new(),
            log: Vec::new(),
            drop_test: std::env::var_os("HTRAC_WATCH_TEST_DROP").is_some(),
            dropping: false,
            cookie_seen: None,
        })
    }

    /// Events may have been lost: every older stamp must rescan.
    fn lost(&mut self) {
        self.seq += 1;
        self.rescan_at = self.seq;
        self.rescans += 1;
        self.last.clear();
        self.log.clear();
    }

    fn record(&mut self, tier: u8, name: &str) {
        self.seq += 1;
        let name: Box<str> = name.into();
        self.last.insert((tier, name.clone()), self.seq);
        self.log.push((self.seq, tier, name));
        // Keep the log about as long as the names it covers.
        if self.log.len() > 2 * self.last.len() + 4096 {
            let mut log: Vec<(u64, u8, Box<str>)> = self
                .last
                .iter()
                .map(|((t, n), s)| (*s, *t, n.clone()))
                .collect();
            log.sort_unstable_by_key(|e| e.0);
            self.log = log;
        }
    }

    /// Reads every pending event.
    fn drain(&mut self) -> Result<()> {
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1 << 16];
        let mut events: Vec<(i32, ReadFlags, Option<String>)> = Vec::new();
        {
            let mut reader = inotify::Reader::new(&self.inotify, &mut buf);
            loop {
                match reader.next() {
                    Ok(e) => events.push((
                        e.wd(),
                        e.events(),
                        e.file_name()
                            .and_then(|n| n.to_str().ok())
                            .map(str::to_string),
                    )),
                    Err(rustix::io::Errno::AGAIN) => break,
                    Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(io_err("reading events", e)),
                }
            }
        }
        for (wd, flags, name) in events {
            self.event(wd, flags, name);
        }
        Ok(())
    }

    fn event(&mut self, wd: i32, flags: ReadFlags, name: Option<String>) {
        if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
            return self.lost();
        }
        if wd == self.cookie_wd {
            if name.is_some() {
                self.cookie_seen = name;
            }
            return;
        }
        let Some(i) = self.watched.iter().position(|w| w.wd == Some(wd)) else {
            return;
        };
        if flags.intersects(
            ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF | ReadFlags::UNMOUNT,
        ) {
            if flags.contains(ReadFlags::IGNORED) {
                self.watched[i].wd = None;
            }
            self.watched[i].id = None;
            return self.lost();
        }
        let Some(name) = name else { return };
        match self.watched[i].tier {
            None => {
                if self.watched[i].children.contains(&name) {
                    self.lost();
                }
            }
            Some(tier) => {
                if self.drop_test && name == DROP_TRIGGER {
                    if flags.contains(ReadFlags::CREATE) {
                        self.dropping = true;
                    } else if flags.contains(ReadFlags::DELETE) {
                        self.dropping = false;
                        self.lost();
                    }
                    return;
                }
                if self.dropping {
                    return;
                }
                if name.starts_with('.') && (name.ends_with(".ops") || name.ends_with(".frozen")) {
                    self.record(tier, &name);
                }
            }
        }
    }

    /// Re-adds the watch of each path that no longer names the directory
    /// watched; events may have been missed there.
    fn verify(&mut self) {
        let mask_above = WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR;
        let mask_tier = mask_above | WatchFlags::MODIFY | WatchFlags::ATTRIB;
        let mut changed = false;
        for w in &mut self.watched {
            let now = file_id(&w.path);
            if now.is_some() && now == w.id && w.wd.is_some() {
                continue;
            }
            if now.is_none() && w.id.is_none() && w.wd.is_none() {
                continue;
            }
            changed = true;
            if let Some(wd) = w.wd.take() {
                let _ = inotify::remove_watch(&self.inotify, wd);
            }
            w.id = None;
            // stat, watch, stat again: the same directory both times.
            for _ in 0..3 {
                let before = file_id(&w.path);
                let mask = if w.tier.is_some() {
                    mask_tier
                } else {
                    mask_above
                };
                let Ok(wd) = inotify::add_watch(&self.inotify, &w.path, mask) else {
                    break;
                };
                if before.is_some() && file_id(&w.path) == before {
                    w.wd = Some(wd);
                    w.id = before;
                    break;
                }
                let _ = inotify::remove_watch(&self.inotify, wd);
            }
        }
        if changed {
            self.lost();
        }
    }

    /// Makes sure every event before now has been read: a cookie file, and
    /// events read until its own. False if it never came.
    fn sync(&mut self) -> Result<bool> {
        let name = format!("cookie-{}", self.seq);
        let path = self.cookie_dir.join(&name);
        if std::fs::write(&path, b"").is_err() {
            return Ok(false);
        }
        let deadline = Instant::now() + SYNC_WAIT;
        self.cookie_seen = None;
        let seen = loop {
            self.drain()?;
            if self.cookie_seen.as_deref() == Some(name.as_str()) {
                break true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break false;
            };
            let mut fds = [PollFd::new(&self.inotify, PollFlags::IN)];
            let ts = rustix::fs::Timespec::try_from(left).ok();
            let _ = rustix::event::poll(&mut fds, ts.as_ref());
        };
        let _ = std::fs::remove_file(&path);
        Ok(seen)
    }

    /// Answers one client; returns its request.
    fn client(&mut self, mut s: UnixStream) -> Option<Request> {
        let peer = rustix::net::sockopt::socket_peercred(&s).ok()?;
        if peer.uid != rustix::process::getuid() {
            return None;
        }
        s.set_nonblocking(false).ok()?;
        s.set_read_timeout(Some(super::TIMEOUT)).ok()?;
        s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
        let mut line = Vec::new();
        let mut byte = [0u8; 64];
        while !line.contains(&b'\n') && line.len() < 256 {
            let n = s.read(&mut byte).ok()?;
            if n == 0 {
                return None;
            }
            line.extend_from_slice(&byte[..n]);
        }
        let text = std::str::from_utf8(&line).ok()?;
        let request = parse_request(text.split('\n').next()?)?;
        let reply = match &request {
            Request::Since(since) => self.answer(*since).ok()?,
            Request::Status => format!(
                "status {} {:016x} {} {} {}\n{}\n",
                std::process::id(),
                self.session,
                self.seq,
                self.last.len(),
                self.rescans,
                self.root.display()
            )
            .into_bytes(),
            Request::Stop => b"stopping\n".to_vec(),
        };
        let _ = s.write_all(&reply);
        Some(request)
    }

    fn answer(&mut self, since: Option<Stamp>) -> Result<Vec<u8>> {
        if !self.sync()? {
            self.lost();
        }
        self.verify();
        let head = |kind: &str, st: &State| format!("{kind} {:016x} {}", st.session, st.seq);
        let since = match since {
            Some(s)
                if s.session == self.session && s.seq >= self.rescan_at && s.seq <= self.seq =>
            {
                s.seq
            }
            _ => return Ok(format!("{}\n", head("rescan", self)).into_bytes()),
        };
        let from = self.log.partition_point(|e| e.0 <= since);
        let mut body = Vec::new();
        let mut n = 0;
        for (seq, tier, name) in &self.log[from..] {
            // Each name once: at its last event.
            if self.last.get(&(*tier, name.clone())) == Some(seq) {
                body.push(*tier);
                body.extend_from_slice(name.as_bytes());
                body.push(0);
                n += 1;
            }
        }
        let mut reply = format!("{} {n}\n", head("changed", self)).into_bytes();
        reply.extend_from_slice(&body);
        Ok(reply)
    }
}
