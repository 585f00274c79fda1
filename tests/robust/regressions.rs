//! Inputs the fuzzers found (fuzz/README.md), kept as tests: each one broke
//! the round trip (parse → emit → parse), panicked in `compile`, or made
//! `compile` depend on the order of its ops.

use htrac::items::compile::compile;
use htrac::oplog;
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::{Op, Role};
use htrac::Tier;

fn round_trip(text: &str) {
    let log = oplog::parse("f.ops".as_ref(), text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!log.ops.is_empty());
    for (_, op) in log.ops {
        let emitted = emit_op(&op);
        let back = oplog::parse_block(&emitted).unwrap_or_else(|e| panic!("{e}\n{emitted}"));
        assert_eq!(back, op, "{emitted}");
        // Read as a whole file, the emitted op is exactly one op, nothing torn.
        let again = oplog::parse("g.ops".as_ref(), &emitted).unwrap();
        assert!(again.torn.is_empty(), "{emitted}");
        assert_eq!(again.ops.len(), 1);
    }
}

#[test]
fn unknown_keys_of_a_known_op_kind_survive() {
    round_trip("- op: update\n  t:\n");
    round_trip("- op: discuss\n  message: hi\n  mood: cheerful\n  extra: [1, 2]\n");
}

#[test]
fn odd_nonces_never_break_the_comment_of_a_line() {
    round_trip("- op: x\n  nonce: \"a\\nb\"\n");
    round_trip("- op: x\n  nonce: \"a b\"\n");
    round_trip("- op: x\n  nonce: \"\"\n");
    round_trip("- op: x\n  nonce: \"\\u2028\"\n");
}

#[test]
fn strings_our_reader_takes_for_numbers_are_quoted() {
    round_trip("- op: x\n  k: '.5e3'\n  j: '+.5E3'\n  l: '.0e0'\n");
}

#[test]
fn empty_data_stays_a_mapping() {
    round_trip("- op: create\n  data: {}\n");
}

#[test]
fn absurd_times_and_windows_do_not_overflow() {
    let text = "- op: create\n  at: '2022222222226-1-1T0:0'\n  by: human\n  data: {kind: work_item}\n\
                - op: edit-mode-on\n  at: '2026-01-01T00:00:00Z'\n  by: human\n  ttl_seconds: 9223372036854775807\n\
                - op: discuss\n  at: '2026-01-01T00:00:01Z'\n  by: human\n  nonce: abcd\n  message: m\n\
                - op: delete-msg\n  at: '2026-01-01T00:00:02Z'\n  by: human\n  target_nonce: abcd\n";
    let log = oplog::parse("f.ops".as_ref(), text).unwrap();
    let ops: Vec<_> = log.ops.into_iter().map(|(_, o)| o).collect();
    let item = compile("WI-x", Tier::Workspace, &ops).unwrap();
    // The window is open (forever): the message is tombstoned.
    assert!(item.discussion[0].is_tombstoned);
}

fn all_orders_compile_alike(ops: &[Op]) -> htrac::Item {
    let first = compile("WI-x", Tier::Workspace, ops).unwrap();
    let n = ops.len();
    // Every rotation and its reverse.
    for r in 0..n {
        let mut v = ops.to_vec();
        v.rotate_left(r);
        for w in [v.clone(), v.into_iter().rev().collect()] {
            assert_eq!(compile("WI-x", Tier::Workspace, &w).unwrap(), first);
        }
    }
    first
}

/// compile_ops: two non-human ops equal in all but `by` (`agent` and `""`)
/// sorted by file order, and an exact duplicate interleaved between them
/// was counted twice.
#[test]
fn ops_differing_only_in_by_fold_in_one_order_and_duplicates_count_once() {
    let create = Op::new("create", "2026-01-01T00:00:00Z", Role::Human, "a", 0, "c")
        .with("data", serde_json::json!({"kind": "work_item"}));
    let a = Op::new("discuss", "2026-01-01T00:01:00Z", Role::Agent, "a", 2, "n")
        .with("message", "m".into());
    let mut b = a.clone();
    b.by = String::new();
    let ops = [create, a.clone(), b, a];
    let item = all_orders_compile_alike(&ops);
    assert_eq!(item.op_count, 3);
    assert_eq!(item.discussion.len(), 2);
}

/// oplog_parse: a raw U+2028 / U+2029 inside a quoted scalar is a line
/// break to YAML (the spaces before it fold away); the fast reader kept the
/// text as it was, so the two readers disagreed.
#[test]
fn unicode_line_separators_in_quotes_read_as_yaml_reads_them() {
    for text in [
        "- op: x  # n1\n  k: \"a \u{2029}b\"  # n1\n",
        "- op: x  # n1\n  k: 'a \u{2028}b'  # n1\n",
        "- op: x  # n1\n  k: [\"a \u{2029}b\"]  # n1\n",
    ] {
        let yaml = oplog::parse_block_yaml(text);
        assert!(yaml.is_ok(), "{text:?}");
        assert_eq!(oplog::parse_block(text), yaml, "{text:?}");
    }
}

