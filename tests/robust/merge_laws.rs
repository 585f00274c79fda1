//! The op-log merge laws: however git's `merge=union` combines the files of
//! several replicas (any order, blocks duplicated), the item compiles to the
//! same state; and everything we emit parses back to the same op.

use crate::common;
use htrac::items::compile::compile;
use htrac::oplog;
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::Op;
use htrac::Tier;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Text that exercises quoting: punctuation YAML cares about, non-ASCII, escapes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        "[a-zA-Z0-9 _:#'\"\\\\,\\[\\]{}&*!|>%@`?-]{0,16}",
        "[é日本😀\u{2028}\u{85}\u{a0}\u{3000}\n\t x]{0,8}",
        any::<String>(),
    ]
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,6}",
        Just("yes".to_string()),
        Just("1383".to_string()),
        Just("true".to_string())
    ]
}

/// The payload of one random op (the header is filled in by the replica).
#[derive(Debug, Clone)]
enum Body {
    Set(Map<String, Value>),
    AddRemove(bool, Vec<String>),
    Discuss(String),
    Summarize(String),
    Clear,
    Lock(bool, Vec<String>),
}

fn body() -> impl Strategy<Value = Body> {
    let field_value = prop_oneof![
        text().prop_map(Value::String),
        any::<i64>().prop_map(|i| json!(i)),
        Just(Value::Null)
    ];
    prop_oneof![
        (
            prop::option::of(prop::sample::select(vec![
                "todo_hard",
                "todo_soft",
                "in_progress",
                "done"
            ])),
            prop::option::of(0i64..5),
            prop::option::of(text()),
            prop::collection::btree_map("[a-z]{1,4}", field_value, 0..3),
        )
            .prop_map(|(status, priority, title, fields)| {
                let mut m = Map::new();
                if let Some(s) = status {
                    m.insert("status".into(), json!(s));
                }
                if let Some(p) = priority {
                    m.insert("priority".into(), json!(p));
                }
                if let Some(t) = title {
                    m.insert("title".into(), json!(t));
                }
                if !fields.is_empty() {
                    m.insert("fields".into(), Value::Object(fields.into_iter().collect()));
                }
                Body::Set(m)
            }),
        (any::<bool>(), prop::collection::vec(tag(), 1..3))
            .prop_map(|(a, t)| Body::AddRemove(a, t)),
        text().prop_map(Body::Discuss),
        text().prop_map(Body::Summarize),
        Just(Body::Clear),
        (
            any::<bool>(),
            prop::collection::vec(
                prop::sample::select(vec!["status", "title", "discussion", "tags"]),
                1..3
            )
        )
            .prop_map(|(l, f)| Body::Lock(l, f.into_iter().map(String::from).collect())),
    ]
}

fn make_op(b: &Body, clock: i64, nonce: &str, human: bool, at: &str) -> Op {
    let role = if human {
        htrac::oplog::op::Role::Human
    } else {
        htrac::oplog::op::Role::Agent
    };
    let actor = if human { "alice" } else { "alice_agent" };
    let (kind, body): (&str, Map<String, Value>) = match b {
        Body::Set(m) => (
            "update",
            [("set".to_string(), Value::Object(m.clone()))]
                .into_iter()
                .collect(),
        ),
        Body::AddRemove(add, tags) => (
            "update",
            [
                ("set".to_string(), json!({})),
                (
                    if *add { "add" } else { "remove" }.to_string(),
                    json!({ "tags": tags }),
                ),
            ]
            .into_iter()
            .collect(),
        ),
        Body::Discuss(m) => (
            "discuss",
            [("message".to_string(), json!(m))].into_iter().collect(),
        ),
        Body::Summarize(m) => (
            "discuss_summarize",
            [("message".to_string(), json!(m))].into_iter().collect(),
        ),
        Body::Clear => ("discuss_clear", Map::new()),
        Body::Lock(lock, f) => {
            let k = if *lock { "lock" } else { "unlock" };
            (k, [(k.to_string(), json!(f))].into_iter().collect())
        }
    };
    let mut op = Op::new(kind, at, role, actor, clock, nonce);
    op.body = body;
    op
}

