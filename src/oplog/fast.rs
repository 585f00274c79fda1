//! A fast reader for op blocks in the canonical layout that htrac and the
//! reference write (block mappings, block lists at the key's column, one-line
//! scalars and flow lists, `  # <nonce>` on every line).
//!
//! It gives exactly what the YAML parser (`serde_norway` into JSON values)
//! gives, or `None` whenever a block strays from that layout — then the
//! caller uses the YAML parser. Scalars are read by [`super::scalars`].
//! Property tests and fuzzing compare the two.
//!
//! [`parse_block`] gives the block's mapping; [`parse_op`] gives the same
//! keys and values split the way [`crate::oplog::op::Op`] holds them (the
//! header keys apart, the rest in the body), without building the top-level
//! mapping only to take it apart again.

use std::borrow::Cow;

use serde_json::{Map, Value};

pub use super::scalars::resolve_plain;
use super::scalars::{inline_value, plain_key, printable_ascii};

/// The header keys every op carries, in the order writers put them: the
/// slots of [`Parts::header`].
pub const HEADER_KEYS: [&str; 6] = ["op", "at", "by", "actor", "clock", "nonce"];

struct Line<'a> {
    indent: usize,
    /// The line without indentation and without the nonce comment.
    text: &'a str,
}

/// A block's top-level keys and values, split as an op holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts<'a> {
    /// The values of [`HEADER_KEYS`], each `None` when the key is absent.
    pub header: [Option<Value>; 6],
    /// Every other key, in the order written.
    pub body: Map<String, Value>,
    /// Every key as written, in order, with whether its value is null.
    pub keys: Vec<(Cow<'a, str>, bool)>,
    /// The comment every line carries: each line's text after its last
    /// `  # ` (the op's nonce, in a block as writers write it).
    pub comment: &'a str,
}

/// Parses one `- op: ...` block; `None` means "use the YAML parser".
pub fn parse_block(block: &str) -> Option<Map<String, Value>> {
    let Parts {
        mut header,
        body,
        keys,
        ..
    } = parse_op(block)?;
    let mut map = Map::with_capacity(keys.len());
    let mut body = body.into_iter();
    for (key, _) in keys {
        let value = match header_slot(&key) {
            Some(slot) => header[slot].take()?,
            None => body.next()?.1,
        };
        map.insert(key.into_owned(), value);
    }
    Some(map)
}

/// [`parse_block`], split as an op holds it (the top-level mapping is
/// never built); `None` means "use the YAML parser".
pub fn parse_op(block: &str) -> Option<Parts<'_>> {
    let (lines, comment) = lines_of_block(block)?;
    // The top level's keys, and how many are not header keys.
    let (mut count, mut other) = (0, 0);
    for l in lines
        .iter()
        .filter(|l| l.indent == 2 && !is_seq_item(l.text))
    {
        count += 1;
        let key = &l.text[..l
            .text
            .bytes()
            .position(|b| b == b':')
            .unwrap_or(l.text.len())];
        other += usize::from(header_slot(key).is_none());
    }
    let mut parts = Parts {
        header: Default::default(),
        body: Map::with_capacity(other),
        keys: Vec::with_capacity(count),
        comment,
    };
    let mut i = 0;
    parse_map(&lines, &mut i, 2, &mut parts)?;
    (i == lines.len()).then_some(parts)
}

/// The index of `key` in [`HEADER_KEYS`].
fn header_slot(key: &str) -> Option<usize> {
    match key {
        "op" => Some(0),
        "at" => Some(1),
        "by" => Some(2),
        "actor" => Some(3),
        "clock" => Some(4),
        "nonce" => Some(5),
        _ => None,
    }
}

/// The block's lines, indentation and nonce comment apart, and the comment
/// (the same on every line); `None` when a line strays from the canonical
/// layout.
fn lines_of_block(block: &str) -> Option<(Vec<Line<'_>>, &str)> {
    // Room for lines of some 16 bytes or more, without counting them.
    let mut lines = Vec::with_capacity(block.len() / 16 + 2);
    let mut nonce: Option<&str> = None;
    for (i, raw) in lines_of(block).enumerate() {
        if raw.is_empty() && i > 0 {
            continue; // the final newline
        }
        if has_unusual_bytes(raw) {
            return None;
        }
        let cut = super::blocks::last_comment(raw.as_bytes())?;
        let comment = &raw[cut + 4..];
        match nonce {
            None => nonce = Some(comment),
            Some(n) if n == comment => {}
            Some(_) => return None,
        }
        // Spaces are ASCII: the cuts below are character boundaries.
        let b = raw.as_bytes();
        let end = b[..cut]
            .iter()
            .rposition(|&c| c != b' ')
            .map_or(0, |p| p + 1);
        let body = &raw[..end];
        let (indent, text) = if i == 0 {
            (2, body.strip_prefix("- ")?)
        } else {
            let indent = b[..end].iter().take_while(|&&c| c == b' ').count();
            (indent, &body[indent..])
        };
        if text.is_empty() || indent < 2 {
            return None;
        }
        lines.push(Line { indent, text });
    }
    Some((lines, nonce?))
}

/// `s.split('\n')`, by a vectorized byte search.
fn lines_of(s: &str) -> impl Iterator<Item = &str> {
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let rest = &s.as_bytes()[from..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                start = Some(from + i + 1);
                Some(&s[from..from + i])
            }
            None => {
                start = None;
                Some(&s[from..])
            }
        }
    })
}

