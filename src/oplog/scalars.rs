//! Scalars on one line of an op block, for the fast reader ([`super::fast`]):
//! quoted and plain scalars and flow lists, read exactly as the YAML parser
//! (`serde_norway` into JSON values) reads them, or `None` whenever the
//! text strays from what these rules cover — then the caller uses the YAML
//! parser. Plain scalars are resolved with a port of `serde_norway`'s own
//! rules.

use serde_json::{Map, Number, Value};

/// Keys we accept without the YAML parser: identifiers that read as strings.
pub(super) fn plain_key(key: &str) -> bool {
    key.as_bytes()
        .first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        && surely_string(key)
}

/// The plain scalars starting with a letter that YAML's core schema reads
/// as null or a boolean.
fn is_null_or_bool(s: &str) -> bool {
    matches!(
        s,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    )
}

/// True when the plain scalar `s` can only resolve to a string: it starts
/// with an ASCII letter and is no null or boolean word, or it starts with
/// `_` or a non-ASCII character. A quick answer, no allocation; `false`
/// means "ask [`resolve_plain`]".
///
/// Of the number parsers [`classify_plain`] tries, only Rust's `f64` one
/// reads anything starting with a letter (`inf`, `infinity`, `nan` in any
/// case), and what it reads then is not finite: a string either way.
fn surely_string(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(c) if c.is_ascii_alphabetic() => !is_null_or_bool(s),
        Some(c) => *c == b'_' || *c >= 0x80,
        None => false,
    }
}

/// A value on one line: quoted or plain scalar, flow list, `{}`.
pub(super) fn inline_value(s: &str) -> Option<Value> {
    match s.as_bytes().first()? {
        b'"' => {
            let (v, rest) = double_quoted(s)?;
            rest.is_empty().then_some(Value::String(v))
        }
        b'\'' => {
            let (v, rest) = single_quoted(s)?;
            rest.is_empty().then_some(Value::String(v))
        }
        b'[' => flow_seq(s),
        b'{' => (s == "{}").then(|| Value::Object(Map::new())),
        _ => {
            if !plain_ok(s, false) {
                return None;
            }
            resolve_plain(s)
        }
    }
}

/// Is `s` a plain scalar the YAML parser reads the simple way?
fn plain_ok(s: &str, in_flow: bool) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        // An empty item: YAML skips the spaces; leave that to it.
        return false;
    };
    // More than one space after `key:` or `- ` (or an empty item): YAML
    // skips the extra spaces; leave that to it.
    if first == b' ' {
        return false;
    }
    if matches!(
        first,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    if first == b'-' && (b.len() == 1 || b[1] == b' ') {
        return false;
    }
    if b.ends_with(b":") || b.ends_with(b" ") {
        return false;
    }
    if !in_flow && printable_ascii(b) {
        // The usual case: only `: ` and ` #` end such a scalar early.
        return memchr::memchr2_iter(b':', b'#', b).all(|i| match b[i] {
            b':' => b.get(i + 1) != Some(&b' '),
            _ => b[i - 1] != b' ',
        });
    }
    // `: `, ` #`, flow indicators in a flow list, and control characters
    // (C0, DEL, C1 including NEL), U+FEFF, U+2028, U+2029.
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        let bad = match c {
            b':' => next == Some(b' ') || in_flow,
            b' ' => next == Some(b'#'),
            b',' | b'[' | b']' | b'{' | b'}' | b'#' => in_flow,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(next, Some(0x80..=0x9f)),
            0xe2 => next == Some(0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)),
            0xef => next == Some(0xbb) && b.get(i + 2) == Some(&0xbf),
            _ => false,
        };
        if bad {
            return false;
        }
    }
    true
}

fn flow_seq(s: &str) -> Option<Value> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut rest = inner;
    if rest.is_empty() {
        return Some(Value::Array(items));
    }
    loop {
        let (item, after) = match rest.as_bytes().first()? {
            b'"' => {
                let (v, r) = double_quoted(rest)?;
                (Value::String(v), r)
            }
            b'\'' => {
                let (v, r) = single_quoted(rest)?;
                (Value::String(v), r)
            }
            b'[' | b'{' => return None,
            _ => {
                let end = rest.find(',').unwrap_or(rest.len());
                let text = &rest[..end];
                if !plain_ok(text, true) {
                    return None;
                }
                (resolve_plain(text)?, &rest[end..])
            }
        };
        items.push(item);
        if after.is_empty() {
            return Some(Value::Array(items));
        }
        rest = after.strip_prefix(", ")?;
        if rest.is_empty() || rest.starts_with(' ') {
            return None;
        }
    }
}

