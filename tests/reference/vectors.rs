//! Bit-for-bit agreement with the reference's writer and ID function, on
//! vectors produced by running the reference (`tests/fixtures/gen_vectors.py`).

use std::path::Path;

use htrac::oplog::op::Op;
use serde_json::Value;

fn fixture(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn op_from_json(v: &Value) -> Op {
    let mut body = v.as_object().unwrap().clone();
    let mut take = |k: &str| body.shift_remove(k);
    let kind = take("op").unwrap().as_str().unwrap().to_string();
    let at = take("at")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let by = take("by")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let actor = take("actor")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let clock = take("clock").and_then(|v| v.as_i64()).unwrap_or(0);
    let nonce = take("nonce")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    Op {
        kind,
        at,
        by,
        actor,
        clock,
        nonce,
        body,
    }
}

/// Vectors where the reference writes something that does not read back as
/// what it was given, and we deliberately write a correct form instead:
/// - NEL / LS / PS inside a bare-able string: the reference writes the raw
///   break plus indentation in single quotes, which reads back as a space;
///   we write a double-quoted escape (`\N`, `\L`, `\P`).
/// - a value ending in `# <nonce>`: the reference then omits the line's
///   nonce comment (and its `rstrip` eats a trailing U+3000); we always
///   write the comment.
/// - ops whose common keys have non-string types (`actor: true`,
///   `clock: 1.5`): our op model keeps those keys typed.
const DELIBERATE_DIVERGENCES: &[&str] = &[
    "plain_118_a\\x85b",
    "plain_119_a\\u2028b",
    "plain_candidates_lock_list",
    "plain_candidates_create_tags",
    "edge_single_quoted_nel_break",
    "edge_single_quoted_trailing_break",
    "edge_line_already_ends_with_nonce",
    "common_fields_odd_types",
    // `[:a, x]` / `[? a, x]`: bare in the reference's flow lists, unreadable
    // by PyYAML and libyaml; we quote a flow item starting with `:` or `?`.
    "plain_094_:a",
    "plain_097_?a",
    "plain_098_? a",
    // A bare value ending in U+3000: the reference's trailing trim eats it.
    "plain_135_a\\u3000",
    "edge_trailing_unicode_space_stripped",
    "create_fields_keys_needing_quotes",
];

#[test]
fn emitter_matches_reference_byte_for_byte() {
    let mut failures = Vec::new();
    let vectors = fixture("emit_vectors.json");
    assert!(vectors.len() >= 200);
    for v in &vectors {
        if DELIBERATE_DIVERGENCES.contains(&v["name"].as_str().unwrap()) {
            continue;
        }
        let op = op_from_json(&v["op"]);
        let ours = htrac::oplog::emit::emit_op(&op);
        let theirs = v["yaml"].as_str().unwrap();
        if ours != theirs {
            failures.push(format!("--- {}\nours:\n{ours}theirs:\n{theirs}", v["name"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn emitted_ops_parse_back_to_themselves() {
    for v in fixture("emit_vectors.json") {
        let op = op_from_json(&v["op"]);
        let text = htrac::oplog::emit::emit_op(&op);
        let back = htrac::oplog::parse_block(&text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", v["name"]));
        assert_eq!(back, op, "{}", v["name"]);
    }
}

#[test]
fn ids_match_reference() {
    let vectors = fixture("id_vectors.json");
    assert!(vectors.len() >= 40);
    for v in vectors {
        let id = htrac::items::ids::compute_id(
            v["prefix"].as_str().unwrap(),
            &v["data"],
            v["salt"].as_str().unwrap(),
        );
        assert_eq!(id, v["id"].as_str().unwrap(), "data {}", v["data"]);
    }
}
