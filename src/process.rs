//! The start and end of an `htrac` or `htrac-hook` process. Both binaries
//! are built with `#![no_main]`: Rust's own start-up (`lang_start`) reads
//! `/proc/self/maps` through `pthread_getattr_np` and sets up a signal
//! stack to report stack overflows, which together are about a sixth of
//! starting an empty binary here (0.07 ms of 0.57 ms CPU), paid by every
//! command and every stop hook. What of that start-up a command relies on
//! is done here instead, in the same order: the standard descriptors made
//! safe, SIGPIPE ignored; and at the end, std's own exit, which flushes
//! stdout. (glibc hands Rust the arguments itself, so `std::env::args`
//! works without `lang_start`.)

use std::ffi::c_int;

/// Defines the C `main` of a `#![no_main]` binary (outside test builds,
/// whose harness has its own) as [`start`] of `$body`, a `fn() -> u8`.
#[macro_export]
macro_rules! process_main {
    ($body:path) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::process::start($body)
        }
    };
}

/// Runs `body` as a process's whole life: prepares the process, runs it,
/// and exits with its code (101 if it panics, as Rust's start-up would).
pub fn start(body: fn() -> u8) -> c_int {
    prepare();
    let code = match std::panic::catch_unwind(body) {
        Ok(code) => i32::from(code),
        Err(_) => 101,
    };
    // Runs std's clean-up (stdout flushed) before the C library's exit.
    std::process::exit(code)
}

/// What Rust's start-up would have done that a command needs.
fn prepare() {
    open_standard_descriptors();
    // SAFETY: setting signal dispositions to ignored at start-up, before
    // any thread exists.
    unsafe {
        // A reader gone (`htrac list | head`, a git process that exited) is
        // an EPIPE error the command handles, not death midway through.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        // A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG,
        // which the append undoes, not kill the process midway through an op.
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// A standard descriptor the process was started without (`htrac list >&-`)
/// is opened on `/dev/null`, so that no file the command opens takes its
/// number and receives what is printed — an op file, say.
fn open_standard_descriptors() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the call's length.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } != -1;
    for fd in fds {
        let closed = if polled {
            fd.revents & libc::POLLNVAL != 0
        } else {
            // SAFETY: F_GETFD only reads the descriptor's flags.
            let bad = unsafe { libc::fcntl(fd.fd, libc::F_GETFD) } == -1;
            bad && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        };
        if closed {
            // SAFETY: a NUL-terminated path; the lowest free number is
            // `fd.fd` itself, the lower ones being open already.
            let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if opened != fd.fd {
                // Nothing safe to run with: as Rust's start-up does.
                std::process::abort();
            }
        }
    }
}
