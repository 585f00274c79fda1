//! `pr` mode with a stand-in forge: a script that records its calls and
//! "merges" by moving the bare remote's base branch. The right commands
//! run in order with quoted placeholders; a failing merge leaves local ops
//! untouched and keeps the branch; `--prune` deletes merged sync branches.

use std::os::unix::fs::PermissionsExt;

use crate::synchelp::{self, remote_op_count, Net};

/// Installs the stand-in forge and configures `pr` mode; returns the call log.
fn forge(net: &Net, c: &synchelp::Clone, merge_fails: bool) -> std::path::PathBuf {
    let log = net.dir.path().join("forge.log");
    let script = net.dir.path().join("forge");
    let merge = if merge_fails {
        "echo 'merge conflict on the forge' >&2; exit 1".to_string()
    } else {
        // Fast-forward the base to the pull request's branch.
        format!(
            "git --git-dir='{r}' update-ref refs/heads/\"$3\" \"$(git --git-dir='{r}' rev-parse refs/heads/\"$4\")\"",
            r = net.remote.display()
        )
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" >> '{log}'; echo >> '{log}'\ncase \"$1\" in\n  open) test -s \"$5\" || exit 3; echo 'Creating pull request...'; echo 'https://forge.example/o/r/pull/7';;\n  status) exit 0;;\n  merge) {merge};;\n  close) exit 0;;\nesac\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = script.display();
    c.config(&format!(
        "sync:\n  mode: pr\n  pr:\n    open: \"{s} open {{branch}} {{base}} {{title}} {{body_file}}\"\n    status: \"{s} status {{pr}}\"\n    merge: \"{s} merge {{pr}} {{base}} {{branch}}\"\n    close: \"{s} close {{pr}}\"\n    poll_seconds: 0\n    timeout_seconds: 5\n"
    ));
    log
}

fn calls(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn pr_mode_runs_open_status_merge_in_order_and_updates_local() {
    let net = Net::new();
    let a = net.clone_named("a");
    let log = forge(&net, &a, false);
    let id = a.add("through a pull request");
    a.run(&["update", &id, "--priority", "0"]).ok();
    let j = a.run(&["--json", "sync"]).ok().json();
    assert_eq!(j["mode"], "pr");
    assert_eq!(j["pr"], "https://forge.example/o/r/pull/7");
    let branch = j["branch"].as_str().unwrap().to_string();
    assert!(branch.starts_with("tracker-sync/2"), "{branch}");
    let c = calls(&log);
    assert_eq!(c.len(), 3, "{c:?}");
    let short = &id[..8];
    assert!(
        c[0].starts_with(&format!(
            "open|{branch}|dev|tracker: 1 file (2 ops) — {short}|"
        )),
        "title passed as one quoted argument: {c:?}"
    );
    assert_eq!(c[1], "status|https://forge.example/o/r/pull/7|");
    assert_eq!(
        c[2],
        format!("merge|https://forge.example/o/r/pull/7|dev|{branch}|")
    );
    assert_eq!(remote_op_count(&net), 2);
    // The local base followed, and the local sync branch is gone (merged).
    assert_eq!(
        a.git(&["rev-parse", "dev"]),
        net.remote_git(&["rev-parse", "dev"])
    );
    assert_eq!(a.git(&["branch", "--list", "tracker-sync/*"]), "");
    assert_eq!(j["local"]["updated"], true);
    // The body file was removed.
    let leftovers: Vec<_> = std::fs::read_dir(a.path.join(".git"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("body"))
        .collect();
    assert!(leftovers.is_empty());
    // The remote sync branch is pruned: its ops are in dev.
    assert!(net
        .remote_git(&["branch", "--list", "tracker-sync/*"])
        .contains(&branch));
    let j = a.run(&["--json", "sync", "--prune"]).ok().json();
    assert_eq!(j["pruned"], serde_json::json!([format!("origin/{branch}")]));
    assert_eq!(net.remote_git(&["branch", "--list", "tracker-sync/*"]), "");
}

#[test]
fn failing_merge_leaves_local_ops_untouched_and_keeps_the_branch() {
    let net = Net::new();
    let a = net.clone_named("a");
    let log = forge(&net, &a, true);
    let id = a.add("merge will fail");
    a.run(&["discuss", &id, "a note"]).ok();
    let before = a.op_files();
    let head = a.git(&["rev-parse", "HEAD"]);
    let r = a.run(&["sync"]).fails();
    assert!(
        r.stderr.contains("cannot merge pull request"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("merge conflict on the forge"),
        "{}",
        r.stderr
    );
    let c = calls(&log);
    let verbs: Vec<&str> = c.iter().map(|l| l.split('|').next().unwrap()).collect();
    assert_eq!(verbs, ["open", "status", "merge", "close"]);
    assert_eq!(a.op_files(), before, "local ops untouched");
    assert_eq!(a.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(remote_op_count(&net), 0, "dev unchanged");
    let kept = a.git(&["branch", "--list", "tracker-sync/*"]);
    assert!(
        kept.contains("tracker-sync/"),
        "local sync branch kept: {kept}"
    );
    assert_eq!(a.status()["breaker"]["consecutive_failures"], 1);
    // Not merged, so not pruned.
    let j = a.run(&["--json", "sync", "--prune"]).ok().json();
    assert_eq!(j["pruned"], serde_json::json!([]));
    // Back to direct mode: the ops go through, and the old branches prune.
    a.config("sync:\n  mode: direct\n");
    a.run(&["sync"]).ok();
    assert_eq!(remote_op_count(&net), 2);
    let j = a.run(&["--json", "sync", "--prune"]).ok().json();
    assert_eq!(j["pruned"].as_array().unwrap().len(), 2, "{j}");
    assert_eq!(a.git(&["branch", "--list", "tracker-sync/*"]), "");
}

#[test]
fn pr_mode_without_commands_is_a_config_error() {
    let net = Net::new();
    let a = net.clone_named("a");
    a.add("x");
    a.config("sync:\n  mode: pr\n");
    let r = a.run(&["sync"]).fails();
    assert!(r.stderr.contains("sync.pr.open"), "{}", r.stderr);
    assert_eq!(remote_op_count(&net), 0);
}
