//! Reading and appending `.ops` files: the op-log package. Files are split
//! into op blocks by [`blocks`], each block read by the fast reader
//! ([`fast`]) or the YAML parser into an [`op::Op`], and ops are written by
//! the emitter ([`emit`]) and appended here.
//!
//! A file is a YAML sequence; every op is one block starting at a line that
//! begins with `- `. Blocks are parsed one at a time with a real YAML parser
//! so that one bad block cannot hide the others and union-merged files read
//! in one pass. A block cut short by a crash mid-append (its last line lacks
//! the `# <nonce>` tail, or the final block does not parse) is *torn*: it is
//! skipped with a warning. Any other unreadable block is an error naming the
//! file and line.
//!
//! Appends are one `write` of the whole op with `O_APPEND` under an exclusive
//! `flock`, followed by `fsync`; files are never rewritten (the
//! exceptions are [`repair-tail`](crate::repair::tail), which cuts off a
//! torn final op, and [`quarantine`](crate::repair::quarantine), both
//! after backing the file up). A failed append (disk full, file size limit) is
//! undone, so no partial op is left behind. An append whose result readers
//! would refuse (over [`MAX_FILE_BYTES`], nesting over [`MAX_FLOW_DEPTH`],
//! anything that does not read back) is refused before a byte is written
//! ([`check_appendable`], [`Refused`]).
//!
//! Hostile files are bounded: op files are opened without following
//! symbolic links and must be regular files of at most [`MAX_FILE_BYTES`];
//! flow collections nested deeper than [`MAX_FLOW_DEPTH`] are refused
//! before the YAML parser sees them (its scanner is quadratic in the
//! nesting), and the parser itself caps alias expansion ("billion laughs")
//! and recursion.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use serde_json::{Map, Value};

use crate::oplog::op::Op;

mod append;
pub mod blocks;
pub mod emit;
pub mod fast;
pub mod op;
mod scalars;
pub(crate) mod yamlres;

use blocks::{trailing_nonce, Blocks};

/// The largest op file htrac reads (16 MiB; an item with 10,000 ops is
/// about 2 MB). Larger files are refused with an error naming the file.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// The deepest nesting of flow collections (`[`, `{`) accepted in an op.
pub const MAX_FLOW_DEPTH: usize = 64;

/// An op block that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadBlock {
    pub path: PathBuf,
    /// 1-based line of the block's first line.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for BadBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// The ops read from one file.
#[derive(Debug, Default, Clone)]
pub struct OpLog {
    /// Ops in file order, each with the 1-based line its block starts on.
    pub ops: Vec<(usize, Op)>,
    /// Torn blocks that were skipped (crash mid-append).
    pub torn: Vec<BadBlock>,
}

/// Where a torn final op starts: the byte offset of the last block when
/// readers would skip it as torn (cut short mid-write), else `None`. Text
/// before the offset is whole ops; [`repair_tail`](crate::repair::tail)
/// truncates the file there.
pub fn torn_tail(text: &str) -> Option<usize> {
    let split = Blocks::new(text);
    if split.stray_lines().next().is_some() {
        return None;
    }
    let last = split.last()?;
    let torn =
        last.torn().is_some() || (!last.text.ends_with('\n') && parse_block(last.text).is_err());
    torn.then_some(last.offset)
}

/// Parses the text of one `.ops` file.
pub fn parse(path: &Path, text: &str) -> Result<OpLog, BadBlock> {
    let (ops, torn) = parse_texts(path, text)?;
    Ok(OpLog {
        ops: ops.into_iter().map(|(line, _, op)| (line, op)).collect(),
        torn,
    })
}

/// An op read from a file: its first line (1-based), its exact block text
/// and the op.
pub type TextOp<'a> = (usize, &'a str, Op);

/// [`parse`], keeping each op's exact block text (for byte-faithful
/// copies); also returns the torn blocks skipped.
pub fn parse_texts<'a>(
    path: &Path,
    text: &'a str,
) -> Result<(Vec<TextOp<'a>>, Vec<BadBlock>), BadBlock> {
    let (ops, torn, _) = split_ops(path, text, false)?;
    Ok((ops, torn))
}

/// What [`split_ops`] found: the ops, the torn blocks skipped, and the
/// complete blocks that do not read (when asked to skip them).
type Split<'a> = (Vec<TextOp<'a>>, Vec<BadBlock>, Vec<BadBlock>);

