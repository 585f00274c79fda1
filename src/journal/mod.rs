//! The journal: every op appended to an item file is also copied, under the
//! op file's lock, to a per-repository journal outside the working tree, so
//! `htrac reconcile` can restore ops a destructive git command removed
//! (`reset --hard`, `checkout -- .`, `clean -fdx`, a failed pull).
//!
//! **Where.** `$HTRAC_STATE_DIR`, else `$XDG_STATE_HOME/htrac`, else
//! `~/.local/state/htrac`; under it `journal/<fingerprint>/`, keyed by the
//! tracker root's path ([`crate::alias::fingerprint`]), so every clone and
//! every git worktree has its own. The directory is 0700 and its files 0600:
//! it may hold stealth text.
//!
//! **Layout.** `<tier>/.<ID>.ops` per item and tier (`canonical`,
//! `workspace`, `stealth`), holding exactly the bytes appended to that
//! tier's file, each append one `O_APPEND` write + `fsync` under the journal
//! file's own `flock`. So an item's journal is itself a valid op log. A
//! `root` file names the tracker it belongs to; `.lock` serialises
//! `reconcile` and [`prune`].
//!
//! **What.** All three tiers. Stealth files are git-ignored, so no checkout
//! or reset touches them, but `git clean -fdx` deletes them, and the
//! stealth journal is what brings them back. A tracker outside any git work
//! tree is not journalled: no git command can reach it.
//!
//! **Bounded.** [`prune`] drops the journalled ops already reachable from
//! the base branch (as sync finds it: `sync.base_branch`, else the remote's default branch…, read at
//! `<sync.remote>/<base>`, default remote `origin`, else the local branch):
//! git itself keeps those. Stealth ops never reach it, so a stealth journal
//! stays about the size of the stealth files themselves.
//!
//! **Never fatal.** An op that was appended stands even when the journal
//! cannot be written; [`mirror_or_warn`] says so once on stderr instead of
//! failing a command that a caller would then retry (and duplicate).
//!
//! Lock order (no cycles): op file → journal file (mirror);
//! `.lock` → op file (restore); `.lock` → journal file (prune).

mod prune;
mod restore;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use crate::items::tiers::{id_from_file_name, ops_file_name, Tier};
use crate::tracker::Tracker;

pub use prune::{base_ref, prune, Pruned};
pub use restore::{reconcile, Reconciled, Restored};

/// The user's state directory for htrac (not per tracker).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HTRAC_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("htrac"));
    }
    let home = std::env::var_os("HOME").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(home).join(".local/state/htrac"))
}

/// This tracker's journal directory (which may not exist yet).
pub fn dir(tracker: &Tracker) -> Option<PathBuf> {
    Some(
        state_dir()?
            .join("journal")
            .join(crate::alias::fingerprint(&tracker.root)),
    )
}

/// The journal file of item `id` in `tier`, under journal directory `dir`.
pub fn file_path(dir: &Path, tier: Tier, id: &str) -> PathBuf {
    dir.join(tier.as_str()).join(ops_file_name(id))
}

/// The tier whose directory holds `path`, and the item ID its name encodes.
fn locate(tracker: &Tracker, path: &Path) -> Option<(Tier, String)> {
    let parent = path.parent()?;
    let tier = Tier::ALL
        .into_iter()
        .find(|t| tracker.tier_dir(*t) == parent)?;
    let id = id_from_file_name(path.file_name()?.to_str()?)?;
    Some((tier, id.to_string()))
}

/// Copies `text` (one or more ops just appended to the item file `path`)
/// into the journal. Files outside the tier directories (the edit-mode log)
/// and trackers outside a git work tree are not journalled.
pub fn mirror(tracker: &Tracker, path: &Path, text: &str) -> std::io::Result<()> {
    if tracker.work_tree.is_none() {
        return Ok(());
    }
    let Some((tier, id)) = locate(tracker, path) else {
        return Ok(());
    };
    let dir = ensure_dir(tracker)?;
    append(&file_path(&dir, tier, &id), text)
}

static WARNED: AtomicBool = AtomicBool::new(false);

/// [`mirror`] for the write path: a journal failure becomes one warning on
/// stderr per process, never an error: the op is in the item file, and a
/// failed command would be retried and write it twice.
pub fn mirror_or_warn(tracker: &Tracker, path: &Path, text: &str) -> std::io::Result<()> {
    if let Err(e) = mirror(tracker, path, text) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            let where_ = dir(tracker)
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "(no state directory: HOME is unset)".into());
            tracker.warn(format!(
                "warning: op written but not journalled: {e} (journal {where_}); \
                 'htrac reconcile' cannot restore it if a git command removes it \
                 (set HTRAC_STATE_DIR to a writable directory)"
            ));
        }
    }
    Ok(())
}

