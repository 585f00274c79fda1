//! `update`: one `update` op on the item (when anything changes), a
//! `discuss` op for a note, and an `isbefore` op on each blocked-by item.
//! Every reference is resolved, and every rule checked, before anything is
//! written; the item is read and compiled once.

use serde_json::{json, Map, Value};

use super::describe::{describe, title_of, Change};
use super::{deprecated_tags, Outcome, Transaction};
use crate::error::{Error, Result};
use crate::items::ids::{label, short_id};
use crate::items::tiers::Tier;
use crate::tracker::update::Changes;
use crate::tracker::ItemFile;

/// A change to one item. Reference fields take anything `resolve` does
/// (full ID, unique prefix); `parent` and `pr_ref` set to `""` remove them.
/// Error messages name these fields (see [`Error::field`]).
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub item: String,
    pub status: Option<String>,
    pub priority: Option<i64>,
    pub title: Option<String>,
    pub parent: Option<String>,
    pub pr_ref: Option<String>,
    /// An empty description clears it.
    pub description: Option<String>,
    /// Replaces the whole tag list.
    pub tags: Option<Vec<String>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub add_isbefore: Vec<String>,
    pub remove_isbefore: Vec<String>,
    pub add_duplicate_of: Vec<String>,
    pub remove_duplicate_of: Vec<String>,
    pub add_not_duplicate_of: Vec<String>,
    pub remove_not_duplicate_of: Vec<String>,
    /// Items that must be done before this one (written to their isbefore).
    pub add_blocked_by: Vec<String>,
    pub remove_blocked_by: Vec<String>,
    /// Custom fields to set (others kept).
    pub fields: Map<String, Value>,
    pub remove_fields: Vec<String>,
    /// Accept a field name that differs from a declared one only in spelling.
    pub force_field_key: bool,
    /// Also add this text to the discussion (ignored when empty).
    pub note: Option<String>,
}

impl Update {
    /// Whether the request changes nothing.
    pub fn is_empty(&self) -> bool {
        let lists = [
            &self.add_tags,
            &self.remove_tags,
            &self.add_isbefore,
            &self.remove_isbefore,
            &self.add_duplicate_of,
            &self.remove_duplicate_of,
            &self.add_not_duplicate_of,
            &self.remove_not_duplicate_of,
            &self.add_blocked_by,
            &self.remove_blocked_by,
            &self.remove_fields,
        ];
        self.status.is_none()
            && self.priority.is_none()
            && self.title.is_none()
            && self.parent.is_none()
            && self.pr_ref.is_none()
            && self.description.is_none()
            && self.tags.is_none()
            && self.fields.is_empty()
            && lists.iter().all(|l| l.is_empty())
            && self.note.as_deref().unwrap_or("").is_empty()
    }
}

/// Resolves the references of request field `field` to full IDs.
fn refs(tx: &Transaction, specs: &[String], field: &'static str) -> Result<Vec<Value>> {
    specs
        .iter()
        .map(|s| Ok(json!(tx.tracker.resolve_ref(s, field)?.id)))
        .collect()
}

/// A set-valued field with its add and remove request fields and values.
type SetEdit<'a> = (
    &'a str,
    &'static str,
    &'a [String],
    &'static str,
    &'a [String],
);

/// The `update` op's changes, every reference resolved.
fn changes(tx: &Transaction, req: &Update) -> Result<Changes> {
    let mut ch = Changes {
        force_field_key: req.force_field_key,
        ..Default::default()
    };
    if let Some(s) = &req.status {
        ch.set.insert("status".into(), json!(s));
    }
    if let Some(p) = req.priority {
        ch.set.insert("priority".into(), json!(p));
    }
    if let Some(title) = &req.title {
        if title.trim().is_empty() {
            return Err(Error::user("must not be empty").on_field("title"));
        }
        ch.set.insert("title".into(), json!(title));
    }
    if let Some(parent) = &req.parent {
        let v = if parent.is_empty() {
            Value::Null
        } else {
            refs(tx, std::slice::from_ref(parent), "parent")?.remove(0)
        };
        ch.set.insert("parent".into(), v);
    }
    if let Some(r) = &req.pr_ref {
        let v = if r.is_empty() { Value::Null } else { json!(r) };
        ch.set.insert("pr_ref".into(), v);
    }
    if let Some(d) = &req.description {
        ch.set.insert("description".into(), json!(d));
    }
    if let Some(tags) = &req.tags {
        ch.set.insert("tags".into(), json!(tags));
    }
    let mut fields = req.fields.clone();
    for k in &req.remove_fields {
        fields.insert(k.clone(), Value::Null);
    }
    if !fields.is_empty() {
        ch.set.insert("fields".into(), Value::Object(fields));
    }
    let sets: [SetEdit; 4] = [
        (
            "tags",
            "add_tags",
            &req.add_tags,
            "remove_tags",
            &req.remove_tags,
        ),
        (
            "isbefore",
            "add_isbefore",
            &req.add_isbefore,
            "remove_isbefore",
            &req.remove_isbefore,
        ),
        (
            "duplicate_of",
            "add_duplicate_of",
            &req.add_duplicate_of,
            "remove_duplicate_of",
            &req.remove_duplicate_of,
        ),
        (
            "not_duplicate_of",
            "add_not_duplicate_of",
            &req.add_not_duplicate_of,
            "remove_not_duplicate_of",
            &req.remove_not_duplicate_of,
        ),
    ];
    for (field, add_name, add, remove_name, remove) in sets {
        for (name, values, adding) in [(add_name, add, true), (remove_name, remove, false)] {
            if values.is_empty() {
                continue;
            }
            let list: Vec<Value> = if field == "tags" {
                values.iter().map(|v| json!(v)).collect()
            } else {
                refs(tx, values, name)?
            };
            let target = if adding { &mut ch.add } else { &mut ch.remove };
            target.insert(field.to_string(), Value::Array(list));
        }
    }
    Ok(ch)
}

