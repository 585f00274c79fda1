//! One sync at a time per repository: an exclusive `flock` on
//! `htrac-sync.lock` in the git common dir (shared by all worktrees). The
//! file names its owner (pid, start time). The kernel drops the lock when
//! the owner exits however it exits, so a killed sync never leaves a lock
//! behind; a file naming a process that is gone is just history.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

/// A held sync lock; released when dropped.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    pub path: PathBuf,
}

/// Who holds the lock, as its file says.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub pid: Option<i32>,
    pub started: Option<i64>,
    /// Is that process still running? (`None`: the file names no process.)
    pub alive: Option<bool>,
}

impl Holder {
    pub fn describe(&self) -> String {
        match (self.pid, self.alive) {
            (Some(pid), Some(true)) => {
                let since = self
                    .started
                    .map(|s| format!(", started {}", crate::timestamp::format_utc(s)))
                    .unwrap_or_default();
                format!("pid {pid}{since}")
            }
            (Some(pid), _) => {
                format!("a process that inherited it from pid {pid} (no longer running)")
            }
            _ => "another process".into(),
        }
    }
}

/// The lock's answer.
#[derive(Debug)]
pub enum Acquire {
    Got(SyncLock),
    Busy(Holder),
}

/// Opens (creating) the lock file `path` read-write, group-writable
/// whatever the umask; the claim board's lock shares it.
pub fn open(path: &Path) -> std::io::Result<File> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o664),
    )?;
    let file = File::from(fd);
    // Whatever the umask: both users of a shared repository take this lock.
    if file.metadata().is_ok_and(|m| {
        std::os::unix::fs::MetadataExt::uid(&m) == rustix::process::geteuid().as_raw()
    }) {
        use std::os::unix::fs::PermissionsExt;
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o664));
    }
    Ok(file)
}

/// Takes the lock if it is free.
pub fn try_acquire(path: &Path) -> std::io::Result<Acquire> {
    let mut file = open(path)?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "pid {}\nstarted {now}\n", std::process::id())?;
            let _ = file.flush();
            Ok(Acquire::Got(SyncLock {
                _file: file,
                path: path.to_path_buf(),
            }))
        }
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(Acquire::Busy(read_holder(&mut file))),
        Err(e) => Err(e.into()),
    }
}

/// Takes the lock, waiting up to `wait` for another sync to finish.
pub fn acquire(path: &Path, wait: Duration) -> std::io::Result<Acquire> {
    let deadline = Instant::now() + wait;
    loop {
        match try_acquire(path)? {
            Acquire::Busy(h) if Instant::now() < deadline => {
                let _ = h;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return Ok(other),
        }
    }
}

/// Who holds the lock now, without taking it (`None`: free).
pub fn holder(path: &Path) -> Option<Holder> {
    let mut file = match rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(_) => return None,
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => None,
        Err(_) => Some(read_holder(&mut file)),
    }
}

fn read_holder(file: &mut File) -> Holder {
    let mut s = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut s);
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let pid = field("pid ").map(|p| p as i32);
    let alive = pid.map(|p| {
        rustix::process::Pid::from_raw(p)
            .map(|pid| {
                !matches!(
                    rustix::process::test_kill_process(pid),
                    Err(rustix::io::Errno::SRCH)
                )
            })
            .unwrap_or(false)
    });
    Holder {
        pid,
        started: field("started "),
        alive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_sees_the_first_and_lock_frees_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        let Acquire::Got(first) = try_acquire(&p).unwrap() else {
            panic!("free lock not taken")
        };
        match try_acquire(&p).unwrap() {
            Acquire::Busy(h) => {
                assert_eq!(h.pid, Some(std::process::id() as i32));
                assert_eq!(h.alive, Some(true));
                assert!(h.describe().starts_with("pid "), "{}", h.describe());
            }
            Acquire::Got(_) => panic!("lock taken twice"),
        }
        assert!(holder(&p).is_some());
        drop(first);
        assert!(holder(&p).is_none());
        assert!(matches!(try_acquire(&p).unwrap(), Acquire::Got(_)));
    }
}
