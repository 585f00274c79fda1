//! Arbitrary bytes as an `.ops` file.
//!
//! Laws checked:
//! 1. `oplog::parse` never panics (errors are fine).
//! 2. `compile` never panics on the ops `parse` returns (`NoCreate` is fine).
//! 3. Round trip: for every parsed op, `emit_op` produces text that
//!    `parse_block` reads back as an equal op. Emitted text that does not
//!    parse at all is a finding too (the writer produced an unreadable op).
//! 4. The emitted block, read as a file on its own (`oplog::parse`, which is
//!    how `append`ed ops are read back), yields exactly that op and nothing torn.
//! 5. The fast reader agrees with the YAML parser: on every block of the
//!    input it accepts (`fast::parse_block` gives `Some`), and on every
//!    emitted block, `oplog::parse_block_yaml` gives the same op. So does
//!    the keyed read `validate` uses (`oplog::parse_block_keyed`), on every
//!    block the fast reader splits (`fast::parse_op`): the same op or the
//!    same error, and the keys as written are the YAML mapping's, in order,
//!    null where it is null.
#![no_main]

use std::path::Path;

use htrac::items::compile::compile;
use htrac::oplog;
use htrac::oplog::emit::emit_op;
use htrac::oplog::fast;
use htrac::oplog::op::Op;
use htrac::Tier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((texts, _torn)) = oplog::parse_texts(Path::new("fuzz.ops"), text) else {
        return;
    };
    for (_, block, op) in &texts {
        if fast::parse_block(block).is_some() {
            assert_eq!(
                oplog::parse_block_yaml(block).as_ref(),
                Ok(op),
                "FINDING: the fast reader and the YAML parser disagree\n{block}"
            );
        }
    }
    for block in oplog::blocks::Blocks::new(text) {
        let Some(parts) = fast::parse_op(block.text) else {
            continue;
        };
        let yaml = oplog::parse_block_yaml(block.text);
        let keyed = oplog::parse_block_keyed(block.text);
        assert_eq!(
            keyed.as_ref().map(|k| &k.op),
            yaml.as_ref(),
            "FINDING: the keyed read and the YAML parser disagree\n{}",
            block.text
        );
        let slow: serde_json::Value = serde_norway::from_str(block.text).unwrap_or_else(|e| {
            panic!("FINDING: the fast reader split what YAML rejects: {e}\n{}", block.text)
        });
        let map = slow
            .as_array()
            .and_then(|a| a.first())
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default();
        let yaml_keys: Vec<(&str, bool)> = map.iter().map(|(k, v)| (k.as_str(), v.is_null())).collect();
        let fast_keys: Vec<(&str, bool)> = parts.keys.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
        assert_eq!(
            fast_keys, yaml_keys,
            "FINDING: the fast reader's keys are not YAML's\n{}",
            block.text
        );
    }
    let ops: Vec<Op> = texts.into_iter().map(|(_, _, op)| op).collect();

    // Must not panic; NoCreate is an ordinary error.
    let _ = compile("WI-fuzz", Tier::Workspace, &ops);

    for op in &ops {
        let emitted = emit_op(op);
        let back = match oplog::parse_block(&emitted) {
            Ok(back) => back,
            Err(e) => panic!(
                "FINDING: emit_op produced text that parse_block rejects: {e}\n\
                 op: {op:#?}\nemitted:\n{emitted}"
            ),
        };
        assert_eq!(
            &back, op,
            "FINDING: round trip changed the op\nemitted:\n{emitted}"
        );
        assert_eq!(
            oplog::parse_block_yaml(&emitted).as_ref(),
            Ok(op),
            "FINDING: the YAML parser reads the emitted op differently\n{emitted}"
        );

        // The same text as a whole file (how an appended op is read back).
        match oplog::parse(Path::new("emitted.ops"), &emitted) {
            Ok(file) => {
                assert!(
                    file.torn.is_empty() && file.ops.len() == 1,
                    "FINDING: emitted op reads back as {} op(s) and {} torn block(s) \
                     when read as a file\nop: {op:#?}\nemitted:\n{emitted}",
                    file.ops.len(),
                    file.torn.len()
                );
                assert_eq!(
                    &file.ops[0].1, op,
                    "FINDING: emitted op read as a file is a different op\nemitted:\n{emitted}"
                );
            }
            Err(e) => panic!(
                "FINDING: emitted op does not read back as a file: {e}\n\
                 op: {op:#?}\nemitted:\n{emitted}"
            ),
        }
    }
});