/// config_load: a kind without a `prefix` took the first three letters of
/// its name unchecked, so a kind named `""` or `a-b` got the prefix `""` or
/// `A-B`, which an explicit prefix may not be (IDs would not parse).
#[test]
fn a_derived_kind_prefix_is_checked_like_an_explicit_one() {
    use htrac::config::{Config, Source};
    for kinds in ["{'': {}}", "{a-b: {}}", "{x-: {description: d}}"] {
        let text =
            format!("kinds: {kinds}\nstatuses: [a]\nstop_hook: {{blocking_statuses: [a]}}\n");
        let e = Config::parse(&text, Source::Defaults).unwrap_err();
        assert!(
            e.key.starts_with("kinds.") && e.key.ends_with(".prefix"),
            "{e}"
        );
    }
    let ok = "kinds: {bug: {}}\nstatuses: [a]\nstop_hook: {blocking_statuses: [a]}\n";
    assert_eq!(
        Config::parse(ok, Source::Defaults).unwrap().kinds[0].prefix,
        "BUG"
    );
}

/// oplog_parse: more than one space after `key:` (or `- `) is skipped by
/// YAML, but the fast reader kept the extra spaces in a plain value.
#[test]
fn extra_spaces_before_a_plain_value_are_not_part_of_it() {
    for text in [
        "- op: x  # 0bd6\n  nonce:  bd6  # 0bd6\n",
        "- op: x  # n1\n  k:   v w  # n1\n",
        "- op: x  # n1\n  k:\n  -  v  # n1\n",
        "- op: x  # n1\n  k: [ v, w]  # n1\n",
        "- op: x  # n1\n  k: [v,, w]  # n1\n",
    ] {
        let yaml = oplog::parse_block_yaml(text);
        assert_eq!(oplog::parse_block(text), yaml, "{text:?}");
    }
    let op = oplog::parse_block("- op: x  # 0bd6\n  nonce:  bd6  # 0bd6\n").unwrap();
    assert_eq!(op.nonce, "bd6");
}

/// oplog_parse: a control character in the `# nonce` comment: YAML rejects
/// the block, the fast reader (which only looked at values) accepted it.
#[test]
fn control_characters_in_a_comment_are_left_to_yaml() {
    for text in [
        "- op: x  # n\u{14}#int \n",
        "- op: x  # n\u{7f}\n",
        "- op: x  # n\u{85}y\n",
        "- op: x  # n\u{2028}y\n",
        "- op: x  # n1\n  k: v\u{ffff}  # n1\n",
    ] {
        assert_eq!(
            oplog::parse_block(text),
            oplog::parse_block_yaml(text),
            "{text:?}"
        );
    }
}

/// merge_union, 3.7 M executions in: a list item holding `:?` was written
/// bare in a flow list (`before: [2026-01-01T001:':?]`), as the reference
/// writes it, and then no YAML reader built on libyaml (ours, or the
/// reference's own PyYAML loader) could read the file back.
#[test]
fn a_colon_before_a_flow_indicator_is_quoted_in_a_flow_list() {
    for s in [
        "2026-01-01T001:':?",
        "a:?b",
        "a:?",
        "x:,y",
        "x:]y",
        "x:{y",
        "x:[y",
    ] {
        let text = format!(
            "- op: update\n  at: '2026-01-01T00:00:00Z'\n  by: agent\n  actor: a\n  clock: 1\n  nonce: n\n  set: {{}}\n  add:\n    before: [\"{s}\", plain]\n"
        );
        round_trip(&text);
        let op = oplog::parse_block(&text).unwrap();
        let emitted = emit_op(&op);
        assert!(!emitted.contains(&format!("[{s},")), "{emitted}");
        // Whole-file parsing goes through the same reader as a real file.
        let log = oplog::parse("h.ops".as_ref(), &emitted).unwrap();
        assert_eq!(log.ops.len(), 1);
    }
    // A colon followed by anything else stays bare, as the reference writes it.
    let op = oplog::parse_block(
        "- op: update\n  at: '2026-01-01T00:00:00Z'\n  by: agent\n  actor: a\n  clock: 1\n  nonce: n\n  set: {}\n  add:\n    tags: [a:b]\n",
    )
    .unwrap();
    assert!(emit_op(&op).contains("tags: [a:b]"), "{}", emit_op(&op));
}

/// oplog_parse, 10 M executions in: a key of a flow mapping inside a flow
/// list was judged as if in block context and written bare
/// (`[{c:b], {ah b, c: x}]`), which no reader takes back.
#[test]
fn keys_inside_a_flow_mapping_are_quoted_by_flow_rules() {
    round_trip(
        "- op: update\n  add:\n    l: [{a: 1, b: [1, {\"c:b], {ah b, c\": \"null}, [], {}, '']\"}]}]\n",
    );
    round_trip("- op: update\n  set:\n    l: [{\"a,b\": 1, \"[k]\": 2, \"x:?\": 3, \"p:q\": 4}]\n");
}