/// The ops of `text` and the torn blocks skipped; a complete block that
/// does not read is an error, or, with `skip_bad`, returned apart.
fn split_ops<'a>(path: &Path, text: &'a str, skip_bad: bool) -> Result<Split<'a>, BadBlock> {
    let bad = |line: usize, message: String| BadBlock {
        path: path.to_path_buf(),
        line,
        message,
    };
    let split = Blocks::new(text);
    if let Some(line) = split.stray_lines().next() {
        return Err(bad(
            line,
            "expected an op starting with '- ' (a YAML sequence item)".into(),
        ));
    }
    let (mut ops, mut torn, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for block in split {
        if block.torn().is_some() {
            torn.push(bad(
                block.line,
                "torn op (cut short mid-write), skipped".into(),
            ));
            continue;
        }
        match parse_block(block.text) {
            Ok(op) => ops.push((block.line, block.text, op)),
            Err(message) if block.is_last && !block.text.ends_with('\n') => {
                torn.push(bad(block.line, format!("torn op skipped: {message}")));
            }
            Err(message) if skip_bad => skipped.push(bad(block.line, message)),
            Err(message) => return Err(bad(block.line, message)),
        }
    }
    Ok((ops, torn, skipped))
}

/// Parses one `- op: ...` block into an [`Op`]: the canonical layout by the
/// fast reader, anything else by the YAML parser.
pub fn parse_block(text: &str) -> Result<Op, String> {
    match crate::oplog::fast::parse_op(text) {
        Some(parts) => op_from_parts(text, parts.header, parts.body),
        None => parse_block_yaml(text),
    }
}

/// The keys of an op as written, in order, each with whether its value is
/// null (the parsed [`Op`] no longer knows which header keys were absent).
pub type WrittenKeys<'a> = Vec<(std::borrow::Cow<'a, str>, bool)>;

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
    if let Some(parts) = crate::oplog::fast::parse_op(text) {
        let keys = parts
            .keys
            .iter()
            .map(|&(k, null)| (std::borrow::Cow::Borrowed(k), null))
            .collect();
        return Ok(Keyed {
            op: op_from_parts(text, parts.header, parts.body)?,
            keys,
            comment: Some(parts.comment),
        });
    }
    let map = yaml_map(text)?;
    let keys = map
        .iter()
        .map(|(k, v)| (std::borrow::Cow::Owned(k.clone()), v.is_null()))
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
pub(crate) fn op_from_map(text: &str, mut map: Map<String, Value>) -> Result<Op, String> {
    let header = crate::oplog::fast::HEADER_KEYS.map(|k| map.shift_remove(k));
    op_from_parts(text, header, map)
}

/// The op of a block's header values (in [`fast::HEADER_KEYS`] order, each
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

/// The text of an op file's bytes, or where the first invalid byte is.
fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, ReadError> {
    text_of(bytes).map_err(|line| {
        ReadError::Bad(BadBlock {
            path: path.to_path_buf(),
            line,
            message: "file is not valid UTF-8".into(),
        })
    })
}

/// Reads and parses one `.ops` file.
pub fn read(path: &Path) -> Result<OpLog, ReadError> {
    let bytes = read_bytes(path).map_err(|e| ReadError::Io(path.to_path_buf(), e))?;
    let text = utf8(path, &bytes)?;
    parse(path, text).map_err(ReadError::Bad)
}

/// [`read`] for a view only: a complete op block that does not read is
/// skipped (as the reference does) and returned beside the log, instead of
/// failing the file. Writes never use this: an item with such an op stays
/// refused to them until a human repairs the file.
pub fn read_skipping_bad(path: &Path) -> Result<(OpLog, Vec<BadBlock>), ReadError> {
    let bytes = read_bytes(path).map_err(|e| ReadError::Io(path.to_path_buf(), e))?;
    let text = utf8(path, &bytes)?;
    let (ops, torn, skipped) = split_ops(path, text, true).map_err(ReadError::Bad)?;
    let ops = ops.into_iter().map(|(line, _, op)| (line, op)).collect();
    Ok((OpLog { ops, torn }, skipped))
}

/// The bytes of an op file, safely: a symbolic link is not followed, a
/// directory, FIFO or device is refused (without blocking on it), and so is
/// a file larger than [`MAX_FILE_BYTES`]. The errors say which.
pub fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    read_bytes_at(None, path)
}

