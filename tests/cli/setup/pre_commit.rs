//! The pre-commit hook `htrac setup` installs: next to a foreign hook, in a
//! `core.hooksPath` directory, and blocking a malformed staged op log.

use super::*;

#[test]
fn an_existing_pre_commit_hook_is_left_alone_with_the_line_to_add() {
    let repo = Repo::new();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nmake lint\n").unwrap();
    let (_, r) = repo.setup_json();
    let c = check(&r, "precommit_hook");
    assert_eq!(c["status"], "warn");
    assert!(
        details(c).contains("htrac --tracker-root .agent validate --check-locks $f || exit 1"),
        "{c}"
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nmake lint\n"
    );
}

#[test]
fn a_githooks_directory_gets_the_hook_and_core_hooks_path() {
    let repo = Repo::new();
    std::fs::create_dir(repo.path().join(".githooks")).unwrap();
    std::fs::write(
        repo.path().join(".githooks/agent-stop.sh"),
        "#!/bin/sh\n[ \"$(htrac count-todos)\" = 0 ]\n",
    )
    .unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "precommit_hook")["status"], "fixed");
    assert_eq!(check(&r, "hooks_path")["status"], "fixed");
    assert_eq!(check(&r, "stop_hook")["status"], "ok");
    let hook = repo.path().join(".githooks/pre-commit");
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    let hp = String::from_utf8(repo.git_cmd(&["config", "core.hooksPath"]).stdout).unwrap();
    assert_eq!(hp.trim(), ".githooks");
    let (_, r) = repo.setup_json();
    assert_eq!(r["summary"]["fixed"], 0, "{r:#}");

    // A stop hook that never asks the tracker is worth a warning.
    std::fs::write(repo.path().join(".githooks/agent-stop.sh"), "#!/bin/sh\n").unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "stop_hook")["status"], "warn");
    assert!(r.to_string().contains("htrac-hook stop"), "{r:#}");
    // A Claude Code Stop hook running htrac-hook is recognised.
    std::fs::create_dir(repo.path().join(".claude")).unwrap();
    std::fs::write(
        repo.path().join(".claude/settings.json"),
        r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "htrac-hook stop"}]}]}}"#,
    )
    .unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "stop_hook")["status"], "ok", "{r:#}");
}

#[test]
fn the_pre_commit_hook_blocks_a_malformed_staged_op_log() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    // Nothing of the tracker staged: the hook stays out of the way.
    std::fs::write(repo.path().join("README"), "hello\n").unwrap();
    let out = commit(&repo, "README", "docs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let path = repo.env.workspace_ops(id.trim());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("this is not an op\n  - [\n");
    std::fs::write(&path, text).unwrap();
    let rel = path
        .strip_prefix(repo.path())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = commit(&repo, &rel, "bad op log");
    assert!(!out.status.success(), "the commit went through");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Tracker validation failed"), "{stderr}");
    let head = repo.git_cmd(&["log", "--format=%s", "-1"]);
    assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), "docs");
}

#[test]
fn the_pre_commit_hook_lets_a_valid_op_log_through() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let path = repo.env.workspace_ops(id.trim());
    let rel = path
        .strip_prefix(repo.path())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = commit(&repo, &rel, "tracker: add x");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
