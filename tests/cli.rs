//! The `htrac` command line as an agent meets it, in real git repositories.

mod common;

use common::Env;
use serde_json::Value;

#[test]
fn init_lays_out_tiers_and_governance_files() {
    let env = Env::new();
    let root = env.root();
    for d in [
        "tracker/.ops",
        "tracker-workspace/.ops",
        "tracker-workspace/stealth",
    ] {
        assert!(root.join(d).is_dir(), "{d}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/stealth/.gitignore")).unwrap(),
        "*.ops\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.gitignore")).unwrap(),
        "config.yaml\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root.join("tracker/config.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
    // Idempotent.
    env.run(&["init"]).ok();
}

#[test]
fn add_show_update_round_trip_with_json() {
    let env = Env::new();
    let id = env.add(
        "Write the parser",
        &[
            "--priority",
            "1",
            "--tag",
            "core",
            "--description",
            "line one\nline two",
        ],
    );
    assert!(id.starts_with("WI-"), "{id}");
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(v["title"], "Write the parser");
    assert_eq!(v["priority"], 1);
    assert_eq!(v["tags"], serde_json::json!(["core"]));
    assert_eq!(v["description"], "line one\nline two");
    assert_eq!(v["status"], "todo_hard");
    assert_eq!(v["tier"], "workspace");

    let r = env
        .run(&[
            "--json",
            "update",
            &id,
            "--status",
            "in_progress",
            "--priority",
            "0",
            "--add-tag",
            "urgent",
            "--add-field",
            "k=v",
        ])
        .ok();
    let changes = r.json()["changes"].clone();
    let fields: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "priority", "tags", "fields.k"]);
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(v["status"], "in_progress");
    assert_eq!(v["priority"], 0);
    assert_eq!(v["fields"]["k"], "v");
    let plain = env.run(&["show", &id]).ok().stdout;
    assert!(
        plain.starts_with(&format!(
            "{id}  Write the parser\n  status: in_progress  priority: P0  tags: [core, urgent]\n"
        )),
        "{plain}"
    );
    assert!(plain.contains("  fields.k: v\n"));
}

