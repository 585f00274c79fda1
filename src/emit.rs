//! Serializes an [`Op`] exactly as the reference writes it: canonical key
//! order, user strings double-quoted, `add`/`remove` lists in flow style,
//! block style elsewhere, nothing folded, and `  # <nonce>` on every line.
//!
//! This is a file format, not general YAML output, so it is written by hand;
//! the reader ([`crate::oplog`]) uses a real YAML parser, and property tests
//! check that everything emitted here parses back to the same op.

use serde_json::{Map, Value};

use crate::op::{Op, CREATE_DATA_ORDER};

/// Keys whose string values the reference always double-quotes.
const DOUBLE_QUOTED: &[&str] = &["title", "description", "message"];

/// How one scalar string is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// A string the user wrote: always `"..."`.
    Double,
    /// Any other string: bare when YAML would read it back as the same
    /// string, quoted otherwise.
    Plain,
}

/// One line of output before the nonce comment is added.
struct Lines(Vec<String>);

impl Lines {
    fn push(&mut self, indent: usize, text: String) {
        self.0.push(format!("{}{}", " ".repeat(indent), text));
    }
}

/// Renders one op as the text appended to an `.ops` file (ends with `\n`).
pub fn emit_op(op: &Op) -> String {
    let mut out = Lines(Vec::new());
    // The first key sits after the sequence dash; the rest are indented by 2.
    out.push(0, format!("- op: {}", scalar(&op.kind, Style::Plain, false)));
    out.push(2, format!("at: {}", scalar(&op.at, Style::Plain, false)));
    out.push(2, format!("by: {}", scalar(&op.by, Style::Plain, false)));
    out.push(2, format!("actor: {}", scalar(&op.actor, Style::Plain, false)));
    out.push(2, format!("clock: {}", op.clock));
    out.push(2, format!("nonce: {}", scalar(&op.nonce, Style::Plain, false)));
    emit_body(op, &mut out);

    let mut text = String::new();
    for line in out.0 {
        let line = line.trim_end();
        if line.is_empty() {
            text.push('\n');
            continue;
        }
        text.push_str(line);
        text.push_str("  # ");
        text.push_str(&op.nonce);
        text.push('\n');
    }
    text
}

fn emit_body(op: &Op, out: &mut Lines) {
    let b = &op.body;
    match op.kind.as_str() {
        "create" => {
            if let Some(data) = b.get("data") {
                match data.as_object() {
                    Some(data) => {
                        let mut ordered: Vec<(&str, &Value)> = Vec::new();
                        for key in CREATE_DATA_ORDER {
                            if let Some(v) = data.get(*key) {
                                ordered.push((key, v));
                            }
                        }
                        for (k, v) in data {
                            if !CREATE_DATA_ORDER.contains(&k.as_str()) {
                                ordered.push((k, v));
                            }
                        }
                        out.push(2, "data:".into());
                        for (k, v) in ordered {
                            emit_user_entry(k, v, 4, out);
                        }
                    }
                    None => emit_entry("data", data, 2, Style::Plain, out),
                }
            }
        }
        "update" => {
            if let Some(set) = b.get("set") {
                match set.as_object() {
                    Some(set) => emit_user_map("set", set, 2, out),
                    None => emit_entry("set", set, 2, Style::Plain, out),
                }
            }
            for key in ["add", "remove"] {
                if let Some(v) = b.get(key) {
                    match v.as_object() {
                        Some(m) if !m.is_empty() => {
                            out.push(2, format!("{key}:"));
                            for (k, v) in m {
                                match v {
                                    Value::Array(items) => out.push(4, format!("{}: {}", key_text(k), flow_seq(items))),
                                    other => emit_entry(k, other, 4, Style::Plain, out),
                                }
                            }
                        }
                        _ => emit_entry(key, v, 2, Style::Plain, out),
                    }
                }
            }
        }
        "discuss" | "discuss_summarize" => {
            if let Some(v) = b.get("message") {
                emit_entry("message", v, 2, Style::Double, out);
            }
        }
        "lock" | "unlock" => {
            if let Some(v) = b.get(op.kind.as_str()) {
                emit_entry(&op.kind, v, 2, Style::Plain, out);
            }
        }
        "reconcile" => {
            if let Some(v) = b.get("from_tier") {
                emit_entry("from_tier", v, 2, Style::Plain, out);
            }
            if let Some(v) = b.get("reason") {
                emit_entry("reason", v, 2, Style::Double, out);
            }
        }
        "edit-mode-on" => {
            for key in ["ttl_seconds", "cap_max"] {
                if let Some(v) = b.get(key) {
                    emit_entry(key, v, 2, Style::Plain, out);
                }
            }
        }
        "delete-msg" | "undelete-msg" | "edit-msg-text" => {
            for key in ["item", "target_nonce"] {
                if let Some(v) = b.get(key) {
                    emit_entry(key, v, 2, Style::Plain, out);
                }
            }
            if op.kind == "edit-msg-text" {
                if let Some(v) = b.get("new_text") {
                    emit_entry("new_text", v, 2, Style::Double, out);
                }
            }
            if let Some(v) = b.get("reason") {
                emit_entry("reason", v, 2, Style::Double, out);
            }
        }
        "edit-mode-off" | "discuss_clear" | "promote" | "demote" | "stealth" | "unstealth" => {}
        _ => {
            // An op kind we do not know: keep every key, in order.
            for (k, v) in b {
                emit_entry(k, v, 2, Style::Plain, out);
            }
        }
    }
}

/// A `set:` mapping: user strings double-quoted, `fields` values too.
fn emit_user_map(key: &str, map: &Map<String, Value>, indent: usize, out: &mut Lines) {
    if map.is_empty() {
        out.push(indent, format!("{}: {{}}", key_text(key)));
        return;
    }
    out.push(indent, format!("{}:", key_text(key)));
    for (k, v) in map {
        emit_user_entry(k, v, indent + 2, out);
    }
}

