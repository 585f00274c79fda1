//! `tags`: listing, counts, the catalog file, describe/deprecate/rename,
//! the add/update hooks, and what an agent may not rename.

use crate::common::agent::{agent_user, as_agent, open_up};
use crate::common::Env;
use serde_json::json;

fn catalog(env: &Env) -> String {
    std::fs::read_to_string(env.root().join("tracker/tag_catalog.yaml")).unwrap()
}

/// The catalog with every quoted timestamp replaced by `TS`.
fn catalog_shape(env: &Env) -> String {
    let text = catalog(env);
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once(": '") {
            Some((k, v)) if v.len() == 21 && v.ends_with("Z'") && v.as_bytes()[10] == b'T' => {
                out.push_str(&format!("{k}: TS\n"))
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn listing_counts_and_json() {
    let env = Env::new();
    env.add("one", &["--tag", "bug", "--tag", "ui"]);
    env.add("two", &["--tag", "bug", "--tier", "canonical"]);
    env.add("three", &["--tag", "secret", "--tier", "stealth"]);
    assert_eq!(
        env.run(&["tags"]).ok().stdout,
        "bug\nui\n",
        "stealth is not enumerated"
    );
    env.run(&["tags", "describe", "zeta", "only in the catalog"])
        .ok();
    assert_eq!(env.run(&["tags"]).ok().stdout, "bug\nui\n");
    assert_eq!(
        env.run(&["tags", "--count"]).ok().stdout,
        "bug\t2\tactive\nui\t1\tactive\nsecret\t0\tinactive\nzeta\t0\tinactive\n",
        "count desc, then name; catalog-only tags at 0 (stealth's tag was catalogued by add)"
    );
    let v = env.run(&["--json", "tags"]).ok().json();
    let names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["bug", "secret", "ui", "zeta"]);
    let keys: Vec<&str> = v["bug"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "count",
            "created_on",
            "deprecated",
            "description",
            "in_favor_of",
            "last_modified",
            "last_used",
            "status"
        ]
    );
    assert_eq!(v["zeta"]["description"], "only in the catalog");
    assert_eq!(v["zeta"]["last_used"], json!(null));
    assert_eq!(v["bug"]["count"], 2);
    let (created, used) = (
        v["bug"]["created_on"].as_str().unwrap(),
        v["bug"]["last_used"].as_str().unwrap(),
    );
    assert!(created <= used, "{created} > {used}");
}

#[test]
fn catalog_file_has_the_reference_layout() {
    let env = Env::new();
    env.add("one", &["--tag", "bug"]);
    assert_eq!(
        catalog_shape(&env),
        "tags:\n  bug:\n    description: ''\n    created_on: TS\n    last_modified: null\n    last_used: TS\n    deprecated: false\n    in_favor_of: null\n"
    );
    env.run(&[
        "tags",
        "describe",
        "bug",
        "A very long description of what this tag means for the people who use it every single day",
    ])
    .ok();
    env.run(&["tags", "describe", "null", "yes"]).ok();
    env.run(&["tags", "deprecate", "bug", "--in-favor-of", "defect"])
        .ok();
    assert_eq!(
        catalog_shape(&env),
        "tags:\n  bug:\n    description: A very long description of what this tag means for the people who\n      use it every single day\n    created_on: TS\n    last_modified: TS\n    last_used: TS\n    deprecated: true\n    in_favor_of: defect\n  'null':\n    description: 'yes'\n    created_on: TS\n    last_modified: TS\n    last_used: null\n    deprecated: false\n    in_favor_of: null\n"
    );
}

#[test]
fn describe_and_deprecate() {
    let env = Env::new();
    assert_eq!(env.run(&["tags", "describe", "perf"]).ok().stdout, "\n");
    assert_eq!(
        env.run(&["--json", "tags", "describe", "perf"]).ok().stdout,
        "{\"tag\": \"perf\", \"description\": \"\"}\n"
    );
    assert!(
        !env.root().join("tracker/tag_catalog.yaml").exists(),
        "reading writes nothing"
    );
    assert_eq!(
        env.run(&["tags", "describe", "perf", "speed"]).ok().stdout,
        "described perf\n"
    );
    assert_eq!(
        env.run(&["tags", "describe", "perf"]).ok().stdout,
        "speed\n"
    );
    let r = env
        .run(&["tags", "describe", "perf", "two\nlines"])
        .fails(1);
    assert!(r.stderr.contains("single-line"), "{}", r.stderr);
    assert_eq!(
        env.run(&["tags", "describe", "perf"]).ok().stdout,
        "speed\n"
    );
    assert_eq!(
        env.run(&["tags", "deprecate", "perf", "--in-favor-of", "speed"])
            .ok()
            .stdout,
        "deprecated perf (in favor of speed)\n"
    );
    // A later deprecate without --in-favor-of keeps the redirect.
    assert_eq!(
        env.run(&["--json", "tags", "deprecate", "perf"])
            .ok()
            .stdout,
        "{\"tag\": \"perf\", \"deprecated\": true, \"in_favor_of\": \"speed\"}\n"
    );
    assert_eq!(
        env.run(&["tags", "--count"]).ok().stdout,
        "perf\t0\tdeprecated\n"
    );
    for bad in [
        vec!["tags", "describe", "Bad-Name", "x"],
        vec!["tags", "deprecate", "9lives"],
        vec!["tags", "deprecate", "ok", "--in-favor-of", "Not OK"],
        vec!["tags", "rename", "perf", "New"],
        vec!["tags", "frobnicate"],
        vec!["tags", "rename", "only_one"],
        vec!["tags", "--in-favor-of", "x"],
    ] {
        let before = catalog(&env);
        env.run(&bad).fails(1);
        assert_eq!(catalog(&env), before, "{bad:?} changed the catalog");
    }
}

#[test]
fn add_and_update_warn_on_deprecated_tags_and_stamp_last_used() {
    let env = Env::new();
    env.run(&["tags", "deprecate", "old", "--in-favor-of", "new"])
        .ok();
    let r = env
        .run(&["add", "--kind", "work_item", "--title", "t", "--tag", "old"])
        .ok();
    assert_eq!(
        r.stderr,
        "warning: tag 'old' is deprecated; use new instead\n"
    );
    let id = r.stdout.trim().to_string();
    let v = env.run(&["--json", "tags"]).ok().json();
    assert!(v["old"]["last_used"].is_string(), "{v}");
    assert_eq!(v["old"]["status"], "deprecated");
    let r = env
        .run(&["update", &id, "--add-tag", "old", "--add-tag", "fresh"])
        .ok();
    assert_eq!(
        r.stderr,
        "warning: tag 'old' is deprecated; use new instead\n"
    );
    // Removing a deprecated tag is fine and quiet, and stamps it too.
    let r = env.run(&["update", &id, "--remove-tag", "old"]).ok();
    assert_eq!(r.stderr, "");
    let v = env.run(&["--json", "tags"]).ok().json();
    assert_eq!(v["fresh"]["count"], 1);
    assert_eq!(v["fresh"]["created_on"], v["fresh"]["last_used"]);
    assert_eq!(v["old"]["count"], 0);
}

#[test]
fn first_listing_builds_the_catalog_from_the_op_logs() {
    let env = Env::new();
    let a = env.add("one", &["--tag", "bug"]);
    env.run(&["update", &a, "--add-tag", "ui", "--remove-tag", "bug"])
        .ok();
    env.add("hidden", &["--tag", "private", "--tier", "stealth"]);
    std::fs::remove_file(env.root().join("tracker/tag_catalog.yaml")).unwrap();
    let ops = std::fs::read_to_string(env.workspace_ops(&a)).unwrap();
    let ats: Vec<String> = ops
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("at: '"))
        .map(|l| l[..20].to_string())
        .collect();
    let v = env.run(&["--json", "tags"]).ok().json();
    assert_eq!(v["bug"]["created_on"], ats[0].as_str());
    assert_eq!(v["bug"]["last_used"], ats[1].as_str(), "removal is use");
    assert_eq!(v["ui"]["created_on"], ats[1].as_str());
    assert!(
        v.get("private").is_none(),
        "stealth ops are not walked: {v}"
    );
    let text = catalog(&env);
    assert!(text.starts_with("tags:\n  bug:\n"), "{text}");
    // Once the file exists, it is what is read.
    env.run(&["tags", "describe", "bug", "kept"]).ok();
    assert_eq!(
        env.run(&["--json", "tags"]).ok().json()["bug"]["description"],
        "kept"
    );
}

