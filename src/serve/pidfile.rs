//! The server's pid file, `.agent/htrac-serve.pid`: the running server
//! holds an exclusive `flock` on it for its whole life, so `--status` and
//! `--stop` believe a pid only while its lock is held — a stale file (the
//! server died) or a reused pid is never signalled. The holder is
//! cross-checked against `/proc/locks` where available.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};

use crate::error::{Error, Result};

pub fn path(root: &Path) -> PathBuf {
    root.join("htrac-serve.pid")
}

/// The lock of a running server.
#[derive(Debug)]
pub struct PidLock {
    file: File,
    path: PathBuf,
}

/// What `--status` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No pid file.
    NotRunning,
    /// A pid file nobody holds: the server that wrote it is gone.
    Stale {
        pid: Option<u32>,
    },
    Running {
        pid: u32,
        url: Option<String>,
    },
}

impl Status {
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Status::NotRunning => json!({"running": false}),
            Status::Stale { pid } => json!({"running": false, "stale_pid": pid}),
            Status::Running { pid, url } => json!({"running": true, "pid": pid, "url": url}),
        }
    }
}

fn would_block(e: &rustix::io::Errno) -> bool {
    *e == rustix::io::Errno::WOULDBLOCK || *e == rustix::io::Errno::AGAIN
}

/// (pid, url) as written in the file.
fn parse(text: &str) -> (Option<u32>, Option<String>) {
    let mut lines = text.lines();
    let pid = lines.next().and_then(|l| l.trim().parse().ok());
    let url = lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|u| !u.is_empty());
    (pid, url)
}

impl PidLock {
    /// Takes the pid file for this process, or says which server holds it.
    pub fn acquire(root: &Path) -> Result<PidLock> {
        let path = path(root);
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(&path)
                .map_err(|e| Error::user(format!("cannot open {}: {e}", path.display())))?;
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                // A `--status` may hold a shared lock for a moment.
                Err(e) if would_block(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) if would_block(&e) => {
                    let pid = match status(root) {
                        Status::Running { pid, .. } => pid.to_string(),
                        _ => "?".into(),
                    };
                    return Err(Error::user(format!(
                        "htrac-serve is already running for this tracker (pid {pid})"
                    ))
                    .with_hint(
                        "stop it with 'htrac-serve --stop', or see 'htrac-serve --status'",
                    ));
                }
                Err(e) => return Err(Error::user(format!("cannot lock {}: {e}", path.display()))),
            }
            // The file may have been removed (a stale-file clean-up) between
            // open and lock: then lock the new one.
            let same = std::fs::metadata(&path)
                .ok()
                .zip(file.metadata().ok())
                .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
            if same {
                return Ok(PidLock { file, path });
            }
        }
    }

    /// Records this process's pid and the server's URL.
    pub fn write(&mut self, pid: u32, url: &str) -> Result<()> {
        let text = format!("{pid}\n{url}\n");
        let r = self
            .file
            .set_len(0)
            .and_then(|_| self.file.rewind())
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .and_then(|_| self.file.sync_all());
        r.map_err(|e| Error::user(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Removes the file, then lets go of the lock.
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

/// The pids `/proc/locks` shows holding a flock on (dev, inode); `None`
/// when `/proc/locks` cannot be read.
fn lock_holders(dev: u64, ino: u64) -> Option<Vec<u32>> {
    let text = std::fs::read_to_string("/proc/locks").ok()?;
    let want = format!(
        "{:02x}:{:02x}:{ino}",
        rustix::fs::major(dev),
        rustix::fs::minor(dev)
    );
    Some(
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                // "1: FLOCK ADVISORY WRITE <pid> <maj:min:ino> 0 EOF"
                let i = f.iter().position(|x| *x == "FLOCK")?;
                (f.get(i + 4)? == &want).then(|| f.get(i + 3)?.parse().ok())?
            })
            .collect(),
    )
}

/// Whether a server holds the pid file, and which.
pub fn status(root: &Path) -> Status {
    let path = path(root);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(_) => return Status::NotRunning,
    };
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let (pid, url) = parse(&text);
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            let _ = flock(&file, FlockOperation::Unlock);
            Status::Stale { pid }
        }
        Err(_) => {
            let holders = file
                .metadata()
                .ok()
                .and_then(|m| lock_holders(m.dev(), m.ino()));
            match (pid, holders) {
                (Some(p), Some(h)) if h.contains(&p) => Status::Running { pid: p, url },
                // The lock's real holder, when the file says otherwise.
                (_, Some(h)) if h.len() == 1 => Status::Running { pid: h[0], url },
                (Some(p), None) => Status::Running { pid: p, url },
                _ => Status::Stale { pid },
            }
        }
    }
}

