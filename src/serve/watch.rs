//! The watcher thread: inotify on the three tier directories (and the
//! directories above them, so a tier created later is watched too, and the
//! edit-mode logs), debounced — events are gathered until 5 ms pass
//! without one (at most 250 ms) — then the changed items go to
//! [`Live::apply`]; a new directory, an edit-mode change or an inotify
//! overflow makes it [`Live::rescan`] everything.

use std::collections::{BTreeSet, HashMap};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use super::live::Live;
use crate::items::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;

/// Quiet time that ends a burst of events. Short: a CLI write is one
/// `write` of the whole op (then `fsync`, whose `CLOSE_WRITE` comes later
/// and finds nothing new), and a delta's latency starts with this wait.
pub const DEBOUNCE: Duration = Duration::from_millis(5);
/// Longest a burst is gathered before it is applied anyway.
const MAX_BURST: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// A tier's ops directory: file events name items.
    Tier,
    /// A directory holding tier directories: only new directories matter.
    Parent,
    /// An edit-mode log directory: any change affects every item.
    EditMode,
}

struct Watcher {
    inotify: Inotify,
    roles: HashMap<WatchDescriptor, Role>,
    dirs: Vec<(PathBuf, Role)>,
}

impl Watcher {
    fn new(root: &std::path::Path) -> std::io::Result<Watcher> {
        let mut dirs = vec![(root.to_path_buf(), Role::Parent)];
        for tier in Tier::ALL {
            let d = tier.dir(root);
            if let Some(p) = d.parent() {
                dirs.push((p.to_path_buf(), Role::Parent));
            }
            if let Some(em) = tier.edit_mode_log(root).parent() {
                dirs.push((em.to_path_buf(), Role::EditMode));
            }
            dirs.push((d, Role::Tier));
        }
        dirs.dedup();
        let mut w = Watcher {
            inotify: Inotify::init()?,
            roles: HashMap::new(),
            dirs,
        };
        w.add_watches();
        Ok(w)
    }

    /// Watches every directory that exists (again: adding is idempotent).
    fn add_watches(&mut self) {
        let file_mask = WatchMask::CREATE
            | WatchMask::MODIFY
            | WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_TO
            | WatchMask::MOVED_FROM
            | WatchMask::DELETE
            | WatchMask::ATTRIB;
        let dir_mask = WatchMask::CREATE | WatchMask::MOVED_TO | WatchMask::ONLYDIR;
        for (d, role) in &self.dirs {
            if !d.is_dir() {
                continue;
            }
            let mask = if *role == Role::Parent {
                dir_mask
            } else {
                file_mask | WatchMask::ONLYDIR
            };
            if let Ok(wd) = self.inotify.watches().add(d, mask) {
                // The stealth directory sits inside a parent; a tier role wins.
                let r = self.roles.entry(wd).or_insert(*role);
                if *role != Role::Parent {
                    *r = *role;
                }
            }
        }
    }

    /// Waits up to `timeout` for events; adds what they mean to `ids`.
    /// Returns (any event seen, full rescan needed).
    fn gather(&mut self, timeout: Duration, ids: &mut BTreeSet<String>) -> (bool, bool) {
        let ts = rustix::event::Timespec::try_from(timeout).ok();
        let ready = {
            let fd = self.inotify.as_fd();
            let mut fds = [rustix::event::PollFd::new(
                &fd,
                rustix::event::PollFlags::IN,
            )];
            rustix::event::poll(&mut fds, ts.as_ref())
        };
        match ready {
            Ok(0) | Err(_) => return (false, false),
            Ok(_) => {}
        }
        let mut buf = [0u8; 16384];
        let mut full = false;
        let mut seen = false;
        let events = match self.inotify.read_events(&mut buf) {
            Ok(e) => e,
            Err(_) => return (false, false),
        };
        for e in events {
            seen = true;
            if e.mask.contains(EventMask::Q_OVERFLOW) {
                full = true;
                continue;
            }
            let role = self.roles.get(&e.wd).copied();
            match role {
                Some(Role::Tier) => {
                    if e.mask.contains(EventMask::ISDIR) {
                        continue;
                    }
                    let name = e
                        .name
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if let Some(id) = id_from_file_name(&name) {
                        ids.insert(id.to_string());
                    } else if let Some(id) = name
                        .strip_prefix('.')
                        .and_then(|n| n.strip_suffix(".frozen"))
                        .filter(|n| !n.is_empty())
                    {
                        ids.insert(id.to_string());
                    }
                    if e.mask.contains(EventMask::IGNORED) {
                        // The directory itself went away.
                        full = true;
                    }
                }
                Some(Role::Parent) if e.mask.contains(EventMask::ISDIR) => full = true,
                Some(Role::Parent) => {}
                Some(Role::EditMode) => full = true,
                None => {}
            }
        }
        (seen, full)
    }
}

/// Starts the watcher; it runs until `stop` is set. Falls back to a
/// rescan every second when inotify cannot start.
pub fn spawn(
    tracker: Tracker,
    live: Arc<Live>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("htrac-serve-watch".into())
        .spawn(move || {
            let mut w = match Watcher::new(&tracker.root) {
                Ok(w) => w,
                Err(e) => {
                    super::log::line(format_args!(
                        "inotify unavailable ({e}); re-reading every second"
                    ));
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_secs(1));
                        live.rescan(&tracker);
                    }
                    return;
                }
            };
            while !stop.load(Ordering::SeqCst) {
                let mut ids = BTreeSet::new();
                let (seen, mut full) = w.gather(Duration::from_millis(250), &mut ids);
                if !seen {
                    continue;
                }
                let start = Instant::now();
                loop {
                    let (more, f) = w.gather(DEBOUNCE, &mut ids);
                    full |= f;
                    if !more || start.elapsed() >= MAX_BURST {
                        break;
                    }
                }
                if full {
                    w.add_watches();
                    live.rescan(&tracker);
                } else if !ids.is_empty() {
                    live.apply(&tracker, &ids);
                }
            }
        })
        .expect("spawn the watcher thread")
}