/// Tabs, CR, control characters (C0, DEL, C1 including NEL), U+2028,
/// U+2029, U+FFFE, U+FFFF anywhere in a line, comments included: YAML
/// rejects them or reads them as line breaks, so the YAML parser decides.
fn has_unusual_bytes(line: &str) -> bool {
    let b = line.as_bytes();
    !printable_ascii(b)
        && b.iter().enumerate().any(|(i, &c)| match c {
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
            0xe2 => b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)),
            0xef => b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf)),
            _ => false,
        })
}

/// Where [`parse_map`] puts a mapping's entries: a JSON map, or (the
/// block's top level) an op's parts.
trait Entries<'a> {
    /// Adds an entry; `false` when the key is already there.
    fn add(&mut self, key: &'a str, value: Value) -> bool;
}

impl<'a> Entries<'a> for Map<String, Value> {
    fn add(&mut self, key: &'a str, value: Value) -> bool {
        self.insert(key.to_string(), value).is_none()
    }
}

impl<'a> Entries<'a> for Parts<'a> {
    fn add(&mut self, key: &'a str, value: Value) -> bool {
        if self.keys.iter().any(|(k, _)| k == key) {
            return false;
        }
        self.keys.push((Cow::Borrowed(key), value.is_null()));
        match header_slot(key) {
            Some(slot) => self.header[slot] = Some(value),
            None => {
                self.body.insert(key.to_string(), value);
            }
        }
        true
    }
}

/// How many keys the mapping at `indent` starting at line `from` has, at
/// most (to size it once).
fn keys_at(lines: &[Line<'_>], from: usize, indent: usize) -> usize {
    lines[from.min(lines.len())..]
        .iter()
        .take_while(|l| l.indent >= indent)
        .filter(|l| l.indent == indent && !is_seq_item(l.text))
        .count()
}

/// The mapping at `indent` starting at line `*i`, into `out`; `None` on
/// anything the YAML parser should decide (a duplicate key included: let
/// it report it).
fn parse_map<'a>(
    lines: &[Line<'a>],
    i: &mut usize,
    indent: usize,
    out: &mut impl Entries<'a>,
) -> Option<()> {
    while *i < lines.len() {
        let line = &lines[*i];
        if line.indent < indent || is_seq_item(line.text) {
            break;
        }
        if line.indent > indent {
            return None;
        }
        let colon = line.text.bytes().position(|b| b == b':')?;
        let key = &line.text[..colon];
        let rest = &line.text[colon + 1..];
        if !plain_key(key) {
            return None;
        }
        *i += 1;
        let value = if rest.is_empty() {
            match lines.get(*i) {
                Some(next) if is_seq_item(next.text) && next.indent >= indent => {
                    parse_seq(lines, i, next.indent)?
                }
                Some(next) if next.indent > indent => {
                    let mut map = Map::with_capacity(keys_at(lines, *i, next.indent));
                    parse_map(lines, i, next.indent, &mut map)?;
                    Value::Object(map)
                }
                _ => Value::Null,
            }
        } else {
            inline_value(rest.strip_prefix(' ')?)?
        };
        if !out.add(key, value) {
            return None;
        }
    }
    Some(())
}

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn parse_seq(lines: &[Line<'_>], i: &mut usize, indent: usize) -> Option<Value> {
    let n = lines[*i..]
        .iter()
        .take_while(|l| l.indent == indent && is_seq_item(l.text))
        .count();
    let mut items = Vec::with_capacity(n);
    for line in &lines[*i..*i + n] {
        items.push(inline_value(line.text.strip_prefix("- ")?)?);
    }
    *i += n;
    Some(Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_str_split() {
        for s in ["", "\n", "a", "a\n", "a\nb", "a\n\nb\n", "é\nü\n\n"] {
            assert_eq!(
                lines_of(s).collect::<Vec<_>>(),
                s.split('\n').collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn blocks_parse_like_the_yaml_parser() {
        let block = "- op: update  # 0b9d\n  at: '2026-01-01T00:00:00Z'  # 0b9d\n  by: human  # 0b9d\n  actor: root  # 0b9d\n  clock: 3  # 0b9d\n  nonce: 0b9d  # 0b9d\n  set:  # 0b9d\n    status: \"a \\\"b\\\" \\u00e9\\n\"  # 0b9d\n    parent:  # 0b9d\n    fields:  # 0b9d\n      list:  # 0b9d\n      - x  # 0b9d\n      - '1383'  # 0b9d\n      k: 5  # 0b9d\n  add:  # 0b9d\n    tags: [a, 'b c', \"d\", null, 12]  # 0b9d\n  remove: {}  # 0b9d\n";
        let fast = parse_block(block).expect("fast path");
        let slow: Value = serde_norway::from_str(block).unwrap();
        assert_eq!(Value::Object(fast), slow[0]);
    }

    #[test]
    fn odd_blocks_are_left_to_the_yaml_parser() {
        for b in [
            "- op: x  # aaaa\n  y: a: b  # aaaa\n",
            "- op: x  # aaaa\n  y: 1  # bbbb\n",
            "- op: x\n",
            "- op: x  # aaaa\n  y: &anchor 1  # aaaa\n",
            "- op: x  # aaaa\n  y: [[1]]  # aaaa\n",
            "- op: x  # aaaa\n  y: 99999999999999999999999  # aaaa\n",
            "- op: x  # aaaa\n  op: y  # aaaa\n",
        ] {
            assert!(parse_block(b).is_none(), "{b}");
        }
    }
}
