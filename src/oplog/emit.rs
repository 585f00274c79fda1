//! Serializes an [`Op`] exactly as the reference writes it: canonical key
//! order, user strings double-quoted, `add`/`remove` lists in flow style,
//! block style elsewhere, nothing folded, and `  # <nonce>` on every line.
//!
//! This is a file format, not general YAML output, so it is written by hand;
//! the reader ([`crate::oplog`]) uses a real YAML parser, and property tests
//! check that everything emitted here parses back to the same op.

use serde_json::{Map, Value};

use crate::oplog::op::{Op, ITEM_FIELDS};

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
    out.push(
        0,
        format!("- op: {}", scalar(&op.kind, Style::Plain, false)),
    );
    out.push(2, format!("at: {}", scalar(&op.at, Style::Plain, false)));
    out.push(2, format!("by: {}", scalar(&op.by, Style::Plain, false)));
    out.push(
        2,
        format!("actor: {}", scalar(&op.actor, Style::Plain, false)),
    );
    out.push(2, format!("clock: {}", op.clock));
    out.push(
        2,
        format!("nonce: {}", scalar(&op.nonce, Style::Plain, false)),
    );
    emit_body(op, &mut out);

    let tag = comment_tag(&op.nonce);
    let mut text = String::new();
    for line in out.0 {
        let line = line.trim_end();
        if line.is_empty() {
            text.push('\n');
            continue;
        }
        text.push_str(line);
        text.push_str("  # ");
        text.push_str(&tag);
        text.push('\n');
    }
    text
}

/// The token of every line's `  # <nonce>` comment: the nonce itself, unless
/// it could break the line (empty, spaces, control or line-break characters;
/// only a hand-edited file has such a nonce), then a stable stand-in.
fn comment_tag(nonce: &str) -> String {
    if !nonce.is_empty()
        && nonce
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '\u{feff}')
    {
        return nonce.to_string();
    }
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(nonce.as_bytes());
    format!("x{:02x}{:02x}", d[0], d[1])
}

/// The payload: known keys in canonical order, then any other key as it
/// came (an op read from a newer writer keeps everything it had).
fn emit_body(op: &Op, out: &mut Lines) {
    let known = crate::oplog::op::payload_keys(&op.kind);
    for key in known {
        if let Some(v) = op.body.get(*key) {
            emit_known(key, v, out);
        }
    }
    for (k, v) in &op.body {
        if !known.contains(&k.as_str()) && k != crate::governance::signing::SIG_KEY {
            emit_entry(k, v, 2, Style::Plain, out);
        }
    }
    // The signature comes last, so that the signed bytes are the op's
    // lines without it ([`crate::governance::signing::message`]).
    if let Some(v) = op.body.get(crate::governance::signing::SIG_KEY) {
        emit_entry(crate::governance::signing::SIG_KEY, v, 2, Style::Plain, out);
    }
}

fn emit_known(key: &str, value: &Value, out: &mut Lines) {
    match (key, value) {
        ("data", Value::Object(data)) if !data.is_empty() => {
            out.push(2, "data:".into());
            for k in ITEM_FIELDS {
                if let Some(v) = data.get(*k) {
                    emit_user_entry(k, v, 4, out);
                }
            }
            for (k, v) in data {
                if !ITEM_FIELDS.contains(&k.as_str()) {
                    emit_user_entry(k, v, 4, out);
                }
            }
        }
        ("set", Value::Object(set)) => emit_user_map("set", set, 2, out),
        ("add" | "remove", Value::Object(m)) if !m.is_empty() => {
            out.push(2, format!("{key}:"));
            for (k, v) in m {
                match v {
                    Value::Array(items) => {
                        out.push(4, format!("{}: {}", key_text(k), flow_seq(items)))
                    }
                    other => emit_entry(k, other, 4, Style::Plain, out),
                }
            }
        }
        ("message" | "reason" | "new_text", v) => emit_entry(key, v, 2, Style::Double, out),
        (_, v) => emit_entry(key, v, 2, Style::Plain, out),
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
    let style = if DOUBLE_QUOTED.contains(&key) {
        Style::Double
    } else {
        Style::Plain
    };
    emit_entry(key, value, indent, style, out);
}

/// `key: value` in block style. `style` applies to a string value itself;
/// strings nested deeper are written plain, as the reference does.
fn emit_entry(key: &str, value: &Value, indent: usize, style: Style, out: &mut Lines) {
    let k = key_text(key);
    if is_complex_key(key) {
        // An explicit `? key` / `: value` pair, as the writer does for long
        // or multi-line keys.
        out.push(indent, format!("? {k}"));
        let mut sub = Lines(Vec::new());
        emit_value(value, 0, style, &mut sub);
        for (i, line) in sub.0.into_iter().enumerate() {
            if i == 0 {
                out.push(indent, format!(": {line}").trim_end().to_string());
            } else {
                out.push(indent + 2, line);
            }
        }
        return;
    }
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

/// A value on its own (after `: ` of an explicit key): a scalar, or a block.
fn emit_value(value: &Value, indent: usize, style: Style, out: &mut Lines) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (ck, cv) in m {
                emit_entry(ck, cv, indent, Style::Plain, out);
            }
        }
        Value::Array(items) if !items.is_empty() => emit_seq_items(items, indent, out),
        other => out.push(indent, inline(other, style, false)),
    }
}

