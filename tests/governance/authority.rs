//! Authority enforced when ops are read (issue 17): ops written behind
//! htrac's back — appended by hand, merged from a branch — that use a human's
//! power have no effect, stay in the file, and are reported.

use std::os::unix::fs::PermissionsExt;

use crate::common::{self, Env};
use crate::show;

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