fn create_op() -> Op {
    let data = json!({
        "kind": "work_item", "title": "base", "status": "todo_hard", "priority": 2, "parent": null,
        "tags": [], "isbefore": [], "duplicate_of": [], "not_duplicate_of": [], "pr_ref": null,
        "description": "", "fields": {}
    });
    Op::new(
        "create",
        "2026-01-01T00:00:00Z",
        htrac::oplog::op::Role::Human,
        "alice",
        1,
        "0000",
    )
    .with("data", data)
}

/// A scenario: each replica appends its own ops on top of the shared create.
#[derive(Debug, Clone)]
struct Scenario {
    replicas: Vec<Vec<(Body, bool, u8)>>,
    order: Vec<usize>,
    duplicates: Vec<(usize, usize)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=4)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(
                    prop::collection::vec((body(), any::<bool>(), 0u8..5), 0..6),
                    n,
                ),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                prop::collection::vec((0..n, 0usize..6), 0..4),
            )
        })
        .prop_map(|(replicas, order, duplicates)| Scenario {
            replicas,
            order,
            duplicates,
        })
}

/// The ops of each replica, with Lamport clocks as each replica would assign them
/// (clocks collide across replicas; nonces never do).
fn replica_ops(s: &Scenario) -> Vec<Vec<Op>> {
    let mut n = 1u32;
    s.replicas
        .iter()
        .map(|ops| {
            let mut clock = 1;
            ops.iter()
                .map(|(b, human, minute)| {
                    clock += 1;
                    n += 1;
                    make_op(
                        b,
                        clock,
                        &format!("{n:04x}"),
                        *human,
                        &format!("2026-01-01T00:0{minute}:00Z"),
                    )
                })
                .collect()
        })
        .collect()
}

fn compile_text(text: &str) -> htrac::Item {
    let log = oplog::parse(std::path::Path::new("merged.ops"), text).expect("merged file parses");
    assert!(log.torn.is_empty());
    let ops: Vec<Op> = log.ops.into_iter().map(|(_, o)| o).collect();
    compile("WI-test", Tier::Workspace, &ops).expect("compiles")
}

proptest! {
    #![proptest_config(crate::proptest_config(300))]

    #[test]
    fn union_merge_in_any_order_compiles_the_same(s in scenario()) {
        let ops = replica_ops(&s);
        let base = emit_op(&create_op());
        // Reference: replicas in their natural order, no duplicates.
        let mut reference = base.clone();
        for r in &ops {
            for op in r {
                reference.push_str(&emit_op(op));
            }
        }
        // Merged as union would: the replicas' additions in another order,
        // and some blocks seen twice (e.g. cherry-picked onto two branches).
        let mut merged = base.clone();
        for &i in &s.order {
            for op in &ops[i] {
                merged.push_str(&emit_op(op));
            }
        }
        for &(r, k) in &s.duplicates {
            if let Some(op) = ops[r].get(k) {
                merged.push_str(&emit_op(op));
            }
        }
        prop_assert_eq!(compile_text(&reference), compile_text(&merged));
    }

    #[test]
    fn emitted_ops_parse_back_to_themselves(b in body(), clock in 0i64..1000, human in any::<bool>(), nonce in "[0-9a-f]{4}") {
        let op = make_op(&b, clock, &nonce, human, "2026-02-03T04:05:06Z");
        let text = emit_op(&op);
        for line in text.lines() {
            prop_assert!(line.ends_with(&format!("  # {nonce}")), "line without nonce: {:?}", line);
        }
        let back = oplog::parse_block(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, op);
    }

    #[test]
    fn fast_reader_agrees_with_the_yaml_parser(b in body(), clock in 0i64..1000, human in any::<bool>(), nonce in "[0-9a-f]{4}", cut in 0usize..400) {
        let op = make_op(&b, clock, &nonce, human, "2026-02-03T04:05:06Z");
        let text = emit_op(&op);
        // Whole blocks, and blocks cut short anywhere (as a torn write leaves them).
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        for candidate in [text.as_str(), &text[..end]] {
            if let Some(fast) = htrac::oplog::fast::parse_block(candidate) {
                let slow: Value = serde_norway::from_str(candidate).map_err(|e| TestCaseError::fail(format!("fast accepted what YAML rejects: {e}\n{candidate}")))?;
                prop_assert_eq!(&Value::Array(vec![Value::Object(fast)]), &slow, "{}", candidate);
            }
        }
        // Canonical output always takes the fast path, unless a field key
        // itself reads as null/bool/number (then it needs YAML's rules).
        let odd_key = match &b {
            Body::Set(m) => m.get("fields").and_then(Value::as_object).is_some_and(|f| {
                f.keys().any(|k| !matches!(htrac::oplog::fast::resolve_plain(k), Some(Value::String(_))))
            }),
            _ => false,
        };
        if !odd_key {
            prop_assert!(htrac::oplog::fast::parse_block(&text).is_some(), "slow path for canonical text:\n{}", text);
        }
    }

    #[test]
    fn create_ops_with_any_text_round_trip(title in text(), desc in text(), key in "[a-zA-Z_][a-zA-Z0-9_ -]{0,8}", val in text(), t in prop::collection::vec(tag(), 0..3)) {
        let mut op = create_op();
        let data = op.body.get_mut("data").unwrap();
        data["title"] = json!(title);
        data["description"] = json!(desc);
        data["tags"] = json!(t);
        data["fields"] = json!({ key: val });
        let text = emit_op(&op);
        let back = oplog::parse_block(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, op);
    }
}

