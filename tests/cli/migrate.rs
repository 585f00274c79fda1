//! `htrac migrate` on fixture ledgers (`tests/fixtures/migrate/`, written
//! to the reference parser's expectations): what it creates, where, with
//! which fields; idempotence; `--dry-run`; errors that say what to do.

use std::path::{Path, PathBuf};

use crate::common::{self, Env};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrate")
        .join(name)
}

/// Adds the `meta_invariant` kind the legacy ledgers use to the config.
fn allow_meta(env: &Env) {
    for name in ["config.yaml", "config.yaml.template"] {
        let path = env.root().join("tracker").join(name);
        if !path.exists() {
            continue;
        }
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
        std::fs::set_permissions(&path, perms).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen(
            "kinds:\n",
            "kinds:\n  meta_invariant:\n    prefix: META\n    fields_schema:\n      statement:\n        type: text\n        required: true\n",
            1,
        );
        std::fs::write(&path, text).unwrap();
    }
}

fn migrate(env: &Env, extra: &[&str]) -> common::Run {
    let ledger = fixture("invariant-ledger.md");
    let items = fixture("work_items.md");
    let mut args = vec![
        "--json",
        "migrate",
        "--ledger",
        ledger.to_str().unwrap(),
        "--work-items",
        items.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn show(env: &Env, id: &str) -> Value {
    env.run(&["--json", "show", id]).ok().json()
}

#[test]
fn migrate_imports_both_ledgers_once() {
    let env = Env::new();
    allow_meta(&env);
    let v = migrate(&env, &[]).ok().json();
    // 5 ledger entries (INV-XXX is a template) + 3 pending generalizations,
    // 6 distinct work items (one line appears twice: the same ID, skipped).
    assert_eq!(v["items_created"], 13);
    assert_eq!(v["items_skipped"], 1);
    assert_eq!(
        v["items_by_kind"],
        json!({"invariant": 6, "meta_invariant": 1, "work_item": 6})
    );
    assert_eq!(v["errors"], json!([]));
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["parents_linked"], 3);
    let map = v["id_map"].as_object().unwrap();
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "INV-001",
            "INV-001-pg-0",
            "INV-001-pg-1",
            "INV-001-pg-2",
            "INV-002",
            "META-001",
            "INV-003",
            "wi-developer-experience-0",
            "wi-developer-experience-1",
            "wi-developer-experience-2",
            "wi-developer-experience-3",
            "wi-ci-infrastructure-0",
            "wi-ci-infrastructure-1",
            "wi-ci-infrastructure-2",
        ]
    );
    assert_eq!(map["wi-ci-infrastructure-0"], map["wi-ci-infrastructure-2"]);
    let id = |k: &str| map[k].as_str().unwrap().to_string();

    let inv = show(&env, &id("INV-001"));
    assert_eq!(inv["tier"], "canonical");
    assert_eq!(inv["status"], "done");
    assert_eq!(inv["priority"], 4);
    assert_eq!(
        inv["fields"],
        json!({
            "statement": "Every line of an op block ends with `# <nonce>`.",
            "root_cause": "Union merges interleave lines of two ops that were appended on different branches.",
            "fix": "The serializer appends the nonce comment to every line.",
            "verification": "The validator checks each line.",
            "regression_tests": ["tests/test_store.py::test_nonce_on_every_line",
                                 "tests/test_merge.py::test_union_merge_keeps_ops_apart"],
        })
    );
    assert_eq!(
        inv["description"],
        "Discovery: Found while merging two agent branches.\n\nImpact: Corrupted op files after merges.\n\nTwo items were unreadable until repaired."
    );
    let child = show(&env, &id("INV-001-pg-1"));
    assert_eq!(child["title"], "**TODO!** Apply it to the edit-mode log");
    assert_eq!(
        (child["status"].as_str(), child["priority"].as_i64()),
        (Some("todo_hard"), Some(0))
    );
    assert_eq!(child["parent"], json!(id("INV-001")));
    let meta = show(&env, &id("META-001"));
    assert_eq!(meta["kind"], "meta_invariant");
    assert_eq!(
        (meta["status"].as_str(), meta["priority"].as_i64()),
        (Some("in_progress"), Some(1))
    );
    assert_eq!(
        meta["fields"],
        json!({"statement": "Every linker resolves the same symbol set for the same fixture."})
    );
    let wi = show(&env, &id("wi-developer-experience-1"));
    assert_eq!(wi["tier"], "workspace");
    assert_eq!(wi["title"], "Speed up ready on large trackers.");
    assert_eq!(wi["description"], "Cache the compiled items.");
    assert_eq!(wi["pr_ref"], "PR #41, PR #44");
    assert_eq!(wi["tags"], json!(["developer_experience"]));
    assert_eq!(show(&env, &id("INV-003"))["status"], "wont_do");

    // Children lacking the kind's required fields are written, with a warning.
    let r = migrate(&env, &[]).ok();
    let again = r.json();
    assert_eq!(again["items_created"], 0);
    assert_eq!(again["items_skipped"], 14);
    assert_eq!(again["parents_linked"], 0, "parents already set");
    assert_eq!(again["id_map"], v["id_map"]);
    let ops = std::fs::read_to_string(env.ops_path("tracker/.ops", &id("INV-001-pg-1"))).unwrap();
    assert_eq!(
        ops.matches("- op: ").count(),
        2,
        "one create, one parent update:\n{ops}"
    );
    assert!(htrac::migrate::markdown::normalize_status("100%") == "done");

    // The text report.
    let ledger = fixture("invariant-ledger.md");
    let empty = env.path().join("empty.md");
    std::fs::write(&empty, "").unwrap();
    let text = env
        .run(&[
            "migrate",
            "--ledger",
            ledger.to_str().unwrap(),
            "--work-items",
            empty.to_str().unwrap(),
        ])
        .ok()
        .stdout;
    assert!(
        text.starts_with("created 0 items, skipped 7\nid map:\n  INV-001  INV-"),
        "{text}"
    );
}

#[test]
fn dry_run_writes_nothing_and_missing_kinds_are_errors() {
    let env = Env::new();
    let before = env.tree();
    let v = migrate(&env, &["--dry-run"]).fails(1).json();
    assert_eq!(env.tree(), before, "--dry-run changed files");
    assert_eq!(v["dry_run"], true);
    // Without the meta_invariant kind in the config, META-001 cannot be built.
    assert_eq!(
        v["errors"],
        json!(["Failed to build op for META-001: kind 'meta_invariant' is not in the tracker's config (add it to .agent/tracker/config.yaml, then run migrate again)"])
    );
    assert_eq!(v["items_created"], 12);
    assert_eq!(v["items_skipped"], 1);
    // The real run writes what it can, reports the rest, and exits 1.
    let r = migrate(&env, &[]).fails(1);
    assert_eq!(r.json()["items_created"], 12);
    allow_meta(&env);
    let v = migrate(&env, &[]).ok().json();
    assert_eq!(
        (v["items_created"].as_u64(), v["items_skipped"].as_u64()),
        (Some(1), Some(13))
    );

    let r = env
        .run(&["migrate", "--ledger", "/nonexistent/ledger.md"])
        .fails(1);
    assert!(
        r.stderr
            .contains("--ledger /nonexistent/ledger.md: no such file"),
        "{}",
        r.stderr
    );
}
