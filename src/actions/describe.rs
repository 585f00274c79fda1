//! What an update changed, in words: one [`Change`] per field change
//! between two states of an item (`status: todo_hard → done`), as every
//! front end shows it (the CLI's `updated ...` line and its `--json`
//! `changes`, MCP's tool result, the web and TUI notices).

use serde_json::{json, Value};

use crate::items::ids::{label, short_id};
use crate::items::item::Item;
use crate::py::repr::{py_repr_str, py_str};
use crate::tracker::Tracker;

/// One field's change: `field` (`status`, `tags`, `fields.owner`,
/// `blocked-by`, ...) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub detail: String,
}

impl Change {
    fn new(field: impl Into<String>, detail: impl Into<String>) -> Change {
        Change {
            field: field.into(),
            detail: detail.into(),
        }
    }

    /// `{"field": ..., "detail": ...}` (the `--json` form).
    pub fn to_json(&self) -> Value {
        json!({"field": self.field, "detail": self.detail})
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// The title of item `id`, for labels (`None` when it cannot be read).
pub(crate) fn title_of(t: &Tracker, id: &str) -> Option<String> {
    let f = t.resolve(id).ok()?;
    t.load(&f).ok().map(|i| i.title)
}

fn ids(values: &[Value]) -> Vec<String> {
    Item::string_list(values)
}

/// The changes between two states of an item; items it now points at are
/// labelled with their titles (read from `t`).
pub fn describe(t: &Tracker, old: &Item, new: &Item) -> Vec<Change> {
    let mut out = Vec::new();
    let lbl = |id: &str| label(id, title_of(t, id).as_deref());
    if old.status != new.status {
        out.push(Change::new(
            "status",
            format!("{} → {}", old.status, new.status),
        ));
    }
    if old.priority != new.priority {
        out.push(Change::new(
            "priority",
            format!("P{} → P{}", py_str(&old.priority), py_str(&new.priority)),
        ));
    }
    if old.title != new.title {
        out.push(Change::new(
            "title",
            format!("{} → {}", py_repr_str(&old.title), py_repr_str(&new.title)),
        ));
    }
    if old.parent != new.parent {
        out.push(match &new.parent {
            Some(p) => Change::new("parent", format!("now child of {}", lbl(p))),
            None => Change::new("parent", "removed"),
        });
    }
    if old.pr_ref != new.pr_ref {
        out.push(match &new.pr_ref {
            Value::Null => Change::new("pr_ref", "removed"),
            v => Change::new("pr_ref", py_str(v)),
        });
    }
    let (old_tags, new_tags) = (ids(&old.tags), ids(&new.tags));
    let mut added: Vec<&String> = new_tags.iter().filter(|x| !old_tags.contains(x)).collect();
    let mut removed: Vec<&String> = old_tags.iter().filter(|x| !new_tags.contains(x)).collect();
    added.sort();
    removed.sort();
    for (sign, tags) in [('+', added), ('-', removed)] {
        if !tags.is_empty() {
            let list: Vec<String> = tags.iter().map(|t| format!("{sign}{t}")).collect();
            out.push(Change::new("tags", list.join(", ")));
        }
    }
    let (ob, nb) = (ids(&old.isbefore), ids(&new.isbefore));
    for x in nb.iter().filter(|x| !ob.contains(x)) {
        out.push(Change::new(
            "isbefore",
            format!("{} now blocks {}", short_id(&new.id), lbl(x)),
        ));
    }
    for x in ob.iter().filter(|x| !nb.contains(x)) {
        out.push(Change::new(
            "isbefore",
            format!("{} no longer blocks {}", short_id(&new.id), lbl(x)),
        ));
    }
    for (name, o, n) in [
        (
            "duplicate_of",
            ids(&old.duplicate_of),
            ids(&new.duplicate_of),
        ),
        (
            "not_duplicate_of",
            ids(&old.not_duplicate_of),
            ids(&new.not_duplicate_of),
        ),
    ] {
        for x in n.iter().filter(|x| !o.contains(x)) {
            out.push(Change::new(name, format!("+{}", lbl(x))));
        }
        for x in o.iter().filter(|x| !n.contains(x)) {
            out.push(Change::new(name, format!("removed {}", lbl(x))));
        }
    }
    // Field changes in a stable order: the new item's keys, then removed keys.
    for (k, v) in &new.fields {
        if old.fields.get(k) != Some(v) {
            out.push(Change::new(format!("fields.{k}"), py_str(v)));
        }
    }
    for k in old.fields.keys().filter(|k| !new.fields.contains_key(*k)) {
        out.push(Change::new(format!("fields.{k}"), "removed"));
    }
    out
}
