//! One op block into an [`Op`]: the canonical layout by the fast reader
//! ([`super::fast`]), anything else by the YAML parser — the reference the
//! fast reader is held to — and the header's keys typed as an op holds
//! them; and the nesting guard every text passes before the YAML parser
//! sees it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::blocks::trailing_nonce;
use super::op::Op;
use super::MAX_FLOW_DEPTH;

/// Parses one `- op: ...` block into an [`Op`]: the canonical layout by the
/// fast reader, anything else by the YAML parser.
pub fn parse_block(text: &str) -> Result<Op, String> {
    match super::fast::parse_op(text) {
        Some(parts) => op_from_parts(text, parts.header, parts.body),
        None => parse_block_yaml(text),
    }
}

/// The keys of an op as written, in order, each with whether its value is
/// null (the parsed [`Op`] no longer knows which header keys were absent).
pub type WrittenKeys<'a> = Vec<(Cow<'a, str>, bool)>;

/// An op as `validate` reads it: the op, its keys as written, and the
/// comment every line of its block carries, when the fast reader read it
/// (each line's text after its last `  # `).
#[derive(Debug)]
pub struct Keyed<'a> {
    pub op: Op,
    pub keys: WrittenKeys<'a>,
    pub comment: Option<&'a str>,
}

/// [`parse_block`], also giving the op's keys as written (what `validate`
/// judges the layout by).
pub fn parse_block_keyed(text: &str) -> Result<Keyed<'_>, String> {
    if let Some(parts) = super::fast::parse_op(text) {
        return Ok(Keyed {
            op: op_from_parts(text, parts.header, parts.body)?,
            keys: parts.keys,
            comment: Some(parts.comment),
        });
    }
    let map = yaml_map(text)?;
    let keys = map
        .iter()
        .map(|(k, v)| (Cow::Owned(k.clone()), v.is_null()))
        .collect();
    Ok(Keyed {
        op: op_from_map(text, map)?,
        keys,
        comment: None,
    })
}

/// Parses one block with the YAML parser only (the reference for the fast reader).
pub fn parse_block_yaml(text: &str) -> Result<Op, String> {
    op_from_map(text, yaml_map(text)?)
}

/// The mapping of a block's one op, by the YAML parser.
fn yaml_map(text: &str) -> Result<Map<String, Value>, String> {
    check_flow_depth(text)?;
    let value: Value = serde_norway::from_str(text).map_err(|e| format!("malformed YAML: {e}"))?;
    let mut items = match value {
        Value::Array(items) => items,
        _ => return Err("expected a YAML sequence item".into()),
    };
    if items.len() != 1 {
        return Err(format!(
            "expected one op in the block, found {}",
            items.len()
        ));
    }
    let Value::Object(map) = items.remove(0) else {
        return Err("an op must be a mapping of keys to values".into());
    };
    Ok(map)
}

