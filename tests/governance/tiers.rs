//! Tier moves (`promote`, `demote`, `stealth`, `unstealth`) rename the file
//! and record an audit op; a cross-tier conflict is shown, kept out of
//! `ready` and reset by a human.

use std::os::unix::fs::MetadataExt;

use crate::common::{self, Env};
use crate::{canonical_ops, show, stealth_ops};

#[test]
fn tier_moves_rename_the_file_and_record_an_audit_op() {
    let env = Env::new();
    let id = env.add("moving item", &[]);
    let ws = env.workspace_ops(&id);
    let inode = std::fs::metadata(&ws).unwrap().ino();

    assert_eq!(env.run(&["promote", &id]).ok().stdout, "promoted\n");
    assert!(!ws.exists());
    let canon = canonical_ops(&env, &id);
    // Renamed, not copied: the same inode, with the audit op appended.
    assert_eq!(std::fs::metadata(&canon).unwrap().ino(), inode);
    let text = std::fs::read_to_string(&canon).unwrap();
    assert!(text.contains("- op: promote  # "), "{text}");
    assert_eq!(show(&env, &id)["tier"], "canonical");

    let r = env.run(&["promote", &id]).fails(1);
    assert!(
        r.stderr.contains("Can only promote from workspace, but"),
        "{}",
        r.stderr
    );
    assert_eq!(env.run(&["--json", "demote", &id]).ok().json()["ok"], true);
    assert!(ws.exists() && !canon.exists());
    assert_eq!(env.run(&["stealth", &id]).ok().stdout, "stealthed\n");
    assert!(stealth_ops(&env, &id).exists() && !ws.exists());
    assert_eq!(show(&env, &id)["tier"], "stealth");
    assert_eq!(env.run(&["unstealth", &id]).ok().stdout, "unstealthed\n");
    let text = std::fs::read_to_string(&ws).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("- op: "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["create", "promote", "demote", "stealth", "unstealth"]
    );
}

#[test]
fn cross_tier_conflict_is_shown_kept_out_of_ready_and_reset_by_a_human() {
    let env = Env::new();
    let id = env.add("in two tiers", &[]);
    env.run(&["update", &id, "--status", "in_progress"]).ok();
    let ws = env.workspace_ops(&id);
    let snapshot = std::fs::read(&ws).unwrap();
    env.run(&["update", &id, "--priority", "0"]).ok();
    // The same item now also in canonical, without the priority change
    // (as a merge of a promotion on another branch would leave it).
    let canon = canonical_ops(&env, &id);
    std::fs::write(&canon, &snapshot).unwrap();
    env.run(&["update", &id, "--status", "todo_hard"]).ok(); // lands in canonical

    let v = show(&env, &id);
    assert_eq!(v["cross_tier_conflict"], true);
    let r = env.run(&["show", &id]).ok();
    assert!(
        r.stdout.contains("*** CROSS-TIER CONFLICT ***"),
        "{}",
        r.stdout
    );
    let ready = env.run(&["--json", "ready"]).ok().json();
    assert!(!common::ids(&ready["ready"]).contains(&id));
    let r = env.run(&["promote", &id]).fails(1);
    assert!(r.stderr.contains("reconcile-reset"), "{}", r.stderr);

    let canon_before = std::fs::read(&canon).unwrap();
    assert_eq!(
        env.run(&["reconcile-reset", &id]).ok().stdout,
        "reconciled\n"
    );
    assert!(!ws.exists());
    let after = std::fs::read(&canon).unwrap();
    assert!(
        after.starts_with(&canon_before),
        "the canonical copy is only appended to"
    );
    let v = show(&env, &id);
    assert_eq!(v["cross_tier_conflict"], false);
    assert_eq!(v["tier"], "canonical");
    assert_eq!(
        v["priority"], 0,
        "the op only the workspace copy had is kept"
    );
    assert_eq!(v["status"], "todo_hard");
    let text = String::from_utf8(after).unwrap();
    assert_eq!(text.matches("- op: update").count(), 3, "{text}");
    assert!(text.contains("from_tier: workspace"), "{text}");
    assert!(text.contains("reason: \"manual-reset\""), "{text}");
    let ready = env.run(&["--json", "ready"]).ok().json();
    assert!(common::ids(&ready["ready"]).contains(&id));
    let r = env.run(&["reconcile-reset", &id]).fails(1);
    assert!(
        r.stderr.contains("not in a cross-tier conflict"),
        "{}",
        r.stderr
    );
}
