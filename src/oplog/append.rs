//! Appending to `.ops` files: one `write` of the whole op with `O_APPEND`
//! under an exclusive `flock`, then `fsync`; a failed append (disk full,
//! file size limit) is undone. Every op any command writes comes through
//! [`append_text_mirrored`], which first refuses what readers would refuse
//! ([`check_appendable`]: an op or a file over [`MAX_FILE_BYTES`], nesting
//! past [`MAX_FLOW_DEPTH`] or the YAML parser's recursion limit, text that
//! does not read back as whole ops; and closing a torn tail that readers
//! would then refuse), so a write can never make an item unreadable.
//! Its items are named from [`crate::oplog`] (this module is private).

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use crate::oplog::blocks::Blocks;
use crate::oplog::emit::emit_op;
use crate::oplog::op::Op;
#[cfg(doc)]
use crate::oplog::MAX_FLOW_DEPTH;
use crate::oplog::{open_no_follow, parse_block, MAX_FILE_BYTES};

/// How [`append`] opens the file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AppendMode {
    /// The file must already exist.
    Existing,
    /// The file must already exist, and the ops' nonces were just chosen
    /// from it: refused with [`NonceTaken`] when another writer took one
    /// since (checked under the lock), so the writer chooses again.
    Fresh,
    /// The file must not exist yet (a new item).
    New,
}

/// Appends `op` to the file at `path`: one `write` under an exclusive flock,
/// then `fsync`. A torn tail left by a crash is closed with a newline first,
/// so the new op never fuses with it.
pub fn append(path: &Path, op: &Op, mode: AppendMode) -> std::io::Result<()> {
    append_text(path, &emit_op(op), mode)
}

/// Appends already-serialized op text (see [`append`]).
///
/// If the file was replaced while we waited for the lock (a take-over by the
/// other user of a two-user set-up renames a copy over it), the append is
/// retried on the new file, so no op is written to an unlinked inode.
pub fn append_text(path: &Path, text: &str, mode: AppendMode) -> std::io::Result<()> {
    append_text_mirrored(path, text, mode, &|_| Ok(()))
}

/// [`append_text`], then `mirror(text)` while the file's lock is still held
/// (the journal copies each op there, so no git command can come between
/// the append and its copy). A failing mirror is reported after the append
/// stands: the op is in the file either way.
pub fn append_text_mirrored(
    path: &Path,
    text: &str,
    mode: AppendMode,
    mirror: &dyn Fn(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    check_appendable(text).map_err(std::io::Error::other)?;
    let mut flags = OFlags::RDWR | OFlags::APPEND;
    if mode == AppendMode::New {
        flags |= OFlags::CREATE | OFlags::EXCL;
    }
    loop {
        let fd = open_no_follow(path, flags)?;
        if mode == AppendMode::New {
            // Group-writable whatever the umask, so an agent and its human
            // can share the tracker.
            let _ = rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o664));
        }
        flock(&fd, FlockOperation::LockExclusive)?;
        if mode != AppendMode::New {
            let held = rustix::fs::fstat(&fd)?;
            match rustix::fs::stat(path) {
                Ok(now) if now.st_ino == held.st_ino && now.st_dev == held.st_dev => {}
                Ok(_) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let mut file = File::from(fd);
        let mut buf = Vec::with_capacity(text.len() + 1);
        let len = file.metadata()?.len();
        // The nonce was chosen from the file as it was read before the lock:
        // another writer may have taken it since. Checked under the lock, so
        // every line of every op stays unique in the file.
        if mode == AppendMode::Fresh && len > 0 {
            if let Some(nonce) = nonce_in_use(&file, len, text)? {
                return Err(std::io::Error::other(NonceTaken(nonce)));
            }
        }
        if len > 0 && !last_byte_is_newline(&file, len)? {
            if let Some(why) = closing_breaks_tail(path, &file, len)? {
                return Err(std::io::Error::other(why));
            }
            buf.push(b'\n');
        }
        buf.extend_from_slice(text.as_bytes());
        if len + buf.len() as u64 > MAX_FILE_BYTES {
            return Err(std::io::Error::other(Refused::new(format!(
                "the op is {} bytes and the file is already {len}: together they would exceed htrac's limit of {MAX_FILE_BYTES} bytes (16 MiB) per op file, which readers refuse",
                text.len()
            ))));
        }
        // Durability: this fsync makes the op survive a crash once the
        // command says it was written. The journal copy (`mirror`, below)
        // gets its own: the two are different files in different
        // directories, so neither sync covers the other, and each guards
        // a different loss — this one a crash, the journal's a git command
        // that later discards the uncommitted op (`reconcile` restores it
        // from the journal, which must then have survived any crash too).
        // A new file's name is made durable by the directory's fsync
        // below; an existing file's needs none.
        if let Err(e) = file.write_all(&buf).and_then(|()| file.sync_all()) {
            // Disk full, file size limit, I/O error: take back whatever part
            // of the op reached the file, so no torn op is left behind.
            undo_append(&file, len);
            if mode == AppendMode::New && len == 0 {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        let mirrored = mirror(text);
        if mode == AppendMode::New {
            if let Some(dir) = path.parent() {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        // The lock is released when `file` is closed.
        return mirrored;
    }
}

/// An append refused because another writer appended an op with the same
/// nonce since the writer read the file; the writer chooses again.
#[derive(Debug)]
pub struct NonceTaken(pub String);

impl fmt::Display for NonceTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the nonce {} was taken by another writer meanwhile",
            self.0
        )
    }
}

impl std::error::Error for NonceTaken {}

/// Whether `e` is a [`NonceTaken`] refusal.
pub fn nonce_taken(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|r| r.is::<NonceTaken>())
}

/// The first nonce of the ops in `text` that some line of the file's first
/// `len` bytes already ends with (`  # NONCE`), if any.
fn nonce_in_use(file: &File, len: u64, text: &str) -> std::io::Result<Option<String>> {
    use std::os::unix::fs::FileExt;
    let nonces: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- "))
        .filter_map(|l| l.rsplit_once("  # ").map(|(_, n)| n))
        .collect();
    if nonces.is_empty() {
        return Ok(None);
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)?;
    let content = String::from_utf8_lossy(&bytes);
    for n in nonces {
        let tail = format!("  # {n}\n");
        if content.contains(&tail) || content.ends_with(&tail[..tail.len() - 1]) {
            return Ok(Some(n.to_string()));
        }
    }
    Ok(None)
}

/// An append refused before anything was written, because readers would
/// refuse the result (see [`check_appendable`]). Travels inside the
/// `std::io::Error` the append returns; [`refusal`] finds it.
#[derive(Debug)]
pub struct Refused(pub String, pub Option<String>);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    pub fn new(reason: impl Into<String>) -> Refused {
        Refused(reason.into(), None)
    }
}

