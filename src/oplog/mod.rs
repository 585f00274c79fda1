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

use crate::oplog::op::Op;

mod append;
mod block_op;
pub mod blocks;
pub mod emit;
pub mod fast;
pub mod op;
mod scalars;
pub(crate) mod yamlres;

use blocks::Blocks;

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

/// [`read_bytes_at`] into `buf` (emptied first; its allocation is kept for
/// the next file: no allocation per file for a caller reading many), also
/// giving the file's key as it was opened.
pub fn read_keyed_into(
    at: Option<(rustix::fd::BorrowedFd<'_>, &str)>,
    path: &Path,
    buf: &mut Vec<u8>,
) -> std::io::Result<crate::cache::FileKey> {
    let (fd, st) = open_checked(path, at, OFlags::RDONLY | OFlags::NONBLOCK)?;
    read_open_into(File::from(fd), st.st_size as u64, buf)?;
    Ok(crate::cache::FileKey::of_stat(&st))
}

/// The bytes of an open op file `len` bytes long when it was opened.
fn read_open(file: File, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_open_into(file, len, &mut bytes)?;
    Ok(bytes)
}

/// [`read_open`] into `bytes` (emptied first).
fn read_open_into(file: File, len: u64, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    bytes.clear();
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
    bytes.resize(len as usize + 1, 0);
    let n = loop {
        match capped.read(bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    bytes.truncate(n);
    if n as u64 != len || n == 0 {
        capped.read_to_end(bytes)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is larger than htrac's limit of {MAX_FILE_BYTES} bytes: refusing to read it"
        )));
    }
    Ok(())
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

pub use block_op::{
    check_flow_depth, parse_block, parse_block_keyed, parse_block_yaml, Keyed, WrittenKeys,
};

pub use append::{
    append, append_text, append_text_mirrored, check_appendable, nonce_taken, refusal,
    refusal_hint, AppendMode, NonceTaken, Refused,
};
