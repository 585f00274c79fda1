//! `repair-tail [ITEM...]`: cuts a torn final op off the named items' op
//! files (every item file when none is named), after backing each file up
//! under `.agent/repair-backups/` (see `htrac::repair::tail`). Human or agent.
//!
//! `quarantine [ITEM...]` (human only): moves every op block readers refuse
//! or skip — a torn op buried by later appends included — out of the files,
//! after the same backup (see `htrac::repair::quarantine`).

use htrac::tracker::ItemFile;
use htrac::{Result, Tier, Tracker};
use serde_json::json;

use crate::args::{Globals, ItemsArgs};
use crate::Output;

pub fn run(a: &ItemsArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let files = item_files(a, t)?;
    let repaired = htrac::repair::tail::repair_files(t, &files)?;
    if g.json {
        let list: Vec<_> = repaired
            .iter()
            .map(
                |r| json!({"id": r.id, "bytes": r.bytes, "backup": r.backup.display().to_string()}),
            )
            .collect();
        out.line(htrac::py::json::compact(&json!({"repaired": list})));
    } else if repaired.is_empty() {
        out.line("nothing to repair");
    } else {
        for r in &repaired {
            out.line(format!(
                "repaired {}: removed {} byte(s) of a torn op (backup: {})",
                r.id,
                r.bytes,
                r.backup.display()
            ));
        }
    }
    Ok(())
}

pub fn quarantine(a: &ItemsArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    // Refuse an agent before looking at any file.
    t.require_human("quarantine")?;
    let files = item_files(a, t)?;
    let done = htrac::repair::quarantine::quarantine_files(t, &files)?;
    if g.json {
        let list: Vec<_> = done
            .iter()
            .map(|q| {
                json!({
                    "id": q.id,
                    "blocks": q.blocks.iter().map(|b| json!({"line": b.line, "bytes": b.bytes, "reason": b.reason})).collect::<Vec<_>>(),
                    "kept": q.kept,
                    "quarantine": q.quarantine.display().to_string(),
                    "backup": q.backup.display().to_string(),
                })
            })
            .collect();
        out.line(htrac::py::json::compact(&json!({"quarantined": list})));
    } else if done.is_empty() {
        out.line("nothing to quarantine");
    } else {
        for q in &done {
            out.line(format!(
                "quarantined {}: moved {} broken block(s) to {}; kept {} op(s) (backup: {})",
                q.id,
                q.blocks.len(),
                q.quarantine.display(),
                q.kept,
                q.backup.display()
            ));
            for b in &q.blocks {
                out.line(format!(
                    "  line {}: {} ({} bytes)",
                    b.line, b.reason, b.bytes
                ));
            }
        }
    }
    Ok(())
}

/// The op files of the named items (`:N` aliases already resolved), in
/// every tier each is in (every item file when none is named).
fn item_files(a: &ItemsArgs, t: &Tracker) -> Result<Vec<ItemFile>> {
    if a.items.is_empty() {
        return t.files();
    }
    let mut files = Vec::new();
    for spec in &a.items {
        let id = t.resolve(spec)?.id;
        // The item's file in every tier it is in.
        for tier in Tier::ALL {
            let path = t.item_path(tier, &id);
            let regular = std::fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_file())
                .unwrap_or(false);
            if regular && !files.iter().any(|f: &ItemFile| f.path == path) {
                files.push(ItemFile {
                    id: id.clone(),
                    tier,
                    path,
                });
            }
        }
    }
    Ok(files)
}
