//! Sync under faults: the remote moves mid-push, is unreachable, refuses
//! the push from a hook; the process is killed between commit-tree and
//! push; two syncs run at once. After each, every op is still present
//! locally and the next sync completes. Also: the circuit breaker, the
//! pre-sync validation, dry runs and the cost of auto-sync below threshold.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::synchelp::{self, remote_op_count, Net};

fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A clone with `n` fresh items and one update each (not yet synced).
fn clone_with_ops(net: &Net, name: &str, n: usize) -> synchelp::Clone {
    let c = net.clone_named(name);
    for k in 0..n {
        let id = c.add(&format!("{name} item {k}"));
        c.run(&["update", &id, "--priority", "1"]).ok();
    }
    c
}

#[test]
fn remote_moving_mid_push_is_retried_on_the_new_base() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 2);
    let b = clone_with_ops(&net, "b", 1);
    // a's pre-push hook lets b sync first, once: a's push then finds the
    // remote moved after it read it.
    let marker = net.dir.path().join("moved-once");
    write_script(
        &a.path.join(".git/hooks/pre-push"),
        &format!(
            "[ -e '{m}' ] && exit 0\ntouch '{m}'\ncd '{b}' && HTRAC_SYNC_BACKOFF_MS=5 TRACKER_AUTO_SYNC_THRESHOLD=0 HOME='{h}' HTRAC_CACHE_DIR='{h}/c' '{bin}' sync >/dev/null 2>&1",
            m = marker.display(),
            b = b.path.display(),
            h = net.dir.path().join("hookhome").display(),
            bin = env!("CARGO_BIN_EXE_htrac"),
        ),
    );
    let before = a.nonces();
    let r = a.run(&["--json", "sync"]).ok();
    assert!(marker.exists(), "the hook ran");
    let j = r.json();
    assert_eq!(j["attempts"], 2, "one rejection, one retry: {j}");
    assert_eq!(j["ops"], 4);
    assert!(before.is_subset(&a.nonces()));
    assert_eq!(
        remote_op_count(&net),
        6,
        "a's 4 ops and b's 2 are all on the remote"
    );
    assert_eq!(a.op_count(), 6, "a's local update brought b's ops in");
}

#[test]
fn unreachable_remote_fails_keeps_ops_and_the_next_sync_completes() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 2);
    let before = a.op_files();
    let url = a.git(&["remote", "get-url", "origin"]);
    a.git(&[
        "remote",
        "set-url",
        "origin",
        "/nonexistent/htrac/remote.git",
    ]);
    let r = a.run(&["sync"]).fails();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot fetch from 'origin'"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert_eq!(a.op_files(), before, "op files untouched");
    let s = a.status();
    assert_eq!(s["breaker"]["consecutive_failures"], 1);
    assert_eq!(s["last"]["ok"], false);
    a.git(&["remote", "set-url", "origin", url.trim()]);
    a.run(&["sync"]).ok();
    assert_eq!(remote_op_count(&net), 4);
    let s = a.status();
    assert_eq!(s["breaker"]["consecutive_failures"], 0);
    assert_eq!(s["last"]["ok"], true);
    assert_eq!(s["pending_lines"], 0);
}

#[test]
fn remote_hook_refusal_is_a_failure_not_a_retry_loop() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 1);
    let hook = net.remote.join("hooks/pre-receive");
    write_script(&hook, "echo 'no tracker pushes today' >&2\nexit 1");
    let before = a.op_files();
    let r = a.run(&["--json", "sync"]).fails();
    assert!(r.stderr.contains("refused the push"), "{}", r.stderr);
    assert!(r.stderr.contains("hook declined"), "{}", r.stderr);
    assert_eq!(a.op_files(), before);
    assert_eq!(remote_op_count(&net), 0);
    std::fs::remove_file(&hook).unwrap();
    let j = a.run(&["--json", "sync"]).ok().json();
    assert_eq!(j["attempts"], 1);
    assert_eq!(remote_op_count(&net), 2);
}

#[test]
fn killed_between_commit_tree_and_push_loses_nothing() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 2);
    let before = a.op_files();
    let head = a.git(&["rev-parse", "HEAD"]);
    let r = a.run_env(&["sync"], &[("HTRAC_FAILPOINT", "after-commit-tree")]);
    assert_eq!(r.code, -1, "killed by a signal: {}", r.stderr);
    assert_eq!(a.op_files(), before, "op files untouched");
    assert_eq!(a.git(&["rev-parse", "HEAD"]), head, "branch untouched");
    assert_eq!(remote_op_count(&net), 0, "nothing pushed");
    let leftovers = |c: &synchelp::Clone| {
        std::fs::read_dir(c.path.join(".git"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("htrac-sync-"))
            .filter(|e| !e.file_name().to_string_lossy().ends_with("state.json"))
            .count()
    };
    assert!(leftovers(&a) > 0, "the kill left its temporary files");
    // The lock died with the process: the next sync runs and tidies up.
    a.run(&["sync"]).ok();
    assert_eq!(leftovers(&a), 0);
    assert_eq!(remote_op_count(&net), 4);
    assert_eq!(a.op_files(), before);
    assert_eq!(
        a.git(&[
            "status",
            "--porcelain",
            "--",
            ".agent/tracker-workspace/.ops"
        ]),
        ""
    );
}

