//! `htrac add`: a description from stdin or a file, and the near-duplicate
//! warning on small fixed trackers: SimHash distances as the reference
//! computes them, never blocking, never on stdout, the same answer with or
//! without the fingerprint store.

use crate::common::{self, Env};

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

fn similar(stderr: &str) -> Vec<(String, String, u32)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("warning: ")?;
            let (new, rest) = rest.split_once(" is similar to existing ")?;
            let (old, rest) = rest.split_once(" (SimHash distance: ")?;
            let (bits, _) = rest.split_once(" bits)")?;
            Some((new.to_string(), old.to_string(), bits.parse().ok()?))
        })
        .collect()
}

#[test]
fn add_warns_about_near_duplicates_with_their_distance() {
    let env = Env::new();
    let a = env.add("Fix the cache invalidation bug in the reader", &[]);
    // Distances from the reference's SimHash: a-b 7, b-c 8, a-c 11 bits.
    let r = env
        .run(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            "Fix the cache invalidation bug in the reader now",
        ])
        .ok();
    let b = r.stdout.trim().to_string();
    assert_eq!(similar(&r.stderr), [(b.clone(), a.clone(), 7)]);
    assert!(r.stderr.contains(&format!(
        "Use 'htrac update {b} --add-duplicate-of {a}' to mark as duplicate, or 'htrac update {b} --add-not-duplicate-of {a}' to suppress."
    )));
    // --json: stdout stays one JSON document, the warning goes to stderr.
    let r = env
        .run(&[
            "--json",
            "add",
            "--kind",
            "work_item",
            "--title",
            "Fix the cache invalidation bug in the reader now please",
        ])
        .ok();
    let c = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json().as_object().unwrap().len(), 1);
    assert_eq!(similar(&r.stderr), [(c.clone(), b.clone(), 8)]);
    // Unrelated text: no warning. Another tier: not compared.
    let r = env
        .run(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            "Write the release notes",
        ])
        .ok();
    assert_eq!(similar(&r.stderr), []);
    let r = env
        .run(&[
            "add",
            "--kind",
            "work_item",
            "--tier",
            "canonical",
            "--priority",
            "1",
            "--title",
            "Fix the cache invalidation bug in the reader",
        ])
        .ok();
    assert_eq!(similar(&r.stderr), []);
    // The description counts too: same title, different long description, far apart.
    let r = env
        .run(&["add", "--kind", "work_item", "--title", "Fix the cache invalidation bug in the reader",
            "--description", "Quarterly budget spreadsheet formulas overflow when currencies mix yen euros dollars pounds francs"])
        .ok();
    assert_eq!(similar(&r.stderr), []);
}

#[test]
fn fingerprint_store_is_only_a_cache() {
    let env = Env::new();
    let a = env.add("Fix the cache invalidation bug in the reader", &[]);
    let title = "Fix the cache invalidation bug in the reader now";
    let expect = |r: common::Run| {
        let id = r.stdout.trim().to_string();
        let found = similar(&r.stderr);
        assert!(found.contains(&(id, a.clone(), 7)), "{found:?}");
    };
    let stores = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(env.cache.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("simhash-"))
            .map(|e| e.path())
            .collect()
    };
    // Until an add has to read 16 items, nothing is written.
    expect(
        env.run(&["add", "--kind", "work_item", "--title", title])
            .ok(),
    );
    assert!(stores().is_empty(), "two items read: nothing written yet");
    let batch: String = (0..16)
        .map(|n| format!("add --kind work_item --title 'unrelated topic {n} zebra'\n"))
        .collect();
    env.run_stdin(&["batch", "-"], &batch).ok();
    let store = stores();
    assert_eq!(
        store.len(),
        1,
        "the store was written once 16 items were read"
    );
    // Garbage in the store: ignored and rewritten.
    std::fs::write(&store[0], b"garbage").unwrap();
    expect(
        env.run(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            title,
            "--priority",
            "1",
        ])
        .ok(),
    );
    assert!(std::fs::read(&store[0]).unwrap().starts_with(b"HTRACSH"));
    // No cache at all: the same answer from the files.
    let r = env
        .command(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            title,
            "--priority",
            "3",
        ])
        .env("HTRAC_NO_CACHE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        similar(&stderr)
            .iter()
            .any(|(_, old, d)| old == &a && *d == 7),
        "{stderr}"
    );
    // A broken item file is skipped, never fatal.
    std::fs::write(
        env.workspace_ops("WI-broken"),
        "- op: update  # 0001\n  nonce: 0001  # 0001\n",
    )
    .unwrap();
    expect(
        env.run(&[
            "add",
            "--kind",
            "work_item",
            "--title",
            title,
            "--priority",
            "4",
        ])
        .ok(),
    );
}
