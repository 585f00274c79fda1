//! Moving items between tiers: `promote` (workspace → canonical), `demote`
//! (canonical → workspace), `stealth` (workspace → stealth, human only),
//! `unstealth` (stealth → workspace, human only), and the human's
//! `reconcile-reset` for an item whose file ended up in two tiers.
//!
//! A move appends its audit op, then renames the file (never copy-then-
//! delete), so the item is in exactly one directory at every instant.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::items::item::Item;
use crate::items::tiers::Tier;
use crate::oplog;
use crate::oplog::emit::emit_op;
use crate::tracker::{ItemFile, Tracker};

/// A tier move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Promote,
    Demote,
    Stealth,
    Unstealth,
}

impl Move {
    pub fn parse(s: &str) -> Option<Move> {
        match s {
            "promote" => Some(Move::Promote),
            "demote" => Some(Move::Demote),
            "stealth" => Some(Move::Stealth),
            "unstealth" => Some(Move::Unstealth),
            _ => None,
        }
    }

    /// The op kind recorded, which is also the command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Move::Promote => "promote",
            Move::Demote => "demote",
            Move::Stealth => "stealth",
            Move::Unstealth => "unstealth",
        }
    }

    pub fn from(self) -> Tier {
        match self {
            Move::Promote | Move::Stealth => Tier::Workspace,
            Move::Demote => Tier::Canonical,
            Move::Unstealth => Tier::Stealth,
        }
    }

    pub fn to(self) -> Tier {
        match self {
            Move::Promote => Tier::Canonical,
            Move::Demote | Move::Unstealth => Tier::Workspace,
            Move::Stealth => Tier::Stealth,
        }
    }

    pub fn human_only(self) -> bool {
        matches!(self, Move::Stealth | Move::Unstealth)
    }
}

/// The IDs an item references, with the flag that names each link.
fn references(item: &Item) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(p) = &item.parent {
        out.push(("parent", p.clone()));
    }
    for (name, list) in [
        ("isbefore", &item.isbefore),
        ("duplicate_of", &item.duplicate_of),
        ("not_duplicate_of", &item.not_duplicate_of),
    ] {
        out.extend(
            list.iter()
                .filter_map(Value::as_str)
                .map(|s| (name, s.to_string())),
        );
    }
    out
}

/// Refuses, before anything is written, a move the OS would refuse: in a
/// sticky directory (a two-user set-up's tier directories) only a file's
/// owner, the directory's owner or root may rename it.
fn may_rename(path: &std::path::Path, mv: Move, id: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(meta), Some(Ok(dir))) = (
        std::fs::symlink_metadata(path),
        path.parent().map(std::fs::metadata),
    ) else {
        return Ok(());
    };
    let me = rustix::process::geteuid().as_raw();
    if dir.mode() & 0o1000 == 0 || me == 0 || meta.uid() == me || dir.uid() == me {
        return Ok(());
    }
    let owner =
        crate::governance::actor::user_name(meta.uid()).unwrap_or_else(|| meta.uid().to_string());
    Err(Error::user(format!(
        "cannot {} {id}: {} belongs to '{owner}' and its directory is sticky (a two-user set-up), so only '{owner}' can move it",
        mv.as_str(),
        path.display()
    ))
    .with_hint(format!("ask '{owner}' to run 'htrac {} {id}'", mv.as_str())))
}