#[test]
fn concurrent_syncs_from_two_processes_and_three_clones() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 2);
    let b = clone_with_ops(&net, "b", 2);
    let c = clone_with_ops(&net, "c", 2);
    let mut kids = Vec::new();
    for cl in [&a, &a, &b, &c] {
        kids.push(
            cl.command(&["sync"])
                .env("HTRAC_SYNC_BACKOFF_MS", "20")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for k in kids {
        let out = k.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(remote_op_count(&net), 12);
    for cl in [&a, &b, &c] {
        cl.run(&["sync"]).ok();
    }
    for cl in [&a, &b, &c] {
        assert_eq!(cl.op_count(), 12);
        assert_eq!(cl.status()["pending_lines"], 0);
    }
    assert_eq!(a.state(), b.state());
    assert_eq!(a.state(), c.state());
}

#[test]
fn auto_sync_runs_at_threshold_and_the_breaker_turns_it_off_after_three_failures() {
    let net = Net::new();
    let mut a = net.clone_named("a");
    a.config("sync:\n  cooldown_seconds: 0\n");
    a.env[0].1 = "25".into();
    // Below the threshold: nothing happens.
    let id = a.add("one");
    assert_eq!(remote_op_count(&net), 0);
    assert!(a.status()["pending_lines"].as_u64().unwrap() < 25);
    // Crossing it: synced by itself, and says so.
    let r = a.run(&["update", &id, "--title", "one, retitled"]).ok();
    assert!(r.stderr.contains("auto-sync: synced"), "{}", r.stderr);
    assert_eq!(remote_op_count(&net), 2);
    // --no-auto-sync skips it.
    let id2 = a.add("two");
    let r = a
        .run(&["--no-auto-sync", "update", &id2, "--priority", "0"])
        .ok();
    assert!(!r.stderr.contains("auto-sync"), "{}", r.stderr);
    assert_eq!(remote_op_count(&net), 2);
    // The remote goes away: three failures, then OFF, loudly.
    let url = a.git(&["remote", "get-url", "origin"]);
    a.git(&["remote", "set-url", "origin", "/nonexistent/remote.git"]);
    let mut last = String::new();
    for k in 1..=3 {
        let r = a.run(&["update", &id2, "--priority", &k.to_string()]).ok();
        assert!(
            r.stderr.contains(&format!("sync failed ({k}/3)")),
            "{}",
            r.stderr
        );
        last = r.stderr;
    }
    assert!(
        last.contains("ESCALATION") && last.contains("OFF"),
        "{last}"
    );
    let r = a.run(&["update", &id2, "--priority", "4"]).ok();
    assert!(r.stderr.contains("auto-sync: OFF"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("sync failed"),
        "no attempt while off: {}",
        r.stderr
    );
    let s = a.status();
    assert_eq!(s["breaker"]["state"], "off");
    assert_eq!(s["breaker"]["auto_sync"], false);
    let text = a.run(&["sync", "--status"]).ok().stdout;
    assert!(text.contains("auto-sync: OFF after 3"), "{text}");
    // Fixed, a manual sync succeeds and turns auto-sync back on.
    a.git(&["remote", "set-url", "origin", url.trim()]);
    a.run(&["sync"]).ok();
    assert_eq!(a.status()["breaker"]["state"], "closed");
    assert_eq!(remote_op_count(&net), a.op_count());
}

#[test]
fn cooldown_skips_auto_sync_after_a_failure() {
    let net = Net::new();
    let mut a = net.clone_named("a");
    a.env[0].1 = "1".into();
    a.git(&["remote", "set-url", "origin", "/nonexistent/remote.git"]);
    let r = a.run(&["add", "--kind", "work_item", "--title", "x"]).ok();
    assert!(r.stderr.contains("sync failed (1/3)"), "{}", r.stderr);
    let r = a.run(&["add", "--kind", "work_item", "--title", "y"]).ok();
    assert!(r.stderr.contains("cooldown left"), "{}", r.stderr);
    assert_eq!(a.status()["breaker"]["state"], "cooling");
}

#[test]
fn a_broken_op_file_blocks_the_sync_and_is_named() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 1);
    let (path, _) = a.op_files().into_iter().next().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(a.path.join(&path))
        .unwrap();
    use std::io::Write;
    writeln!(f, "- op: [unclosed  # zzzz\n  at: x  # zzzz").unwrap();
    let r = a.run(&["sync"]).fails();
    assert!(r.stderr.contains("refusing to sync"), "{}", r.stderr);
    assert!(
        r.stderr.contains(path.rsplit('/').next().unwrap()),
        "{}",
        r.stderr
    );
    assert_eq!(remote_op_count(&net), 0);
}

#[test]
fn dry_run_changes_nothing_and_config_errors_name_the_key() {
    let net = Net::new();
    let a = clone_with_ops(&net, "a", 2);
    let remote_before = net.remote_git(&["rev-parse", "dev"]);
    let j = a.run(&["--json", "sync", "--dry-run"]).ok().json();
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["synced_files"], 2);
    assert_eq!(j["ops"], 4);
    assert!(j["title"]
        .as_str()
        .unwrap()
        .starts_with("tracker: 2 files (4 ops) — WI-"));
    assert_eq!(net.remote_git(&["rev-parse", "dev"]), remote_before);
    assert_eq!(a.status()["last"], serde_json::Value::Null);
    a.config("sync:\n  mode: sometimes\n");
    let r = a.run(&["sync"]).fails();
    assert!(r.stderr.contains("sync.mode"), "{}", r.stderr);
    a.config("sync:\n  retrys: 2\n");
    let r = a.run(&["sync"]).fails();
    assert!(
        r.stderr.contains("sync.retrys: unknown key"),
        "{}",
        r.stderr
    );
}

