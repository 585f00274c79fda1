//! `--json` output exactly as the reference prints it (Python's `json.dumps`:
//! `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`, optionally
//! indented by 2), keeping key order. Byte-stable, so scripts may diff it.

use serde_json::Value;

/// One line, as `json.dumps(value)`.
pub fn compact(value: &Value) -> String {
    let mut out = String::new();
    write(value, None, 0, &mut out);
    out
}

/// Indented by two spaces, as `json.dumps(value, indent=2)`.
pub fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write(value, Some(2), 0, &mut out);
    out
}

/// [`pretty`] of the array of `items`, each made, written and dropped in
/// turn: a listing of 100,000 items never holds all their JSON values at
/// once (they took some 8 KB each beside the text printed).
pub fn pretty_array(items: impl IntoIterator<Item = Value>) -> String {
    let mut out = String::new();
    pretty_array_into(items, 0, &mut out);
    out
}

/// [`pretty_array`] at nesting `level` (a value of an object's key, say),
/// appended to `out`.
pub fn pretty_array_into(items: impl IntoIterator<Item = Value>, level: usize, out: &mut String) {
    array(items, Some(2), level, out);
}

/// [`pretty`] of a value at nesting `level`, appended to `out`; with
/// [`key_into`] and [`pretty_array_into`], an object is written key by key.
pub fn pretty_into(value: &Value, level: usize, out: &mut String) {
    write(value, Some(2), level, out);
}

/// The start of an indented object's `key` at nesting `level` (its
/// separator, line break and indentation, the key and `": "`): `first`
/// for its first key.
pub fn key_into(key: &str, first: bool, level: usize, out: &mut String) {
    write_key(key, first, Some(2), level, out);
}

/// The end of an indented object at nesting `level` that has keys.
pub fn end_object_into(level: usize, out: &mut String) {
    newline(Some(2), level, out);
    out.push('}');
}

fn newline(indent: Option<usize>, level: usize, out: &mut String) {
    if let Some(n) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

/// What comes before each element of an array or object: its opening
/// bracket or the separator, then the line break and indentation.
fn open_or_separate(
    bracket: char,
    first: bool,
    indent: Option<usize>,
    level: usize,
    out: &mut String,
) {
    if first {
        out.push(bracket);
    } else {
        out.push(',');
        if indent.is_none() {
            out.push(' ');
        }
    }
    newline(indent, level + 1, out);
}

/// An array of `items` at nesting `level` (`[]` when it has none).
fn array<V: std::borrow::Borrow<Value>>(
    items: impl IntoIterator<Item = V>,
    indent: Option<usize>,
    level: usize,
    out: &mut String,
) {
    let mut first = true;
    for item in items {
        open_or_separate('[', first, indent, level, out);
        first = false;
        write(item.borrow(), indent, level + 1, out);
    }
    if first {
        out.push_str("[]");
    } else {
        newline(indent, level, out);
        out.push(']');
    }
}

/// An object's key, before its value.
fn write_key(k: &str, first: bool, indent: Option<usize>, level: usize, out: &mut String) {
    open_or_separate('{', first, indent, level, out);
    out.push_str(&crate::items::ids::python_json(&Value::String(
        k.to_string(),
    )));
    out.push_str(": ");
}

fn write(value: &Value, indent: Option<usize>, level: usize, out: &mut String) {
    match value {
        Value::Array(items) => array(items, indent, level, out),
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                write_key(k, i == 0, indent, level, out);
                write(v, indent, level + 1, out);
            }
            newline(indent, level, out);
            out.push('}');
        }
        other => out.push_str(&crate::items::ids::python_json(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_array_written_item_by_item_is_the_array_written_whole() {
        for items in [
            vec![],
            vec![json!(1)],
            vec![
                json!({"id": "a", "tags": ["x", "é"], "e": []}),
                json!([]),
                json!({}),
            ],
        ] {
            assert_eq!(
                pretty_array(items.clone()),
                pretty(&Value::Array(items.clone()))
            );
        }
    }

    #[test]
    fn python_layout() {
        let v = json!({"ok": true, "changes": [{"field": "status", "detail": "a → b"}], "e": [], "o": {}});
        assert_eq!(
            compact(&v),
            r#"{"ok": true, "changes": [{"field": "status", "detail": "a \u2192 b"}], "e": [], "o": {}}"#
        );
        assert_eq!(
            pretty(&json!({"a": [1, 2], "b": []})),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}"
        );
    }
}
