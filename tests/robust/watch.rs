//! The resident watcher (`htrac watch`) never makes a read stale: with it
//! running, stopped, killed (-9), restarted, or started after the cache
//! was written, a warm read prints exactly what a cold read
//! (`HTRAC_NO_CACHE`) prints — after appends made with plain shell,
//! deletions, renames, new files, files turned into directories, freeze
//! sentinels, a tier directory replaced, a `git checkout` of another
//! branch, and lost events (the `HTRAC_WATCH_TEST_DROP` knob); watchers
//! started at once leave one that serves. Two
//! controls prove the watcher's answer is really used: writes it cannot
//! see (through a hard link in another directory, dropped events) are
//! missed while it runs, and seen once it stops.

use std::path::Path;
use std::process::Command;

use crate::common::{self, git, Env, Run};

fn run(env: &Env, args: &[&str]) -> Run {
    let out = env
        .command(args)
        .env("HTRAC_CACHE_RACY_MS", "0")
        .output()
        .unwrap();
    Run::from(out)
}

fn listed(env: &Env, cold: bool) -> String {
    let mut c = env.command(&["--json", "--no-auto-sync", "list"]);
    c.env("HTRAC_CACHE_RACY_MS", "0");
    if cold {
        c.env("HTRAC_NO_CACHE", "1");
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A warm read (twice: the second through what the first stored) equals
/// a cold one; returns it.
#[track_caller]
fn same(env: &Env) -> String {
    let cold = listed(env, true);
    assert_eq!(listed(env, false), cold, "warm != cold");
    assert_eq!(listed(env, false), cold, "warm (again) != cold");
    cold
}

/// Runs `script` with `sh` in the repository (plain shell, not htrac).
fn sh(env: &Env, script: &str) {
    let st = Command::new("sh")
        .args(["-c", script])
        .current_dir(env.path())
        .status()
        .unwrap();
    assert!(st.success(), "{script}");
}

/// An op appended to an op file, as a shell would.
fn append(env: &Env, path: &Path, title: &str) {
    common::next_timestamp_tick(env.path());
    static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
    let clock = CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nonce = format!("{clock:04x}");
    sh(
        env,
        &format!(
            "printf -- \"- op: update  # {n}\\n  at: '2026-01-01T00:00:00Z'  # {n}\\n  by: agent  # {n}\\n  actor: dev_agent  # {n}\\n  clock: {clock}  # {n}\\n  nonce: '{n}'  # {n}\\n  set:  # {n}\\n    title: \\\"{title}\\\"  # {n}\\n\" >> '{}'",
            path.display(),
            n = nonce
        ),
    );
}

struct Watcher<'a>(&'a Env);

impl<'a> Watcher<'a> {
    fn start(env: &'a Env, extra: &[(&str, &str)]) -> Watcher<'a> {
        let mut c = env.command(&["watch"]);
        c.envs(extra.iter().copied());
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("watcher started"));
        Watcher(env)
    }

    fn status(&self) -> serde_json::Value {
        status(self.0)
    }
}

fn status(env: &Env) -> serde_json::Value {
    run(env, &["--json", "watch", "status"]).ok().json()
}

impl Drop for Watcher<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["watch", "stop"]);
    }
}

fn setup(n: usize) -> (Env, Vec<String>) {
    let env = Env::new();
    let ids = (0..n)
        .map(|i| env.add(&format!("item {i}"), &["--no-auto-sync", "--priority", "1"]))
        .collect();
    (env, ids)
}

