//! `htrac lock` / `unlock`: field names case-insensitive and checked.

use crate::common::Env;
use crate::show;

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
