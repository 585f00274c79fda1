//! Human authority, run as a human (root, or any non-`*_agent` user):
//! locks, freeze and drift repair, delete, tier moves, cross-tier conflicts
//! and edit mode — each checked on the files it leaves behind.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::Env;

fn show(env: &Env, id: &str) -> serde_json::Value {
    env.run(&["--json", "show", id]).ok().json()
}

fn canonical_ops(env: &Env, id: &str) -> std::path::PathBuf {
    env.ops_path("tracker/.ops", id)
}

fn stealth_ops(env: &Env, id: &str) -> std::path::PathBuf {
    env.ops_path("tracker-workspace/stealth", id)
}

fn frozen(env: &Env, id: &str) -> std::path::PathBuf {
    env.root()
        .join("tracker-workspace/.ops")
        .join(format!(".{id}.frozen"))
}

#[test]
fn lock_names_are_case_insensitive_and_checked() {
    let env = Env::new();
    let id = env.add("locked item", &[]);
    let r = env.run(&[
        "--json",
        "lock",
        &id,
        "Status",
        "TITLE",
        "before",
        "fields.owner",
    ]);
    assert_eq!(r.ok().json(), serde_json::json!({"ok": true}));
    assert_eq!(
        show(&env, &id)["locked_fields"],
        serde_json::json!(["fields.owner", "isbefore", "status", "title"])
    );
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    // Block style, as the reference writes lock lists.
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("  lock:  # "))
        .skip(1)
        .filter_map(|l| l.strip_prefix("  - "))
        .map(|l| l.split("  # ").next().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["status", "title", "isbefore", "fields.owner"],
        "{text}"
    );

    let before = env.tree();
    let r = env
        .run(&["lock", &id, "status", "nonexistent_field"])
        .fails(1);
    assert!(
        r.stderr.contains("Unknown field 'nonexistent_field'"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before, "a refused lock writes nothing");
    env.run(&["lock", &id]).fails(1);

    assert_eq!(
        env.run(&["unlock", &id, "STATUS"]).ok().stdout,
        "unlocked\n"
    );
    assert_eq!(
        show(&env, &id)["locked_fields"],
        serde_json::json!(["fields.owner", "isbefore", "title"])
    );
}

