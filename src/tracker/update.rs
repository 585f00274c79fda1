//! Updating an item: the `update` op's fields are checked (known and
//! updatable, tag names, statuses, priority, custom field keys, no
//! reference into stealth, and for an agent no locked field, here or on a
//! lamport branch) before it is appended.

use serde_json::{Map, Value};

use super::checks::{check_field_key, check_tag};
use super::write::Opened;
use super::{ItemFile, Tracker};
use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::oplog::op::{self, Op, SET_VALUED};
use crate::timestamp::now_utc;

/// The changes of one `update` op.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub set: Map<String, Value>,
    pub add: Map<String, Value>,
    pub remove: Map<String, Value>,
    pub force_field_key: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

impl Tracker {
    /// The references an update adds (`parent`, and `isbefore`,
    /// `duplicate_of`, `not_duplicate_of` set or added) may not point from a
    /// canonical or workspace item into stealth — the one rule for every
    /// front end.
    fn check_update_refs(&self, file: &ItemFile, changes: &Changes) -> Result<()> {
        if file.tier == Tier::Stealth {
            return Ok(());
        }
        let mut targets: Vec<(&'static str, &str)> = Vec::new();
        if let Some(Value::String(p)) = changes.set.get("parent") {
            targets.push(("parent", p));
        }
        for (key, set, add) in [
            ("isbefore", "isbefore", "add_isbefore"),
            ("duplicate_of", "duplicate_of", "add_duplicate_of"),
            (
                "not_duplicate_of",
                "not_duplicate_of",
                "add_not_duplicate_of",
            ),
        ] {
            for (map, field) in [(&changes.set, set), (&changes.add, add)] {
                if let Some(Value::Array(a)) = map.get(key) {
                    targets.extend(a.iter().filter_map(Value::as_str).map(|id| (field, id)));
                }
            }
        }
        for (key, id) in targets {
            let path = self.item_path(Tier::Stealth, id);
            if path.is_file() {
                let target = ItemFile {
                    id: id.to_string(),
                    tier: Tier::Stealth,
                    path,
                };
                self.check_ref_tier(file.tier, &target, key)?;
            }
        }
        Ok(())
    }

    /// Appends an `update` op after checking statuses, priority, field keys
    /// and (for agents) locked fields.
    pub fn update(&self, file: &ItemFile, changes: &Changes) -> Result<Op> {
        let pending = self.prefetch_branch_copies(&file.path);
        self.update_opened(&mut self.open_item(file)?, changes, pending)
    }

    /// [`Tracker::update`] of an opened item, with its branch copies
    /// already being read ([`Tracker::prefetch_branch_copies`], started
    /// before the item was opened so that git runs meanwhile).
    pub fn update_opened(
        &self,
        it: &mut Opened,
        changes: &Changes,
        pending: crate::tracker::clock::Prefetch,
    ) -> Result<Op> {
        let file = &it.file.clone();
        for (label, map) in [
            ("set", &changes.set),
            ("add", &changes.add),
            ("remove", &changes.remove),
        ] {
            for key in map.keys() {
                if !op::is_updatable(key) || (label != "set" && !SET_VALUED.contains(&key.as_str()))
                {
                    return Err(Error::user(format!(
                        "Unknown field '{key}' in {label}. Valid fields: {}",
                        op::updatable().collect::<Vec<_>>().join(", ")
                    ))
                    .with_hint(
                        match crate::nearest::did_you_mean(key, op::updatable()) {
                            Some(d) => {
                                format!("{d} (custom fields go under fields: --field KEY=VALUE)")
                            }
                            None => "custom fields go under fields: --field KEY=VALUE".into(),
                        },
                    ));
                }
            }
        }
        for map in [&changes.set, &changes.add] {
            if let Some(Value::Array(tags)) = map.get("tags") {
                for tag in tags {
                    check_tag(tag.as_str().unwrap_or(""))?;
                }
            }
        }
        self.check_update_refs(file, changes)?;
        let item = &it.item;
        if let Some(status) = changes.set.get("status").and_then(Value::as_str) {
            self.check_status(&item.kind, status)?;
        }
        if let Some(p) = changes.set.get("priority") {
            Self::check_priority(p)?;
        }
        if let Some(Value::Object(fields)) = changes.set.get("fields") {
            let declared: Vec<String> = self
                .config
                .kind(&item.kind)
                .map(|k| k.fields_schema.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default();
            let declared: Vec<&str> = declared.iter().map(String::as_str).collect();
            for (k, v) in fields {
                if !v.is_null() {
                    check_field_key(k, &declared, changes.force_field_key)?;
                }
            }
        }
        let copies = Some(self.copies_or_refusal(pending.wait())?);
        if self.actor.is_agent() {
            let branch = copies.as_ref().expect("read above");
            let locked = self.locked_fields(file, item, branch);
            let mut touched: Vec<String> = Vec::new();
            for map in [&changes.set, &changes.add, &changes.remove] {
                touched.extend(map.keys().cloned());
            }
            if let Some(Value::Object(fields)) = changes.set.get("fields") {
                touched.extend(fields.keys().map(|k| format!("fields.{k}")));
            }
            if let Some(f) = touched.iter().find(|f| locked.contains(f)) {
                return Err(Error::new(
                    crate::error::ErrorKind::Locked,
                    format!(
                        "Field '{f}' on {} is locked. Ask the human to unlock it.",
                        file.id
                    ),
                )
                .with_hint(format!(
                    "a human locked it ('htrac show {}' lists locked fields); leave '{f}' out, or ask them to run 'htrac unlock {} {f}'",
                    crate::items::ids::short_id(&file.id), crate::items::ids::short_id(&file.id)
                )));
            }
        }
        let mut body = Map::new();
        body.insert("set".into(), Value::Object(changes.set.clone()));
        if !changes.add.is_empty() {
            body.insert("add".into(), Value::Object(changes.add.clone()));
        }
        if !changes.remove.is_empty() {
            body.insert("remove".into(), Value::Object(changes.remove.clone()));
        }
        self.append_to(it, "update", body, copies, now_utc())
    }
}