/// Refuses text whose flow collections nest deeper than [`MAX_FLOW_DEPTH`],
/// in one linear pass, so the YAML parser never sees a nesting bomb. Call
/// it before handing any op text to the parser.
///
/// Only real flow collections count: a `[` or `{` where a node may begin
/// (after `: `, `- `, at a line's start, or inside a flow collection). The
/// brackets inside plain scalars (`title: a{b`), quoted scalars, comments
/// and block scalars (`description: |` and its more-indented lines) are
/// text. Inside a flow collection every bracket counts (over-counting there
/// can only refuse, never let a bomb through).
pub fn check_flow_depth(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let blank_after = |i: usize| matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    let mut i = 0;
    let mut depth = 0usize;
    // A node may begin at the next non-blank byte.
    let mut start = true;
    let mut line_start = 0;
    let mut at_line_start = true;
    // Column of the first node on this line (block context), and the column
    // a block scalar's content must be indented beyond.
    let mut node_col: Option<usize> = None;
    let mut block_scalar: Option<usize> = None;
    while i < b.len() {
        if at_line_start {
            line_start = i;
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            if let Some(parent) = block_scalar {
                let blank = matches!(b.get(i), None | Some(b'\n' | b'\r'));
                if blank || i - line_start > parent {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                block_scalar = None;
            }
            at_line_start = false;
            node_col = None;
            if depth == 0 {
                start = true;
            }
            continue;
        }
        let c = b[i];
        match c {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        if start {
            if depth == 0 && node_col.is_none() && !(matches!(c, b'-' | b'?') && blank_after(i)) {
                node_col = Some(i - line_start);
            }
            match c {
                b'"' | b'\'' => {
                    i += 1;
                    while i < b.len() {
                        match b[i] {
                            b'\\' if c == b'"' => i += 1,
                            b'\'' if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                            q if q == c => break,
                            _ => {}
                        }
                        i += 1;
                    }
                    i += 1;
                    start = false;
                    continue;
                }
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err(format!(
                            "values nested deeper than {MAX_FLOW_DEPTH} levels are refused"
                        ));
                    }
                    i += 1;
                    continue;
                }
                b'|' | b'>' if depth == 0 => {
                    block_scalar = Some(node_col.unwrap_or(0));
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'-' | b'?' if depth == 0 && blank_after(i) => {
                    i += 1;
                    continue;
                }
                // A tag or an anchor comes before the node it names.
                b'!' | b'&' => {
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                    continue;
                }
                _ => start = false,
            }
        }
        match c {
            // A key's end (in flow, or after a quoted key, even without a space).
            b':' if blank_after(i) || depth > 0 || (i > 0 && matches!(b[i - 1], b'"' | b'\'')) => {
                start = true
            }
            b'[' | b'{' if depth > 0 => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(format!(
                        "values nested deeper than {MAX_FLOW_DEPTH} levels are refused"
                    ));
                }
                start = true;
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' if depth > 0 => start = true,
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The op a block's mapping holds (`text`: the block, for a numeric nonce's
/// comment).
fn op_from_map(text: &str, mut map: Map<String, Value>) -> Result<Op, String> {
    let header = super::fast::HEADER_KEYS.map(|k| map.shift_remove(k));
    op_from_parts(text, header, map)
}

/// The op of a block's header values (in [`super::fast::HEADER_KEYS`] order, each
/// `None` when absent) and its other keys.
fn op_from_parts(
    text: &str,
    header: [Option<Value>; 6],
    body: Map<String, Value>,
) -> Result<Op, String> {
    let [op, at, by, actor, clock, nonce] = header;
    let kind = match op {
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("field 'op' must be a string, found {other}")),
        None => return Err("missing field 'op'".into()),
    };
    let at = take_string("at", at)?.unwrap_or_default();
    let by = take_string("by", by)?.unwrap_or_else(|| "agent".into());
    let actor = take_string("actor", actor)?.unwrap_or_default();
    let clock = match clock {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("field 'clock' must be an integer, found {n}"))?,
        Some(other) => return Err(format!("field 'clock' must be an integer, found {other}")),
    };
    let nonce = match nonce {
        Some(Value::String(s)) => s,
        // An unquoted all-digit nonce reads as a number: the comment keeps its text.
        Some(Value::Number(n)) => trailing_nonce(text.lines().next().unwrap_or(""))
            .map(str::to_string)
            .unwrap_or_else(|| n.to_string()),
        None | Some(Value::Null) => String::new(),
        Some(other) => return Err(format!("field 'nonce' must be a string, found {other}")),
    };
    Ok(Op {
        kind,
        at,
        by,
        actor,
        clock,
        nonce,
        body,
    })
}

fn take_string(key: &str, value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(format!("field '{key}' must be a string, found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nest(open: &str, n: usize) -> String {
        open.repeat(n)
    }

    #[test]
    fn flow_depth_counts_only_flow_collections() {
        let deep = MAX_FLOW_DEPTH + 10;
        // Text, not collections: every one parses, and is not refused.
        let fine = [
            // The fuzzer's finding: braces inside a plain scalar.
            format!("- op: reconcile  # 429a\n  at: 2026-01-01T00:00{}:00Z  # 429a\n  by: human  # 429a\n", nest("{", 100)),
            format!("- op: update\n  title: a{}b\n", nest("[", deep)),
            format!("- op: update\n  title: \"{}\"\n", nest("[{", deep)),
            format!("- op: update\n  title: '{}'' {}'\n", nest("{", deep), nest("[", deep)),
            format!("- op: update  # {}\n  x: 1\n", nest("[", deep)),
            format!("- op: update\n  description: |\n    {}\n    {}\n  by: human\n", nest("{", deep), nest("[", deep)),
            format!("- description: >-\n    {}\n  op: update\n", nest("[", deep)),
            format!("- op: update\n  tags: [{}{}]\n", nest("[", MAX_FLOW_DEPTH - 1), nest("]", MAX_FLOW_DEPTH - 1)),
        ];
        for text in &fine {
            assert_eq!(check_flow_depth(text), Ok(()), "{text}");
            serde_norway::from_str::<Value>(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        }
        // Real nesting, however it is introduced, is refused.
        let bombs = [
            format!("- op: update\n  x: {}\n", nest("[", deep)),
            format!("- op: update\n  x: {}\n", nest("{a: ", deep)),
            format!("- {}\n", nest("[", deep)),
            format!("- op: update\n  x: [\n{}\n", nest(" [\n", deep)),
            format!("- op: update\n  x: !!seq {}\n", nest("[", deep)),
            format!("- op: update\n  x: &a {}\n", nest("[", deep)),
            format!("- op: update\n  \"k\":{}\n", nest("[", deep)),
            // An apostrophe inside a plain scalar does not open a quote.
            format!("- op: update\n  title: it's\n  x: {}\n", nest("[", deep)),
            // A block scalar ends where the indentation does.
            format!(
                "- op: update\n  description: |\n    text\n  x: {}\n",
                nest("[", deep)
            ),
            format!("- op: update\n  tags: [{}]\n", nest("[", MAX_FLOW_DEPTH)),
        ];
        for text in &bombs {
            assert!(check_flow_depth(text).is_err(), "not refused: {text}");
        }
        assert_eq!(check_flow_depth(":"), Ok(()));
        assert_eq!(check_flow_depth(""), Ok(()));
    }
}