#[test]
fn rename_appends_one_update_per_item() {
    let env = Env::new();
    let a = env.add("one", &["--tag", "bug"]);
    let b = env.add(
        "two",
        &["--tag", "bug", "--tag", "defect", "--tier", "canonical"],
    );
    let s = env.add("three", &["--tag", "bug", "--tier", "stealth"]);
    let before_a = std::fs::read_to_string(env.workspace_ops(&a)).unwrap();
    let before_s = std::fs::read_to_string(env.ops_path("tracker-workspace/stealth", &s)).unwrap();
    assert_eq!(
        env.run(&["tags", "rename", "bug", "defect"]).ok().stdout,
        "renamed bug → defect on 2 item(s)\n"
    );
    let after_a = std::fs::read_to_string(env.workspace_ops(&a)).unwrap();
    assert!(after_a.starts_with(&before_a), "the op log was rewritten");
    let added = &after_a[before_a.len()..];
    assert!(added.starts_with("- op: update"), "{added}");
    assert!(
        added.contains("add:") && added.contains("remove:"),
        "{added}"
    );
    let show = |id: &str| env.run(&["--json", "show", id]).ok().json()["tags"].clone();
    assert_eq!(show(&a), json!(["defect"]));
    assert_eq!(show(&b), json!(["defect"]));
    assert_eq!(show(&s), json!(["bug"]), "stealth items are left alone");
    assert_eq!(
        std::fs::read_to_string(env.ops_path("tracker-workspace/stealth", &s)).unwrap(),
        before_s
    );
    let v = env.run(&["--json", "tags"]).ok().json();
    assert_eq!(v["bug"]["last_modified"], v["defect"]["last_modified"]);
    assert!(v["bug"]["last_modified"].is_string());
    assert_eq!(
        env.run(&["--json", "tags", "rename", "bug", "defect"])
            .ok()
            .stdout,
        "{\"renamed\": 0, \"old\": \"bug\", \"new\": \"defect\"}\n"
    );
    // A legacy name that is not a valid tag can be renamed away.
    let c = env.add("legacy", &[]);
    let path = env.workspace_ops(&c);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("tags: []", "tags: [Old-Style]");
    std::fs::write(&path, text).unwrap();
    env.run(&["tags", "rename", "Old-Style", "old_style"]).ok();
    assert_eq!(show(&c), json!(["old_style"]));
    assert!(!catalog(&env).contains("Old-Style"));
}

