//! Live refresh: a thread that says "something changed" when an ops file
//! of any tier changes. inotify watches the tier directories (and the
//! directories that hold them, so a tier created later is picked up);
//! when inotify cannot start, the thread polls file sizes and mtimes once
//! a second. The main loop debounces the signals.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use htrac::Tier;
use inotify::{Inotify, WatchMask};

/// Starts the watcher thread; it sends `()` on every change.
pub fn spawn(root: &Path, tx: Sender<()>) {
    let dirs: Vec<PathBuf> = Tier::ALL.iter().map(|t| t.dir(root)).collect();
    std::thread::spawn(move || {
        // No message on fallback: stderr would draw over the screen.
        if watch_inotify(&dirs, &tx).is_err() {
            poll(&dirs, &tx);
        }
    });
}

fn add_watches(inotify: &mut Inotify, dirs: &[PathBuf]) {
    let mask = WatchMask::CREATE
        | WatchMask::MODIFY
        | WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::ATTRIB;
    for d in dirs {
        // Watch the tier directory and its parents up to `.agent/`, so a
        // directory created after start is noticed (and watched next time).
        let mut p = Some(d.as_path());
        for _ in 0..3 {
            let Some(dir) = p else { break };
            if dir.is_dir() {
                let _ = inotify.watches().add(dir, mask);
            }
            p = dir.parent();
        }
    }
}

fn watch_inotify(dirs: &[PathBuf], tx: &Sender<()>) -> std::io::Result<()> {
    let mut inotify = Inotify::init()?;
    add_watches(&mut inotify, dirs);
    let mut buf = [0u8; 8192];
    loop {
        let events = inotify.read_events_blocking(&mut buf)?;
        let mut changed = false;
        for e in events {
            let name = e
                .name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".ops")
                || name.ends_with(".frozen")
                || e.mask.contains(inotify::EventMask::ISDIR)
            {
                changed = true;
            }
        }
        if changed {
            add_watches(&mut inotify, dirs);
            if tx.send(()).is_err() {
                return Ok(());
            }
        }
    }
}

/// (name, size, mtime) of every file in the tier directories.
fn signature(dirs: &[PathBuf]) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    for d in dirs {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if let Ok(m) = e.metadata() {
                out.push((e.path(), m.len(), m.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

fn poll(dirs: &[PathBuf], tx: &Sender<()>) {
    let mut last = signature(dirs);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = signature(dirs);
        if now != last {
            last = now;
            if tx.send(()).is_err() {
                return;
            }
        }
    }
}
