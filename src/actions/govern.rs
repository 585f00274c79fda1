//! A human's authority over items: `lock`/`unlock` fields, `freeze`/
//! `unfreeze`/`repair-drift`, tier moves, `delete`. Authority is checked
//! before the item is looked up, so an agent learns nothing else about it.

use super::{Outcome, Transaction};
use crate::error::Result;
use crate::oplog::op::Op;
use crate::tracker::moves::Move;
use crate::tracker::write::Opened;

/// `lock` (or `unlock`) of `fields` on `item`.
#[derive(Debug, Clone)]
pub struct LockChange {
    pub item: String,
    pub fields: Vec<String>,
    pub unlock: bool,
}

/// Locks or unlocks fields; the outcome's `changes` name each field.
pub fn lock(tx: &mut Transaction, req: &LockChange) -> Result<Outcome> {
    let t = tx.tracker;
    t.require_human(if req.unlock { "unlock" } else { "lock" })?;
    let file = t.resolve(&req.item)?;
    let before = t.open_item(&file)?;
    let names = t.lock(&file, &req.fields, req.unlock)?;
    let after = t.open_item(&file)?;
    let detail = if req.unlock { "unlocked" } else { "locked" };
    let out = Outcome {
        id: file.id,
        changes: names
            .into_iter()
            .map(|f| super::Change {
                field: f,
                detail: detail.into(),
            })
            .collect(),
        ops: appended(&before, &after),
        before: Some(before.item),
        after: Some(after.item),
        ..Outcome::default()
    };
    Ok(tx.close(out))
}

/// What a freeze request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    Freeze,
    Unfreeze,
    /// Restore a frozen item's op log from its freeze sentinel.
    RepairDrift,
}

/// Freezes, unfreezes or repairs a frozen item's drift; a repair that
/// dropped bytes says so in a warning.
pub fn freeze(tx: &mut Transaction, item: &str, what: Freeze) -> Result<Outcome> {
    let t = tx.tracker;
    t.require_human(match what {
        Freeze::Freeze => "freeze",
        Freeze::Unfreeze => "unfreeze",
        Freeze::RepairDrift => "repair-drift",
    })?;
    let file = t.resolve(item)?;
    let before = t.open_item(&file)?;
    let mut out = Outcome::default();
    match what {
        Freeze::Freeze => t.freeze(&file)?,
        Freeze::Unfreeze => t.unfreeze(&file)?,
        Freeze::RepairDrift => {
            let dropped = t.repair_drift(&file)?;
            if dropped > 0 {
                out.warnings.push(format!(
                    "{}: {dropped} byte(s) written since the freeze were dropped",
                    file.id
                ));
            }
        }
    }
    let after = t.open_item(&file)?;
    out.ops = appended(&before, &after);
    out.id = file.id;
    out.before = Some(before.item);
    out.after = Some(after.item);
    Ok(tx.close(out))
}

/// Moves an item between tiers (stealth and unstealth: human only).
pub fn move_tier(tx: &mut Transaction, item: &str, mv: Move) -> Result<Outcome> {
    let t = tx.tracker;
    if mv.human_only() {
        t.require_human(mv.as_str())?;
    }
    let file = t.resolve(item)?;
    let before = t.open_item(&file)?;
    let moved = t.move_tier(&file, mv)?;
    let after = t.open_item(&moved)?;
    let out = Outcome {
        id: moved.id,
        ops: appended(&before, &after),
        before: Some(before.item),
        after: Some(after.item),
        ..Outcome::default()
    };
    Ok(tx.close(out))
}

/// Marks an item deleted and drops every isbefore link to it; the outcome's
/// `changes` list each item whose link was dropped (field `isbefore`).
pub fn delete(tx: &mut Transaction, item: &str) -> Result<Outcome> {
    let t = tx.tracker;
    t.require_human("delete")?;
    let file = t.resolve(item)?;
    let before = t.open_item(&file)?;
    let deleted = t.delete(&file)?;
    let after = t.open_item(&file)?;
    let out = Outcome {
        id: file.id,
        ops: appended(&before, &after),
        changes: deleted
            .inbound_cleared
            .iter()
            .map(|id| super::Change {
                field: "isbefore".into(),
                detail: format!("link from {id} dropped"),
            })
            .collect(),
        before: Some(before.item),
        after: Some(after.item),
        ..Outcome::default()
    };
    Ok(tx.close(out))
}

/// The ops appended to the item's file between two readings of it (a
/// tier move copies the file, so its ops are compared by nonce).
fn appended(before: &Opened, after: &Opened) -> Vec<Op> {
    after
        .ops()
        .iter()
        .filter(|o| !before.ops().iter().any(|b| b.nonce == o.nonce))
        .cloned()
        .collect()
}