#[test]
fn freeze_keeps_a_sentinel_that_follows_the_human_and_repairs_drift() {
    let env = Env::new();
    let id = env.add("frozen item", &[]);
    assert_eq!(env.run(&["freeze", &id]).ok().stdout, "frozen\n");
    let ops = env.workspace_ops(&id);
    let sentinel = frozen(&env, &id);
    assert_eq!(
        std::fs::read(&ops).unwrap(),
        std::fs::read(&sentinel).unwrap()
    );
    let mode = std::fs::metadata(&sentinel).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_eq!(show(&env, &id)["frozen"], true);
    let r = env.run(&["freeze", &id]).fails(1);
    assert!(r.stderr.contains("already frozen"), "{}", r.stderr);

    // A human's write is approved: the sentinel follows it.
    env.run(&["update", &id, "--priority", "0"]).ok();
    assert_eq!(
        std::fs::read(&ops).unwrap(),
        std::fs::read(&sentinel).unwrap()
    );

    // Drift (an edit behind htrac's back) is undone by repair-drift.
    let approved = std::fs::read(&sentinel).unwrap();
    let mut drifted = approved.clone();
    drifted.extend_from_slice(b"- op: update  # beef\n  at: '2026-01-01T00:00:00Z'  # beef\n  by: agent  # beef\n  actor: x_agent  # beef\n  clock: 99  # beef\n  nonce: beef  # beef\n  set:  # beef\n    priority: 4  # beef\n");
    std::fs::write(&ops, &drifted).unwrap();
    // The agent's op written behind htrac's back has no effect on the
    // frozen item: it is shown as rejected, not applied.
    let shown = show(&env, &id);
    assert_eq!(shown["priority"], 0);
    assert_eq!(shown["rejected_ops"][0]["nonce"], "beef");
    let reason = shown["rejected_ops"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("frozen item"), "{reason}");
    let r = env.run(&["show", &id]).ok();
    assert!(r.stdout.contains("*** DRIFTED"), "{}", r.stdout);
    assert!(r.stdout.contains("rejected ops: 1"), "{}", r.stdout);
    let r = env.run(&["repair-drift", &id]).ok();
    assert_eq!(r.stdout, "drift repaired\n");
    assert_eq!(std::fs::read(&ops).unwrap(), approved);
    assert_eq!(show(&env, &id)["priority"], 0);
    assert!(!env.run(&["show", &id]).ok().stdout.contains("DRIFTED"));
    let leftovers: Vec<_> = std::fs::read_dir(ops.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");

    assert_eq!(env.run(&["unfreeze", &id]).ok().stdout, "unfrozen\n");
    assert!(!sentinel.exists());
    assert_eq!(show(&env, &id)["frozen"], false);
    env.run(&["unfreeze", &id]).fails(1);
    env.run(&["repair-drift", &id]).fails(1);
}

#[test]
fn delete_clears_isbefore_both_ways() {
    let env = Env::new();
    let last = env.add("last", &[]);
    let doomed = env.add("doomed", &["--isbefore", &last]);
    let a = env.add("waits for doomed a", &[]);
    let b = env.add("waits for doomed b", &["--tier", "canonical"]);
    env.run(&["update", &a, "--add-isbefore", &doomed]).ok();
    env.run(&["update", &b, "--add-isbefore", &doomed]).ok();
    assert!(show(&env, &a)["isbefore"] == serde_json::json!([doomed]));

    let r = env.run(&["delete", &doomed]).ok();
    assert_eq!(
        r.stdout,
        "deleted\nCleared 2 inbound isbefore references.\n"
    );
    let d = show(&env, &doomed);
    assert_eq!(d["status"], "deleted");
    assert_eq!(d["isbefore"], serde_json::json!([]));
    assert_eq!(show(&env, &a)["isbefore"], serde_json::json!([]));
    assert_eq!(show(&env, &b)["isbefore"], serde_json::json!([]));
    let ready = env.run(&["--json", "ready"]).ok().json();
    let ids = common::ids(&ready["ready"]);
    assert!(!ids.contains(&doomed) && ids.contains(&last), "{ids:?}");

    let other = env.add("deleted alone", &[]);
    let r = env.run(&["--json", "delete", &other]).ok();
    assert_eq!(
        r.stdout,
        "{\"ok\": true, \"inbound_isbefore_cleared\": 0}\n"
    );
}

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
fn no_canonical_or_workspace_item_may_point_into_stealth() {
    let env = Env::new();
    let target = env.add("secret", &[]);
    let holder = env.add("public", &["--isbefore", &target]);
    let before = env.tree();
    let r = env.run(&["stealth", &target]).fails(1);
    assert!(
        r.stderr.contains(&holder) && r.stderr.contains("isbefore"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before, "a refused move changes nothing");

    env.run(&["update", &holder, "--remove-isbefore", &target])
        .ok();
    env.run(&["stealth", &target]).ok();
    let r = env
        .run(&["update", &holder, "--add-isbefore", &target])
        .fails(1);
    assert!(r.stderr.contains("stealth"), "{}", r.stderr);

    // A stealth item pointing at another stealth item cannot leave alone.
    let other = env.add("also secret", &["--tier", "stealth", "--parent", &target]);
    let r = env.run(&["unstealth", &other]).fails(1);
    assert!(
        r.stderr.contains("parent") && r.stderr.contains(&target),
        "{}",
        r.stderr
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

fn first_nonce(env: &Env, id: &str) -> String {
    show(env, id)["discussion"][0]["nonce"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn message_edits_need_an_open_window_and_respect_its_cap() {
    let env = Env::new();
    let id = env.add("talk", &[]);
    env.run(&["discuss", &id, "first"]).ok();
    env.run(&["discuss", &id, "second", "--ack-thread"]).ok();
    let n = first_nonce(&env, &id);
    let before = env.tree();
    let r = env
        .run(&["delete-msg", &id, &n, "--reason", "typo"])
        .fails(1);
    assert!(r.stderr.contains("Edit-mode is not active"), "{}", r.stderr);
    assert_eq!(env.tree(), before);
    assert_eq!(
        env.run(&["edit-mode", "status"]).ok().stdout,
        "edit-mode OFF\n"
    );

    let r = env.run(&[
        "--json",
        "edit-mode",
        "on",
        "--ttl",
        "10m",
        "--cap-max",
        "2",
    ]);
    assert_eq!(
        r.ok().stdout,
        "{\"ok\": true, \"ttl_seconds\": 600, \"cap_max\": 2}\n"
    );
    env.run(&["edit-mode", "on", "--ttl", "2h"]).fails(1);
    env.run(&["edit-mode", "on", "--cap-max", "501"]).fails(1);
    // The window log is never committed.
    let log_dir = env.root().join("tracker-workspace/.edit-mode");
    assert_eq!(
        std::fs::read_to_string(log_dir.join(".gitignore")).unwrap(),
        "*\n"
    );

    env.run(&["delete-msg", &id, &n, "--reason", "typo"]).ok();
    let v = show(&env, &id);
    assert_eq!(v["discussion"].as_array().unwrap().len(), 1);
    assert_eq!(v["hidden_deleted"], 1);
    env.run(&["delete-msg", &id, &n, "--reason", "again"])
        .fails(1);
    let r = env
        .run(&["edit-msg-text", &id, &n, "--new-text", "x", "--reason", "r"])
        .fails(1);
    assert!(r.stderr.contains("undelete-msg first"), "{}", r.stderr);
    env.run(&["undelete-msg", &id, &n, "--reason", "restore"])
        .ok();
    env.run(&[
        "edit-msg-text",
        &id,
        &n,
        "--new-text",
        "first, reworded",
        "--reason",
        "clarity",
    ])
    .ok();
    let v = env
        .run(&["--json", "show", &id, "--include-history"])
        .ok()
        .json();
    assert_eq!(v["discussion"][0]["message"], "first, reworded");
    assert_eq!(
        v["discussion"][0]["edit_history"],
        serde_json::json!(["first"])
    );
    let st = env.run(&["--json", "edit-mode", "status"]).ok().json();
    assert_eq!(st["on"], true);
    assert_eq!(st["ops_used"], 2);
    assert_eq!(st["cap_max"], 2);
    let n2 = show(&env, &id)["discussion"][1]["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .run(&["delete-msg", &id, &n2, "--reason", "over cap"])
        .fails(1);
    assert!(r.stderr.contains("cap is used up"), "{}", r.stderr);
    env.run(&["delete-msg", &id, "zzzz", "--reason", "bad nonce"])
        .fails(1);
    env.run(&["delete-msg", &id, "abcd", "--reason", &"x".repeat(101)])
        .fails(1);

    assert_eq!(
        env.run(&["edit-mode", "off"]).ok().stdout,
        "edit-mode OFF\n"
    );
    assert_eq!(
        env.run(&["edit-mode", "status"]).ok().stdout,
        "edit-mode OFF\n"
    );
    // Closing the window keeps what was done inside it.
    assert_eq!(
        show(&env, &id)["discussion"][0]["message"],
        "first, reworded"
    );
}

// ---------------------------------------------------------------------------
// Authority enforced when ops are read (issue 17): ops written behind
// htrac's back — appended by hand, merged from a branch — that use a human's
// power have no effect, stay in the file, and are reported.
// ---------------------------------------------------------------------------

const AT: &str = "2026-11-24T19:41:13Z";

/// An item with `status` locked by the human, committed.
fn locked(env: &Env) -> (String, std::path::PathBuf) {
    let id = env.add("guarded", &[]);
    env.run(&["lock", &id, "status"]).ok();
    common::git(env.path(), &["add", "-A"]);
    common::git(env.path(), &["commit", "-qm", "lock"]);
    (id.clone(), env.workspace_ops(&id))
}

fn agent_op(kind: &str, by: &str, actor: &str, clock: i64, nonce: &str, body: &[&str]) -> String {
    common::op_text(kind, AT, by, actor, clock, nonce, body)
}

#[test]
fn a_hand_appended_agent_op_does_not_beat_a_lock_even_after_a_no_verify_commit() {
    let env = Env::new();
    let (id, path) = locked(&env);
    common::append_raw(
        &path,
        &agent_op(
            "update",
            "agent",
            "amy_agent",
            50,
            "a001",
            &["set:", "  status: done"],
        ),
    );
    let shown = show(&env, &id);
    assert_eq!(
        shown["status"], "todo_hard",
        "the locked field kept its value"
    );
    assert_eq!(
        shown["rejected_ops"].as_array().unwrap().len(),
        1,
        "{shown}"
    );
    assert_eq!(shown["rejected_ops"][0]["nonce"], "a001");
    assert_eq!(shown["rejected_ops"][0]["actor"], "amy_agent");
    assert!(shown["rejected_ops"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("locked field 'status'"));
    let text = env.run(&["show", &id]).ok().stdout;
    assert!(text.contains("rejected ops: 1"), "{text}");
    // The read cache holds the enforced state: a warm read says the same.
    assert_eq!(show(&env, &id), shown);
    // The op stays in the file (append-only).
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("nonce: a001"));
    // Committed past the pre-commit hook, it is still reported.
    common::git(env.path(), &["commit", "-qam", "sneaked in", "--no-verify"]);
    let r = env.run(&["validate", "--check-locks", "--strict"]).fails(1);
    assert!(
        r.stdout
            .contains("(nonce a001) has no effect: changes locked field 'status'"),
        "{}",
        r.stdout
    );
    // `ready`/`list` agree with `show`.
    let list = env.run(&["--json", "list"]).ok().json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["status"], "todo_hard");
}

#[test]
fn a_human_claim_by_an_agent_actor_counts_as_the_agent() {
    let env = Env::new();
    let (id, path) = locked(&env);
    // Attack: unlock as "human" under the agent's own name, then set the
    // status; and a human-only status.
    common::append_raw(
        &path,
        &(agent_op(
            "unlock",
            "human",
            "amy_agent",
            50,
            "b001",
            &["unlock: [status]"],
        ) + &agent_op(
            "update",
            "human",
            "amy_agent",
            51,
            "b002",
            &["set:", "  status: done"],
        ) + &agent_op(
            "discuss",
            "human",
            "amy_agent",
            52,
            "b003",
            &["message: \"stop now\""],
        )),
    );
    let shown = show(&env, &id);
    assert_eq!(
        shown["locked_fields"],
        serde_json::json!(["status"]),
        "{shown}"
    );
    assert_eq!(shown["status"], "todo_hard");
    let nonces: Vec<&str> = shown["rejected_ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["nonce"].as_str().unwrap())
        .collect();
    assert_eq!(nonces, ["b001", "b002"]);
    // The message stands (the discussion is open), as the agent's: it
    // cannot pose as the human's word.
    let last = shown["discussion"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["by"].as_str(), last["message"].as_str()),
        (Some("agent"), Some("stop now"))
    );
}

#[test]
fn human_only_statuses_and_powers_are_ignored_in_agent_ops() {
    let env = Env::new();
    let id = env.add("plain", &[]);
    let path = env.workspace_ops(&id);
    common::append_raw(
        &path,
        &(agent_op(
            "update",
            "agent",
            "amy_agent",
            50,
            "c001",
            &["set:", "  status: deleted"],
        ) + &agent_op("lock", "agent", "amy_agent", 51, "c002", &["lock: [title]"])
            + &agent_op("discuss_clear", "agent", "amy_agent", 52, "c003", &[])
            + &agent_op(
                "update",
                "agent",
                "amy_agent",
                53,
                "c004",
                &["set:", "  title: \"renamed\""],
            )),
    );
    let shown = show(&env, &id);
    assert_eq!(shown["status"], "todo_hard");
    assert_eq!(shown["locked_fields"], serde_json::json!([]));
    // An agent may rename an unlocked item: that op has its effect.
    assert_eq!(shown["title"], "renamed");
    let reasons: Vec<String> = shown["rejected_ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["nonce"].as_str().unwrap(),
                r["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with("c001 sets status 'deleted'"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("c002 'lock' needs human authority"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("c003 'discuss_clear' needs human authority"),
        "{reasons:?}"
    );
}

#[test]
fn on_a_clock_and_time_tie_the_human_wins() {
    let env = Env::new();
    let id = env.add("tied", &[]);
    let path = env.workspace_ops(&id);
    // Same clock, same second: the reference applies the agent's last.
    common::append_raw(
        &path,
        &(agent_op(
            "update",
            "human",
            "amy",
            7,
            "ffff",
            &["set:", "  title: \"human's\""],
        ) + &agent_op(
            "update",
            "agent",
            "amy_agent",
            7,
            "0000",
            &["set:", "  title: \"agent's\""],
        )),
    );
    assert_eq!(show(&env, &id)["title"], "human's");
}

#[test]
fn the_read_cache_follows_the_agent_patterns() {
    let env = Env::new();
    let id = env.add("patterns", &[]);
    let path = env.workspace_ops(&id);
    common::append_raw(
        &path,
        &agent_op(
            "update",
            "human",
            "bot7",
            50,
            "d001",
            &["set:", "  status: deleted"],
        ),
    );
    // bot7 is no agent by the default patterns: a human op, applied.
    assert_eq!(show(&env, &id)["status"], "deleted");
    assert_eq!(show(&env, &id)["status"], "deleted", "warm");
    // Declared an agent: the same files compile differently, warm or cold.
    let cfg = env.root().join("tracker/config.yaml");
    let mut perms = std::fs::metadata(&cfg).unwrap().permissions();
    perms.set_mode(0o644);
    std::fs::set_permissions(&cfg, perms).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("    - \"*_agent\"\n"), "{text}");
    std::fs::write(
        &cfg,
        text.replacen(
            "    - \"*_agent\"\n",
            "    - \"*_agent\"\n    - \"bot*\"\n",
            1,
        ),
    )
    .unwrap();
    let shown = show(&env, &id);
    assert_eq!(shown["status"], "todo_hard", "{shown}");
    assert_eq!(shown["rejected_ops"][0]["nonce"], "d001");
}

/// The stealth-link rule is the library's (`Tracker::update`), so every
/// front end — the CLI here, the TUI through the same call — refuses a link
/// from a synced item into stealth, and writes nothing.
#[test]
fn no_synced_item_may_point_into_stealth_whatever_the_front_end() {
    let env = Env::new();
    let hidden = env.add("hidden", &[]);
    env.run(&["stealth", &hidden]).ok();
    let open = env.add("open", &[]);
    let before = env.tree();
    for flag in [
        "--parent",
        "--add-isbefore",
        "--add-duplicate-of",
        "--add-not-duplicate-of",
    ] {
        let r = env.run(&["update", &open, flag, &hidden]).fails(1);
        assert!(
            r.stderr.contains("points at a stealth item"),
            "{flag}: {}",
            r.stderr
        );
    }
    assert_eq!(env.tree(), before);
    let t = htrac::Tracker::open(&env.root()).unwrap();
    let file = t.resolve(&open).unwrap();
    let mut ch = htrac::tracker::update::Changes::default();
    ch.set.insert("parent".into(), serde_json::json!(hidden));
    let e = t.update(&file, &ch).unwrap_err();
    assert_eq!(e.kind, htrac::ErrorKind::Invalid);
    assert_eq!(env.tree(), before);
    // The other way round is fine: a stealth item may point at a synced one.
    env.run(&["update", &hidden, "--parent", &open]).ok();
}
