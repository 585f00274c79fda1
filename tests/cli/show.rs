//! `htrac show` on damaged or merged files: a torn final op is skipped with
//! a warning, an op present twice counts once.

use crate::common::Env;

#[test]
fn torn_final_op_is_skipped_with_a_warning() {
    let env = Env::new();
    let id = env.add("crashy", &[]);
    env.run(&["update", &id, "--priority", "1"]).ok();
    let path = env.workspace_ops(&id);
    // A crash mid-append leaves half an op without its final newline.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    use std::io::Write;
    f.write_all(b"- op: update  # beef\n  at: '2026-01-01T00:00:00Z'  # beef\n  by: hu")
        .unwrap();
    drop(f);
    let r = env.run(&["show", &id, "--json"]).ok();
    assert_eq!(r.json()["priority"], 1);
    assert!(r.stderr.contains("torn op"), "{}", r.stderr);
    // The next append closes the torn line and the item keeps working.
    env.run(&["update", &id, "--priority", "3"]).ok();
    let r = env.run(&["show", &id, "--json"]).ok();
    assert_eq!(r.json()["priority"], 3);
    assert!(r.stderr.contains("torn op"), "{}", r.stderr);
}

#[test]
fn an_op_present_twice_counts_once() {
    let env = Env::new();
    let id = env.add("dup ops", &[]);
    env.run(&["discuss", &id, "only once"]).ok();
    let path = env.workspace_ops(&id);
    let text = std::fs::read_to_string(&path).unwrap();
    let discuss: String = text
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("- op: discuss"))
        .collect();
    std::fs::write(&path, format!("{text}{discuss}")).unwrap();
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(v["discussion"].as_array().unwrap().len(), 1);
}

#[test]
fn an_item_with_one_unreadable_op_is_shown_from_its_good_ops_but_not_written() {
    let env = Env::new();
    let id = env.add("one bad op", &[]);
    env.run(&["update", &id, "--priority", "1"]).ok();
    // A complete op (every line with its nonce) whose clock is not a number.
    crate::common::append_raw(
        &env.workspace_ops(&id),
        "- op: update  # beef\n  at: '2026-12-06T22:00:00Z'  # beef\n  by: agent  # beef\n  actor: x  # beef\n  clock: many  # beef\n  nonce: beef  # beef\n  set:  # beef\n    priority: 4  # beef\n",
    );
    let r = env.run(&["--json", "show", &id]).ok();
    assert_eq!(r.json()["priority"], 1, "the good ops, without the bad one");
    assert!(
        r.stderr
            .contains("does not read and is left out of the view"),
        "{}",
        r.stderr
    );
    // Writes stay refused, and validate still reports the op.
    let w = env.run(&["update", &id, "--priority", "2"]);
    assert_eq!(w.code, 2, "{}", w.stderr);
    let v = env.run(&["validate"]);
    assert_ne!(v.code, 0);
    assert!(v.stdout.contains("clock"), "{}", v.stdout);
}