/// Removes a stale pid file (under its lock, so never a live server's).
fn remove_stale(root: &Path) {
    let path = path(root);
    if let Ok(f) = File::open(&path) {
        if flock(&f, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// What `--stop` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    NotRunning,
    /// A stale pid file was removed; nothing was signalled.
    StaleRemoved(Option<u32>),
    Stopped(u32),
}

/// Sends SIGTERM to the running server and waits (up to `wait`) until the
/// process has exited — not only let go of the pid file, which it does
/// before its last clean-up: a caller told "stopped" may start another
/// server at once.
pub fn stop(root: &Path, wait: Duration) -> Result<Stopped> {
    let pid = match status(root) {
        Status::NotRunning => return Ok(Stopped::NotRunning),
        Status::Stale { pid } => {
            remove_stale(root);
            return Ok(Stopped::StaleRemoved(pid));
        }
        Status::Running { pid, .. } => pid,
    };
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else {
        return Err(Error::internal(format!("bad pid {pid} in the pid file")));
    };
    let deadline = Instant::now() + wait;
    let still_named = || matches!(status(root), Status::Running { pid: q, .. } if q == pid);
    // A handle on the server process itself, taken while its lock still
    // names it: a pid is not reused while its process lives, and the handle
    // then follows that process to its exit.
    match rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) {
        Ok(pidfd) => {
            if !still_named() {
                // It stopped on its own meanwhile.
                return stop(root, wait);
            }
            rustix::process::pidfd_send_signal(&pidfd, rustix::process::Signal::TERM)
                .map_err(|e| Error::user(format!("cannot signal pid {pid}: {e}")))?;
            if exited(&pidfd, deadline) {
                return Ok(Stopped::Stopped(pid));
            }
        }
        // Gone already: say what is there now (a lock still held in its
        // name is another pid namespace's, and no signal reaches it).
        Err(rustix::io::Errno::SRCH) if !still_named() => return stop(root, wait),
        // A kernel without process handles (before Linux 5.3): the pid,
        // while the lock shows it is the server's, and `/proc` after.
        Err(_) => {
            rustix::process::kill_process(p, rustix::process::Signal::TERM)
                .map_err(|e| Error::user(format!("cannot signal pid {pid}: {e}")))?;
            while Instant::now() < deadline {
                if !matches!(status(root), Status::Running { .. }) && !lives(pid) {
                    return Ok(Stopped::Stopped(pid));
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }
    Err(Error::user(format!(
        "htrac-serve (pid {pid}) did not stop within {} s",
        wait.as_secs()
    ))
    .with_hint(format!(
        "check it with 'htrac-serve --status'; if it hangs, kill -9 {pid}"
    )))
}

/// Waits until the process behind `pidfd` has exited (its handle turns
/// readable then), or `deadline` passes; true when it has exited.
fn exited(pidfd: &impl std::os::fd::AsFd, deadline: Instant) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // (A wait too long for a timespec is no timeout.)
        let timeout = Timespec::try_from(left).ok();
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Whether `pid` is a process that has not exited (a zombie has), as far
/// as `/proc` shows; false where it cannot tell.
fn lives(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_seen_to_exit_by_its_handle_and_by_proc() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let p = rustix::process::Pid::from_raw(pid as i32).unwrap();
        let pidfd = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).unwrap();
        assert!(lives(pid));
        // Still running: the wait ends at its deadline.
        assert!(!exited(&pidfd, Instant::now() + Duration::from_millis(50)));
        rustix::process::pidfd_send_signal(&pidfd, rustix::process::Signal::TERM).unwrap();
        assert!(exited(&pidfd, Instant::now() + Duration::from_secs(10)));
        // Exited but not yet reaped (a zombie): it does not live.
        assert!(!lives(pid));
        child.wait().unwrap();
        assert!(!lives(pid));
        assert!(lives(std::process::id()));
    }

    #[test]
    fn lock_status_and_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(status(root), Status::NotRunning);
        let mut lock = PidLock::acquire(root).unwrap();
        lock.write(std::process::id(), "http://127.0.0.1:1")
            .unwrap();
        assert_eq!(
            status(root),
            Status::Running {
                pid: std::process::id(),
                url: Some("http://127.0.0.1:1".into())
            }
        );
        lock.release();
        assert_eq!(status(root), Status::NotRunning);
        // A file left by a dead server, naming some other live process.
        std::fs::write(path(root), "1\nhttp://x\n").unwrap();
        assert_eq!(status(root), Status::Stale { pid: Some(1) });
        assert_eq!(
            stop(root, Duration::from_secs(1)).unwrap(),
            Stopped::StaleRemoved(Some(1))
        );
        assert!(!path(root).exists());
    }
}
