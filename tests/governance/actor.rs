//! Who acts is the OS user, not the environment: a real second OS user whose
//! name matches `*_agent` writes `by: agent` and is refused human-only
//! statuses, whatever `USER`/`LOGNAME` say. Needs root (CI runs as root) to
//! create the user; elsewhere the test says why it skipped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::common;
use crate::common::agent::{agent_user, as_agent, as_agent_with, open_up, AGENT};

#[test]
fn the_os_user_decides_agent_or_human() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let human_item = env.add("set up by the human", &[]);
    open_up(env.path());

    let r = as_agent(
        &env,
        &["add", "--kind", "work_item", "--title", "agent work"],
    )
    .ok();
    let id = r.stdout.trim().to_string();
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert!(text.contains("  by: agent  # "), "{text}");
    assert!(text.contains(&format!("  actor: {AGENT}  # ")), "{text}");

    // Human-only statuses are refused for the agent, and nothing is written.
    let before = env.tree();
    let r = as_agent(&env, &["update", &human_item, "--status", "deleted"]).fails(1);
    assert!(
        r.stderr
            .contains("Status 'deleted' requires human authority"),
        "{}",
        r.stderr
    );
    let r = as_agent(
        &env,
        &[
            "add",
            "--kind",
            "work_item",
            "--title",
            "x",
            "--status",
            "deleted",
        ],
    )
    .fails(1);
    assert!(
        r.stderr.contains("requires human authority"),
        "{}",
        r.stderr
    );
    let r = as_agent(&env, &["discuss", &human_item, "--clear"]).fails(1);
    assert!(r.stderr.contains("human authority"), "{}", r.stderr);
    let r = as_agent(&env, &["init"]).fails(1);
    assert!(
        r.stderr.contains("init requires human authority"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before);

    // The human's message is unread for the agent until it acknowledges it.
    env.run(&["discuss", &human_item, "Please look at this first"])
        .ok();
    let r = as_agent(&env, &["discuss", &human_item, "on it"]).fails(1);
    assert!(
        r.stdout.contains("Please look at this first"),
        "{}",
        r.stdout
    );
    as_agent(&env, &["discuss", &human_item, "on it", "--ack-thread"]).ok();
    // Once the agent has replied, nothing is unread and the gate is open.
    as_agent(&env, &["discuss", &human_item, "done"]).ok();
    let v = env.run(&["show", &human_item, "--json"]).ok().json();
    let bys: Vec<&str> = v["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert_eq!(bys, ["human", "agent", "agent"]);
}

#[test]
fn every_human_power_is_refused_to_an_agent_and_nothing_changes() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("owned by the human", &[]);
    let stealthy = env.add("already stealth", &["--tier", "stealth"]);
    open_up(env.path());
    let before = env.tree();
    let refused: &[&[&str]] = &[
        &["lock", &id, "status"],
        &["unlock", &id, "status"],
        &["freeze", &id],
        &["unfreeze", &id],
        &["repair-drift", &id],
        &["stealth", &id],
        &["unstealth", &stealthy],
        &["discuss", &id, "--clear"],
        &["delete", &id],
        &["reconcile-reset", &id],
        &["edit-mode", "on"],
        &["edit-mode", "off"],
        &["init"],
        &["fork-setup"],
    ];
    for args in refused {
        let r = as_agent(&env, args).fails(1);
        assert!(
            r.stderr.contains("requires human authority"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(env.tree(), before, "{args:?} changed files");
    }
    // Tier moves between the committed tiers are anyone's.
    as_agent(&env, &["promote", &id]).ok();
    as_agent(&env, &["demote", &id]).ok();
}

#[test]
fn locks_bind_the_agent_even_when_set_on_another_branch() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("locked on main", &[]);
    let git = |args: &[&str]| common::git(env.path(), args);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "item"]);
    git(&["checkout", "-q", "-b", "main"]);
    env.run(&["lock", &id, "status"]).ok();
    git(&["commit", "-q", "-am", "lock"]);
    git(&["checkout", "-q", "dev"]);
    // The working tree (dev) has no lock op at all...
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert!(!text.contains("op: lock"), "{text}");
    open_up(env.path());
    // ...but the lock on `main` (a lamport branch) still binds the agent.
    let before = env.tree();
    let r = as_agent(&env, &["update", &id, "--status", "done"]).fails(1);
    assert!(r.stderr.contains("Field 'status'"), "{}", r.stderr);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    assert_eq!(env.tree(), before);
    as_agent(&env, &["update", &id, "--priority", "1"]).ok();

    // Case-insensitive locks set here bind too; unlocking frees the field.
    env.run(&["lock", &id, "TITLE"]).ok();
    as_agent(&env, &["update", &id, "--title", "renamed"]).fails(1);
    env.run(&["unlock", &id, "title"]).ok();
    as_agent(&env, &["update", &id, "--title", "renamed"]).ok();
}