/// A raw character a quoted scalar may not hold for the fast reader: a
/// control character, or a Unicode line or paragraph separator, which YAML
/// reads as a line break (folding the spaces before it away).
fn unsafe_in_quotes(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// No character of `s` is [`unsafe_in_quotes`] (printable ASCII, the usual
/// case, is told by a byte scan).
fn safe_in_quotes(s: &str) -> bool {
    printable_ascii(s.as_bytes()) || !s.chars().any(unsafe_in_quotes)
}

/// Is every byte printable ASCII? (Eight bytes at a time: the usual case.)
pub(super) fn printable_ascii(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = b.chunks_exact(8);
    for w in words.by_ref() {
        let x = u64::from_ne_bytes(w.try_into().expect("eight bytes"));
        // A byte below 0x20 sets its high bit in `below`, a byte above 0x7e
        // (DEL, or not ASCII) in `above`; a carry or borrow out of a byte
        // can only follow one such byte, so neither is ever wrongly zero
        // or wrongly set when every byte is printable.
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let above = (x.wrapping_add(ONES) | x) & HIGH;
        if below | above != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&c| c.wrapping_sub(0x20) < 0x5f)
}

/// `'...'` at the start of `s`: the value and what follows the closing quote.
fn single_quoted(s: &str) -> Option<(String, &str)> {
    let body = &s[1..];
    // Most values hold no quote: up to the closing quote in one piece.
    if let Some(end) = memchr::memchr(b'\'', body.as_bytes()) {
        if body.as_bytes().get(end + 1) != Some(&b'\'') && safe_in_quotes(&body[..end]) {
            return Some((body[..end].to_string(), &body[end + 1..]));
        }
    }
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if let Some((_, '\'')) = chars.peek() {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, &body[i + 1..]));
        }
        if unsafe_in_quotes(c) {
            return None;
        }
        out.push(c);
    }
    None
}

/// `"..."` at the start of `s`, with YAML's escapes.
fn double_quoted(s: &str) -> Option<(String, &str)> {
    let body = &s[1..];
    // Most values have no escape: up to the closing quote in one piece.
    if let Some(end) = memchr::memchr2(b'"', b'\\', body.as_bytes()) {
        if body.as_bytes()[end] == b'"' && safe_in_quotes(&body[..end]) {
            return Some((body[..end].to_string(), &body[end + 1..]));
        }
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| -> Option<char> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(v)
                };
                out.push(match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            c if unsafe_in_quotes(c) => return None,
            c => out.push(c),
        }
    }
    None
}

/// A plain scalar's value, by `serde_norway`'s rules (YAML 1.2 core schema):
/// null, bool, integer (decimal, `0x`, `0o`, `0b`), finite float, else string.
/// `None` for numbers JSON values cannot hold the same way (let the YAML
/// parser decide).
pub fn resolve_plain(s: &str) -> Option<Value> {
    match classify_plain(s)? {
        Plain::Text => Some(Value::String(s.to_string())),
        Plain::Other(v) => Some(v),
    }
}

/// What a plain scalar resolves to ([`resolve_plain`] without making the
/// string).
pub(super) enum Plain {
    /// A string: the scalar's own text.
    Text,
    /// Null, a boolean or a number.
    Other(Value),
}

/// [`resolve_plain`], a string told apart without being made.
pub(super) fn classify_plain(s: &str) -> Option<Plain> {
    if surely_string(s) {
        return Some(Plain::Text);
    }
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Plain::Other(Value::Null));
    }
    match s {
        "true" | "True" | "TRUE" => return Some(Plain::Other(Value::Bool(true))),
        "false" | "False" | "FALSE" => return Some(Plain::Other(Value::Bool(false))),
        _ => {}
    }
    if let Some(u) = parse_unsigned(s) {
        return Some(Plain::Other(Value::Number(u.into())));
    }
    if let Some(n) = parse_negative(s) {
        return Some(Plain::Other(Value::Number(n.into())));
    }
    if too_wide_int(s) {
        return None; // an integer beyond i64/u64: the YAML parser's business
    }
    if !digits_but_not_number(s) {
        let unpositive = match s.strip_prefix('+') {
            Some(u) if u.starts_with(['+', '-']) => None,
            Some(u) => Some(u),
            None => Some(s),
        };
        if let Some(u) = unpositive {
            if matches!(u, ".inf" | ".Inf" | ".INF")
                || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
            {
                return None;
            }
            if let Ok(f) = u.parse::<f64>() {
                if f.is_finite() {
                    return Number::from_f64(f).map(|n| Plain::Other(Value::Number(n)));
                }
            }
        }
    }
    Some(Plain::Text)
}

