//! The circuit breaker's memory: per repository, how many stops in a row
//! the hook has blocked without any progress, so a stuck agent is not held
//! forever.
//!
//! Progress is any change of the [`Progress`] fingerprint: the
//! `hash-todos` fingerprint (an item became or stopped being blocking, or
//! its title changed) or the total size of the op-logs of all tiers (any op
//! written at all). The hook blocks at most `stop_hook.max_blocked_stops`
//! times in a row on one fingerprint; the next stop with still no progress
//! is let through (and the count starts again). Any progress resets it.
//!
//! The state is one small JSON file per repository, named by a fingerprint
//! of the tracker root's path (as the alias cache is), in `$HTRAC_STATE_DIR`,
//! else `$XDG_STATE_HOME/htrac/`, else `~/.local/state/htrac/`. It is
//! replaced atomically, so a crash never leaves half a file.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::tracker::Tracker;

/// What must change for a stop to count as progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The `hash-todos` fingerprint (or a stand-in when the tracker
    /// cannot be read).
    pub hash: String,
    /// Total bytes of every item op-log in every tier.
    pub op_bytes: u64,
}

/// The remembered state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub progress: Progress,
    /// Consecutive blocked stops at `progress`.
    pub blocked: u32,
}

/// What the breaker says about a stop the hook wants to block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Block it: this is blocked stop number `stalls` at this fingerprint.
    Block { stalls: u32 },
    /// Let it through: `stalls` stops in a row were blocked without progress.
    Trip { stalls: u32 },
}

/// The directory for hook state: `$HTRAC_STATE_DIR`, else
/// `$XDG_STATE_HOME/htrac`, else `~/.local/state/htrac`.
pub fn state_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
    if let Some(d) = var("HTRAC_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    match var("XDG_STATE_HOME") {
        Some(d) => Some(PathBuf::from(d).join("htrac")),
        None => Some(PathBuf::from(var("HOME")?).join(".local/state/htrac")),
    }
}

/// A short fingerprint of a path (the first 8 bytes of its SHA-256, hex).
pub fn path_key(path: &Path) -> String {
    let digest = Sha256::digest(path.to_string_lossy().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Total bytes of the item op-logs of every tier.
pub fn op_bytes(tracker: &Tracker) -> Result<u64> {
    let mut total = 0;
    for f in tracker.files()? {
        // A file deleted since the listing simply adds nothing.
        total += std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
    }
    Ok(total)
}

/// One repository's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    pub path: PathBuf,
    /// The repository it is about (recorded in the file, for people).
    pub about: PathBuf,
}

impl Breaker {
    /// The breaker of the repository whose tracker root (or, when there is
    /// none, working directory) is `about`, keeping its state in `dir`.
    pub fn new(dir: &Path, about: &Path) -> Breaker {
        Breaker {
            path: dir.join(format!("stop-{}.json", path_key(about))),
            about: about.to_path_buf(),
        }
    }

    /// The remembered state; a missing or unreadable file is no state.
    pub fn load(&self) -> Option<State> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        Some(State {
            progress: Progress {
                hash: v.get("hash")?.as_str()?.to_string(),
                op_bytes: v.get("op_bytes")?.as_u64()?,
            },
            blocked: u32::try_from(v.get("blocked")?.as_u64()?).ok()?,
        })
    }

    fn save(&self, state: &State) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let v = json!({
            "repository": self.about.to_string_lossy(),
            "hash": state.progress.hash,
            "op_bytes": state.progress.op_bytes,
            "blocked": state.blocked,
            "updated_at": crate::timestamp::now_utc(),
        });
        let mut text = crate::py::json::pretty(&v);
        text.push('\n');
        crate::atomic::replace(&self.path, text.as_bytes(), 0o600)
    }

    /// Records that the hook wants to block a stop at `now`; says whether
    /// to block it or, after `max` blocked stops in a row without
    /// progress, to let it through. Fails only if the state cannot be
    /// written (then the count cannot advance).
    pub fn on_block(&self, now: &Progress, max: u32) -> std::io::Result<Verdict> {
        let before = self.load().filter(|s| &s.progress == now);
        let stalls = before.map(|s| s.blocked).unwrap_or(0);
        if stalls >= max.max(1) {
            self.reset()?;
            return Ok(Verdict::Trip { stalls });
        }
        self.save(&State {
            progress: now.clone(),
            blocked: stalls + 1,
        })?;
        Ok(Verdict::Block { stalls: stalls + 1 })
    }

    /// Forgets the count (the agent may stop, or has just been let go).
    pub fn reset(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(hash: &str, bytes: u64) -> Progress {
        Progress {
            hash: hash.into(),
            op_bytes: bytes,
        }
    }

    #[test]
    fn trips_after_max_stalls_and_resets_on_progress() {
        let dir = tempfile::tempdir().unwrap();
        let b = Breaker::new(dir.path(), Path::new("/repo/.agent"));
        let p = progress("h", 10);
        assert_eq!(b.on_block(&p, 2).unwrap(), Verdict::Block { stalls: 1 });
        assert_eq!(b.on_block(&p, 2).unwrap(), Verdict::Block { stalls: 2 });
        assert_eq!(b.on_block(&p, 2).unwrap(), Verdict::Trip { stalls: 2 });
        assert!(b.load().is_none(), "tripping starts the count again");
        assert_eq!(b.on_block(&p, 2).unwrap(), Verdict::Block { stalls: 1 });
        // An op written (bytes grew): progress.
        assert_eq!(
            b.on_block(&progress("h", 11), 2).unwrap(),
            Verdict::Block { stalls: 1 }
        );
        assert_eq!(
            b.on_block(&progress("h", 11), 2).unwrap(),
            Verdict::Block { stalls: 2 }
        );
        // The blocking set changed: progress.
        assert_eq!(
            b.on_block(&progress("g", 11), 2).unwrap(),
            Verdict::Block { stalls: 1 }
        );
    }

    #[test]
    fn repositories_are_kept_apart_and_state_is_json() {
        let dir = tempfile::tempdir().unwrap();
        let a = Breaker::new(dir.path(), Path::new("/a/.agent"));
        let b = Breaker::new(dir.path(), Path::new("/b/.agent"));
        assert_ne!(a.path, b.path);
        a.on_block(&progress("h", 1), 3).unwrap();
        assert!(b.load().is_none());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&a.path).unwrap()).unwrap();
        assert_eq!(v["blocked"], 1);
        assert_eq!(v["repository"], "/a/.agent");
        // A damaged file is no state, not an error.
        std::fs::write(&a.path, "{garbage").unwrap();
        assert!(a.load().is_none());
        assert_eq!(
            a.on_block(&progress("h", 1), 3).unwrap(),
            Verdict::Block { stalls: 1 }
        );
    }
}
