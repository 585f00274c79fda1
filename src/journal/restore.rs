//! `reconcile`: union-restore journalled ops that are missing from the
//! working tree. Append-only: a file that lost ops gets them appended back
//! (exact journalled bytes, never rewritten); a file that is gone is
//! recreated. Idempotent: a second run finds nothing missing.
//!
//! Where an item's journalled ops go:
//! * to its file in the tier they were journalled for, when that exists;
//! * else to where the item lives now (a promote or demote moved it; if it
//!   is in several tiers, its *home* one when there), except that ops
//!   journalled in stealth never go into a committed tier unless the item
//!   left stealth later (`unstealth`);
//! * else the file is recreated in the item's home tier: the tier of its
//!   newest journalled op, or the destination of that op when it is a move.
//!   A recreated committed file starts from the base branch's copy (older
//!   ops may have been pruned from the journal as safe there); one that
//!   would still lack its `create` op is not written.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{entries, lock_dir, Entry};
use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::tracker::moves::Move;
use crate::tracker::Tracker;

/// The ops restored to one item file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub id: String,
    pub tier: Tier,
    pub ops: usize,
    /// The file was gone and has been recreated.
    pub created: bool,
}

/// What [`reconcile`] did (or, dry, would do).
#[derive(Debug, Default, Clone)]
pub struct Reconciled {
    pub restored: Vec<Restored>,
    /// Journal ops dropped as safe on the base branch (not on a dry run).
    pub pruned: usize,
    /// Things the user should know (unreadable files, skipped items).
    pub warnings: Vec<String>,
}

impl Reconciled {
    pub fn total(&self) -> usize {
        self.restored.iter().map(|r| r.ops).sum()
    }
}

/// One journalled op: the tier it was journalled for, its bytes, the op.
struct Journalled {
    tier: Tier,
    text: String,
    op: Op,
}

fn key(op: &Op) -> (i64, &str, &str, &str) {
    (op.clock, &op.at, &op.actor, &op.nonce)
}

/// Restores every journalled op missing from the working tree (see the
/// module doc), then prunes ops safe on the base branch. `dry_run` reports
/// what would be restored and changes nothing.
pub fn reconcile(tracker: &Tracker, dry_run: bool) -> Result<Reconciled> {
    let mut report = Reconciled::default();
    let Some(dir) = super::dir(tracker).filter(|d| d.is_dir()) else {
        return Ok(report);
    };
    let cannot = |what: &str, e: std::io::Error| {
        Error::internal(format!("cannot {what} the journal {}: {e}", dir.display()))
    };
    {
        let _lock = lock_dir(&dir).map_err(|e| cannot("lock", e))?;
        let list = entries(&dir).map_err(|e| cannot("read", e))?;
        let mut by_id: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in &list {
            by_id.entry(e.id.as_str()).or_default().push(e);
        }
        let mut plans = Vec::new();
        for (id, journals) in by_id {
            let ops = read_journals(&journals, &mut report.warnings);
            plans.extend(plan(tracker, id, ops));
        }
        // Recreated committed files start from the base branch's copy.
        let need: Vec<&str> = plans
            .iter()
            .filter(|p| p.tier != Tier::Stealth && !p.path.exists())
            .map(|p| p.id.as_str())
            .collect();
        let base = match super::base_ref(tracker) {
            Some(commit) if !need.is_empty() => super::prune::base_copies(tracker, &commit, &need)
                .unwrap_or_else(|e| {
                    report.warnings.push(format!("warning: {}", e.message));
                    Default::default()
                }),
            _ => Default::default(),
        };
        for p in &plans {
            let seed = base.get(&p.id).map(Vec::as_slice).unwrap_or(&[]);
            match restore_file(p, seed, dry_run) {
                Ok(Some(r)) => report.restored.push(r),
                Ok(None) => {}
                Err(w) => report.warnings.push(w),
            }
        }
    }
    if !dry_run {
        match super::prune(tracker) {
            Ok(p) => report.pruned = p.dropped,
            Err(e) => report
                .warnings
                .push(format!("warning: journal not pruned: {}", e.message)),
        }
    }
    Ok(report)
}

/// Every op of an item's journal files (torn tails skipped).
fn read_journals(journals: &[&Entry], warnings: &mut Vec<String>) -> Vec<Journalled> {
    let mut out = Vec::new();
    for e in journals {
        let text = match std::fs::read_to_string(&e.path) {
            Ok(t) => t,
            Err(err) => {
                warnings.push(format!("warning: {}: {err}", e.path.display()));
                continue;
            }
        };
        match crate::oplog::parse_texts(&e.path, &text) {
            Ok((ops, _torn)) => out.extend(ops.into_iter().map(|(_, t, op)| Journalled {
                tier: e.tier,
                text: t.to_string(),
                op,
            })),
            Err(b) => warnings.push(format!("warning: journal file unreadable, skipped: {b}")),
        }
    }
    out
}

/// The ops to bring into one item file.
struct Plan {
    id: String,
    tier: Tier,
    path: PathBuf,
    /// Candidate blocks (text, op), oldest first.
    ops: Vec<(String, Op)>,
}

