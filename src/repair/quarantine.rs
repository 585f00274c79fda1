//! `quarantine`: moves the op blocks readers refuse or skip out of an
//! item's op file, so the item reads again with every good op kept — the
//! repair for a torn op that later appends have buried in the middle of the
//! file (a crash, then more writes), which `repair-tail` cannot cut off.
//!
//! A block is broken when it is not valid UTF-8, readers take it for a torn
//! write (cut short, or its last line lacks its first line's `# <nonce>`),
//! it does not parse as an op, or it lacks a key every writer writes (`at`,
//! `by`, `clock`, `nonce`: an op cut short at a line end, which readers take
//! for a shorter op); stray text before the first op counts too. Nothing else is touched: the good blocks are kept byte for byte, in
//! order. Before the rewrite the whole file is copied to
//! `.agent/repair-backups/<file>.<UTC>` and the broken blocks alone to
//! `<file>.<UTC>.quarantine` beside it (both synced); the file is then
//! replaced atomically (temp file + rename, same mode) while its exclusive
//! `flock` is held, so a waiting append lands on the new file. A frozen
//! item's sentinel follows when it matched the log before.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::oplog;
use crate::oplog::blocks::{stray_lines, Block, RawBlock, RawBlocks};
use crate::repair::tail::{backup_dir, open_locked, write_backup};
use crate::tracker::{ItemFile, Tracker};

/// A broken block moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBlock {
    /// 1-based line of the block's first line in the file as it was.
    pub line: usize,
    pub bytes: u64,
    pub reason: String,
}

/// What was done to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub id: String,
    pub path: PathBuf,
    pub blocks: Vec<BrokenBlock>,
    /// Ops kept in the file.
    pub kept: usize,
    /// The whole file as it was.
    pub backup: PathBuf,
    /// The broken blocks, each after a `# line N: reason` comment.
    pub quarantine: PathBuf,
}

/// Quarantines the broken blocks of each of `files` (human only); files
/// with none are left untouched.
pub fn quarantine_files(t: &Tracker, files: &[ItemFile]) -> Result<Vec<Quarantined>> {
    t.require_human("quarantine")?;
    let mut out = Vec::new();
    for f in files {
        // A frozen item whose log matched its sentinel keeps matching it:
        // the human approves the repaired log. One that had drifted keeps
        // its old sentinel, for 'repair-drift' to judge.
        let in_step = t.drifted(f) == Some(false);
        if let Some(q) = quarantine_file(&f.id, &f.path, &backup_dir(t))? {
            if in_step {
                t.refresh_sentinel(f)?;
            }
            out.push(q);
        }
    }
    Ok(out)
}

/// Why readers refuse or skip this block, or `None` when it is a good op.
fn broken(block: &RawBlock<'_>) -> Option<String> {
    let Ok(text) = std::str::from_utf8(block.bytes) else {
        return Some("not valid UTF-8".into());
    };
    let b = Block {
        line: block.line,
        offset: block.offset,
        text,
        is_last: block.is_last,
    };
    if b.torn().is_some() {
        return Some("torn op (cut short mid-write)".into());
    }
    if let Err(e) = oplog::parse_block(text) {
        return Some(e);
    }
    missing_header(text)
        .map(|k| format!("op without '{k}', which every writer writes (cut short at a line end)"))
}

/// Keys every writer (htrac and the reference) puts in every op: an op
/// without one was cut short at a line end (the format has no end marker,
/// so readers take it for a shorter op; `validate` reports it).
const WRITTEN_KEYS: &[&str] = &["at", "by", "clock", "nonce"];

/// The first of [`WRITTEN_KEYS`] the block lacks (or has as null).
fn missing_header(text: &str) -> Option<&'static str> {
    let map = match crate::oplog::fast::parse_block(text) {
        Some(m) => m,
        None => match serde_norway::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(mut items)) if items.len() == 1 => match items.remove(0) {
                serde_json::Value::Object(m) => m,
                _ => return None,
            },
            _ => return None,
        },
    };
    WRITTEN_KEYS
        .iter()
        .find(|k| map.get(**k).is_none_or(serde_json::Value::is_null))
        .copied()
}

