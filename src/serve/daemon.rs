//! Process life: `--background` (double fork and `setsid`, standard streams
//! to a log file, and a pipe on which the daemon tells the waiting parent
//! whether it started), and the SIGTERM/SIGINT flag for a clean shutdown.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SHUTDOWN.store(true, Ordering::SeqCst);
}

/// Installs the SIGTERM/SIGINT handler (sets the flag [`shutdown_requested`] reads).
pub fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
}

pub fn shutdown_requested() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}

/// The daemon's end of the start-up pipe.
#[derive(Debug)]
pub struct Notifier {
    pipe: Option<OwnedFd>,
}

impl Notifier {
    /// A notifier that tells nobody (the foreground server).
    pub fn none() -> Notifier {
        Notifier { pipe: None }
    }

    fn send(&mut self, line: &str) {
        if let Some(fd) = self.pipe.take() {
            let mut f = std::fs::File::from(fd);
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// The server is listening.
    pub fn started(&mut self, pid: u32, url: &str) {
        self.send(&format!("ok {pid} {url}\n"));
    }

    /// The server could not start.
    pub fn failed(&mut self, e: &Error) {
        let mut msg = e.message.replace('\n', " ");
        if let Some(h) = &e.hint {
            msg.push_str("\nhint: ");
            msg.push_str(&h.replace('\n', " "));
        }
        self.send(&format!("err {msg}\n"));
    }
}

/// Detaches into the background. Returns in the daemon (with the pipe to
/// report start-up on); the original process waits for that report, prints
/// it and exits. Call before any thread is started.
pub fn daemonize(log: &Path) -> Result<Notifier> {
    let logf = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::user(format!("cannot open the log file {}: {e}", log.display())))?;
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::internal(format!("pipe: {e}")))?;
    // SAFETY: no other thread exists yet (the caller's contract); the child
    // continues with async-signal-safe calls until it forks again.
    match unsafe { libc::fork() } {
        -1 => return Err(Error::internal("fork failed")),
        0 => {}
        child => {
            drop(w);
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(child, &mut status, 0) };
            let mut text = String::new();
            let _ = std::fs::File::from(r).read_to_string(&mut text);
            let code = match text.split_once(' ') {
                Some(("ok", rest)) => {
                    let (pid, url) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                    println!("htrac-serve started in the background: pid {pid}, {url}");
                    println!("log: {}", log.display());
                    0
                }
                Some(("err", msg)) => {
                    eprintln!("error: {}", msg.trim_end());
                    1
                }
                _ => {
                    eprintln!(
                        "error: htrac-serve did not start; see the log {}",
                        log.display()
                    );
                    1
                }
            };
            std::process::exit(code);
        }
    }
    // First child: a new session, then fork again so the daemon can never
    // reacquire a controlling terminal.
    drop(r);
    // SAFETY: plain system calls in the single-threaded child.
    unsafe {
        if libc::setsid() == -1 {
            libc::_exit(1);
        }
        match libc::fork() {
            -1 => libc::_exit(1),
            0 => {}
            _ => libc::_exit(0),
        }
    }
    // The daemon: stdin from /dev/null, stdout and stderr to the log.
    let null = std::fs::File::open("/dev/null")
        .map_err(|e| Error::internal(format!("cannot open /dev/null: {e}")))?;
    // SAFETY: duplicating descriptors we own onto 0, 1 and 2.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(logf.as_raw_fd(), 1);
        libc::dup2(logf.as_raw_fd(), 2);
        libc::umask(0o022);
    }
    Ok(Notifier { pipe: Some(w) })
}
