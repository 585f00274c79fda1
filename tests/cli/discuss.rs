//! `htrac discuss`: the unread-human-message gate and `--ack-thread`, as
//! text and JSON, summaries and `--clear`.

use crate::common::Env;

#[test]
fn unread_human_messages_gate_discuss_until_acknowledged() {
    let env = Env::new();
    let id = env.add("talk", &[]);
    env.run(&["discuss", &id, "What is the plan?"]).ok();
    // Running as a human here, our own message is "unread": the gate applies.
    let r = env.run(&["discuss", &id, "answer"]).fails(1);
    assert!(
        r.stdout
            .contains("comes after an unread message from the human"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("What is the plan?"));
    // The refusal is an error as every other: one `error:` line and a hint.
    assert!(
        r.stderr.starts_with("error: not written: ")
            && r.stderr.contains("1 unread message from the human")
            && r.stderr
                .contains("\nhint: read them, then re-run: htrac discuss"),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.run(&["show", &id, "--json"]).ok().json()["discussion"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Acknowledged: written, and the notice is not repeated (an agent could
    // take "re-run with --ack-thread" for a refusal); one line says so.
    let r = env.run(&["discuss", &id, "answer", "--ack-thread"]).ok();
    assert_eq!(r.stdout, "discussed\n");
    assert_eq!(r.stderr, "(acknowledged 1 unread message from the human)\n");
    let ready = env.run(&["ready", "--json"]).ok().json();
    assert_eq!(ready["items_with_unread_messages"][0]["id"], id.as_str());
    assert_eq!(ready["items_with_unread_messages"][0]["unread_count"], 2);
    env.run(&["discuss", &id, "--summarize", "all settled"])
        .ok();
    let d = env.run(&["discuss", &id, "--json"]).ok().json();
    assert_eq!(d.as_array().unwrap().len(), 1);
    assert_eq!(d[0]["is_summary"], true);
    env.run(&["discuss", &id, "--clear"]).ok();
    assert!(env
        .run(&["discuss", &id])
        .ok()
        .stdout
        .contains("Discussion: (no entries)"));
}

#[test]
fn with_json_the_unread_gate_answers_in_json_and_notices_go_to_stderr() {
    let env = Env::new();
    let id = env.add("gated", &[]);
    env.run(&["discuss", &id, "Human question?"]).ok();
    let r = env.run(&["--json", "discuss", &id, "reply"]).fails(1);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["reason"], "unread_human_messages");
    assert_eq!(v["unread"][0]["message"], "Human question?");
    assert!(r.stderr.contains("--ack-thread"), "{}", r.stderr);
    assert!(r.stderr.contains("\nerror: not written: "), "{}", r.stderr);
    let r = env
        .run(&["--json", "discuss", &id, "reply", "--ack-thread"])
        .ok();
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    assert!(!r.stderr.contains("re-run"), "{}", r.stderr);
    let r = env
        .run(&["--json", "update", &id, "--note", "more", "--priority", "1"])
        .ok();
    assert_eq!(r.json()["ok"], true);
    // update --note has no gate: the messages are shown, no re-run advice.
    env.run(&["discuss", &id, "Another question?", "--ack-thread"])
        .ok();
    let r = env.run(&["update", &id, "--note", "noted"]).ok();
    assert!(r.stdout.contains("Another question?"), "{}", r.stdout);
    assert!(r.stdout.contains("Your note was written"), "{}", r.stdout);
    assert!(!r.stdout.contains("re-run"), "{}", r.stdout);
}