/// Decides where each journalled op of item `id` belongs (module doc).
fn plan(tracker: &Tracker, id: &str, ops: Vec<Journalled>) -> Vec<Plan> {
    let Some(newest) = ops
        .iter()
        .max_by(|a, b| key(&a.op).cmp(&key(&b.op)))
        .map(|j| (j.tier, &j.op))
    else {
        return Vec::new();
    };
    let home = match Move::parse(&newest.1.kind) {
        Some(m) => m.to(),
        None => newest.0,
    };
    let present: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|t| tracker.item_path(*t, id).exists())
        .collect();
    let now = if present.contains(&home) {
        Some(home)
    } else {
        present.first().copied()
    };
    let dest = |from: Tier| -> Tier {
        if present.contains(&from) {
            return from;
        }
        match now {
            // Stealth text goes public only if the item itself did.
            Some(t) if from == Tier::Stealth && t != Tier::Stealth && home == Tier::Stealth => {
                Tier::Stealth
            }
            Some(t) => t,
            None => home,
        }
    };
    let mut plans: Vec<Plan> = Vec::new();
    for j in ops {
        let tier = dest(j.tier);
        let i = match plans.iter().position(|p| p.tier == tier) {
            Some(i) => i,
            None => {
                plans.push(Plan {
                    id: id.to_string(),
                    tier,
                    path: tracker.item_path(tier, id),
                    ops: Vec::new(),
                });
                plans.len() - 1
            }
        };
        plans[i].ops.push((j.text, j.op));
    }
    // A recreated stealth file needs the item's whole history, from every
    // journal (committed text may go into stealth, never the reverse).
    let all: Vec<(String, Op)> = plans.iter().flat_map(|p| p.ops.clone()).collect();
    for p in &mut plans {
        if p.tier == Tier::Stealth && !p.path.exists() {
            p.ops = all.clone();
        }
        p.ops.sort_by_key(|(_, op)| op.clock);
    }
    plans
}

/// Appends the ops of `plan` missing from its file (recreating it from
/// `seed` + the plan when gone), under the file's lock. `Err` is a warning.
fn restore_file(
    plan: &Plan,
    seed: &[(String, Op)],
    dry_run: bool,
) -> std::result::Result<Option<Restored>, String> {
    let path = &plan.path;
    let created = !path.exists();
    let mut candidates: Vec<&(String, Op)> = Vec::new();
    if created {
        candidates.extend(seed.iter());
    }
    candidates.extend(plan.ops.iter());
    candidates.sort_by_key(|(_, op)| op.clock);
    if created && !candidates.iter().any(|(_, op)| op.kind == "create") {
        return Err(format!(
            "warning: {} [{}]: not recreated: its journal lacks the create op (pruned, and the base branch has no copy); the ops stay in the journal",
            plan.id,
            plan.tier.as_str()
        ));
    }
    let unreadable = |e: String| format!("warning: {}: not restored: {e}", path.display());
    if dry_run {
        let text = if created {
            String::new()
        } else {
            std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?
        };
        let n = missing(path, &text, &candidates).map_err(unreadable)?.len();
        return Ok((n > 0).then(|| restored(plan, n, created)));
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| unreadable(e.to_string()))?;
    }
    let (mut file, made) = open_locked_item(path).map_err(|e| unreadable(e.to_string()))?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    let todo = missing(path, &text, &candidates).map_err(unreadable)?;
    if todo.is_empty() {
        return Ok(None);
    }
    let mut buf = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        buf.push('\n');
    }
    for t in &todo {
        buf.push_str(t);
    }
    use std::io::Write;
    file.write_all(buf.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| unreadable(e.to_string()))?;
    if made {
        if let Some(d) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
            let _ = d.sync_all();
        }
    }
    Ok(Some(restored(plan, todo.len(), created)))
}

fn restored(plan: &Plan, ops: usize, created: bool) -> Restored {
    Restored {
        id: plan.id.clone(),
        tier: plan.tier,
        ops,
        created,
    }
}

/// The texts of `candidates` whose op is not in the file (nor earlier in
/// `candidates`).
fn missing<'a>(
    path: &Path,
    text: &str,
    candidates: &[&'a (String, Op)],
) -> std::result::Result<Vec<&'a str>, String> {
    let log = crate::oplog::parse(path, text).map_err(|b| b.to_string())?;
    let mut have: Vec<&Op> = log.ops.iter().map(|(_, o)| o).collect();
    let mut out = Vec::new();
    for (t, op) in candidates.iter().copied() {
        if !have.contains(&op) {
            have.push(op);
            out.push(t.as_str());
        }
    }
    Ok(out)
}

/// Opens an item file for a restore: created (0664, group-writable as
/// every item file) when gone, exclusively locked as appenders lock it,
/// following a take-over that replaced it while we waited.
fn open_locked_item(path: &Path) -> std::io::Result<(std::fs::File, bool)> {
    use rustix::fs::{flock, FlockOperation, Mode, OFlags};
    loop {
        let existed = path.exists();
        let fd = rustix::fs::open(
            path,
            OFlags::RDWR | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o664),
        )?;
        flock(&fd, FlockOperation::LockExclusive)?;
        let held = rustix::fs::fstat(&fd)?;
        match rustix::fs::stat(path) {
            Ok(now) if now.st_ino == held.st_ino && now.st_dev == held.st_dev => {
                let file = std::fs::File::from(fd);
                if !existed {
                    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o664));
                }
                return Ok((file, !existed));
            }
            Ok(_) => continue,
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