/// Digits that form an integer (in some radix) that did not fit 64 bits.
fn too_wide_int(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = t.strip_prefix(prefix) {
            return !rest.is_empty() && rest.chars().all(|c| c.is_digit(radix));
        }
    }
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn radix_unsigned(s: &str) -> Option<u64> {
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(v) = u64::from_str_radix(rest, radix) {
                return Some(v);
            }
        }
    }
    None
}

fn parse_unsigned(s: &str) -> Option<u64> {
    let unpositive = s.strip_prefix('+').unwrap_or(s);
    if let Some(v) = radix_unsigned(unpositive) {
        return Some(v);
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(s) {
        return None;
    }
    unpositive.parse::<u64>().ok()
}

fn parse_negative(s: &str) -> Option<i64> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if let Ok(v) = i64::from_str_radix(&format!("-{rest}"), radix) {
                return Some(v);
            }
        }
    }
    if digits_but_not_number(s) {
        return None;
    }
    s.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(s: &str) -> Value {
        let v: Value = serde_norway::from_str(s).unwrap();
        v
    }

    #[test]
    fn plain_scalars_resolve_like_the_yaml_parser() {
        for s in [
            "8293",
            "0b9d",
            "0b11",
            "0x1f",
            "0o17",
            "017",
            "-017",
            "+5",
            "-5",
            "1e10",
            "2e71",
            "1.5",
            ".5",
            "5.",
            "-.5",
            "1_000",
            "yes",
            "no",
            "on",
            "y",
            "true",
            "True",
            "tRue",
            "null",
            "nULL",
            "~",
            "nan",
            "inf",
            "infinity",
            "NaN",
            "1e",
            "e5",
            "0x",
            "-0x1f",
            "+-1",
            "--1",
            "1.2.3",
            "2026-01-01",
            "12:30:00",
            "WI-foo",
            "todo_hard",
            "é",
            "+.5",
            "0",
            "-0",
            "+0",
            "00",
            "1E5",
            "1e+5",
            "1e-5",
            "0b2",
            "0o8",
            "+0x10",
        ] {
            let fast = resolve_plain(s);
            let expected = slow(s);
            if let Some(f) = fast {
                assert_eq!(f, expected, "{s}");
            }
        }
    }

    /// `plain_ok` as it was written first, char by char.
    fn plain_ok_by_chars(s: &str, in_flow: bool) -> bool {
        let first = s.chars().next().unwrap_or(' ');
        if first == ' ' {
            return false;
        }
        if "?:,[]{}#&*!|>'\"%@`".contains(first) || s.starts_with("---") || s.starts_with("...") {
            return false;
        }
        if first == '-' && (s.len() == 1 || s[1..].starts_with(' ')) {
            return false;
        }
        if s.contains(": ") || s.ends_with(':') || s.contains(" #") || s.ends_with(' ') {
            return false;
        }
        if in_flow && s.contains([',', '[', ']', '{', '}', ':', '#']) {
            return false;
        }
        !s.chars().any(|c| {
            c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}'
        })
    }

    proptest::proptest! {
        #[test]
        fn printable_ascii_is_told_word_by_word_as_byte_by_byte(
            b in proptest::collection::vec(proptest::prop_oneof![0x1eu8..=0x21, 0x7du8..=0x81, proptest::strategy::Just(0xffu8), proptest::num::u8::ANY, 0x20u8..0x7f], 0..40),
        ) {
            proptest::prop_assert_eq!(printable_ascii(&b), b.iter().all(|c| (0x20..0x7f).contains(c)), "{:?}", b);
        }

        #[test]
        fn quoted_text_safety_agrees_with_its_char_by_char_form(s in "[ -~\u{80}-\u{a0}\u{2027}-\u{202a}\u{feff}\u{e9}\t\n\u{7f}]{0,12}") {
            proptest::prop_assert_eq!(safe_in_quotes(&s), !s.chars().any(unsafe_in_quotes), "{:?}", s);
        }


        #[test]
        fn plain_ok_agrees_with_its_char_by_char_form(s in "[ -~\u{80}-\u{a0}\u{2027}-\u{202a}\u{feff}\u{e9}\t\n]{0,12}") {
            for in_flow in [false, true] {
                proptest::prop_assert_eq!(plain_ok(&s, in_flow), plain_ok_by_chars(&s, in_flow), "{:?}", s);
            }
            // What the short path takes for a string, no number parser reads.
            if surely_string(&s) {
                proptest::prop_assert!(
                    s.parse::<f64>().map_or(true, |f| !f.is_finite())
                        && parse_unsigned(&s).is_none()
                        && parse_negative(&s).is_none()
                        && !too_wide_int(&s),
                    "{:?}",
                    s
                );
            }
        }
    }
}
