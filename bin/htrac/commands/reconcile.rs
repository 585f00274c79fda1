//! `reconcile`: as the reference's, first send pending ops to the remote
//! and bring the local branch up to date (a sync, when there is a remote;
//! not from a git hook), then restore journalled ops a git command removed
//! from the working tree (see `htrac::journal`), then prune the journal of
//! ops the base branch already holds.

use std::path::Path;

use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::{Globals, ReconcileArgs};
use crate::Output;

/// Why a hook-run reconcile stands aside: git is in the middle of an
/// operation that restored files would get in the way of (a rebase's next
/// pick, a bisect's next checkout), or the caller (the sync engine, around
/// its own git commands) asked it to. (`MERGE_HEAD` is not a reason: it is
/// still there when post-merge runs, after the merge succeeded.)
fn hook_skip(t: &Tracker) -> Option<&'static str> {
    if std::env::var_os("HTRAC_NO_RECONCILE").is_some_and(|v| !v.is_empty()) {
        return Some("HTRAC_NO_RECONCILE is set");
    }
    let wt = t.work_tree.as_deref()?;
    let git_dir = htrac::git::output(wt, &["rev-parse", "--absolute-git-dir"])?;
    let git_dir = Path::new(&git_dir);
    [
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("BISECT_LOG", "a bisect"),
    ]
    .iter()
    .find(|(f, _)| git_dir.join(f).exists())
    .map(|(_, what)| *what)
}

pub fn run(a: &ReconcileArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ReconcileArgs {
        dry_run: dry,
        hook,
        ref base_branch,
        timeout,
    } = *a;
    if hook {
        if let Some(why) = hook_skip(t) {
            if why != "HTRAC_NO_RECONCILE is set" {
                out.warn(format!(
                    "htrac: journal restore skipped during {why}; run 'htrac reconcile' when it is done"
                ));
            }
            return Ok(());
        }
    }
    // Step 1 (not from a hook, nor with --no-auto-sync: no network then):
    // flush pending ops and fast-forward, as a sync does. A failure is
    // reported; the restore runs anyway.
    if !hook && !g.no_auto_sync && htrac::sync::has_remote(t) {
        let over = htrac::sync::Overrides {
            base_branch: base_branch.clone(),
            timeout_seconds: timeout,
        };
        let synced = if dry {
            htrac::sync::dry_run_with(t, &over)
        } else {
            htrac::sync::sync_now_with(t, &over, &mut |m| out.warn(format!("reconcile: {m}")))
        };
        match synced {
            Ok(r) => {
                out.warn(format!("reconcile: {}", r.summary()));
                if let Some(l) = &r.local {
                    out.warn(format!("reconcile: {}", l.describe(&r.base_branch)));
                }
            }
            Err(e) => out.warn(format!(
                "reconcile: sync failed: {} (the journal restore runs anyway)",
                e.message
            )),
        }
    }
    let report = match htrac::journal::reconcile(t, dry) {
        Ok(r) => r,
        // From a hook, a failure is a warning: the git command it follows succeeded.
        Err(e) if hook => {
            out.warn(format!("htrac: journal restore failed: {}", e.message));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for w in &report.warnings {
        out.warn(w);
    }
    if g.json {
        let restored: Vec<_> = report
            .restored
            .iter()
            .map(|r| json!({"id": r.id, "tier": r.tier.as_str(), "ops": r.ops, "created": r.created}))
            .collect();
        out.line(htrac::py::json::compact(&json!({
            "restored": restored,
            "total": report.total(),
            "pruned": report.pruned,
            "dry_run": dry,
        })));
        return Ok(());
    }
    if hook && dry {
        // After a switch to another commit: say, do not restore.
        let n = report.total();
        if n > 0 {
            out.line(format!(
                "htrac: {n} journalled op(s) are not in this checkout; 'htrac reconcile' restores them"
            ));
        }
        return Ok(());
    }
    let verb = if dry { "would restore" } else { "restored" };
    for r in &report.restored {
        let how = if r.created { " (file recreated)" } else { "" };
        let line = format!(
            "{verb} {} op(s) to {} [{}]{how}",
            r.ops,
            r.id,
            r.tier.as_str()
        );
        out.line(if hook { format!("htrac: {line}") } else { line });
    }
    if report.restored.is_empty() && !hook {
        out.line("nothing to restore");
    }
    Ok(())
}
