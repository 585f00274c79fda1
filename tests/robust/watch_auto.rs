//! A large tracker starts its own watcher (`watch.auto_start`): a read
//! that had to stat every op file, with none running, starts one in the
//! background and says so once; the reads after it print what a cold read
//! prints. None is started below the threshold, with `auto_start: off`,
//! with `HTRAC_NO_WATCH`, or after the user stopped one by hand (until
//! `htrac watch` again); a bad setting is a warning naming the key, and
//! the read stands. A watcher started with `--idle` exits once unused.

use std::time::{Duration, Instant};

use crate::common::Env;

const NOTE: &str = "started a resident watcher";

fn run(env: &Env, args: &[&str], extra: &[(&str, &str)]) -> (String, String) {
    let out = env
        .command(args)
        .env("HTRAC_CACHE_RACY_MS", "0")
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn list(env: &Env, extra: &[(&str, &str)]) -> (String, String) {
    run(env, &["--json", "--no-auto-sync", "list"], extra)
}

fn running(env: &Env) -> bool {
    let (out, _) = run(env, &["--json", "watch", "status"], &[]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["running"] == true
}

/// Waits (up to 10 s) until the watcher runs or not, as `want` says.
#[track_caller]
fn wait_running(env: &Env, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(env) != want {
        assert!(Instant::now() < deadline, "watcher running != {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `htrac watch` (which lifts the pause after a start or a stop by hand),
/// then the running watcher killed with `-9`: its pid, once it is gone.
fn kill_watcher(env: &Env) -> u64 {
    run(env, &["watch"], &[]);
    let (st, _) = run(env, &["--json", "watch", "status"], &[]);
    let pid = serde_json::from_str::<serde_json::Value>(&st).unwrap()["pid"]
        .as_u64()
        .unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    wait_running(env, false);
    pid
}

/// Stops any watcher when the test ends, passed or not.
struct StopOnDrop<'a>(&'a Env);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["watch", "stop"]);
    }
}

fn tracker(items: usize, config: &str) -> Env {
    let env = Env::new();
    for i in 0..items {
        env.add(&format!("item {i}"), &["--no-auto-sync"]);
    }
    if !config.is_empty() {
        let dir = env.root().join("tracker");
        let template = std::fs::read_to_string(dir.join("config.yaml.template")).unwrap();
        let path = dir.join("config.yaml");
        if path.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::write(&path, format!("{template}\n{config}\n")).unwrap();
    }
    env
}

#[test]
fn a_read_of_a_large_tracker_starts_a_watcher_once_and_reads_stay_exact() {
    let env = tracker(4, "watch:\n  auto_start: 3\n");
    let _stop = StopOnDrop(&env);
    let (first, note) = list(&env, &[]);
    assert!(note.contains(NOTE), "{note}");
    assert!(note.contains("4 op files"), "{note}");
    wait_running(&env, true);
    let cold = list(&env, &[("HTRAC_NO_CACHE", "1")]).0;
    assert_eq!(first, cold);
    // The reads after it go through the watcher, print the same, and
    // start nothing more.
    for _ in 0..2 {
        let (again, quiet) = list(&env, &[]);
        assert_eq!(again, cold);
        assert!(!quiet.contains(NOTE), "{quiet}");
    }
    let id = env.add("a fifth", &["--no-auto-sync"]);
    let (after, _) = list(&env, &[]);
    assert!(after.contains(&id));
    assert_eq!(after, list(&env, &[("HTRAC_NO_CACHE", "1")]).0);

    // Stopped by hand: not started again by reads...
    run(&env, &["watch", "stop"], &[]);
    wait_running(&env, false);
    let (_, quiet) = list(&env, &[]);
    assert!(!quiet.contains(NOTE), "{quiet}");
    assert!(!running(&env));
    // ...until the user starts one again. That one killed (-9), the next
    // read starts another.
    kill_watcher(&env);
    let (again, note) = list(&env, &[]);
    assert_eq!(again, after);
    assert!(note.contains(NOTE), "{note}");
    wait_running(&env, true);
}

#[test]
fn no_watcher_starts_below_the_threshold_when_off_or_with_htrac_no_watch() {
    // Default threshold (5,000 op files): four items start nothing.
    let small = tracker(4, "");
    let _stop = StopOnDrop(&small);
    let (_, note) = list(&small, &[]);
    assert!(!note.contains(NOTE), "{note}");
    assert!(!running(&small));

    for config in ["watch:\n  auto_start: off\n", "watch:\n  auto_start: 0\n"] {
        let env = tracker(4, config);
        let _stop = StopOnDrop(&env);
        let (_, note) = list(&env, &[]);
        assert!(!note.contains(NOTE), "{config}: {note}");
        assert!(!running(&env), "{config}");
    }

    let env = tracker(4, "watch:\n  auto_start: 3\n");
    let _stop = StopOnDrop(&env);
    let (_, note) = list(&env, &[("HTRAC_NO_WATCH", "1")]);
    assert!(!note.contains(NOTE), "{note}");
    assert!(!running(&env));
}

#[test]
fn a_bad_auto_start_setting_is_a_warning_and_the_read_stands() {
    let env = tracker(2, "watch:\n  auto_start: soon\n");
    let _stop = StopOnDrop(&env);
    let cold = list(&env, &[("HTRAC_NO_CACHE", "1")]).0;
    let (out, err) = list(&env, &[]);
    assert_eq!(out, cold);
    assert!(err.contains("watch.auto_start"), "{err}");
    assert!(err.contains("config.yaml"), "{err}");
    assert!(!running(&env));
}

#[test]
fn a_watcher_started_with_idle_exits_once_unused() {
    let env = tracker(1, "");
    let _stop = StopOnDrop(&env);
    let started = Instant::now();
    run(&env, &["watch", "--idle", "1"], &[]);
    assert!(running(&env));
    // A read keeps it alive no longer than a second after it.
    list(&env, &[]);
    wait_running(&env, false);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn an_mcp_session_starts_one_after_a_read_and_again_once_it_is_gone() {
    let env = tracker(4, "watch:\n  auto_start: 3\n");
    let _stop = StopOnDrop(&env);
    assert!(!running(&env));
    let mut s = crate::common::mcp::Session::start(&env);
    s.initialize();
    let (text, _) = s.ok("list", serde_json::json!({}));
    assert!(text.contains("item 0"), "{text}");
    wait_running(&env, true);
    // Killed: the session's next read finds none (the retry pause is
    // lifted by `htrac watch`, as after a start by hand) and starts one.
    let pid = kill_watcher(&env);
    s.ok("ready", serde_json::json!({}));
    wait_running(&env, true);
    // The killed one was the session's child: reaped, not left a zombie.
    let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc.exists() {
        assert!(Instant::now() < deadline, "watcher {pid} left a zombie");
        std::thread::sleep(Duration::from_millis(20));
    }
    s.finish();
}