/// Appending after a torn final op (a crash mid-append) first closes it
/// with a newline, which makes it a middle op. Readers skip a middle op
/// that looks torn, but refuse one that does not (a tear inside its first
/// line, `- op:`) and a file with invalid UTF-8 before its end (a tear
/// inside a multi-byte character): then the append would make the whole
/// item unreadable, so it is refused, pointing at `repair-tail`.
fn closing_breaks_tail(path: &Path, file: &File, len: u64) -> std::io::Result<Option<Refused>> {
    use std::os::unix::fs::FileExt;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)?;
    bytes.push(b'\n');
    let refuse = |line: usize, why: &str| {
        Some(Refused(
            format!("the file ends with an op cut short by a crash (line {line}): {why}, so appending after it would make the item unreadable"),
            Some(format!(
                "nothing was written; cut the torn op off first with 'htrac repair-tail {}' (human or agent; it keeps a backup), then retry",
                crate::repair::tail::id_hint(path)
            )),
        ))
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        let line = bytes.iter().filter(|&&b| b == b'\n').count();
        return Ok(refuse(line, "it ends inside a multi-byte character"));
    };
    let split = Blocks::new(text);
    if split.stray_lines().next().is_some() {
        return Ok(None);
    }
    let Some(last) = split.last() else {
        return Ok(None);
    };
    // `text` ends with the closing newline, so only a missing nonce tail
    // can make its last block torn.
    if last.torn().is_some() {
        return Ok(None);
    }
    Ok(match parse_block(last.text) {
        Ok(_) => None,
        Err(m) => refuse(last.line, &m),
    })
}

/// The reason, when `e` is an append refused by [`check_appendable`] or
/// by the size limit.
pub fn refusal(e: &std::io::Error) -> Option<&str> {
    e.get_ref()?.downcast_ref::<Refused>().map(|r| r.0.as_str())
}

/// What to do about a refusal, when it is not "write less".
pub fn refusal_hint(e: &std::io::Error) -> Option<&str> {
    e.get_ref()?.downcast_ref::<Refused>()?.1.as_deref()
}