/// Creates the journal directory (0700, with its tier subdirectories and
/// `root` file) when missing; returns it.
fn ensure_dir(tracker: &Tracker) -> std::io::Result<PathBuf> {
    let dir = dir(tracker).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no state directory (HOME, XDG_STATE_HOME and HTRAC_STATE_DIR are unset)",
        )
    })?;
    if dir.join("root").is_file() {
        return Ok(dir);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true).mode(0o700);
    for tier in Tier::ALL {
        builder.create(dir.join(tier.as_str()))?;
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let mut root = tracker.root.to_string_lossy().into_owned();
    root.push('\n');
    crate::atomic::replace(&dir.join("root"), root.as_bytes(), 0o600)?;
    Ok(dir)
}

/// Opens `path` for appending (created 0600 when missing) and takes its
/// exclusive lock, retrying when [`prune`] replaced or removed the file
/// while we waited. Returns the locked file and whether we created it.
fn open_locked(path: &Path) -> std::io::Result<(File, bool)> {
    loop {
        let existed = path.exists();
        let fd = rustix::fs::open(
            path,
            OFlags::RDWR | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        flock(&fd, FlockOperation::LockExclusive)?;
        let held = rustix::fs::fstat(&fd)?;
        match rustix::fs::stat(path) {
            Ok(now) if now.st_ino == held.st_ino && now.st_dev == held.st_dev => {
                return Ok((File::from(fd), !existed))
            }
            Ok(_) => continue,
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Appends `text` to the journal file `path`: one write, then `fsync` (and
/// the directory's when the file is new). A torn tail is closed first.
///
/// The fsync is not redundant with the op file's: a journal copy lost in a
/// crash is found missing only when a git command has discarded the op
/// from the working tree, and then nothing can restore it. So each of the
/// two files is synced once, and a directory only when a file was created
/// in it (see [`crate::oplog::append_text_mirrored`]).
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let (mut file, created) = open_locked(path)?;
    let mut buf = Vec::with_capacity(text.len() + 1);
    let len = file.metadata()?.len();
    if len > 0 {
        use std::os::unix::fs::FileExt;
        let mut b = [0u8; 1];
        file.read_exact_at(&mut b, len - 1)?;
        if b[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(text.as_bytes());
    file.write_all(&buf)?;
    file.sync_all()?;
    if created {
        if let Some(d) = path.parent().and_then(|d| File::open(d).ok()) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// One item's journal file in one tier.
#[derive(Debug, Clone)]
pub struct Entry {
    pub tier: Tier,
    pub id: String,
    pub path: PathBuf,
}

/// Every journal file under `dir`, by tier then ID.
pub fn entries(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for tier in Tier::ALL {
        let tdir = dir.join(tier.as_str());
        let list = match std::fs::read_dir(&tdir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut here = Vec::new();
        for e in list {
            let e = e?;
            let name = e.file_name();
            if let Some(id) = name.to_str().and_then(id_from_file_name) {
                here.push(Entry {
                    tier,
                    id: id.to_string(),
                    path: e.path(),
                });
            }
        }
        here.sort_by(|a, b| a.id.cmp(&b.id));
        out.extend(here);
    }
    Ok(out)
}

/// The journal-wide lock `reconcile` and [`prune`] hold (released on drop).
fn lock_dir(dir: &Path) -> std::io::Result<File> {
    let fd = rustix::fs::open(
        dir.join(".lock"),
        OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    flock(&fd, FlockOperation::LockExclusive)?;
    Ok(File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_creates_0600_and_closes_a_torn_tail() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".WI-x.ops");
        append(&p, "- op: a  # 1\n").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"- op: torn")
            .unwrap();
        append(&p, "- op: b  # 2\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "- op: a  # 1\n- op: torn\n- op: b  # 2\n"
        );
    }

    #[test]
    fn append_follows_a_file_replaced_while_waiting_for_the_lock() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".WI-x.ops");
        append(&p, "- op: a  # 1\n").unwrap();
        // Hold the lock, as prune does, while another append waits.
        let (held, _) = open_locked(&p).unwrap();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || append(&p2, "- op: b  # 2\n").unwrap());
        // Wait until the other append is blocked on the lock (the kernel
        // lists a blocked request as `->` in /proc/locks).
        let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&p).unwrap());
        let start = std::time::Instant::now();
        while !std::fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .any(|l| {
                l.contains("->")
                    && l.split_whitespace()
                        .any(|w| w.ends_with(&format!(":{ino}")))
            })
        {
            assert!(
                start.elapsed().as_secs() < 10,
                "the append never waited for the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        crate::atomic::replace(&p, b"", 0o600).unwrap();
        drop(held);
        waiter.join().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "- op: b  # 2\n");
    }
}