/// Keys the writer cannot write as simple `key:` (too long, or multi-line).
fn is_complex_key(key: &str) -> bool {
    key.chars().count() > 122 || key.contains(['\n', '\u{85}', '\u{2028}', '\u{2029}'])
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
        Value::Null if in_flow => "null".into(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => scalar(s, style, in_flow),
        Value::Array(items) => flow_seq(items),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    // A key inside `{...}` is in flow context too.
                    let key = scalar_in(k, Style::Plain, true, true);
                    format!("{key}: {}", inline(v, Style::Plain, true))
                })
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
    scalar_in(key, Style::Plain, false, true)
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

/// A float as the reference's YAML writer shows it (Python's `repr`).
fn python_float_yaml(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    crate::items::ids::python_float_repr(f)
}

/// Writes a string scalar in the requested style, deciding between bare,
/// single- and double-quoted as the reference's writer (ruamel.yaml) does.
fn scalar(s: &str, style: Style, in_flow: bool) -> String {
    scalar_in(s, style, in_flow, false)
}

fn scalar_in(s: &str, style: Style, in_flow: bool, is_key: bool) -> String {
    if style == Style::Double {
        return double_quoted(s);
    }
    let a = analyze(s);
    // A trailing Unicode space (U+3000, NBSP, ...) would be eaten by the
    // line's trailing-space trim, as it is in the reference; quote it.
    let trailing_ws = s.chars().last().is_some_and(char::is_whitespace);
    let plain_ok = !trailing_ws
        && if in_flow {
            a.allow_flow_plain
        } else {
            a.allow_block_plain
        };
    if !resolves_to_non_string(s) && !(is_key && (s.is_empty() || a.multiline)) && plain_ok {
        return s.to_string();
    }
    // The reference single-quotes NEL / LS / PS as a raw break plus
    // indentation, which reads back as a space; we escape them instead.
    if s.contains(['\'', '\n', '\u{85}', '\u{2028}', '\u{2029}']) {
        return double_quoted(s);
    }
    if a.allow_single_quoted && !(is_key && a.multiline) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    double_quoted(s)
}

/// What the YAML emitter's scalar analysis allows for a string.
struct Analysis {
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

fn is_space_or_break(c: char) -> bool {
    matches!(
        c,
        '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// A port of ruamel.yaml's `Emitter.analyze_scalar` (YAML 1.2, unicode allowed).
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut block_ind, mut flow_ind, mut line_breaks, mut special) = (false, false, false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut followed_by_ws = chars.len() == 1 || is_space_or_break(chars[1]);
    let (mut prev_space, mut prev_break) = (false, false);
    let last = chars.len() - 1;
    for (i, &ch) in chars.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_ind = true;
                block_ind = true;
            }
            if ch == '?' || ch == ':' {
                // The reference writes `[:a, x]` and `[? a, x]` bare, which no
                // YAML reader takes back as strings (PyYAML rejects the whole
                // file); in flow context we quote them.
                flow_ind = true;
                if followed_by_ws {
                    block_ind = true;
                }
            }
            if ch == '-' && followed_by_ws {
                flow_ind = true;
                block_ind = true;
            }
        } else {
            if ",[]{}".contains(ch) {
                flow_ind = true;
            }
            if ch == ':' && followed_by_ws {
                flow_ind = true;
                block_ind = true;
            }
            // The reference writes `[a:?b]` bare (YAML 1.2 allows it), but
            // libyaml — its own reader and ours — refuses a `:` followed by
            // `,?[]{}` inside a flow collection (fuzz finding); quote it.
            if ch == ':' && chars.get(i + 1).is_some_and(|c| ",?[]{}".contains(*c)) {
                flow_ind = true;
            }
            if ch == '#' && preceded_by_ws {
                flow_ind = true;
                block_ind = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || ('\u{20}'..='\u{7E}').contains(&ch)) {
            let printable = (ch == '\u{85}'
                || ('\u{A0}'..='\u{D7FF}').contains(&ch)
                || ('\u{E000}'..='\u{FFFD}').contains(&ch)
                || ch >= '\u{10000}')
                && ch != '\u{FEFF}';
            if !printable {
                special = true;
            }
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(ch) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_space_or_break(ch);
        followed_by_ws = i + 2 > last || is_space_or_break(chars[i + 2]);
    }
    let (mut flow_plain, mut block_plain, mut single) = (true, true, true);
    if leading_space || leading_break || trailing_space || trailing_break {
        flow_plain = false;
        block_plain = false;
    }
    if break_space || special || space_break {
        flow_plain = false;
        block_plain = false;
        single = false;
    }
    if line_breaks {
        flow_plain = false;
        block_plain = false;
    }
    if flow_ind {
        flow_plain = false;
    }
    if block_ind {
        block_plain = false;
    }
    Analysis {
        multiline: line_breaks,
        allow_flow_plain: flow_plain,
        allow_block_plain: block_plain,
        allow_single_quoted: single,
    }
}

/// Would a YAML reader take the bare text `s` for something other than a
/// string (null, bool, number, timestamp, merge key)? Then it must be quoted.
fn resolves_to_non_string(s: &str) -> bool {
    // The reference's writer quotes by YAML 1.2's rules; our reader has its
    // own idea of a few numbers (`.5e3`), so quote what either would misread.
    crate::oplog::yamlres::resolves_to_non_string(s)
        || !matches!(crate::oplog::fast::resolve_plain(s), Some(Value::String(_)))
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
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if ('\u{20}'..='\u{7E}').contains(&c)
                || ('\u{A0}'..='\u{D7FF}').contains(&c)
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