#[test]
fn appends_deletes_renames_and_new_files_are_seen_through_kill_and_restart() {
    let (env, ids) = setup(6);
    // Started after the cache was written.
    same(&env);
    let w = Watcher::start(&env, &[]);
    same(&env);
    append(&env, &env.workspace_ops(&ids[0]), "first append");
    assert!(same(&env).contains("first append"));
    let rescans = w.status()["rescans"].as_u64().unwrap();

    // Killed: nothing answers, every read lists everything.
    let pid = w.status()["pid"].as_u64().unwrap();
    sh(&env, &format!("kill -9 {pid}"));
    append(&env, &env.workspace_ops(&ids[1]), "after kill");
    assert!(same(&env).contains("after kill"));
    assert_eq!(status(&env)["running"], false);

    // Restarted (a new session): the first read lists everything.
    let w = Watcher::start(&env, &[]);
    append(&env, &env.workspace_ops(&ids[2]), "after restart");
    assert!(same(&env).contains("after restart"));
    // Deleted, renamed, created, turned into a directory, frozen.
    common::next_timestamp_tick(env.path());
    std::fs::remove_file(env.workspace_ops(&ids[3])).unwrap();
    assert!(!same(&env).contains(&ids[3]));
    std::fs::rename(env.workspace_ops(&ids[4]), env.workspace_ops("WI-renamed")).unwrap();
    let text = std::fs::read(env.workspace_ops(&ids[5])).unwrap();
    std::fs::write(env.ops_path("tracker/.ops", "WI-created"), &text).unwrap();
    let now = same(&env);
    assert!(
        now.contains("WI-renamed") && now.contains("WI-created"),
        "{now}"
    );
    std::fs::remove_file(env.workspace_ops("WI-renamed")).unwrap();
    std::fs::create_dir(env.workspace_ops("WI-renamed")).unwrap();
    assert!(!same(&env).contains("WI-renamed"));
    run(&env, &["--no-auto-sync", "freeze", &ids[5]]);
    same(&env);
    std::fs::write(
        env.root()
            .join(format!("tracker-workspace/.ops/.{}.frozen", ids[0])),
        "",
    )
    .unwrap();
    same(&env);
    // None of that needed a rescan: the watcher answered with names.
    let st = w.status();
    assert_ne!(st["pid"].as_u64().unwrap(), pid);
    assert!(st["rescans"].as_u64().unwrap() <= rescans, "{st}");

    // Stopped: reads list everything again.
    drop(w);
    assert_eq!(status(&env)["running"], false);
    append(&env, &env.workspace_ops(&ids[2]), "after stop");
    assert!(same(&env).contains("after stop"));
}

#[test]
fn git_checkout_of_another_branch_and_a_replaced_tier_directory_are_seen() {
    let (env, ids) = setup(4);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "four items"]);
    let first = git(env.path(), &["rev-parse", "--abbrev-ref", "HEAD"]);
    let first = first.trim();
    git(env.path(), &["checkout", "-qb", "other"]);
    std::fs::remove_file(env.workspace_ops(&ids[0])).unwrap();
    append(&env, &env.workspace_ops(&ids[1]), "on the other branch");
    let text = std::fs::read(env.workspace_ops(&ids[2])).unwrap();
    std::fs::write(env.workspace_ops("WI-other"), &text).unwrap();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "other"]);
    let on_other = same(&env);
    let _w = Watcher::start(&env, &[]);
    same(&env);
    git(env.path(), &["checkout", "-q", first]);
    let on_master = same(&env);
    assert_ne!(on_master, on_other);
    assert!(on_master.contains(&ids[0]) && !on_master.contains("WI-other"));
    git(env.path(), &["checkout", "-q", "other"]);
    assert_eq!(same(&env), on_other);

    // The tier directory moved away and a copy put in its place.
    let ops = env.root().join("tracker-workspace/.ops");
    sh(&env, "mv .agent/tracker-workspace/.ops .agent/old && cp -a .agent/old .agent/tracker-workspace/.ops");
    append(&env, &ops.join(format!(".{}.ops", ids[2])), "in the copy");
    assert!(same(&env).contains("in the copy"));
    // And the whole .agent directory.
    sh(&env, "mv .agent .agent-old && cp -a .agent-old .agent");
    append(
        &env,
        &ops.join(format!(".{}.ops", ids[3])),
        "in the new root",
    );
    assert!(same(&env).contains("in the new root"));
}

/// Unwatchable changes: the controls (missed while the watcher runs,
/// which proves its answer is used) and lost events (seen after the
/// overflow).
#[test]
fn lost_events_make_a_rescan_and_unseen_writes_are_seen_once_it_stops() {
    let (env, ids) = setup(3);
    let w = Watcher::start(&env, &[("HTRAC_WATCH_TEST_DROP", "1")]);
    same(&env);
    let trigger = env.root().join("tracker-workspace/.ops/.htrac-test-drop");
    std::fs::write(&trigger, "").unwrap();
    append(&env, &env.workspace_ops(&ids[0]), "while dropping");
    assert!(
        !listed(&env, false).contains("while dropping"),
        "the knob drops events (control)"
    );
    let rescans = w.status()["rescans"].as_u64().unwrap();
    std::fs::remove_file(&trigger).unwrap();
    assert!(same(&env).contains("while dropping"));
    assert_eq!(w.status()["rescans"].as_u64().unwrap(), rescans + 1);

    // A write through a hard link in another directory makes no event in
    // the tier directory (documented, as for git's fsmonitor).
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::hard_link(env.workspace_ops(&ids[1]), elsewhere.join("link")).unwrap();
    same(&env);
    append(&env, &elsewhere.join("link"), "through a link");
    assert!(!listed(&env, false).contains("through a link"), "control");
    drop(w);
    assert!(same(&env).contains("through a link"));
}