#[test]
fn on_another_branch_ops_sync_but_the_branch_is_left_alone() {
    let net = Net::new();
    let a = net.clone_named("a");
    a.git(&["checkout", "-q", "-b", "feature"]);
    a.add("on a feature branch");
    let head = a.git(&["rev-parse", "HEAD"]);
    let r = a.run(&["sync"]).ok();
    assert!(r.stdout.contains("left as is"), "{}", r.stdout);
    assert!(r.stdout.contains("feature"), "{}", r.stdout);
    assert_eq!(a.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(remote_op_count(&net), 1);
    assert_eq!(a.status()["pending_lines"], 0);
}

#[test]
fn auto_sync_costs_two_git_calls_below_threshold_and_none_for_reads() {
    let net = Net::new();
    let a = net.clone_named("a");
    let id = a.add("x");
    let bin = net.dir.path().join("shim");
    std::fs::create_dir_all(&bin).unwrap();
    let log = net.dir.path().join("git.log");
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    write_script(
        &bin.join("git"),
        &format!(
            "echo \"$*\" >> '{}'\nexec '{}' \"$@\"",
            log.display(),
            real.trim()
        ),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let env = [
        ("PATH", path.as_str()),
        ("TRACKER_AUTO_SYNC_THRESHOLD", "80"),
    ];
    a.run_env(&["list"], &env).ok();
    a.run_env(&["show", &id], &env).ok();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !calls.contains("diff") && !calls.contains("ls-files"),
        "{calls}"
    );
    std::fs::write(&log, "").unwrap();
    a.run_env(&["update", &id, "--priority", "3"], &env).ok();
    let calls = std::fs::read_to_string(&log).unwrap();
    let sync_calls: Vec<&str> = calls
        .lines()
        .filter(|l| {
            l.contains(" diff ")
                || l.contains(" ls-files ")
                || l.contains("fetch")
                || l.contains("push")
        })
        .collect();
    assert_eq!(sync_calls.len(), 2, "{calls}");
    assert!(sync_calls[0].contains("diff --numstat"), "{calls}");
    assert!(sync_calls[1].contains("ls-files"), "{calls}");
}

#[test]
fn ops_written_while_the_sync_runs_survive_the_local_update() {
    let net = Net::new();
    let a = net.clone_named("a");
    let b = net.clone_named("b");
    let id = a.add("shared");
    a.run(&["sync"]).ok();
    b.run(&["sync"]).ok();
    b.run(&["update", &id, "--title", "retitled by b"]).ok();
    b.run(&["sync"]).ok();
    a.run(&["update", &id, "--priority", "0"]).ok();
    // While a's push is being received, a writes another op to the same
    // file (the remote's post-receive hook runs before a's sync goes on).
    let marker = net.dir.path().join("wrote-meanwhile");
    write_script(
        &net.remote.join("hooks/post-receive"),
        &format!(
            "[ -e '{m}' ] && exit 0\ntouch '{m}'\nunset GIT_DIR GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\ncd '{a}' && HOME='{h}' HTRAC_CACHE_DIR='{h}/c' '{bin}' --no-auto-sync discuss {id} 'written meanwhile' >/dev/null",
            m = marker.display(),
            a = a.path.display(),
            h = net.dir.path().join("hookhome").display(),
            bin = env!("CARGO_BIN_EXE_htrac"),
        ),
    );
    let r = a.run(&["--json", "sync"]).ok();
    assert!(marker.exists(), "the hook ran");
    let j = r.json();
    assert_eq!(j["local"]["updated"], true, "{j}");
    assert_eq!(j["local"]["rewritten_files"], 1, "{j}");
    // create + b's update + a's update + the op written meanwhile.
    assert_eq!(a.op_count(), 4);
    let text = &a.op_files()[0].1;
    assert!(text.contains("retitled by b") && text.contains("written meanwhile"));
    assert_eq!(
        remote_op_count(&net),
        3,
        "the late op is not on the remote yet"
    );
    assert!(a.status()["pending_lines"].as_u64().unwrap() > 0);
    a.run(&["sync"]).ok();
    b.run(&["sync"]).ok();
    assert_eq!(remote_op_count(&net), 4);
    assert_eq!(a.state(), b.state());
}