#[test]
fn global_flags_are_accepted_anywhere() {
    let env = Env::new();
    let id = env.add("anywhere", &[]);
    let a = env.run(&["--json", "show", &id]).ok().stdout;
    let b = env.run(&["show", &id, "--json"]).ok().stdout;
    let c = env
        .run(&["show", "--json", &id, "--no-auto-sync"])
        .ok()
        .stdout;
    assert_eq!(a, b);
    assert_eq!(a, c);
    let root = env.root();
    let elsewhere = tempfile::tempdir().unwrap();
    let r = env
        .command(&["list", "--tracker-root", root.to_str().unwrap(), "--json"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(r.status.success());
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v[0]["id"], id.as_str());
}

#[test]
fn prefixes_and_aliases_resolve_once_at_the_top() {
    let env = Env::new();
    let a = env.add("alpha", &["--priority", "0"]);
    let b = env.add("beta", &["--priority", "1"]);
    // Unique prefixes with and without the kind prefix.
    let short = &a[..8];
    assert_eq!(
        env.run(&["show", short, "--json"]).ok().json()["id"],
        a.as_str()
    );
    let bare = &a[3..8];
    assert_eq!(
        env.run(&["show", bare, "--json"]).ok().json()["id"],
        a.as_str()
    );
    // :N is row N of the last list, for every command (the reference's `show :1` fails).
    env.run(&["list"]).ok();
    assert_eq!(
        env.run(&["show", ":2", "--json"]).ok().json()["id"],
        b.as_str()
    );
    env.run(&["update", ":1", "--status", "in_progress"]).ok();
    assert_eq!(
        env.run(&["show", &a, "--json"]).ok().json()["status"],
        "in_progress"
    );
    // An alias inside a flag value resolves too.
    env.run(&["update", &b, "--parent", ":1"]).ok();
    assert_eq!(
        env.run(&["show", &b, "--json"]).ok().json()["parent"],
        a.as_str()
    );
    let r = env.run(&["show", ":9"]).fails(1);
    assert!(
        r.stderr
            .contains("Positional alias :9 out of range (last list had 2 items)"),
        "{}",
        r.stderr
    );
    let r = env.run(&["show", ":x"]).fails(1);
    assert!(
        r.stderr.contains("Invalid positional alias: :x"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_no_change() {
    let env = Env::new();
    let id = env.add("target", &[]);
    let before = env.tree();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["add", "--kind", "work_item", "--title", "x", "--bogus"],
            "unknown flag '--bogus' for 'add'",
        ),
        (vec!["show", "WI-zzzzz"], "No items match prefix: WI-zzzzz"),
        (vec!["update", &id, "--priority", "7"], "invalid priority 7"),
        (
            vec!["update", &id, "--priority", "high"],
            "--priority takes a whole number",
        ),
        (
            vec!["update", &id, "--status", "finished"],
            "Unknown status 'finished'",
        ),
        (
            vec!["add", "--kind", "bug", "--title", "x"],
            "Unknown kind 'bug'",
        ),
        (
            vec![
                "add",
                "--kind",
                "invariant",
                "--title",
                "x",
                "--field",
                "statement=s",
            ],
            "requires field(s): root_cause",
        ),
        (vec!["add", "--kind", "work_item"], "add needs --title"),
        (
            vec![
                "add",
                "--kind",
                "work_item",
                "--title",
                "x",
                "--field",
                "status=done",
            ],
            "core attribute",
        ),
        (
            vec!["add", "--kind", "work_item", "--title", "target"],
            "already exists",
        ),
        (
            vec!["update", &id, "--add-tag", "Bad-Tag"],
            "does not match",
        ),
        (
            vec!["update", &id, "--parent", "nope"],
            "No items match prefix: nope",
        ),
        (vec!["frobnicate"], "unknown command 'frobnicate'"),
        (vec!["show"], "'show' needs ITEM"),
    ];
    for (args, expect) in cases {
        let r = env.run(&args);
        assert_eq!(
            r.code, 1,
            "{args:?}: stdout {} stderr {}",
            r.stdout, r.stderr
        );
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(expect),
            "{args:?}: expected {expect:?} in {}",
            r.stderr
        );
        assert_eq!(env.tree(), before, "{args:?} changed files");
    }
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let env = Env::new();
    let mut ids = Vec::new();
    // Content-hash IDs: add until two share a first letter.
    for i in 0..40 {
        ids.push(env.add(&format!("item {i}"), &[]));
    }
    let letter = ids
        .iter()
        .map(|id| &id[3..4])
        .find(|l| ids.iter().filter(|id| &id[3..4] == *l).count() > 1)
        .unwrap()
        .to_string();
    let r = env.run(&["show", &letter]).fails(1);
    assert!(
        r.stderr.contains(&format!("Ambiguous prefix '{letter}'")),
        "{}",
        r.stderr
    );
    let matching: Vec<&String> = ids
        .iter()
        .filter(|id| id[3..].starts_with(&letter))
        .collect();
    for id in matching {
        assert!(
            r.stderr.contains(id.as_str()),
            "{id} not listed in {}",
            r.stderr
        );
    }
}

#[test]
fn ready_respects_isbefore_duplicates_and_priority() {
    let env = Env::new();
    let first = env.add("first", &["--priority", "2"]);
    let second = env.add("second", &["--priority", "0", "--status", "todo_soft"]);
    let done = env.add("done already", &["--priority", "0", "--status", "done"]);
    // `first` must be done before `second`: second is blocked.
    env.run(&["update", &first, "--add-isbefore", &second]).ok();
    // A resolved item blocks nothing.
    let third = env.add("third", &["--priority", "3"]);
    env.run(&["update", &done, "--add-isbefore", &third]).ok();
    let dup = env.add("dup", &["--priority", "0"]);
    env.run(&["update", &dup, "--add-duplicate-of", &first])
        .ok();
    let ready = env.run(&["ready", "--json"]).ok().json();
    assert_eq!(common::ids(&ready["ready"]), [first.clone(), third.clone()]);
    // Finishing `first` unblocks `second`, which then sorts first (P0).
    env.run(&["update", &first, "--status", "done"]).ok();
    let ready = env.run(&["ready", "--json"]).ok().json();
    assert_eq!(
        common::ids(&ready["ready"]),
        [second.clone(), third.clone()]
    );
    // --add-blocked-by writes the other item's isbefore.
    env.run(&["update", &third, "--add-blocked-by", &second])
        .ok();
    assert_eq!(
        env.run(&["show", &second, "--json"]).ok().json()["isbefore"],
        serde_json::json!([third])
    );
    let plain = env.run(&["ready"]).ok().stdout;
    assert_eq!(plain.lines().count(), 1, "{plain}");
    assert!(
        plain.starts_with(&format!(
            " 1  {second}  todo_soft    P0  [workspace]  second"
        )),
        "{plain}"
    );
}

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
    assert_eq!(
        env.run(&["show", &id, "--json"]).ok().json()["discussion"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.run(&["discuss", &id, "answer", "--ack-thread"]).ok();
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
fn a_malformed_op_confines_damage_to_its_item() {
    let env = Env::new();
    let good = env.add("good", &[]);
    let bad = env.add("bad", &[]);
    let path = env.workspace_ops(&bad);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 1;
    text.push_str("- op: update  # dead\n  clock: [not, a, number]  # dead\n");
    std::fs::write(&path, text).unwrap();
    let r = env.run(&["list", "--json"]).ok();
    let listed = r.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [good.as_str()]);
    assert!(
        r.stderr.contains(&bad) && r.stderr.contains(&format!(":{line}:")),
        "{}",
        r.stderr
    );
    let plain = env.run(&["list"]).ok().stdout;
    assert!(
        plain
            .lines()
            .any(|l| l.starts_with(&format!(" !  {bad}  UNREADABLE"))),
        "{plain}"
    );
    let r = env.run(&["show", &bad]).fails(2);
    assert!(
        r.stderr.contains(&format!(
            ".{bad}.ops:{line}: field 'clock' must be an integer"
        )),
        "{}",
        r.stderr
    );
    // Writes to the broken item are refused; nothing is appended.
    let before = std::fs::read(&path).unwrap();
    env.run(&["update", &bad, "--priority", "1"]).fails(2);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    env.run(&["show", &good]).ok();
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
fn concurrent_writers_never_tear_or_lose_an_op() {
    let env = Env::new();
    let id = env.add("hot item", &[]);
    let writers = 8;
    let per_writer = 10;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let dir = env.path().to_path_buf();
            let cache = env.cache.path().to_path_buf();
            let id = id.clone();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    let msg = format!("writer {w} message {i} {}", "x".repeat(2000));
                    let st = std::process::Command::new(common::bin())
                        .args(["discuss", &id, &msg, "--ack-thread"])
                        .current_dir(&dir)
                        .env("HTRAC_CACHE_DIR", &cache)
                        .env("HTRAC_STATE_DIR", cache.join("state"))
                        .output()
                        .unwrap();
                    assert!(
                        st.status.success(),
                        "{}",
                        String::from_utf8_lossy(&st.stderr)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let r = env.run(&["show", &id, "--json"]).ok();
    assert!(!r.stderr.contains("torn"), "{}", r.stderr);
    assert_eq!(
        r.json()["discussion"].as_array().unwrap().len(),
        writers * per_writer
    );
    // Every line still carries its op's nonce.
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    let log = htrac::oplog::parse(std::path::Path::new("x"), &text).unwrap();
    assert_eq!(log.ops.len(), 1 + writers * per_writer);
    assert!(
        text.lines().all(|l| l.contains("  # ")),
        "a line lost its nonce"
    );
}

#[test]
fn log_prints_the_raw_file_and_list_filters() {
    let env = Env::new();
    let a = env.add("a", &["--tag", "x"]);
    let _b = env.add("b", &["--status", "done"]);
    let raw = env.run(&["log", &a]).ok().stdout;
    assert_eq!(raw, std::fs::read_to_string(env.workspace_ops(&a)).unwrap());
    let open = env.run(&["list", "--open", "--json"]).ok().json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let tagged = env.run(&["list", "--tag", "x"]).ok().stdout;
    assert_eq!(tagged.lines().count(), 1);
    assert_eq!(
        env.run(&["list", "--status", "wont_do"]).ok().stdout,
        "(no items)\n"
    );
    assert_eq!(
        env.run(&["list", "--limit", "1"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );
}

#[test]
fn no_tracker_gives_a_helpful_error() {
    let env = Env::bare();
    let r = env.run(&["list"]).fails(1);
    assert!(
        r.stderr
            .contains("no .agent/ directory found. Run 'init' first."),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
}

#[test]
fn help_is_generated_from_the_flag_table() {
    let env = Env::bare();
    let top = env.run(&["--help"]).ok().stdout;
    for cmd in [
        "init", "add", "update", "show", "list", "ready", "discuss", "log",
    ] {
        assert!(
            top.contains(&format!("  {cmd} ")),
            "{cmd} missing from help"
        );
    }
    let add = env.run(&["add", "--help"]).ok().stdout;
    assert!(
        add.contains("--description-stdin") && add.contains("--force-field-key"),
        "{add}"
    );
}

#[test]
fn description_from_stdin_and_file() {
    let env = Env::new();
    let r = env
        .run_stdin(
            &[
                "add",
                "--kind",
                "work_item",
                "--title",
                "stdin",
                "--description-stdin",
            ],
            "from stdin\n\n",
        )
        .ok();
    let id = r.stdout.trim().to_string();
    assert_eq!(
        env.run(&["show", &id, "--json"]).ok().json()["description"],
        "from stdin"
    );
    let f = env.path().join("desc.txt");
    std::fs::write(&f, "from a file\nsecond line\n").unwrap();
    env.run(&["update", &id, "--description-file", f.to_str().unwrap()])
        .ok();
    assert_eq!(
        env.run(&["show", &id, "--json"]).ok().json()["description"],
        "from a file\nsecond line"
    );
    let r = env
        .run(&[
            "update",
            &id,
            "--description",
            "x",
            "--description-file",
            "y",
        ])
        .fails(1);
    assert!(r.stderr.contains("only one of"), "{}", r.stderr);
}

#[test]
fn an_invalid_config_is_an_error_naming_the_key() {
    let env = Env::new();
    let cfg = env.root().join("tracker/config.yaml");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("scope: all", "scope: everything");
    std::fs::write(&cfg, text).unwrap();
    let r = env.run(&["list"]).fails(1);
    assert!(
        r.stderr
            .contains("config.yaml: stop_hook.scope: must be 'all' or 'workspace'"),
        "{}",
        r.stderr
    );
    // The template is only a fallback: with config.yaml gone, it is used.
    std::fs::remove_file(&cfg).unwrap();
    env.run(&["list"]).ok();
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
    let r = env
        .run(&["--json", "discuss", &id, "reply", "--ack-thread"])
        .ok();
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    let r = env
        .run(&["--json", "update", &id, "--note", "more", "--priority", "1"])
        .ok();
    assert_eq!(r.json()["ok"], true);
}
