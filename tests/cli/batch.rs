//! `htrac batch`: many mutations from a file or stdin, in order, each on
//! its own, with a per-line result; `--json` output is JSON all the way down.

use crate::common::Env;

fn write(env: &Env, name: &str, text: &str) -> String {
    let p = env.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn lines_run_in_order_and_a_failure_does_not_stop_the_rest() {
    let env = Env::new();
    let file = write(
        &env,
        "work.htrac",
        "# planning\n\nadd --kind work_item --title \"Parse the config\" --priority 1\nadd --kind work_item --title 'Write docs' --tag docs\nshow WI-x\nupdate WI-nope --status done\n   # indented comment\nupdate --bogus\n",
    );
    let r = env.run(&["batch", &file]).fails(1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(lines[0].starts_with("WI-") && lines[1].starts_with("WI-"));
    assert_eq!(lines[2], "batch: 2/5 succeeded (FAIL)");
    assert!(
        r.stderr
            .contains("  FAIL line 5: 'show' not allowed in batch"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("  FAIL line 6: "), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("  FAIL line 8: invalid arguments for 'update': unknown flag '--bogus'"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("  line 6: update — "), "{}", r.stderr);
    let list = env.run(&["--json", "list"]).ok().json();
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Parse the config", "Write docs"]);
}

#[test]
fn json_results_are_json_even_when_a_command_prints_a_notice() {
    let env = Env::new();
    let id = env.add("talked about", &[]);
    // An unread human message makes `update --note` print a notice.
    env.run(&["discuss", &id, "Please also cover the edge case"])
        .ok();
    env.run(&["list"]).ok(); // :1 is the item
    let text = format!(
        "update :1 --status in_progress --note 'On it'\ndiscuss {id} \"Fixed in PR #100\" --ack-thread\nlock :1 status\nupdate :1 --priority 9\n"
    );
    let r = env.run_stdin(&["--json", "batch", "-"], &text).fails(1);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["total"], 4);
    assert_eq!(v["succeeded"], 3);
    assert_eq!(v["failed"], 1);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results[0]["line"], 1);
    assert_eq!(results[0]["command"], "update");
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[0]["output"]["ok"], true, "{v}");
    assert!(results[0]["output"]["changes"].is_array(), "{v}");
    assert_eq!(results[1]["output"], serde_json::json!({"ok": true}));
    assert_eq!(results[2]["output"], serde_json::json!({"ok": true}));
    assert_eq!(results[3]["command"], "update");
    assert_eq!(results[3]["ok"], false);
    assert!(
        results[3]["error"]
            .as_str()
            .unwrap()
            .contains("invalid priority 9"),
        "{v}"
    );
    assert!(results[3].get("output").is_none());
    // The notice went to stderr, not into the JSON.
    assert!(
        r.stderr.contains("Please also cover the edge case"),
        "{}",
        r.stderr
    );
    let shown = env.run(&["--json", "show", &id]).ok().json();
    assert_eq!(shown["status"], "in_progress");
    assert_eq!(shown["locked_fields"], serde_json::json!(["status"]));
    let msgs: Vec<&str> = shown["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "Please also cover the edge case",
            "On it",
            "Fixed in PR #100"
        ]
    );
}

#[test]
fn broken_quoting_runs_nothing_and_empty_batches_do_nothing() {
    let env = Env::new();
    let before = env.tree();
    let file = write(
        &env,
        "bad.htrac",
        "add --kind work_item --title fine\ndiscuss WI-x \"unclosed\n",
    );
    let r = env.run(&["batch", &file]).fails(1);
    assert!(
        r.stderr.contains("line 2: No closing quotation"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before, "no line ran");

    let empty = write(&env, "empty.htrac", "# nothing yet\n\n");
    let r = env.run(&["batch", &empty]).ok();
    assert_eq!(r.stdout, "batch: 0 operations (nothing to do)\n");
    let r = env.run(&["--json", "batch", &empty]).ok();
    assert_eq!(r.stdout, "{\"ok\": true, \"results\": []}\n");
    let r = env.run(&["batch", "no-such-file.htrac"]).fails(1);
    assert!(
        r.stderr
            .contains("batch file not found: no-such-file.htrac"),
        "{}",
        r.stderr
    );
}

#[test]
fn with_no_file_the_batch_comes_from_standard_input() {
    let env = Env::new();
    let r = env
        .run_stdin(&["batch"], "add --kind work_item --title 'piped in'\n")
        .ok();
    assert!(
        r.stdout.ends_with("batch: 1/1 succeeded (ok)\n"),
        "{}",
        r.stdout
    );
    assert!(env.run(&["list"]).ok().stdout.contains("piped in"));
}
