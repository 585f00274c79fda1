//! `repair-tail`: cuts a torn final op (a crash mid-append) off an item's
//! op file — the one sanctioned non-append write.
//!
//! Readers already skip such an op with a warning and `validate` reports
//! it; repairing makes the file whole again. Only an unterminated *final*
//! op is ever removed, and only after the whole file has been copied to
//! `.agent/repair-backups/<file name>.<UTC timestamp>` (synced). The cut is
//! an `ftruncate` under the file's exclusive `flock`, so it cannot race an
//! append: an append either completed before (then the tail is whole and
//! nothing is cut) or waits for the lock (and lands after the cut).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use crate::error::{Error, Result};
use crate::oplog::{self, MAX_FILE_BYTES};
use crate::tracker::{ItemFile, Tracker};

/// What was done to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub id: String,
    pub path: PathBuf,
    /// Bytes of the torn op removed.
    pub bytes: u64,
    /// Where the whole file was copied first.
    pub backup: PathBuf,
}

/// The directory backups go to.
pub fn backup_dir(t: &Tracker) -> PathBuf {
    t.root.join("repair-backups")
}

/// Repairs the torn tail of each of `files`; files whose tail is whole are
/// left untouched (not even opened for writing beyond the lock).
pub fn repair_files(t: &Tracker, files: &[ItemFile]) -> Result<Vec<Repaired>> {
    let mut out = Vec::new();
    for f in files {
        if let Some((bytes, backup)) = repair_file(&f.path, &backup_dir(t))? {
            out.push(Repaired {
                id: f.id.clone(),
                path: f.path.clone(),
                bytes,
                backup,
            });
        }
    }
    Ok(out)
}

/// Repairs one file: `Some((bytes removed, backup path))`, or `None` when
/// its tail is whole.
pub fn repair_file(path: &Path, backups: &Path) -> Result<Option<(u64, PathBuf)>> {
    let (file, bytes) = open_locked(path, "repair")?;
    let text = oplog::text_of(&bytes).map_err(|line| {
        Error::user(format!(
            "{}:{line}: not valid UTF-8 before the end of the file: not a torn op, refusing to repair it",
            path.display()
        ))
        .with_hint(format!("a human can move the broken op aside with 'htrac quarantine {}'", id_hint(path)))
    })?;
    let Some(offset) = oplog::torn_tail(text) else {
        return Ok(None);
    };
    let removed = bytes.len() as u64 - offset as u64;
    let backup = write_backup(path, backups, &bytes, "")?;
    file.set_len(offset as u64)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::user(format!("cannot truncate {}: {e}", path.display())))?;
    Ok(Some((removed, backup)))
}

/// The item ID of an op file's path (`.<ID>.ops`), for hints.
pub(crate) fn id_hint(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ITEM");
    crate::items::tiers::id_from_file_name(name)
        .unwrap_or("ITEM")
        .to_string()
}

/// Opens an op file for a repair: never through a symbolic link, only a
/// regular file of at most [`MAX_FILE_BYTES`], under its exclusive `flock`
/// (held until the returned file is dropped), with all its bytes. `what`
/// names the repair in errors.
pub(crate) fn open_locked(path: &Path, what: &str) -> Result<(File, Vec<u8>)> {
    let cannot = |verb: &str, e: std::io::Error| {
        Error::user(format!("cannot {verb} {}: {e}", path.display()))
    };
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            Error::user(format!(
                "{} is a symbolic link: refusing to {what} through it",
                path.display()
            ))
        } else {
            cannot("open", e.into())
        }
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| cannot("stat", e.into()))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(Error::user(format!(
            "{} is not a regular file: refusing to {what} it",
            path.display()
        )));
    }
    flock(&fd, FlockOperation::LockExclusive).map_err(|e| cannot("lock", e.into()))?;
    let mut file = File::from(fd);
    let len = file.metadata().map_err(|e| cannot("stat", e))?.len();
    if len > MAX_FILE_BYTES {
        return Err(Error::user(format!(
            "{} is {len} bytes, larger than htrac's limit of {MAX_FILE_BYTES} bytes: refusing to {what} it",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| cannot("read", e))?;
    Ok((file, bytes))
}

/// Copies `bytes` (the whole file) to a new file in `dir`, synced, named
/// `<file name>.<UTC timestamp><suffix>`.
pub(crate) fn write_backup(path: &Path, dir: &Path, bytes: &[u8], suffix: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::user(format!("cannot create {}: {e}", dir.display())))?;
    // Backups are local evidence, never committed (`git add -A` included).
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        let _ = std::fs::write(&ignore, "*\n");
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ops")
        .trim_start_matches('.');
    let stamp = crate::timestamp::now_utc().replace([':', '-'], "");
    let mut n = 0;
    loop {
        let candidate = if n == 0 {
            dir.join(format!("{name}.{stamp}{suffix}"))
        } else {
            dir.join(format!("{name}.{stamp}.{n}{suffix}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(mut f) => {
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| {
                        Error::user(format!("cannot write backup {}: {e}", candidate.display()))
                    })?;
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => {
                return Err(Error::user(format!(
                    "cannot write backup {}: {e}",
                    candidate.display()
                )))
            }
        }
    }
}
