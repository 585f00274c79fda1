//! Keeping the screen clean: while the UI owns the terminal, anything the
//! library writes to stderr (warnings about torn ops, an unwritten journal,
//! an unreadable branch) goes to a log file instead of over the screen; the
//! UI shows each new line as a toast, and on exit the log is replayed on the
//! real stderr.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

/// The real stderr while it is redirected (-1 when it is not), so a panic
/// can put it back before its message is printed.
static SAVED: AtomicI32 = AtomicI32::new(-1);

/// Puts the real stderr back (for the panic hook); harmless when not captured.
pub fn restore_now() {
    let fd = SAVED.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `fd` is our saved duplicate of stderr, still open.
        unsafe {
            libc::dup2(fd, 2);
        }
    }
}

/// stderr redirected to a file until [`Captured::release`].
pub struct Captured {
    // Kept open for as long as stderr is redirected (SAVED points at it).
    _saved: OwnedFd,
    log: File,
    path: PathBuf,
    seen: u64,
}

impl Captured {
    /// Redirects fd 2 to a fresh `tui-stderr.log` in `dir`; `None` (and
    /// stderr left alone) when that is impossible.
    pub fn start(dir: &Path) -> Option<Captured> {
        std::fs::create_dir_all(dir).ok()?;
        let path = dir.join("tui-stderr.log");
        let log = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .ok()?;
        // SAFETY: dup/dup2 on valid descriptors; the duplicate is owned.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 {
            return None;
        }
        let saved = unsafe { OwnedFd::from_raw_fd(saved) };
        if unsafe { libc::dup2(log.as_raw_fd(), 2) } < 0 {
            return None;
        }
        SAVED.store(saved.as_raw_fd(), Ordering::SeqCst);
        Some(Captured {
            _saved: saved,
            log,
            path,
            seen: 0,
        })
    }

    /// Lines written since the last call.
    pub fn new_lines(&mut self) -> Vec<String> {
        let len = self.log.metadata().map(|m| m.len()).unwrap_or(0);
        if len <= self.seen {
            return Vec::new();
        }
        let mut buf = Vec::new();
        if self.log.seek(SeekFrom::Start(self.seen)).is_ok() {
            let _ = (&self.log).take(len - self.seen).read_to_end(&mut buf);
        }
        self.seen = len;
        String::from_utf8_lossy(&buf)
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Puts stderr back and replays what was written meanwhile.
    pub fn release(self) {
        restore_now();
        SAVED.store(-1, Ordering::SeqCst);
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        if !text.trim().is_empty() {
            eprint!("{text}");
            if !text.ends_with('\n') {
                eprintln!();
            }
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