/// [`read_bytes`], the file opened by `name` in the open directory `dir`
/// when given (no path walk).
pub fn read_bytes_at(
    at: Option<(rustix::fd::BorrowedFd<'_>, &str)>,
    path: &Path,
) -> std::io::Result<Vec<u8>> {
    let (fd, st) = open_checked(path, at, OFlags::RDONLY | OFlags::NONBLOCK)?;
    read_open(File::from(fd), st.st_size as u64)
}

/// [`read`] of the op file `name` in the open directory `dir` (`path`: its
/// path, for messages), with the file's status as it was opened (`None`
/// when it could not be opened).
pub fn read_at(
    dir: rustix::fd::BorrowedFd<'_>,
    name: &str,
    path: &Path,
) -> (Result<OpLog, ReadError>, Option<rustix::fs::Stat>) {
    let opened = open_checked(path, Some((dir, name)), OFlags::RDONLY | OFlags::NONBLOCK);
    let (fd, st) = match opened {
        Ok(x) => x,
        Err(e) => return (Err(ReadError::Io(path.to_path_buf(), e)), None),
    };
    let log = read_open(File::from(fd), st.st_size as u64)
        .map_err(|e| ReadError::Io(path.to_path_buf(), e))
        .and_then(|bytes| {
            let text = utf8(path, &bytes)?;
            parse(path, text).map_err(ReadError::Bad)
        });
    (log, Some(st))
}

/// The bytes of an open op file `len` bytes long when it was opened.
fn read_open(file: File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if len > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is {len} bytes, larger than htrac's limit of {MAX_FILE_BYTES} bytes: refusing to read it"
        )));
    }
    // A file that grows while we read it is still capped.
    let mut capped = (&file).take(MAX_FILE_BYTES + 1);
    // One read usually takes the whole file: when it gives exactly the
    // length the file had when opened (asking for one byte more), that is
    // the end; otherwise (a short read, a file that grew) read on to EOF.
    let mut bytes = vec![0u8; len as usize + 1];
    let n = loop {
        match capped.read(&mut bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    bytes.truncate(n);
    if n as u64 != len || n == 0 {
        capped.read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is larger than htrac's limit of {MAX_FILE_BYTES} bytes: refusing to read it"
        )));
    }
    Ok(bytes)
}

/// Opens an op file with `flags | O_NOFOLLOW | O_CLOEXEC` and checks that
/// it is a regular file: clear errors for a symbolic link or anything else.
pub(crate) fn open_no_follow(path: &Path, flags: OFlags) -> std::io::Result<rustix::fd::OwnedFd> {
    open_checked(path, None, flags).map(|(fd, _)| fd)
}

/// [`open_no_follow`] of `path`, or of `name` in the open directory `at`;
/// also returns the file's status.
fn open_checked(
    path: &Path,
    at: Option<(rustix::fd::BorrowedFd<'_>, &str)>,
    flags: OFlags,
) -> std::io::Result<(rustix::fd::OwnedFd, rustix::fs::Stat)> {
    let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(0o664);
    let opened = match at {
        Some((dir, name)) => rustix::fs::openat(dir, name, flags, mode),
        None => rustix::fs::open(path, flags, mode),
    };
    let fd = opened.map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            std::io::Error::other(
                "the op file is a symbolic link: refusing to follow it (op files must be regular files)",
            )
        } else {
            e.into()
        }
    })?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(std::io::Error::other(
            "not a regular file: refusing to use it as an op file",
        ));
    }
    Ok((fd, st))
}

/// The text of an op file's bytes. A multi-byte character cut short at the
/// very end (a torn append) is dropped — the final op is then torn and
/// skipped as any other; invalid UTF-8 anywhere else is an error (the
/// 1-based line where it is).
pub fn text_of(bytes: &[u8]) -> Result<&str, usize> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t),
        Err(e) if e.error_len().is_none() => {
            Ok(std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid prefix"))
        }
        Err(e) => Err(1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()),
    }
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    Io(PathBuf, std::io::Error),
    Bad(BadBlock),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            ReadError::Bad(b) => b.fmt(f),
        }
    }
}

pub use append::{
    append, append_text, append_text_mirrored, check_appendable, nonce_taken, refusal,
    refusal_hint, AppendMode, NonceTaken, Refused,
};

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
