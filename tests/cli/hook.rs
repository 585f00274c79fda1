//! `htrac-hook`, driven as a harness drives it: real hook event JSON on
//! stdin, in real git repositories with a tracker, the circuit breaker's
//! state in a private directory.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Env, Run};
use serde_json::Value;

const HOOK: &str = env!("CARGO_BIN_EXE_htrac-hook");

/// A repository plus the hook's private state directory.
struct Repo {
    env: Env,
    state: tempfile::TempDir,
}

fn repo() -> Repo {
    Repo {
        env: Env::new(),
        state: tempfile::tempdir().unwrap(),
    }
}

/// A Claude Code Stop event for `cwd`, with keys the hook does not know.
fn event(cwd: &Path, active: bool) -> String {
    serde_json::json!({
        "session_id": "abc123",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "Stop",
        "stop_hook_active": active,
        "future_key": {"nested": [1, 2]},
    })
    .to_string()
}

impl Repo {
    fn hook_in(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(HOOK);
        cmd.args(args)
            .current_dir(dir)
            .env("HTRAC_STATE_DIR", self.state.path())
            .env("HTRAC_CACHE_DIR", self.env.cache.path())
            .env_remove("CLAUDE_PROJECT_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("htrac-hook runs");
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `htrac-hook stop` with a Stop event for the repository on stdin.
    fn stop(&self, active: bool) -> Run {
        self.hook_in(
            self.env.path(),
            &["stop"],
            Some(&event(self.env.path(), active)),
        )
    }

    fn set_config(&self, from: &str, to: &str) {
        let cfg = self.env.root().join("tracker/config.yaml");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert!(text.contains(from), "config has {from:?}");
        std::fs::write(&cfg, text.replace(from, to)).unwrap();
    }
}

/// The reason of a block decision (asserting the exact shape), or `None`
/// when the hook allowed the stop.
fn decision(r: &Run) -> Option<String> {
    assert_eq!(r.code, 0, "stop always exits 0\nstderr:\n{}", r.stderr);
    if r.stdout.trim().is_empty() {
        return None;
    }
    let v: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout not JSON ({e}): {}", r.stdout));
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "{v}");
    assert_eq!(v["decision"], "block");
    Some(v["reason"].as_str().expect("reason is text").to_string())
}

#[test]
fn blocks_with_todos_naming_the_items_and_the_commands_to_claim_them() {
    let r = repo();
    let first = r.env.add("Fix the parser", &["--priority", "0"]);
    let second = r.env.add("Write docs", &["--status", "todo_soft"]);
    let done = r.env.add("Old work", &["--status", "done"]);
    let out = r.stop(false);
    let reason = decision(&out).expect("blocked");
    assert!(
        reason.contains("2 blocking item(s) remain in the tracker (1 hard, 1 soft; scope: all)"),
        "{reason}"
    );
    assert!(reason.contains(&format!("htrac claim {first}")));
    assert!(reason.contains(&format!("htrac claim {second}")));
    assert!(
        reason.find(&first).unwrap() < reason.find(&second).unwrap(),
        "best (P0) first"
    );
    assert!(!reason.contains(&done));
    assert!(!reason.contains("already continuing"));
    assert!(
        out.stderr.contains("blocked stop 1 of at most 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn allows_when_nothing_blocks() {
    let r = repo();
    // An empty tracker.
    assert_eq!(decision(&r.stop(false)), None);
    // Finished and in-progress items do not block.
    r.env.add("done", &["--status", "done"]);
    r.env.add("busy", &["--status", "in_progress"]);
    let out = r.stop(false);
    assert_eq!(decision(&out), None);
    // check and count agree, in shell-hook terms.
    let c = r.hook_in(r.env.path(), &["check"], None);
    assert_eq!((c.code, c.stdout.as_str()), (0, ""));
    let c = r.hook_in(r.env.path(), &["count"], None);
    assert_eq!((c.code, c.stdout.trim()), (0, "0"));
}

#[test]
fn unread_human_messages_come_before_ready_items() {
    let r = repo();
    let work = r.env.add("Work", &["--priority", "0"]);
    let asked = r.env.add("Asked about", &["--status", "done"]);
    r.env
        .run(&["discuss", &asked, "Why was this closed?\nPlease explain."])
        .ok();
    let reason = decision(&r.stop(false)).expect("blocked by Work");
    let msg = reason
        .find("Why was this closed?")
        .expect("the message is quoted");
    assert!(reason.contains("Please explain."));
    assert!(
        reason[..msg].contains(&asked),
        "the item is named before its message"
    );
    assert!(reason.contains("htrac discuss <ID>"));
    let claim = reason.find(&format!("htrac claim {work}")).unwrap();
    assert!(msg < claim, "messages first:\n{reason}");
}

#[test]
fn an_empty_stdin_finds_the_tracker_from_the_working_directory() {
    let r = repo();
    r.env.add("todo", &[]);
    let sub = r.env.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    assert!(decision(&r.hook_in(&sub, &["stop"], Some(""))).is_some());
    assert!(decision(&r.hook_in(&sub, &["stop"], None)).is_some());
}

#[test]
fn the_events_cwd_wins_over_the_process_cwd_and_tracker_root_over_both() {
    let r = repo();
    r.env.add("todo", &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    // Run from a directory with no tracker; the event says where the agent is.
    let sub = r.env.path().join("pkg");
    std::fs::create_dir_all(&sub).unwrap();
    let out = r.hook_in(elsewhere.path(), &["stop"], Some(&event(&sub, false)));
    assert!(decision(&out).is_some(), "{}", out.stderr);
    // --tracker-root names a tracker with nothing blocking: allowed.
    let empty = Env::new();
    let root = empty.root();
    let out = r.hook_in(
        elsewhere.path(),
        &["stop", "--tracker-root", root.to_str().unwrap()],
        Some(&event(&sub, false)),
    );
    assert_eq!(decision(&out), None, "{}", out.stderr);
}

#[test]
fn subagent_stop_events_are_answered_the_same() {
    let r = repo();
    r.env.add("todo", &[]);
    let ev = event(r.env.path(), false).replace("\"Stop\"", "\"SubagentStop\"");
    let out = r.hook_in(r.env.path(), &["stop"], Some(&ev));
    assert!(decision(&out).is_some());
    assert!(!out.stderr.contains("meant for Stop"), "{}", out.stderr);
}

#[test]
fn workspace_scope_ignores_canonical_items() {
    let r = repo();
    r.env.add("upstream's work", &["--tier", "canonical"]);
    assert!(
        decision(&r.stop(false)).is_some(),
        "scope all sees canonical"
    );
    r.env.run(&["fork-setup"]).ok();
    let out = r.stop(false);
    assert_eq!(decision(&out), None, "{}", out.stderr);
    let c = r.hook_in(r.env.path(), &["count"], None);
    assert_eq!((c.code, c.stdout.trim()), (0, "0"));
    // A workspace item blocks again, and the reason says the scope.
    let mine = r.env.add("my work", &[]);
    let reason = decision(&r.stop(false)).expect("blocked");
    assert!(reason.contains("scope: workspace"), "{reason}");
    assert!(reason.contains(&mine));
    let stealth = r.env.add("secret work", &["--tier", "stealth"]);
    let reason = decision(&r.stop(false)).expect("blocked");
    assert!(
        reason.contains(&stealth),
        "stealth is in the workspace scope"
    );
}

#[test]
fn the_circuit_breaker_trips_after_max_stalls_and_progress_resets_it() {
    let r = repo();
    let id = r.env.add("stuck", &[]);
    for n in 1..=3 {
        let out = r.stop(n > 1);
        assert!(decision(&out).is_some(), "blocked stop {n}");
        assert!(
            out.stderr
                .contains(&format!("blocked stop {n} of at most 3")),
            "{}",
            out.stderr
        );
    }
    // A fourth stop with nothing changed: let through, and said why.
    let out = r.stop(true);
    assert_eq!(decision(&out), None);
    assert!(out.stderr.contains("circuit breaker"), "{}", out.stderr);
    assert!(out.stderr.contains("no progress"), "{}", out.stderr);
    // The count starts again.
    let out = r.stop(false);
    assert!(decision(&out).is_some());
    assert!(out.stderr.contains("blocked stop 1 of"), "{}", out.stderr);
    // Progress: any op written (here a discussion entry; the blocking set
    // is unchanged) resets the count.
    assert!(decision(&r.stop(true)).is_some()); // 2
    r.env
        .run(&["discuss", &id, "investigating", "--ack-thread"])
        .ok();
    let out = r.stop(true);
    assert!(decision(&out).is_some());
    assert!(out.stderr.contains("blocked stop 1 of"), "{}", out.stderr);
    // Progress by the blocking set changing (an item finished) too.
    assert!(decision(&r.stop(true)).is_some()); // 2
    let other = r.env.add("another", &[]);
    let out = r.stop(true);
    assert!(out.stderr.contains("blocked stop 1 of"), "{}", out.stderr);
    r.env.run(&["update", &other, "--status", "done"]).ok();
    r.env.run(&["update", &id, "--status", "done"]).ok();
    assert_eq!(decision(&r.stop(true)), None, "nothing blocks");
}

#[test]
fn max_blocked_stops_is_configurable_and_repositories_count_apart() {
    let r = repo();
    r.set_config("max_blocked_stops: 3", "max_blocked_stops: 1");
    r.env.add("stuck", &[]);
    // Another repository sharing the state directory.
    let other = Env::new();
    other.add("also stuck", &[]);
    let other_stop = || r.hook_in(other.path(), &["stop"], Some(&event(other.path(), false)));
    assert!(decision(&r.stop(false)).is_some());
    assert!(decision(&other_stop()).is_some());
    assert_eq!(
        decision(&r.stop(true)),
        None,
        "max 1: the second stall goes"
    );
    assert!(
        decision(&other_stop()).is_some(),
        "its own count (default 3)"
    );
}

#[test]
fn stop_hook_active_still_blocks_but_says_so() {
    let r = repo();
    r.env.add("todo", &[]);
    let reason = decision(&r.stop(true)).expect("active does not mean allowed");
    assert!(
        reason.contains("already continuing because this stop hook blocked"),
        "{reason}"
    );
}

#[test]
fn without_a_usable_breaker_an_active_loop_is_let_go_but_a_first_stop_is_not() {
    let r = repo();
    r.env.add("todo", &[]);
    // The state "directory" is a file: the breaker cannot keep count.
    let file = r.state.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let run = |active: bool| {
        let mut cmd = Command::new(HOOK);
        cmd.arg("stop")
            .current_dir(r.env.path())
            .env("HTRAC_STATE_DIR", &file)
            .env_remove("CLAUDE_PROJECT_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(event(r.env.path(), active).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let out = run(false);
    assert!(decision(&out).is_some());
    assert!(out.stderr.contains("cannot keep count"), "{}", out.stderr);
    let out = run(true);
    assert_eq!(decision(&out), None);
    assert!(out.stderr.contains("stop_hook_active"), "{}", out.stderr);
}

#[test]
fn malformed_stdin_is_a_clear_error_under_the_failure_policy() {
    let r = repo();
    // Nothing blocks, yet a malformed event fails closed by default.
    let out = r.hook_in(r.env.path(), &["stop"], Some("{\"cwd\": oops"));
    let reason = decision(&out).expect("fail closed");
    assert!(reason.contains("not valid JSON"), "{reason}");
    assert!(
        out.stderr
            .contains("htrac-hook: error: the hook event on stdin is not valid JSON"),
        "{}",
        out.stderr
    );
    let out = r.hook_in(r.env.path(), &["stop"], Some("[1, 2]"));
    assert!(decision(&out)
        .unwrap()
        .contains("must be a JSON object, got an array"));
    // The circuit breaker guards the error loop as well.
    for _ in 0..2 {
        assert!(decision(&r.hook_in(r.env.path(), &["stop"], Some("[1, 2]"))).is_some());
    }
    let out = r.hook_in(r.env.path(), &["stop"], Some("[1, 2]"));
    assert_eq!(decision(&out), None);
    assert!(out.stderr.contains("circuit breaker"), "{}", out.stderr);
    // stop_hook.on_error: allow lets the agent stop, still saying why.
    r.set_config("on_error: block", "on_error: allow");
    let out = r.hook_in(r.env.path(), &["stop"], Some("not json"));
    assert_eq!(decision(&out), None);
    assert!(out.stderr.contains("not valid JSON"), "{}", out.stderr);
    assert!(out.stderr.contains("on_error) is allow"), "{}", out.stderr);
}

#[test]
fn no_tracker_or_a_broken_config_fails_closed_unless_told_otherwise() {
    let r = repo();
    let nowhere = tempfile::tempdir().unwrap();
    let out = r.hook_in(
        nowhere.path(),
        &["stop"],
        Some(&event(nowhere.path(), false)),
    );
    let reason = decision(&out).expect("fail closed");
    assert!(reason.contains("no .agent/ directory found"), "{reason}");
    let out = r.hook_in(
        nowhere.path(),
        &["stop", "--on-error", "allow"],
        Some(&event(nowhere.path(), false)),
    );
    assert_eq!(decision(&out), None);
    assert!(
        out.stderr.contains("no .agent/ directory found"),
        "{}",
        out.stderr
    );
    let c = r.hook_in(nowhere.path(), &["check"], None);
    assert_eq!(c.code, 2, "{}", c.stderr);
    assert!(c.stderr.contains("no .agent/"));

    // A config that cannot be read: its on_error cannot be either, so block.
    r.set_config("on_error: block", "on_error: allow\n  scope: nonsense");
    let out = r.stop(false);
    let reason = decision(&out).expect("fail closed");
    assert!(reason.contains("stop_hook.scope"), "{reason}");
    let c = r.hook_in(r.env.path(), &["count"], None);
    assert_eq!(c.code, 2, "{}", c.stderr);
    assert!(c.stderr.contains("stop_hook.scope"), "{}", c.stderr);
}

#[test]
fn an_unreadable_item_file_blocks_under_fail_closed() {
    let r = repo();
    let id = r.env.add("soon broken", &["--status", "done"]);
    std::fs::write(r.env.workspace_ops(&id), "- op: [not an op\n").unwrap();
    let out = r.stop(false);
    let reason = decision(&out).expect("a damaged file may hide blocking work");
    assert!(reason.contains(&id), "{reason}");
    assert!(out.stderr.contains(&id), "{}", out.stderr);
    r.set_config("on_error: block", "on_error: allow");
    assert_eq!(decision(&r.stop(false)), None);
}

#[test]
fn check_and_count_speak_exit_codes_for_shell_hooks() {
    let r = repo();
    let id = r.env.add("hard one", &[]);
    r.env.add("soft one", &["--status", "todo_soft"]);
    let c = r.hook_in(r.env.path(), &["check"], None);
    assert_eq!(c.code, 2);
    assert_eq!(c.stdout, "");
    // stderr is what the agent reads: the reason first, no breaker count.
    assert!(
        c.stderr
            .starts_with("You may not stop yet: 2 blocking item(s)"),
        "{}",
        c.stderr
    );
    assert!(!c.stderr.contains("blocked stop"), "{}", c.stderr);
    assert!(
        c.stderr.contains(&format!("htrac claim {id}")),
        "{}",
        c.stderr
    );
    let c = r.hook_in(r.env.path(), &["count"], None);
    assert_eq!((c.code, c.stdout.trim()), (2, "2"));
    assert!(c.stderr.contains("2 blocking item(s)"));
    let c = r.hook_in(r.env.path(), &["count", "--hard"], None);
    assert_eq!(c.stdout.trim(), "1");
    let c = r.hook_in(r.env.path(), &["count", "--soft"], None);
    assert_eq!(c.stdout.trim(), "1");
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let r = repo();
    let c = r.hook_in(r.env.path(), &["launch"], None);
    assert_eq!(c.code, 1);
    assert!(
        c.stderr.contains("unknown command 'launch'"),
        "{}",
        c.stderr
    );
    let c = r.hook_in(r.env.path(), &["stop", "--hard"], None);
    assert_eq!(c.code, 1);
    let c = r.hook_in(r.env.path(), &["stop", "--on-error", "maybe"], None);
    assert_eq!(c.code, 1);
    let c = r.hook_in(r.env.path(), &[], None);
    assert_eq!(c.code, 1);
    let c = r.hook_in(r.env.path(), &["--help"], None);
    assert_eq!(c.code, 0);
    assert!(c.stdout.contains("htrac-hook stop"));
}
