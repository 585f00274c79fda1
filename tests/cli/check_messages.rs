//! `check-messages`: unread human messages in scope, with context, as text
//! and JSON, in real repositories.

use std::io::Write;

use crate::common::Env;
use serde_json::json;

/// Appends an agent's `discuss` op by hand (this process is a human).
fn agent_reply(path: &std::path::Path, nonce: &str, clock: u32, message: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    write!(
        f,
        "- op: discuss  # {nonce}\n  at: '2026-11-25T16:00:0{clock}Z'  # {nonce}\n  by: agent  # {nonce}\n  actor: bob_agent  # {nonce}\n  clock: {clock}  # {nonce}\n  nonce: '{nonce}'  # {nonce}\n  message: \"{message}\"  # {nonce}\n"
    )
    .unwrap();
}

#[test]
fn nothing_unread() {
    let env = Env::new();
    let a = env.add("quiet", &[]);
    assert_eq!(
        env.run(&["check-messages"]).ok().stdout,
        "(no unread human messages)\n"
    );
    assert_eq!(env.run(&["--json", "check-messages"]).ok().stdout, "[]\n");
    // Answered by the agent: read.
    env.run(&["discuss", &a, "question?"]).ok();
    agent_reply(&env.workspace_ops(&a), "7777", 5, "answer");
    assert_eq!(
        env.run(&["--json", "check-messages"]).ok().json(),
        json!([])
    );
}

#[test]
fn unread_messages_with_context_sorted_by_priority_then_id() {
    let env = Env::new();
    let long = "é".repeat(501);
    let a = env.add(
        "first",
        &["--priority", "3", "--description", &long, "--pr-ref", "12"],
    );
    let b = env.add("second", &["--priority", "1"]);
    let c = env.add("third", &["--priority", "3"]);
    for id in [&a, &b, &c] {
        env.run(&["discuss", id, "hello"]).ok();
    }
    let prior_long = "x".repeat(201);
    agent_reply(&env.workspace_ops(&a), "7777", 5, &prior_long);
    env.run(&["discuss", &a, "again"]).ok();
    env.run(&["discuss", &a, "and again", "--ack-thread"]).ok();

    let v = env.run(&["--json", "check-messages"]).ok().json();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let (first3, second3) = if a < c { (&a, &c) } else { (&c, &a) };
    assert_eq!(ids, [b.as_str(), first3.as_str(), second3.as_str()]);
    let ea = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == a.as_str())
        .unwrap();
    let keys: Vec<&str> = ea.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "status",
            "priority",
            "tier",
            "description",
            "pr_ref",
            "unread_messages",
            "prior_discussion"
        ]
    );
    assert_eq!(ea["tier"], "workspace");
    assert_eq!(ea["pr_ref"], "12");
    assert_eq!(ea["description"], long.as_str(), "JSON is not truncated");
    let unread: Vec<&str> = ea["unread_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(unread, ["again", "and again"]);
    assert_eq!(ea["unread_messages"][0]["is_summary"], false);
    let prior = ea["prior_discussion"].as_array().unwrap();
    assert_eq!(prior.len(), 2);
    assert_eq!(prior[1]["by"], "agent");
    assert_eq!(prior[1]["message"], prior_long.as_str());
    assert!(prior[1].get("is_summary").is_none());

    let text = env.run(&["check-messages"]).ok().stdout;
    let block_a = text
        .split("\n\n")
        .find(|b| b.starts_with(&a))
        .unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = block_a.lines().collect();
    assert_eq!(lines[0], format!("{a}  P3  todo_hard  [workspace]  first"));
    assert_eq!(
        lines[1],
        format!("  description: {}...", "é".repeat(500)),
        "500 characters, not bytes"
    );
    assert_eq!(lines[2], "  pr_ref: 12");
    assert_eq!(lines[3], "  prior discussion:");
    assert!(
        lines[4].starts_with("    [") && lines[4].ends_with("(human): hello"),
        "{}",
        lines[4]
    );
    assert_eq!(
        lines[5],
        format!(
            "    [2026-11-25T16:00:05Z] bob_agent (agent): {}...",
            "x".repeat(200)
        )
    );
    assert!(
        lines[6].ends_with("(human): again") && lines[6].starts_with("  ["),
        "{}",
        lines[6]
    );
    assert!(lines[7].ends_with("(human): and again"));
    assert_eq!(lines.len(), 8);
    // Items are separated by one blank line; B (P1) comes first.
    assert!(
        text.starts_with(&format!("{b}  P1  todo_hard  [workspace]  second\n")),
        "{text}"
    );
    assert_eq!(text.matches("\n\n").count(), 2);
}

#[test]
fn autolimit_keeps_the_last_n_and_shows_earlier_ones_as_context() {
    let env = Env::new();
    let a = env.add("one", &[]);
    for m in ["m1", "m2", "m3", "m4"] {
        env.run(&["discuss", &a, m, "--ack-thread"]).ok();
    }
    let v = env
        .run(&["--json", "check-messages", "--autolimit", "1"])
        .ok()
        .json();
    let msgs = |k: &str| -> Vec<String> {
        v[0][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(msgs("unread_messages"), ["m4"]);
    // The three entries before the shown ones, unread or not (as the reference).
    assert_eq!(msgs("prior_discussion"), ["m1", "m2", "m3"]);
    let v = env
        .run(&["--json", "check-messages", "--autolimit", "0"])
        .ok()
        .json();
    assert_eq!(v[0]["unread_messages"].as_array().unwrap().len(), 4);
    assert_eq!(v[0]["prior_discussion"], json!([]));
    env.run(&["check-messages", "--autolimit", "x"]).fails(1);
}

#[test]
fn workspace_scope_leaves_canonical_items_out() {
    let env = Env::new();
    let canon = env.add("shared", &["--tier", "canonical"]);
    let ws = env.add("forked", &[]);
    let stealth = env.add("private", &["--tier", "stealth"]);
    for id in [&canon, &ws, &stealth] {
        env.run(&["discuss", id, "ping"]).ok();
    }
    let ids = |env: &Env| -> Vec<String> {
        let v = env.run(&["--json", "check-messages"]).ok().json();
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut all = vec![canon.clone(), ws.clone(), stealth.clone()];
    all.sort();
    assert_eq!(ids(&env), all);
    env.run(&["fork-setup"]).ok();
    let mut fork = vec![ws.clone(), stealth.clone()];
    fork.sort();
    assert_eq!(ids(&env), fork);
    let text = env.run(&["check-messages"]).ok().stdout;
    assert!(text.contains("  [stealth]  private\n"), "{text}");
    assert!(!text.contains(&canon));
}