/// Writes must never create what reads refuse: `text` must be whole op
/// blocks that [`crate::oplog::parse`] reads back (each ends with a newline, is not taken
/// for torn, parses — nesting within [`MAX_FLOW_DEPTH`] included) and must
/// fit in [`MAX_FILE_BYTES`] on its own. The file's size is checked under
/// the append's lock.
pub fn check_appendable(text: &str) -> Result<(), Refused> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Refused::new(format!(
            "the op is {} bytes, more than htrac's limit of {MAX_FILE_BYTES} bytes (16 MiB) per op file, which readers refuse",
            text.len()
        )));
    }
    let split = Blocks::new(text);
    if let Some(line) = split.stray_lines().next() {
        return Err(Refused::new(format!(
            "line {line} of the op: expected an op starting with '- ' (a YAML sequence item)"
        )));
    }
    let mut any = false;
    for block in split {
        any = true;
        if !block.text.ends_with('\n') || block.torn().is_some() {
            return Err(Refused::new(format!(
                "line {} of the op would read back as a torn op",
                block.line
            )));
        }
        parse_block(block.text).map_err(|m| {
            Refused::new(format!(
                "readers would refuse the op (line {}): {m}",
                block.line
            ))
        })?;
    }
    if !any {
        return Err(Refused::new("no op to write"));
    }
    Ok(())
}

/// Truncates a file back to `len` bytes after a failed append (still under
/// its lock), and syncs that.
fn undo_append(file: &File, len: u64) {
    if file.metadata().map(|m| m.len() != len).unwrap_or(true) {
        let _ = file.set_len(len);
        let _ = file.sync_all();
    }
}

fn last_byte_is_newline(f: &File, len: u64) -> std::io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, len - 1)?;
    Ok(b[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn update_with(value: Value) -> Op {
        Op::new(
            "update",
            "2026-01-01T00:00:00Z",
            crate::oplog::op::Role::Human,
            "amy",
            2,
            "abcd",
        )
        .with("set", json!({ "fields": { "x": value } }))
    }

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!(1), |v, _| json!([v]))
    }

    #[test]
    fn an_op_readers_would_refuse_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".WI-x.ops");
        let fine = update_with(nested(10));
        append(&path, &fine, AppendMode::New).unwrap();
        let before = std::fs::read(&path).unwrap();
        // Nested deeper than the reader's YAML parser accepts (its
        // recursion limit): refused, nothing written.
        let deep = update_with(nested(200));
        let e = append(&path, &deep, AppendMode::Existing).unwrap_err();
        let why = refusal(&e).expect("a refusal");
        assert!(why.contains("recursion limit"), "{why}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // A new file is not even created.
        let fresh = dir.path().join(".WI-y.ops");
        assert!(refusal(&append(&fresh, &deep, AppendMode::New).unwrap_err()).is_some());
        assert!(!fresh.exists());
        // Text that would read back torn, or not as an op, is refused too.
        for bad in ["- op: update  # abcd\n  x: 1\n", "- op: [\n", "no op\n", ""] {
            assert!(check_appendable(bad).is_err(), "{bad:?}");
        }
        assert_eq!(crate::oplog::read(&path).unwrap().ops.len(), 1);
    }

    #[test]
    fn a_fresh_nonce_another_writer_took_meanwhile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".WI-x.ops");
        let first = update_with(json!(1));
        append(&path, &first, AppendMode::New).unwrap();
        let before = std::fs::read(&path).unwrap();
        // The same nonce, chosen from an older read of the file: refused.
        let mut second = update_with(json!(2));
        second.nonce = first.nonce.clone();
        let e = append(&path, &second, AppendMode::Fresh).unwrap_err();
        assert!(nonce_taken(&e), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // Another nonce goes in.
        second.nonce = if first.nonce == "0001" {
            "0002".into()
        } else {
            "0001".into()
        };
        append(&path, &second, AppendMode::Fresh).unwrap();
        assert_eq!(crate::oplog::read(&path).unwrap().ops.len(), 2);
    }

    #[test]
    fn an_op_that_would_push_the_file_over_the_limit_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".WI-x.ops");
        let big = update_with(json!("z".repeat((MAX_FILE_BYTES / 3) as usize)));
        append(&path, &big, AppendMode::New).unwrap();
        append(&path, &big, AppendMode::Existing).unwrap();
        let before = std::fs::read(&path).unwrap();
        let e = append(&path, &big, AppendMode::Existing).unwrap_err();
        let why = refusal(&e).expect("a refusal");
        assert!(why.contains(&MAX_FILE_BYTES.to_string()), "{why}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(crate::oplog::read(&path).unwrap().ops.len(), 2);
        // Alone over the limit: refused before the file is opened.
        let huge = update_with(json!("z".repeat(MAX_FILE_BYTES as usize)));
        assert!(check_appendable(&emit_op(&huge)).is_err());
    }
}