impl Tracker {
    /// Moves an item between tiers; returns its new file.
    pub fn move_tier(&self, file: &ItemFile, mv: Move) -> Result<ItemFile> {
        if mv.human_only() {
            self.require_human(mv.as_str())?;
        }
        let tiers = self.tiers_of(&file.id);
        if tiers.len() > 1 {
            return Err(Error::new(
                crate::error::ErrorKind::Conflict,
                format!(
                    "{} is in a cross-tier conflict (present in {}); it cannot be moved",
                    file.id,
                    tiers
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_hint(format!(
                "a human clears the conflict with 'htrac reconcile-reset {}'",
                file.id
            )));
        }
        if file.tier != mv.from() {
            return Err(Error::new(
                crate::error::ErrorKind::Conflict,
                format!(
                    "Can only {} from {}, but {} is in {}",
                    mv.as_str(),
                    mv.from().as_str(),
                    file.id,
                    file.tier.as_str()
                ),
            )
            .with_hint("'htrac show ID' says which tier an item is in; promote moves workspace → canonical, demote the reverse, stealth/unstealth workspace ↔ stealth"));
        }
        self.check_move_references(file, mv)?;
        let dest = self.item_path(mv.to(), &file.id);
        if dest.exists() {
            return Err(Error::new(
                crate::error::ErrorKind::Conflict,
                format!("{} already exists in {}", file.id, mv.to().as_str()),
            )
            .with_hint(
                "two copies of one item: a human runs 'htrac reconcile-reset ID' to keep one",
            ));
        }
        for p in [file.path.clone(), self.frozen_path(file.tier, &file.id)] {
            may_rename(&p, mv, &file.id)?;
        }
        self.append(file, mv.as_str(), Map::new())?;
        std::fs::create_dir_all(self.tier_dir(mv.to()))?;
        std::fs::rename(&file.path, &dest).map_err(|e| {
            Error::internal(format!(
                "cannot move {} to {}: {e}",
                file.path.display(),
                dest.display()
            ))
        })?;
        let sentinel = self.frozen_path(file.tier, &file.id);
        if sentinel.exists() {
            std::fs::rename(&sentinel, self.frozen_path(mv.to(), &file.id))?;
        }
        Ok(ItemFile {
            id: file.id.clone(),
            tier: mv.to(),
            path: dest,
        })
    }

    /// Stealth items are local-only: no canonical or workspace item may
    /// point at one, before or after a move.
    fn check_move_references(&self, file: &ItemFile, mv: Move) -> Result<()> {
        let snap = self.snapshot()?;
        let tier_of = |id: &str| snap.get(id).map(|i| i.tier);
        if mv.to() == Tier::Stealth {
            for other in &snap.items {
                if other.tier == Tier::Stealth || other.id == file.id {
                    continue;
                }
                if let Some((link, _)) = references(other).into_iter().find(|(_, r)| r == &file.id)
                {
                    return Err(Error::new(crate::error::ErrorKind::Conflict, format!(
                        "{} cannot go to stealth: {} ({}) points at it through {link}; stealth items are local-only and never synced",
                        file.id,
                        other.id,
                        other.tier.as_str()
                    ))
                    .with_hint(format!("remove that link first, e.g. 'htrac update {} --remove-{} {}'", other.id, link.replace('_', "-"), file.id)));
                }
            }
        } else if let Some(item) = snap.get(&file.id) {
            if let Some((link, target)) = references(item)
                .into_iter()
                .find(|(_, r)| tier_of(r) == Some(Tier::Stealth))
            {
                return Err(Error::new(
                    crate::error::ErrorKind::Conflict,
                    format!(
                    "{} cannot leave stealth while its {link} points at the stealth item {target}",
                    file.id
                ),
                )
                .with_hint(format!("unstealth {target} first, or remove the link")));
            }
        }
        Ok(())
    }

    /// Clears a cross-tier conflict (human only): every op of every copy is
    /// gathered into the canonical copy (appended, never rewritten), a
    /// `reconcile` op records it, and the other copies are removed. Returns
    /// the tiers the other copies were in.
    pub fn reconcile_reset(&self, id: &str) -> Result<Vec<Tier>> {
        self.require_human("reconcile-reset")?;
        let tiers = self.tiers_of(id);
        match tiers.len() {
            0 => {
                return Err(Error::new(
                    crate::error::ErrorKind::NotFound,
                    format!("Item not found: {id}"),
                ))
            }
            1 => {
                return Err(Error::new(
                    crate::error::ErrorKind::Conflict,
                    format!(
                        "{id} is not in a cross-tier conflict: it is only in {}",
                        tiers[0].as_str()
                    ),
                ))
            }
            _ => {}
        }
        let winner = self.item_path(Tier::Canonical, id);
        let losers: Vec<Tier> = tiers
            .iter()
            .copied()
            .filter(|t| *t != Tier::Canonical)
            .collect();
        let mut pending: Vec<Tier> = losers.clone();
        if !winner.exists() {
            // No canonical copy: the first other copy becomes it, by rename.
            let first = pending.remove(0);
            std::fs::rename(self.item_path(first, id), &winner)?;
        }
        let read = |path: &std::path::Path| {
            oplog::read(path).map_err(|e| {
                Error::corrupt(format!("corrupt data: {e}"))
                    .with_hint("repair that copy by hand before reconciling")
            })
        };
        let mut have: Vec<_> = read(&winner)?.ops.into_iter().map(|(_, o)| o).collect();
        let mut text = String::new();
        for t in &pending {
            for (_, op) in read(&self.item_path(*t, id))?.ops {
                if !have.contains(&op) {
                    text.push_str(&emit_op(&op));
                    have.push(op);
                }
            }
        }
        if !text.is_empty() {
            self.append_text_file(&winner, &text)?;
        }
        let canonical = ItemFile {
            id: id.to_string(),
            tier: Tier::Canonical,
            path: winner,
        };
        let mut body = Map::new();
        body.insert(
            "from_tier".into(),
            json!(losers
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")),
        );
        body.insert("reason".into(), json!("manual-reset"));
        self.append(&canonical, "reconcile", body)?;
        for t in &pending {
            std::fs::remove_file(self.item_path(*t, id))?;
        }
        for t in &losers {
            let _ = std::fs::remove_file(self.frozen_path(*t, id));
        }
        Ok(losers)
    }
}
