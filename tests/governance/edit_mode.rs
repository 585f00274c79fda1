//! Edit mode: message edits need an open window and respect its cap.

use crate::common::Env;
use crate::show;

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

/// Every op of an edit-mode log has a nonce of its own (`validate` reports
/// a reused one): each toggle picks one the logs do not use yet, even when
/// almost every four-hex-digit nonce is taken.
#[test]
fn each_toggle_takes_a_nonce_no_op_of_the_logs_uses() {
    let env = Env::new();
    env.run(&["edit-mode", "on"]).ok();
    let logs = [
        env.root()
            .join("tracker-workspace/.edit-mode/edit-mode.ops"),
        env.root().join("tracker/.edit-mode/edit-mode.ops"),
    ];
    let first = std::fs::read_to_string(&logs[0]).unwrap();
    // 64,000 of the 65,536 nonces taken, past windows in each log.
    let mut past = String::new();
    let free = (0..=0xffffu32)
        .map(|n| format!("{n:04x}"))
        .filter(|n| !first.contains(&format!("  # {n}\n")));
    for nonce in free.take(64_000) {
        for line in [
            "- op: edit-mode-off".to_string(),
            "  at: '2026-01-05T10:00:00.000000Z'".to_string(),
            "  by: human".to_string(),
            "  actor: amy".to_string(),
            "  clock: 0".to_string(),
            // (Quoted: `9765` unquoted would be a number.)
            format!("  nonce: '{nonce}'"),
        ] {
            past.push_str(&format!("{line}  # {nonce}\n"));
        }
    }
    for log in &logs {
        let mut text = past.clone();
        text.push_str(&std::fs::read_to_string(log).unwrap());
        std::fs::write(log, text).unwrap();
    }
    for _ in 0..2 {
        env.run(&["edit-mode", "off"]).ok();
        env.run(&["edit-mode", "on"]).ok();
    }
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        // Each op's nonce: the comment its first line ends with.
        let nonces: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("- op: "))
            .map(|l| l.rsplit_once("  # ").unwrap().1)
            .collect();
        assert_eq!(nonces.len(), 64_005, "{}", log.display());
        let unique: std::collections::HashSet<&&str> = nonces.iter().collect();
        assert_eq!(
            unique.len(),
            nonces.len(),
            "a nonce used twice in {}",
            log.display()
        );
    }
    // The same toggles in both logs, in the same order.
    let tail = |log: &std::path::Path| {
        let text = std::fs::read_to_string(log).unwrap();
        text[past.len()..].to_string()
    };
    assert_eq!(tail(&logs[0]), tail(&logs[1]));
    let r = env.run(&["validate", "--strict"]);
    assert!(!r.stdout.contains("is also used by"), "{}", r.stdout);
}
