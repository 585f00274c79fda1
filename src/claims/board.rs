//! The host's claim board: every live claim made on this machine, in
//! `htrac-claims.json` in the git common directory (shared by all
//! worktrees of the repository; `.agent/claims.json` outside git). A claim
//! is decided under an exclusive `flock` on `htrac-claims.lock` beside it,
//! held while the claim's op is written, so two claims of one item can
//! never both succeed on one host. Readers take no lock: the file is
//! replaced atomically. The board is coordination, not authority — the op
//! files stay the record — so a lost or damaged board only loses the
//! cross-worktree view until the next claim.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One claim on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub session: String,
    /// The OS user that made the claim.
    pub actor: String,
    /// The lease's end, Unix seconds.
    pub until: i64,
    /// The status before the claim.
    pub from: String,
    /// The work tree whose op files record the claim ("" outside git):
    /// there, the op files are the truth and the board is not laid over.
    #[serde(default)]
    pub worktree: String,
    /// The lease's length in seconds: a write by the holder renews the
    /// claim by this much (0: not renewed by writes).
    #[serde(default)]
    pub lease: i64,
}

impl Entry {
    pub fn is_live(&self, now: i64) -> bool {
        self.until > now
    }
}

/// Every claim on the board, by item ID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub claims: BTreeMap<String, Entry>,
}

/// The git common directory of the work tree `work_tree`, read from its
/// `.git` (a directory, or a linked worktree's `gitdir:` file and that
/// directory's `commondir`), without running git.
pub fn common_dir(work_tree: &Path) -> Option<PathBuf> {
    let dot_git = work_tree.join(".git");
    let meta = std::fs::metadata(&dot_git).ok()?;
    let git_dir = if meta.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let rel = text.strip_prefix("gitdir:")?.trim();
        let p = PathBuf::from(rel);
        if p.is_absolute() {
            p
        } else {
            work_tree.join(p)
        }
    };
    match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => {
            let c = PathBuf::from(c.trim());
            let dir = if c.is_absolute() { c } else { git_dir.join(c) };
            Some(dir.canonicalize().unwrap_or(dir))
        }
        Err(_) => Some(git_dir),
    }
}

/// How a board entry names the work tree `work_tree`.
pub fn worktree_key(work_tree: Option<&Path>) -> String {
    work_tree.map_or(String::new(), |p| p.display().to_string())
}

/// Where a tracker's board lives: `(board file, lock file)`.
pub fn paths(root: &Path, work_tree: Option<&Path>) -> (PathBuf, PathBuf) {
    match work_tree.and_then(common_dir) {
        Some(dir) => (dir.join("htrac-claims.json"), dir.join("htrac-claims.lock")),
        None => (root.join("claims.json"), root.join("claims.lock")),
    }
}

/// The board in `file` (empty when missing or unreadable), read under a
/// shared lock on the file: a writer that may not replace it (another OS
/// user's file in a sticky directory) rewrites it in place under an
/// exclusive one.
pub fn read(file: &Path) -> Board {
    let Ok(mut f) = File::open(file) else {
        return Board::default();
    };
    let _ = flock(&f, FlockOperation::LockShared);
    let mut bytes = Vec::new();
    use std::io::Read;
    if f.read_to_end(&mut bytes).is_err() {
        return Board::default();
    }
    serde_json::from_slice(&bytes).unwrap_or_default()
}

/// The board, locked for a change: read it, change it, [`Locked::save`].
/// The lock is released when this is dropped.
pub struct Locked {
    _lock: File,
    file: PathBuf,
    pub board: Board,
}

/// Takes the board's lock (waiting for another claim to finish) and reads
/// it, dropping claims whose lease ended before `now`.
pub fn lock(file: &Path, lock_file: &Path, now: i64) -> Result<Locked> {
    let lock = crate::sync::lock::open(lock_file).map_err(|e| {
        Error::new(
            crate::error::ErrorKind::Unavailable,
            format!("cannot open the claim lock {}: {e}", lock_file.display()),
        )
    })?;
    loop {
        match flock(&lock, FlockOperation::LockExclusive) {
            Ok(()) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                return Err(Error::new(
                    crate::error::ErrorKind::Unavailable,
                    format!("cannot lock {}: {e}", lock_file.display()),
                ))
            }
        }
    }
    let mut board = read(file);
    board.claims.retain(|_, e| e.is_live(now));
    Ok(Locked {
        _lock: lock,
        file: file.to_path_buf(),
        board,
    })
}

impl Locked {
    /// Writes the board back (atomically, group-readable and -writable).
    pub fn save(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.board).expect("JSON") + "\n";
        // Both users of a two-user set-up write it: a file of the other
        // user's in the sticky git directory is rewritten in place.
        crate::atomic::replace_or_rewrite(&self.file, text.as_bytes(), 0o664).map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Unavailable,
                format!("cannot write the claim board {}: {e}", self.file.display()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_dir_of_a_linked_worktree_is_the_main_repositorys() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main");
        let git = main.join(".git");
        std::fs::create_dir_all(git.join("worktrees/wt")).unwrap();
        std::fs::write(git.join("worktrees/wt/commondir"), "../..\n").unwrap();
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(
            wt.join(".git"),
            format!("gitdir: {}\n", git.join("worktrees/wt").display()),
        )
        .unwrap();
        let canon = git.canonicalize().unwrap();
        assert_eq!(common_dir(&main), Some(git.clone()));
        assert_eq!(common_dir(&wt), Some(canon));
        assert_eq!(common_dir(&dir.path().join("none")), None);
    }

    #[test]
    fn a_locked_board_drops_expired_claims_and_saves() {
        let dir = tempfile::tempdir().unwrap();
        let (file, lockf) = (dir.path().join("b.json"), dir.path().join("b.lock"));
        let mut l = lock(&file, &lockf, 100).unwrap();
        let e = |until| Entry {
            session: "s".into(),
            actor: "a".into(),
            until,
            from: "todo_hard".into(),
            worktree: String::new(),
            lease: 0,
        };
        l.board.claims.insert("WI-a".into(), e(150));
        l.board.claims.insert("WI-b".into(), e(300));
        l.save().unwrap();
        drop(l);
        assert_eq!(read(&file).claims.len(), 2);
        let l = lock(&file, &lockf, 200).unwrap();
        assert_eq!(l.board.claims.keys().collect::<Vec<_>>(), ["WI-b"]);
    }
}
