//! The fast op reader's split form (`fast::parse_op`: header values apart,
//! the body, the keys as written, the comment every line carries) and the
//! keyed read `validate` uses (`oplog::parse_block_keyed`) against the YAML
//! parser, on blocks whose header keys come in any order, any number of
//! times, with values of any type, null or absent: every block either goes
//! to the YAML parser or reads exactly as it reads it.

use htrac::oplog;
use htrac::oplog::fast;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// One `key: value` line (or a key and its block below, indented).
fn line() -> impl Strategy<Value = String> {
    let value = |pool: &'static [&'static str]| prop::sample::select(pool.to_vec());
    prop_oneof![
        value(&[
            "create",
            "update",
            "discuss",
            "lock",
            "\"update\"",
            "",
            "null",
            "5",
            "[a]"
        ])
        .prop_map(|v| format!("op: {v}")),
        value(&[
            "'2026-01-05T10:00:00Z'",
            "2026-01-05T10:00:00Z",
            "'2026-01-05 10:00:00+00:00'",
            "",
            "12",
            "~"
        ])
        .prop_map(|v| format!("at: {v}")),
        value(&["agent", "human", "true", "", "'human'", "1.5"]).prop_map(|v| format!("by: {v}")),
        value(&["a", "dev_agent", "'1'", "null", "", "7"]).prop_map(|v| format!("actor: {v}")),
        value(&[
            "3",
            "-1",
            "'3'",
            "3.5",
            "",
            "0x10",
            "99999999999999999999",
            "false"
        ])
        .prop_map(|v| format!("clock: {v}")),
        value(&["1a2b", "1234", "'1a2b'", "", "true", "1e3", "0012", "[1]"])
            .prop_map(|v| format!("nonce: {v}")),
        value(&["hi", "'it''s'", "\"a \\\"b\\\"\"", "[a, b]", "", "{}"])
            .prop_map(|v| format!("message: {v}")),
        value(&[
            "set:\n  status: done",
            "set:\n  tags:\n  - x\n  - 'y'",
            "set: {}",
            "add:\n  tags: [a, 1, null]",
            "data:\n  title: t\n  fields:\n    k: 1",
            "lock: [title]",
            "extra: 1",
            "null: 1",
        ])
        .prop_map(str::to_string),
    ]
}

/// A block of `lines` (the first starting `- `), each line ending with the
/// comment `tails` gives it (cycled).
fn block(lines: &[String], tails: &[&str]) -> String {
    let mut out = String::new();
    let mut tail = tails.iter().cycle();
    for (i, l) in lines.iter().flat_map(|l| l.split('\n')).enumerate() {
        let lead = if i == 0 { "- " } else { "  " };
        out.push_str(&format!("{lead}{l}{}\n", tail.next().expect("cycled")));
    }
    out
}

proptest! {
    #![proptest_config(crate::proptest_config(1000))]

    #[test]
    fn keyed_reads_agree_with_the_yaml_parser(
        lines in prop::collection::vec(line(), 1..10),
        tails in prop::collection::vec(
            prop::sample::select(vec!["  # 1a2b", "  # 1a2b", "  # 1234", "  # 1a2b ", "", "  # x y"]),
            1..3,
        ),
        cut in 0usize..300,
    ) {
        let text = block(&lines, &tails);
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        for candidate in [text.as_str(), &text[..end]] {
            let yaml = oplog::parse_block_yaml(candidate);
            let keyed = oplog::parse_block_keyed(candidate);
            // The keyed read gives the op every reader gets, error or not.
            prop_assert_eq!(keyed.as_ref().map(|k| &k.op), yaml.as_ref(), "{}", candidate);
            prop_assert_eq!(&oplog::parse_block(candidate), &yaml, "{}", candidate);
            let Some(parts) = fast::parse_op(candidate) else {
                prop_assert!(fast::parse_block(candidate).is_none(), "{}", candidate);
                continue;
            };
            // What the fast reader accepts, YAML reads as one mapping with
            // the same keys, in the same order, null where it says so.
            let slow: Value = serde_norway::from_str(candidate)
                .map_err(|e| TestCaseError::fail(format!("fast accepted what YAML rejects: {e}\n{candidate}")))?;
            let map = slow.as_array().and_then(|a| a.first()).and_then(Value::as_object).cloned().unwrap_or_default();
            let yaml_keys: Vec<(&str, bool)> = map.iter().map(|(k, v)| (k.as_str(), v.is_null())).collect();
            let fast_keys: Vec<(&str, bool)> = parts.keys.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
            prop_assert_eq!(&fast_keys, &yaml_keys, "{}", candidate);
            // Put back together, the parts are the mapping (and fast::parse_block's).
            let mut whole = Map::new();
            let mut body = parts.body.clone().into_iter();
            for &(k, _) in &fast_keys {
                match fast::HEADER_KEYS.iter().position(|h| *h == k) {
                    Some(i) => whole.insert(k.to_string(), parts.header[i].clone().expect("written")),
                    None => {
                        let (bk, bv) = body.next().expect("a body key");
                        prop_assert_eq!(bk.as_str(), k);
                        whole.insert(bk, bv)
                    }
                };
            }
            prop_assert_eq!(&whole, &map, "{}", candidate);
            prop_assert_eq!(fast::parse_block(candidate), Some(map.clone()), "{}", candidate);
            // The comment is every line's text after its last `  # `.
            for l in candidate.lines().filter(|l| !l.is_empty()) {
                let at = l.rfind("  # ").expect("a comment on every line");
                prop_assert_eq!(&l[at + 4..], parts.comment, "{}", candidate);
            }
            // (An op the block does not make, `missing field 'op'` say, is
            // the same error both ways: checked above.)
            let Ok(keyed) = keyed else {
                continue;
            };
            prop_assert_eq!(keyed.comment, Some(parts.comment));
            let keys: Vec<(&str, bool)> = keyed.keys.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
            prop_assert_eq!(keys, yaml_keys);
        }
    }
}

#[test]
fn a_block_as_writers_write_it_takes_the_fast_path() {
    let text = block(
        &[
            "op: update".into(),
            "at: '2026-01-05T10:00:00Z'".into(),
            "by: agent".into(),
            "actor: a".into(),
            "clock: 3".into(),
            "nonce: 1a2b".into(),
            "set:\n  status: done".into(),
        ],
        &["  # 1a2b"],
    );
    let parts = fast::parse_op(&text).expect("the fast path");
    assert_eq!(parts.comment, "1a2b");
    assert_eq!(parts.keys.len(), 7);
    assert_eq!(parts.header[5], Some(Value::String("1a2b".into())));
    assert_eq!(parts.body.len(), 1);
}