#[test]
fn agent_rename_is_refused_whole_when_any_item_is_locked_or_frozen() {
    if agent_user().is_none() {
        return;
    }
    let env = Env::new();
    let a = env.add("free", &["--tag", "bug"]);
    let b = env.add("locked", &["--tag", "bug"]);
    let c = env.add("frozen", &["--tag", "bug"]);
    env.run(&["lock", &b, "tags"]).ok();
    env.run(&["freeze", &c]).ok();
    open_up(env.path());
    let before = env.tree();
    let r = as_agent(&env, &["tags", "rename", "bug", "defect"]).fails(1);
    assert!(r.stderr.contains("nothing was renamed"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{b} [field 'tags' is locked]")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{c} [frozen]")), "{}", r.stderr);
    assert!(!r.stderr.contains(&a), "{}", r.stderr);
    assert_eq!(env.tree(), before, "a refused rename wrote something");
    // With the lock and freeze lifted, the agent may rename.
    env.run(&["unlock", &b, "tags"]).ok();
    env.run(&["unfreeze", &c]).ok();
    open_up(env.path());
    let r = as_agent(&env, &["tags", "rename", "bug", "defect"]).ok();
    assert_eq!(r.stdout, "renamed bug → defect on 3 item(s)\n");
}

#[test]
fn two_branches_that_each_use_a_new_tag_merge_without_a_conflict() {
    use crate::common::git;
    let env = Env::new();
    env.add("base item", &["--tag", "core"]);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "base"]);
    git(env.path(), &["checkout", "-q", "-b", "a"]);
    env.add("on a", &["--tag", "alpha"]);
    env.run(&["tags", "describe", "core", "the core"]).ok();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "a"]);
    git(env.path(), &["checkout", "-q", "dev"]);
    git(env.path(), &["checkout", "-q", "-b", "b"]);
    env.add("on b", &["--tag", "beta", "--tag", "core"]);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "b"]);
    // git's own line merge stops here (CONFLICT add/add or content); the
    // catalog's merge driver does not.
    git(env.path(), &["merge", "-q", "--no-edit", "a"]);
    let catalog = std::fs::read_to_string(env.root().join("tracker/tag_catalog.yaml")).unwrap();
    assert!(!catalog.contains("<<<<<<<"), "{catalog}");
    for tag in ["alpha", "beta", "core"] {
        assert!(catalog.contains(&format!("  {tag}:\n")), "{tag}: {catalog}");
    }
    assert!(catalog.contains("description: the core"), "{catalog}");
    let tags = env.run(&["--json", "tags"]).ok().json();
    let names: Vec<&str> = tags
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["alpha", "beta", "core"], "{tags}");
}