/// The blocked-by links to write: each blocker and whether it is added.
/// A blocker outside stealth may not point at a stealth item.
fn blockers(tx: &Transaction, file: &ItemFile, req: &Update) -> Result<Vec<(ItemFile, bool)>> {
    let mut out = Vec::new();
    for (field, specs, adding) in [
        ("add_blocked_by", &req.add_blocked_by, true),
        ("remove_blocked_by", &req.remove_blocked_by, false),
    ] {
        for spec in specs {
            let blocker = tx.tracker.resolve_ref(spec, field)?;
            if adding && blocker.tier != Tier::Stealth && file.tier == Tier::Stealth {
                return Err(Error::user(format!(
                    "{spec} would make {} (tier {}) block stealth-tier {}; stealth items are never synced",
                    short_id(&blocker.id),
                    blocker.tier.as_str(),
                    short_id(&file.id)
                ))
                .on_field(field)
                .with_hint("unstealth the item first, or keep both items in stealth"));
            }
            out.push((blocker, adding));
        }
    }
    Ok(out)
}

/// Runs an [`Update`].
/// A write by the session holding a live claim on the item renews the
/// claim's lease in the same op (`fields.claim_until`), so every clone sees
/// it renewed — unless the write changes the claim itself.
fn renew_claim(t: &crate::tracker::Tracker, item: &crate::items::item::Item, ch: &mut Changes) {
    use crate::claims::{self, Claim};
    if ch.is_empty() {
        return;
    }
    let now = claims::now();
    let Some(claim) = Claim::of(item).filter(|c| c.is_live(now)) else {
        return;
    };
    if claim.session != super::claim::session_of(t) {
        return;
    }
    let fields = ch
        .set
        .entry("fields")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(fields) = fields.as_object_mut() else {
        return;
    };
    if claims::FIELDS.iter().any(|f| fields.contains_key(*f)) {
        return;
    }
    // The claim's own lease when this host's board knows it, else the config's.
    let (board, _) = claims::board::paths(&t.root, t.work_tree.as_deref());
    let lease = claims::board::read(&board)
        .claims
        .get(&item.id)
        .filter(|e| e.lease > 0 && e.session == claim.session)
        .map(|e| std::time::Duration::from_secs(e.lease as u64))
        .unwrap_or_else(|| super::claim::configured_lease(t).unwrap_or(claims::DEFAULT_LEASE));
    let until = Claim {
        until: now + lease.as_secs() as i64,
        ..claim
    };
    if until.until > claim_until_of(item) {
        fields.insert(claims::CLAIM_UNTIL.into(), json!(until.until_utc()));
    }
}

fn claim_until_of(item: &crate::items::item::Item) -> i64 {
    crate::claims::Claim::of(item).map_or(0, |c| c.until)
}

pub fn update(tx: &mut Transaction, req: &Update) -> Result<Outcome> {
    let t = tx.tracker;
    let file = t.resolve(&req.item)?;
    let ch = changes(tx, req)?;
    let blocked_by = blockers(tx, &file, req)?;
    let mut out = Outcome {
        id: file.id.clone(),
        ..Outcome::default()
    };
    // git reads the item's other copies while it is read here.
    let pending = (!ch.is_empty()).then(|| t.prefetch_branch_copies(&file.path));
    let mut it = t.open_item(&file)?;
    let before = it.item.clone();
    let mut ch = ch;
    renew_claim(t, &before, &mut ch);
    let mut tags: Vec<String> = req.add_tags.clone();
    tags.extend(req.tags.iter().flatten().cloned());
    deprecated_tags(t, &tags, &mut out.warnings);
    if let Some(pending) = pending {
        out.ops.push(t.update_opened(&mut it, &ch, pending)?);
        tags.extend(req.remove_tags.iter().cloned());
        tx.touched_tags(&tags);
    }
    if let Some(note) = req.note.as_deref().filter(|n| !n.is_empty()) {
        out.unread = it.item.unread_human().to_vec();
        out.ops.push(t.discuss_opened(&mut it, note, false)?);
    }
    out.changes = describe(t, &before, &it.item);
    for (blocker, adding) in blocked_by {
        let mut c = Changes::default();
        let target = if adding { &mut c.add } else { &mut c.remove };
        target.insert("isbefore".into(), json!([file.id]));
        out.ops.push(t.update(&blocker, &c)?);
        let verb = if adding {
            "now blocks"
        } else {
            "no longer blocks"
        };
        out.changes.push(Change {
            field: "blocked-by".into(),
            detail: format!(
                "{} {verb} {}",
                label(&blocker.id, title_of(t, &blocker.id).as_deref()),
                short_id(&file.id)
            ),
        });
    }
    out.before = Some(before);
    out.after = Some(it.item);
    Ok(tx.close(out))
}
