//! Every real op file from the reference's own tracker compiles exactly as
//! the reference shows it (`../shared/compat/real-ops/golden`).

use std::path::{Path, PathBuf};

use htrac::Tracker;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/real-ops")
}

/// The reference reads discussions through its SQLite cache, which does not
/// store message nonces: its goldens show `"nonce": ""`. We keep the real
/// nonce (edit-mode needs it); compare everything else.
fn normalise(mut v: Value) -> Value {
    if let Some(d) = v.get_mut("discussion").and_then(Value::as_array_mut) {
        for e in d {
            e["nonce"] = Value::String(String::new());
        }
    }
    v
}

fn open_corpus() -> Tracker {
    let root = corpus().join("repo/.agent");
    assert!(root.is_dir(), "missing corpus at {}", root.display());
    Tracker::open(&root).expect("open corpus")
}

#[test]
fn show_matches_reference_for_every_item() {
    let t = open_corpus();
    let snap = t.snapshot().unwrap();
    assert!(snap.broken.is_empty(), "broken: {:?}", snap.broken);
    let dir = corpus().join("golden/show");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let golden: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let id = golden["id"].as_str().unwrap();
        let file = t.resolve(id).unwrap();
        let item = t.load(&file).unwrap();
        let ours = normalise(item.to_json(false, false));
        let theirs = normalise(golden.clone());
        assert_eq!(
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&theirs).unwrap(),
            "item {id} differs"
        );
        checked += 1;
    }
    assert_eq!(checked, snap.items.len());
    assert_eq!(checked, 20);
}

#[test]
fn list_and_ready_match_reference_order() {
    let t = open_corpus();
    let snap = t.snapshot().unwrap().sorted();
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("golden/list.json")).unwrap())
            .unwrap();
    let ours: Vec<Value> = snap
        .items
        .iter()
        .map(|i| normalise(i.to_json(false, false)))
        .collect();
    let theirs: Vec<Value> = golden
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .map(normalise)
        .collect();
    assert_eq!(ours, theirs);

    let ready = htrac::items::ready::ready(&snap.items, &t.config);
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("golden/ready.json")).unwrap())
            .unwrap();
    let theirs: Vec<&str> = golden["ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let ours: Vec<&str> = ready.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn fast_reader_reads_every_real_block_like_the_yaml_parser() {
    let dir = corpus().join("repo/.agent");
    let mut fast = 0;
    let mut total = 0;
    for tier in ["tracker/.ops", "tracker-workspace/.ops"] {
        for entry in std::fs::read_dir(dir.join(tier)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "ops") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut blocks: Vec<String> = Vec::new();
            for line in text.split_inclusive('\n') {
                if line.starts_with("- ") {
                    blocks.push(String::new());
                }
                blocks.last_mut().unwrap().push_str(line);
            }
            for b in blocks {
                total += 1;
                let slow = htrac::oplog::parse_block_yaml(&b).unwrap();
                if htrac::oplog::fast::parse_block(&b).is_some() {
                    fast += 1;
                    assert_eq!(htrac::oplog::parse_block(&b).unwrap(), slow, "{b}");
                }
            }
        }
    }
    assert_eq!(total, 90);
    // Every block the reference wrote is in the canonical layout.
    assert_eq!(
        fast, total,
        "only {fast} of {total} blocks took the fast path"
    );
}