#[test]
fn a_frozen_item_refuses_every_agent_write_until_unfrozen() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("frozen", &[]);
    open_up(env.path());
    env.run(&["freeze", &id]).ok();
    let before = env.tree();
    for args in [
        &["update", &id, "--priority", "1"][..],
        &["discuss", &id, "note", "--ack-thread"],
        &["promote", &id],
    ] {
        let r = as_agent(&env, args).fails(1);
        assert!(r.stderr.contains("is frozen"), "{args:?}: {}", r.stderr);
        assert_eq!(env.tree(), before);
    }
    env.run(&["unfreeze", &id]).ok();
    as_agent(&env, &["update", &id, "--priority", "1"]).ok();
}

#[test]
fn an_edit_mode_log_the_agent_owns_opens_no_window() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("thread", &[]);
    env.run(&["discuss", &id, "keep me"]).ok();
    let nonce = env.run(&["--json", "show", &id]).ok().json()["discussion"][0]["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    open_up(env.path());
    env.run(&["edit-mode", "on"]).ok();
    // Anyone may edit messages while a human's window is open.
    as_agent(&env, &["delete-msg", &id, &nonce, "--reason", "agent tidy"]).ok();
    let shown = env.run(&["--json", "show", &id]).ok().json();
    assert_eq!(shown["discussion"].as_array().unwrap().len(), 0);
    // A log owned by the agent's OS user (it could have forged it) counts for nothing.
    let log = env
        .root()
        .join("tracker-workspace/.edit-mode/edit-mode.ops");
    let st = std::process::Command::new("chown")
        .arg(AGENT)
        .arg(&log)
        .status()
        .unwrap();
    assert!(st.success());
    let r = env.run(&["--json", "show", &id]).ok();
    assert_eq!(r.json()["discussion"].as_array().unwrap().len(), 1);
    assert!(r.stderr.contains("owned by the agent user"), "{}", r.stderr);
    let r = as_agent(&env, &["undelete-msg", &id, &nonce, "--reason", "x"]).fails(1);
    assert!(r.stderr.contains("Edit-mode is not active"), "{}", r.stderr);
}

#[test]
fn an_agent_takes_over_a_file_it_cannot_append_to() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("checked out by the human", &[]);
    open_up(env.path());
    // As `git checkout` by the human leaves it: human-owned, 0644.
    let path = env.workspace_ops(&id);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&path).unwrap();
    as_agent(&env, &["update", &id, "--priority", "1"]).ok();
    let after = std::fs::read(&path).unwrap();
    assert!(
        after.starts_with(&before),
        "the old ops are kept byte for byte"
    );
    assert!(String::from_utf8_lossy(&after).contains("  by: agent  # "));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o664);
    assert_ne!(meta.uid(), 0, "the agent now owns the file");
    // And the human can still append.
    env.run(&["update", &id, "--priority", "2"]).ok();
}

#[test]
fn when_git_distrusts_the_repo_an_agent_cannot_slip_past_branch_locks() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("locked elsewhere, maybe", &[]);
    open_up(env.path());
    // The repository is root's: without safe.directory git refuses the agent,
    // so locks on other branches cannot be read. The write is refused.
    let before = env.tree();
    let r = as_agent_with(&env, &["update", &id, "--priority", "1"], false).fails(1);
    assert!(
        r.stderr.contains("locks set there cannot be checked"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("safe.directory"), "{}", r.stderr);
    assert_eq!(env.tree(), before);
    // A new item has no locks anywhere: adding still works, with a warning.
    let r = as_agent_with(
        &env,
        &["add", "--kind", "work_item", "--title", "new"],
        false,
    )
    .ok();
    assert!(
        r.stderr.contains("warning: cannot read other branches"),
        "{}",
        r.stderr
    );
    // Trusted, the same update goes through.
    as_agent(&env, &["update", &id, "--priority", "1"]).ok();
}
