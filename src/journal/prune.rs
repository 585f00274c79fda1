//! Keeping the journal bounded: ops already reachable from the base branch
//! are safe in git and are dropped from the journal. Also reads the base
//! branch's copies of items, which `reconcile` uses to recreate a file whose
//! older ops were pruned.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::{entries, lock_dir, open_locked};
use crate::error::{Error, Result};
use crate::items::tiers::{ops_file_name, Tier};
use crate::oplog::op::Op;
use crate::tracker::Tracker;

/// What [`prune`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// The commit compared against (`None`: no base branch, nothing pruned).
    pub base: Option<String>,
    /// Ops dropped from the journal.
    pub dropped: usize,
    /// Ops kept (not yet on the base branch).
    pub kept: usize,
}

/// A `sync.` setting from the config's raw mapping.
fn sync_setting(tracker: &Tracker, key: &str, default: &str) -> String {
    tracker
        .config
        .raw
        .get("sync")
        .and_then(|s| s.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(default)
        .to_string()
}

/// The commit of the base branch: `<sync.remote>/<base branch>` (the base
/// branch as sync finds it: configured, the template's, the remote's
/// default branch, …), else the local base branch; `None` when neither
/// exists or the tracker is not in a git work tree.
pub fn base_ref(tracker: &Tracker) -> Option<String> {
    let wt = tracker.work_tree.as_deref()?;
    let found = crate::sync::Repo::of(tracker)
        .and_then(|repo| crate::sync::load_config(tracker, &repo).ok())
        .map(|c| (c.base_branch, c.remote));
    let (base, remote) = found.unwrap_or_else(|| {
        (
            sync_setting(tracker, "base_branch", "dev"),
            sync_setting(tracker, "remote", "origin"),
        )
    });
    [
        format!("refs/remotes/{remote}/{base}"),
        format!("refs/heads/{base}"),
    ]
    .iter()
    .find_map(|r| {
        crate::git::output(
            wt,
            &["rev-parse", "--verify", "-q", &format!("{r}^{{commit}}")],
        )
    })
    .filter(|s| !s.is_empty())
}

/// The committed tiers, the only ones git (and so the base branch) holds.
pub(super) const COMMITTED: [Tier; 2] = [Tier::Canonical, Tier::Workspace];

/// The ops of each item's copies (canonical and workspace) at `commit`,
/// with their exact text, read in one `git cat-file --batch`.
pub(super) fn base_copies(
    tracker: &Tracker,
    commit: &str,
    ids: &[&str],
) -> Result<HashMap<String, Vec<(String, Op)>>> {
    let mut out: HashMap<String, Vec<(String, Op)>> = HashMap::new();
    let Some(wt) = tracker.work_tree.as_deref() else {
        return Ok(out);
    };
    let rel = tracker.root.strip_prefix(wt).unwrap_or(Path::new(""));
    let mut specs = Vec::new();
    for id in ids {
        for tier in COMMITTED {
            let p = rel.join(tier.rel_dir()).join(ops_file_name(id));
            specs.push(format!("{commit}:{}", p.to_string_lossy()));
        }
    }
    let blobs = crate::git::cat_files(wt, &specs)
        .map_err(|e| Error::internal(format!("cannot read the base branch (git: {e})")))?;
    for (i, blob) in blobs.into_iter().enumerate() {
        let Some(blob) = blob else { continue };
        let id = ids[i / COMMITTED.len()];
        let Ok(text) = String::from_utf8(blob) else {
            continue;
        };
        // A copy git cannot give us whole is no proof of safety: skip it.
        let Ok((ops, _)) = crate::oplog::parse_texts(Path::new(&specs[i]), &text) else {
            continue;
        };
        out.entry(id.to_string())
            .or_default()
            .extend(ops.into_iter().map(|(_, t, op)| (t.to_string(), op)));
    }
    Ok(out)
}

/// Drops from the journal every op already in the base branch's copy of its
/// item (any committed tier: the item may have been promoted there since),
/// rewriting journal files atomically and removing emptied ones. Safe to
/// call any time; the sync engine calls it after a successful sync.
pub fn prune(tracker: &Tracker) -> Result<Pruned> {
    let mut report = Pruned::default();
    let Some(dir) = super::dir(tracker).filter(|d| d.is_dir()) else {
        return Ok(report);
    };
    let Some(base) = base_ref(tracker) else {
        return Ok(report);
    };
    report.base = Some(base.clone());
    let cannot = |what: &str, e: std::io::Error| {
        Error::internal(format!("cannot {what} the journal {}: {e}", dir.display()))
    };
    let _lock = lock_dir(&dir).map_err(|e| cannot("lock", e))?;
    let list = entries(&dir).map_err(|e| cannot("read", e))?;
    let mut ids: Vec<&str> = list.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let safe = base_copies(tracker, &base, &ids)?;
    for entry in &list {
        let Some(in_base) = safe.get(&entry.id) else {
            report.kept += count_ops(&entry.path);
            continue;
        };
        // Hold the journal file's lock so no mirror appends to the old
        // inode while it is replaced (mirror re-checks the inode).
        let (mut file, _) = open_locked(&entry.path).map_err(|e| cannot("open", e))?;
        let mut text = String::new();
        if file.read_to_string(&mut text).is_err() {
            continue;
        }
        let Ok((ops, torn)) = crate::oplog::parse_texts(&entry.path, &text) else {
            continue;
        };
        let mut kept = String::new();
        let mut dropped = 0;
        for (_, block, op) in &ops {
            if in_base.iter().any(|(_, b)| b == op) {
                dropped += 1;
            } else {
                kept.push_str(block);
                report.kept += 1;
            }
        }
        // Leave a file with torn blocks alone: it may be mid-append.
        if dropped == 0 || !torn.is_empty() {
            report.kept += dropped;
            continue;
        }
        report.dropped += dropped;
        if kept.is_empty() {
            std::fs::remove_file(&entry.path).map_err(|e| cannot("prune", e))?;
        } else {
            crate::atomic::replace(&entry.path, kept.as_bytes(), 0o600)
                .map_err(|e| cannot("prune", e))?;
        }
        drop(file);
    }
    Ok(report)
}

fn count_ops(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| crate::oplog::parse(path, &t).ok())
        .map(|l| l.ops.len())
        .unwrap_or(0)
}
