//! What every command shares: global flags anywhere on the line, item
//! prefixes and `:N` aliases, argument errors that change nothing, `--help`,
//! finding the tracker and reading its configuration.

use crate::common::Env;
use serde_json::Value;

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
fn no_tracker_gives_a_helpful_error() {
    let env = Env::bare();
    let r = env.run(&["list"]).fails(1);
    assert!(
        r.stderr
            .contains("no .agent/ directory found. Run 'htrac setup' first."),
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