/// Quarantines one file's broken blocks; `None` when it has none.
pub fn quarantine_file(id: &str, path: &Path, backups: &Path) -> Result<Option<Quarantined>> {
    let (file, bytes) = open_locked(path, "quarantine")?;
    let blocks = RawBlocks::new(&bytes);
    let prelude = blocks.prelude();
    let mut good: Vec<u8> = Vec::with_capacity(bytes.len());
    // (first line, bytes, why)
    let mut bad: Vec<(usize, &[u8], String)> = Vec::new();
    // Blank lines and comments before the first op are fine.
    let stray = std::str::from_utf8(prelude).map_or(true, |t| stray_lines(t).next().is_some());
    if stray {
        bad.push((1, prelude, "text before the first op".into()));
    } else {
        good.extend_from_slice(prelude);
    }
    let mut kept = 0;
    for block in blocks {
        match broken(&block) {
            Some(reason) => bad.push((block.line, block.bytes, reason)),
            None => {
                good.extend_from_slice(block.bytes);
                kept += 1;
            }
        }
    }
    if bad.is_empty() {
        return Ok(None);
    }
    let mut moved: Vec<u8> = Vec::new();
    for (line, block, reason) in &bad {
        moved
            .extend_from_slice(format!("# {}: line {line}: {reason}\n", path.display()).as_bytes());
        moved.extend_from_slice(block);
        if !block.ends_with(b"\n") {
            moved.push(b'\n');
        }
    }
    let backup = write_backup(path, backups, &bytes, "")?;
    let quarantine = write_backup(path, backups, &moved, ".quarantine")?;
    let mode = file
        .metadata()
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
        .unwrap_or(0o664);
    crate::atomic::replace(path, &good, mode).map_err(|e| {
        Error::user(format!("cannot rewrite {}: {e}", path.display())).with_hint(format!(
            "the file is unchanged; its copy is in {}",
            backup.display()
        ))
    })?;
    // The lock on the old file is released only now, after the rename: an
    // append waiting for it sees the file replaced and retries on the new one.
    drop(file);
    Ok(Some(Quarantined {
        id: id.to_string(),
        path: path.to_path_buf(),
        blocks: bad
            .iter()
            .map(|(line, b, reason)| BrokenBlock {
                line: *line,
                bytes: b.len() as u64,
                reason: reason.clone(),
            })
            .collect(),
        kept,
        backup,
        quarantine,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(nonce: &str, title: &str) -> String {
        format!("- op: update  # {nonce}\n  at: '2026-01-01T00:00:00Z'  # {nonce}\n  by: human  # {nonce}\n  actor: amy  # {nonce}\n  clock: 2  # {nonce}\n  nonce: {nonce}  # {nonce}\n  set:  # {nonce}\n    title: \"{title}\"  # {nonce}\n")
    }

    #[test]
    fn moves_only_broken_blocks_and_keeps_good_ones_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".WI-x.ops");
        let backups = dir.path().join("backups");
        let (a, c) = (op("aaaa", "a"), op("cccc", "c"));
        // A tear mid multi-byte character, closed by the next append's newline.
        let mut bytes = a.as_bytes().to_vec();
        bytes.extend_from_slice(b"- op:\n");
        bytes.extend_from_slice(&op("bbbb", "\u{e9}").as_bytes()[..150]);
        bytes.extend_from_slice(b"\xc3\n");
        bytes.extend_from_slice(c.as_bytes());
        // Cut at a line end: reads as an op without `by`, `clock`, `nonce`.
        bytes.extend_from_slice(&op("eeee", "e").as_bytes()[..58]);
        bytes.extend_from_slice(&op("dddd", "d").as_bytes()[..40]);
        std::fs::write(&path, &bytes).unwrap();
        let q = quarantine_file("WI-x", &path, &backups).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{a}{c}"));
        assert_eq!(q.kept, 2);
        let lines: Vec<usize> = q.blocks.iter().map(|b| b.line).collect();
        assert_eq!(lines, [9, 10, 25, 27]);
        assert_eq!(std::fs::read(&q.backup).unwrap(), bytes);
        let moved = std::fs::read(&q.quarantine).unwrap();
        assert!(moved.windows(5).any(|w| w == b"- op:"));
        assert!(moved.ends_with(b"\n"));
        assert!(quarantine_file("WI-x", &path, &backups).unwrap().is_none());
        assert_eq!(crate::oplog::read(&path).unwrap().ops.len(), 2);
    }
}