#[test]
fn watch_start_status_and_stop() {
    let env = Env::new();
    assert_eq!(status(&env)["running"], false);
    let w = Watcher::start(&env, &[]);
    let st = w.status();
    assert_eq!(st["running"], true);
    assert_eq!(
        st["root"],
        env.root().canonicalize().unwrap().to_str().unwrap()
    );
    let again = run(&env, &["watch"]).ok();
    assert!(again.stdout.contains("already runs"), "{}", again.stdout);
    let socket = st["socket"].as_str().unwrap().to_string();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(run(&env, &["watch", "stop"])
        .ok()
        .stdout
        .contains("watcher stopped"));
    assert!(!Path::new(&socket).exists());
    assert!(run(&env, &["watch", "stop"])
        .ok()
        .stdout
        .contains("no watcher"));
    drop(w);
    // No cookie file is left in the repository.
    let left = git(env.path(), &["status", "--porcelain", "--ignored"]);
    assert!(!left.contains("cookie"), "{left}");
}

#[test]
fn a_watcher_that_exits_cleans_up_under_the_start_lock() {
    let env = Env::new();
    let w = Watcher::start(&env, &[]);
    let socket = w.status()["socket"].as_str().unwrap().to_string();
    // A start holds the lock (as one that began just as this watcher
    // exits would): the exiting watcher leaves its socket and directory
    // alone until the start is done, so neither can remove what the
    // other made.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(Path::new(&socket).with_extension("lock"))
        .unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
    assert!(run(&env, &["watch", "stop"])
        .ok()
        .stdout
        .contains("watcher stopped"));
    assert!(
        Path::new(&socket).exists(),
        "cleaned up while a start held the lock"
    );
    // It listens no more: a read is refused at once, not kept waiting.
    assert_eq!(status(&env)["running"], false);
    drop(lock);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while Path::new(&socket).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "not cleaned up once the lock was free"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!Path::new(&socket).with_extension("d").exists());
    drop(w);
}

#[test]
fn watchers_started_at_once_leave_one_that_serves() {
    let (env, ids) = setup(3);
    // Eight starts at the same moment (as parallel commands on a large
    // tracker each starting one): one runs and answers, the others say
    // one already runs and exit. A listener that never answers sits on the
    // socket (as a watcher still setting up would), so each start waits
    // out its check of it before taking the socket over: without one
    // start at a time, they all would.
    let socket = status(&env)["socket"].as_str().unwrap().to_string();
    std::fs::create_dir_all(Path::new(&socket).parent().unwrap()).unwrap();
    let silent = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let outcomes: Vec<(bool, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let barrier = barrier.clone();
                let env = &env;
                s.spawn(move || {
                    let mut c = env.command(&["watch", "--foreground", "--idle", "30"]);
                    c.stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::piped());
                    barrier.wait();
                    let mut child = c.spawn().unwrap();
                    // The one that runs is stopped below; the others end at once.
                    let mut err = String::new();
                    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err)
                        .unwrap();
                    (child.wait().unwrap().success(), err)
                })
            })
            .collect();
        // Once all but one have ended, the one left serves reads.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while handles.iter().filter(|h| h.is_finished()).count() < 7 {
            assert!(std::time::Instant::now() < deadline, "starts still pending");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(
            handles.iter().filter(|h| h.is_finished()).count(),
            7,
            "more than one watcher runs"
        );
        let before = status(&env);
        assert_eq!(before["running"], true);
        // Its syncs work (its private directory is its own): reads after
        // its first answer need no rescan, and see a change.
        same(&env);
        run(
            &env,
            &["update", &ids[1], "--title", "retitled", "--no-auto-sync"],
        )
        .ok();
        assert!(same(&env).contains("retitled"));
        let after = status(&env);
        assert_eq!(after["pid"], before["pid"]);
        assert_eq!(after["rescans"], before["rescans"], "{after}");
        run(&env, &["watch", "stop"]).ok();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    drop(silent);
    let refused: Vec<&(bool, String)> = outcomes.iter().filter(|(ok, _)| !ok).collect();
    assert_eq!(refused.len(), 7, "{outcomes:?}");
    for (_, err) in refused {
        assert!(err.contains("a watcher already runs"), "{err}");
    }
}
