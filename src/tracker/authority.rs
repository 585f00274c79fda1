//! Human authority over an item: locking fields, freezing the item (and
//! repairing drift from the freeze sentinel), and deleting it. Every action
//! here is refused to an agent with an error naming the rule; nothing is
//! written when it is refused.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::oplog::op;
use crate::tracker::update::Changes;
use crate::tracker::{ItemFile, Tracker};

/// What `delete` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// Items whose `isbefore` named the deleted item and no longer does.
    pub inbound_cleared: Vec<String>,
}

/// A lockable field name as a human may type it: case-insensitive, `before`
/// is the old name of `isbefore`, `fields.<key>` locks one custom field.
pub fn normalize_field(name: &str) -> Result<String> {
    let lower = name.trim().to_lowercase();
    let lower = if lower == "before" {
        "isbefore".to_string()
    } else {
        lower
    };
    let custom = lower.strip_prefix("fields.").is_some_and(|k| !k.is_empty());
    if op::is_lockable(&lower) || custom {
        Ok(lower)
    } else {
        let mut names: Vec<&str> = op::lockable().collect();
        names.sort_unstable();
        Err(Error::user(format!(
            "Unknown field '{name}'. Lockable fields: {}, fields.<custom>",
            names.join(", ")
        ))
        .with_hint("field names are case-insensitive, e.g. 'htrac lock WI-x status title'"))
    }
}

impl Tracker {
    /// Refuses `action` unless the current OS user is a human.
    pub fn require_human(&self, action: &str) -> Result<()> {
        if !self.actor.is_agent() {
            return Ok(());
        }
        Err(Error::new(crate::error::ErrorKind::HumanOnly, format!(
            "{action} requires human authority: OS user '{}' is an agent (it matches actor_resolution.agent_usernames)",
            self.actor.name
        ))
        .with_hint(format!(
            "only a human may do this; ask your human to run the '{action}' command"
        )))
    }

    /// Appends a `lock` (or, with `unlock`, an `unlock`) op naming `fields`.
    pub fn lock(&self, file: &ItemFile, fields: &[String], unlock: bool) -> Result<Vec<String>> {
        let kind = if unlock { "unlock" } else { "lock" };
        self.require_human(kind)?;
        if fields.is_empty() {
            return Err(Error::user(format!("{kind} needs at least one FIELD"))
                .with_hint(format!("e.g. 'htrac {kind} {} status'", file.id)));
        }
        let mut names: Vec<String> = Vec::new();
        for f in fields {
            let n = normalize_field(f)?;
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut body = Map::new();
        body.insert(kind.into(), json!(names));
        self.append(file, kind, body)?;
        Ok(names)
    }

    /// Freezes an item: a read-only sentinel copy of its op log. While it
    /// exists, agents may not write to the item.
    pub fn freeze(&self, file: &ItemFile) -> Result<()> {
        self.require_human("freeze")?;
        let sentinel = self.frozen_path(file.tier, &file.id);
        if sentinel.exists() {
            return Err(Error::new(
                crate::error::ErrorKind::Conflict,
                format!("Item {} is already frozen", file.id),
            )
            .with_hint(format!("'htrac unfreeze {}' lifts the freeze", file.id)));
        }
        let bytes = std::fs::read(&file.path)?;
        crate::atomic::replace(&sentinel, &bytes, 0o444)
            .map_err(|e| Error::internal(format!("cannot write {}: {e}", sentinel.display())))?;
        Ok(())
    }

    /// Removes an item's freeze sentinel.
    pub fn unfreeze(&self, file: &ItemFile) -> Result<()> {
        self.require_human("unfreeze")?;
        let sentinel = self.frozen_path(file.tier, &file.id);
        match std::fs::remove_file(&sentinel) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::new(
                crate::error::ErrorKind::Conflict,
                format!("Item {} is not frozen", file.id),
            )),
            Err(e) => Err(Error::internal(format!(
                "cannot remove {}: {e}",
                sentinel.display()
            ))),
        }
    }

    /// Whether a frozen item's op log differs from its sentinel (`None`
    /// when it is not frozen).
    pub fn drifted(&self, file: &ItemFile) -> Option<bool> {
        let sentinel = std::fs::read(self.frozen_path(file.tier, &file.id)).ok()?;
        Some(std::fs::read(&file.path).ok()? != sentinel)
    }

    /// Restores a frozen item's op log from its sentinel, atomically (temp
    /// file + rename). Returns how many bytes written since the freeze were
    /// dropped.
    pub fn repair_drift(&self, file: &ItemFile) -> Result<u64> {
        self.require_human("repair-drift")?;
        let sentinel = self.frozen_path(file.tier, &file.id);
        let approved = match std::fs::read(&sentinel) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::new(
                    crate::error::ErrorKind::Conflict,
                    format!("Item {} is not frozen", file.id),
                )
                .with_hint("repair-drift restores a frozen item from its sentinel"))
            }
            Err(e) => return Err(e.into()),
        };
        let current = std::fs::read(&file.path).unwrap_or_default();
        crate::atomic::replace(&file.path, &approved, 0o664)
            .map_err(|e| Error::internal(format!("cannot restore {}: {e}", file.path.display())))?;
        Ok((current.len() as u64).saturating_sub(approved.len() as u64))
    }

    /// After a human's write to a frozen item, the sentinel follows the log.
    pub(crate) fn refresh_sentinel(&self, file: &ItemFile) -> Result<()> {
        let sentinel = self.frozen_path(file.tier, &file.id);
        if !sentinel.exists() {
            return Ok(());
        }
        let bytes = std::fs::read(&file.path)?;
        crate::atomic::replace(&sentinel, &bytes, 0o444)
            .map_err(|e| Error::internal(format!("cannot refresh {}: {e}", sentinel.display())))
    }

    /// Deletes an item (human only): status `deleted`, its own `isbefore`
    /// cleared in the same op, and its ID removed from every other item's
    /// `isbefore`, in every tier.
    pub fn delete(&self, file: &ItemFile) -> Result<Deleted> {
        self.require_human("delete")?;
        let snap = self.snapshot()?;
        let item = self.load(file)?;
        let mut changes = Changes::default();
        changes.set.insert("status".into(), json!("deleted"));
        if !item.isbefore.is_empty() {
            changes.set.insert("isbefore".into(), json!([]));
        }
        self.update(file, &changes)?;
        let mut cleared = Vec::new();
        for other in &snap.items {
            if other.id == file.id
                || !other
                    .isbefore
                    .iter()
                    .any(|b| b.as_str() == Some(file.id.as_str()))
            {
                continue;
            }
            let holder = ItemFile {
                id: other.id.clone(),
                tier: other.tier,
                path: self.item_path(other.tier, &other.id),
            };
            let mut remove = Changes::default();
            remove
                .remove
                .insert("isbefore".into(), Value::Array(vec![json!(file.id)]));
            self.update(&holder, &remove)?;
            cleared.push(other.id.clone());
        }
        Ok(Deleted {
            inbound_cleared: cleared,
        })
    }

    /// Every tier an item's file is in.
    pub fn tiers_of(&self, id: &str) -> Vec<Tier> {
        Tier::ALL
            .into_iter()
            .filter(|t| self.item_path(*t, id).exists())
            .collect()
    }
}
