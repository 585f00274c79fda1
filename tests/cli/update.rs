//! `htrac update`: fields, tags and custom fields changed in one call, its
//! `--json` list of changes, and what `show` prints afterwards.

use crate::common::Env;

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
