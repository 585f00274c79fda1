//! `htrac` and `htrac-hook` at the ends of pipes and redirections: a reader
//! that has gone (`htrac list | head -1`) ends the command quietly, and a
//! process started with a standard descriptor closed (`htrac add ... >&-`)
//! never prints into a file it opens.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::common::{Env, Run};

const HOOK: &str = env!("CARGO_BIN_EXE_htrac-hook");

/// A pipe whose reading end is already closed: the first write to it fails
/// with EPIPE (and raises SIGPIPE).
fn widowed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) returns.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

fn run_into_widowed_pipe(mut cmd: Command) -> (Option<i32>, String) {
    let out = cmd
        .stdout(Stdio::from(widowed_pipe()))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cmd` started with its descriptor `fd` closed.
fn with_closed(mut cmd: Command, fd: i32) -> Run {
    // SAFETY: close(2) is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || {
            libc::close(fd);
            Ok(())
        });
    }
    Run::from(cmd.output().unwrap())
}

#[test]
fn a_reader_that_has_gone_ends_the_command_quietly() {
    let env = Env::new();
    for i in 0..3 {
        env.add(&format!("item {i}"), &["--no-auto-sync"]);
    }
    // Killed by SIGPIPE, a process has no exit code.
    let (code, stderr) = run_into_widowed_pipe(env.command(&["list", "--no-auto-sync"]));
    assert_eq!(code, Some(0), "list: {stderr}");
    assert_eq!(stderr, "");
    let mut hook = Command::new(HOOK);
    hook.arg("count")
        .current_dir(env.path())
        .env("HTRAC_CACHE_DIR", env.cache.path());
    let (code, _) = run_into_widowed_pipe(hook);
    assert_eq!(code, Some(2), "count: blocking items remain");
}

#[test]
fn a_command_started_without_stdout_prints_into_none_of_its_files() {
    let env = Env::new();
    let run = with_closed(
        env.command(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            "written blind",
            "--no-auto-sync",
        ]),
        1,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // What `add` prints is the new ID on a line of its own: no file the
    // command wrote, in the repository or the cache, holds such a line.
    let ops = std::fs::read_dir(env.root().join("tracker-workspace/.ops"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ops"))
        .collect::<Vec<_>>();
    assert_eq!(ops.len(), 1, "{ops:?}");
    let id = ops[0].trim_start_matches('.').trim_end_matches(".ops");
    for path in files_under(env.path())
        .into_iter()
        .chain(files_under(env.cache.path()))
    {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(
            !text.lines().any(|l| l.trim() == id),
            "{} holds the command's output",
            path.display()
        );
    }
    env.run(&["validate"]).ok();
    let list = env.run(&["--json", "list"]).ok().json();
    assert_eq!(list[0]["title"], "written blind");
    // stdin closed too: a command that reads none still runs.
    let run = with_closed(env.command(&["list", "--no-auto-sync"]), 0);
    assert!(run.stdout.contains("written blind"), "{}", run.stderr);
}

/// Every file under `dir`, but git's own.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if e.file_name() != ".git" {
                out.extend(files_under(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}