/// One key of `data:` or `set:`: title/description/message strings are
/// double-quoted, and so is every string directly inside `fields`.
fn emit_user_entry(key: &str, value: &Value, indent: usize, out: &mut Lines) {
    if key == "fields" {
        if let Value::Object(fields) = value {
            if fields.is_empty() {
                out.push(indent, "fields: {}".into());
            } else {
                out.push(indent, "fields:".into());
                for (fk, fv) in fields {
                    emit_entry(fk, fv, indent + 2, Style::Double, out);
                }
            }
            return;
        }
    }
    let style = if DOUBLE_QUOTED.contains(&key) { Style::Double } else { Style::Plain };
    emit_entry(key, value, indent, style, out);
}

/// `key: value` in block style. `style` applies to a string value itself;
/// strings nested deeper are written plain, as the reference does.
fn emit_entry(key: &str, value: &Value, indent: usize, style: Style, out: &mut Lines) {
    let k = key_text(key);
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push(indent, format!("{k}:"));
            for (ck, cv) in m {
                emit_entry(ck, cv, indent + 2, Style::Plain, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(indent, format!("{k}:"));
            // Block sequences under a mapping key sit at the key's column.
            emit_seq_items(items, indent, out);
        }
        Value::Null => out.push(indent, format!("{k}:")),
        other => out.push(indent, format!("{k}: {}", inline(other, style, false))),
    }
}

fn emit_seq_items(items: &[Value], indent: usize, out: &mut Lines) {
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                let mut first = true;
                for (ck, cv) in m {
                    let mut sub = Lines(Vec::new());
                    emit_entry(ck, cv, 0, Style::Plain, &mut sub);
                    for line in sub.0 {
                        if first {
                            out.push(indent, format!("- {line}"));
                            first = false;
                        } else {
                            out.push(indent + 2, line);
                        }
                    }
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut sub = Lines(Vec::new());
                emit_seq_items(inner, 0, &mut sub);
                for (i, line) in sub.0.into_iter().enumerate() {
                    if i == 0 {
                        out.push(indent, format!("- {line}"));
                    } else {
                        out.push(indent + 2, line);
                    }
                }
            }
            Value::Null => out.push(indent, "-".into()),
            other => out.push(indent, format!("- {}", inline(other, Style::Plain, false))),
        }
    }
}

/// A value on one line: scalars, `[]`, `{}`.
fn inline(value: &Value, style: Style, in_flow: bool) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => scalar(s, style, in_flow),
        Value::Array(items) => flow_seq(items),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), inline(v, Style::Plain, true)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A flow sequence on one line: `[a, b]`.
fn flow_seq(items: &[Value]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|v| match v {
            Value::Null => "null".to_string(),
            other => inline(other, Style::Plain, true),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn key_text(key: &str) -> String {
    scalar(key, Style::Plain, false)
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    python_float_yaml(f)
}

/// A float as the reference's YAML writer shows it (`repr`, lower-cased,
/// with `.0` before an exponent).
fn python_float_yaml(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let r = crate::ids::python_float_repr(f);
    if !r.contains('.') && r.contains('e') {
        r.replacen('e', ".0e", 1)
    } else {
        r
    }
}

/// Writes a string scalar in the requested style.
fn scalar(s: &str, style: Style, in_flow: bool) -> String {
    match style {
        Style::Double => double_quoted(s),
        Style::Plain => {
            if plain_allowed(s, in_flow) && !resolves_to_non_string(s) {
                s.to_string()
            } else if single_quote_allowed(s) {
                format!("'{}'", s.replace('\'', "''"))
            } else {
                double_quoted(s)
            }
        }
    }
}

fn is_printable(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        && c != '\u{FEFF}'
}

/// The YAML emitter's scalar analysis: may `s` be written bare?
fn plain_allowed(s: &str, in_flow: bool) -> bool {
    if s.is_empty() {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    if chars[0] == ' ' || chars[chars.len() - 1] == ' ' {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_space = matches!(next, None | Some(' ') | Some('\t') | Some('\n') | Some('\r'));
        let preceded_by_space = i > 0 && matches!(chars[i - 1], ' ' | '\t' | '\n' | '\r');
        if !is_printable(c) || matches!(c, '\n' | '\r' | '\t' | '\u{85}' | '\u{2028}' | '\u{2029}') {
            return false;
        }
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                return false;
            }
            if (c == '?' || c == ':' || c == '-') && followed_by_space {
                return false;
            }
        } else {
            if in_flow && ",?[]{}".contains(c) {
                return false;
            }
            if c == ':' && (followed_by_space || in_flow) {
                return false;
            }
            if c == '#' && preceded_by_space {
                return false;
            }
        }
    }
    true
}

fn single_quote_allowed(s: &str) -> bool {
    !s.chars()
        .any(|c| !is_printable(c) || matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
        && !s.starts_with(' ')
        && !s.ends_with(' ')
}

/// Would a YAML reader take the bare text `s` for something other than a
/// string (null, bool, number, timestamp, merge key)? Then it must be quoted.
fn resolves_to_non_string(s: &str) -> bool {
    crate::yamlres::resolves_to_non_string(s)
}

/// A double-quoted scalar with the reference's escapes; never folded.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1B}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{A0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if ('\u{20}'..='\u{7E}').contains(&c)
                || ('\u{A1}'..='\u{D7FF}').contains(&c)
                || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
                || c >= '\u{10000}' =>
            {
                out.push(c)
            }
            c => {
                let n = c as u32;
                if n <= 0xFF {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xFFFF {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
        }
    }
    out.push('"');
    out
}