#[test]
fn git_merge_with_union_keeps_both_sides_ops() {
    let env = common::Env::new();
    let id = env.add("shared item", &[]);
    let dir = env.path();
    common::git(dir, &["add", "-A"]);
    common::git(dir, &["commit", "-qm", "add item"]);
    common::git(dir, &["checkout", "-qb", "feature"]);
    env.run(&[
        "update",
        &id,
        "--priority",
        "0",
        "--add-tag",
        "from_feature",
    ])
    .ok();
    env.run(&["discuss", &id, "feature says hi", "--ack-thread"])
        .ok();
    common::git(dir, &["commit", "-qam", "feature work"]);
    common::git(dir, &["checkout", "-q", "dev"]);
    env.run(&[
        "update",
        &id,
        "--status",
        "in_progress",
        "--add-tag",
        "from_dev",
    ])
    .ok();
    env.run(&["discuss", &id, "dev says hi", "--ack-thread"])
        .ok();
    common::git(dir, &["commit", "-qam", "dev work"]);
    // Without merge=union this would conflict: both sides appended to one file.
    common::git(dir, &["merge", "-q", "--no-edit", "feature"]);
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(v["priority"], 0);
    assert_eq!(v["status"], "in_progress");
    let mut tags: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["from_dev", "from_feature"]);
    let msgs: Vec<&str> = v["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 2);
    assert!(msgs.contains(&"feature says hi") && msgs.contains(&"dev says hi"));
    // The next op's clock is above both branches' clocks.
    env.run(&["update", &id, "--priority", "1"]).ok();
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    let max = htrac::tracker::clock::max_clock(text.as_bytes());
    // create 1; feature 2, 3; dev sees the unmerged feature branch: 4, 5; then 6.
    assert_eq!(max, 6, "{text}");
}

#[test]
fn next_clock_reads_lamport_branches() {
    let env = common::Env::new();
    let id = env.add("clocked", &[]);
    let dir = env.path();
    common::git(dir, &["add", "-A"]);
    common::git(dir, &["commit", "-qm", "item"]);
    common::git(dir, &["checkout", "-qb", "main"]);
    for p in ["1", "2", "3", "4"] {
        env.run(&["update", &id, "--priority", p]).ok();
    }
    common::git(dir, &["commit", "-qam", "main moves on"]);
    common::git(dir, &["checkout", "-q", "dev"]);
    // dev's file only has clock 1, but `main` (a lamport branch) has 5.
    env.run(&["update", &id, "--priority", "0"]).ok();
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert_eq!(
        htrac::tracker::clock::max_clock(text.as_bytes()),
        6,
        "{text}"
    );
}
