//! A compiled item: the state an op-log folds to, and its stable JSON shape
//! (the reference's `show --json` object, key for key).

use serde_json::{json, Map, Value};

use crate::items::tiers::Tier;

/// One entry of an item's discussion thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub by: String,
    pub actor: String,
    pub at: String,
    pub message: String,
    pub is_summary: bool,
    pub nonce: String,
    pub is_tombstoned: bool,
    /// Earlier texts of an edited message, oldest first.
    pub edit_history: Vec<String>,
}

impl Entry {
    pub fn is_human(&self) -> bool {
        self.by == "human"
    }

    /// JSON object in the reference's key order.
    pub fn to_json(&self, with_history: bool) -> Value {
        let mut m = Map::new();
        m.insert("by".into(), json!(self.by));
        m.insert("actor".into(), json!(self.actor));
        m.insert("at".into(), json!(self.at));
        m.insert("message".into(), json!(self.message));
        m.insert("is_summary".into(), json!(self.is_summary));
        m.insert("nonce".into(), json!(self.nonce));
        m.insert("is_tombstoned".into(), json!(self.is_tombstoned));
        if with_history && !self.edit_history.is_empty() {
            m.insert("edit_history".into(), json!(self.edit_history));
        }
        Value::Object(m)
    }
}

/// The current state of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub status: String,
    /// Usually an integer 0–4; kept as written so odd data round-trips.
    pub priority: Value,
    pub parent: Option<String>,
    pub tags: Vec<Value>,
    pub isbefore: Vec<Value>,
    pub duplicate_of: Vec<Value>,
    pub not_duplicate_of: Vec<Value>,
    pub pr_ref: Value,
    pub description: String,
    pub fields: Map<String, Value>,
    pub locked_fields: Vec<String>,
    pub discussion: Vec<Entry>,
    pub created_at: String,
    pub updated_at: String,
    pub tier: Tier,
    pub frozen: bool,
    pub cross_tier_conflict: bool,
    /// Number of ops folded (duplicates counted once).
    pub op_count: usize,
    /// Ops in the file that had no effect: an agent's use of a human's
    /// power (see [`crate::governance::policy`]), in fold order.
    pub rejected_ops: Vec<crate::governance::policy::Rejected>,
    /// Ops claiming `by: human` without a valid signature, where signed
    /// authority is on ([`crate::governance::signing`]), in fold order.
    pub unverified_ops: Vec<crate::governance::policy::Rejected>,
}

impl Item {
    /// Priority as a number for sorting (unknown values sort last).
    pub fn priority_num(&self) -> i64 {
        self.priority.as_i64().unwrap_or(i64::MAX)
    }

    /// The list/ready sort key: priority, then creation time.
    pub fn sort_key(&self) -> (i64, &str) {
        (self.priority_num(), &self.created_at)
    }

    pub fn string_list(values: &[Value]) -> Vec<String> {
        values.iter().map(value_text).collect()
    }

    pub fn isbefore_ids(&self) -> Vec<String> {
        Self::string_list(&self.isbefore)
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.as_str() == Some(tag))
    }

    /// Trailing discussion entries by a human, after the last agent entry.
    pub fn unread_human(&self) -> &[Entry] {
        let n = self
            .discussion
            .iter()
            .rev()
            .take_while(|e| e.is_human())
            .count();
        &self.discussion[self.discussion.len() - n..]
    }

    /// The discussion as `discuss --json` shows it: every entry, each with
    /// its `edit_history` (empty when never edited).
    pub fn discussion_json(&self) -> Value {
        self.discussion
            .iter()
            .map(|e| {
                let mut v = e.to_json(false);
                v["edit_history"] = json!(e.edit_history);
                v
            })
            .collect()
    }

    /// A list of items as `list --json` shows it (each `show --json`'s
    /// object, without deleted messages or edit histories).
    pub fn list_json(items: &[&Item]) -> Value {
        items.iter().map(|i| i.to_json(false, false)).collect()
    }

    /// The `show --json` object. Tombstoned messages are left out unless
    /// `include_deleted`; `hidden_deleted` reports how many were left out.
    pub fn to_json(&self, include_deleted: bool, include_history: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("kind".into(), json!(self.kind));
        m.insert("title".into(), json!(self.title));
        m.insert("status".into(), json!(self.status));
        m.insert("priority".into(), self.priority.clone());
        m.insert("parent".into(), json!(self.parent));
        m.insert("tags".into(), Value::Array(self.tags.clone()));
        m.insert("isbefore".into(), Value::Array(self.isbefore.clone()));
        m.insert(
            "duplicate_of".into(),
            Value::Array(self.duplicate_of.clone()),
        );
        m.insert(
            "not_duplicate_of".into(),
            Value::Array(self.not_duplicate_of.clone()),
        );
        m.insert("pr_ref".into(), self.pr_ref.clone());
        m.insert("description".into(), json!(self.description));
        m.insert("fields".into(), Value::Object(self.fields.clone()));
        let mut locked = self.locked_fields.clone();
        locked.sort();
        m.insert("locked_fields".into(), json!(locked));
        let shown: Vec<Value> = self
            .discussion
            .iter()
            .filter(|e| include_deleted || !e.is_tombstoned)
            .map(|e| e.to_json(include_history))
            .collect();
        let hidden = self.discussion.len() - shown.len();
        m.insert("discussion".into(), Value::Array(shown));
        m.insert("frozen".into(), json!(self.frozen));
        m.insert("tier".into(), json!(self.tier.as_str()));
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        m.insert(
            "cross_tier_conflict".into(),
            json!(self.cross_tier_conflict),
        );
        if hidden > 0 {
            m.insert("hidden_deleted".into(), json!(hidden));
        }
        // Only when there are some: the reference's shape is unchanged for
        // every item without an agent op that used a human's power.
        if !self.rejected_ops.is_empty() {
            m.insert(
                "rejected_ops".into(),
                self.rejected_ops.iter().map(|r| r.to_json()).collect(),
            );
        }
        if !self.unverified_ops.is_empty() {
            m.insert(
                "unverified_ops".into(),
                self.unverified_ops.iter().map(|r| r.to_json()).collect(),
            );
        }
        Value::Object(m)
    }
}

/// A list element as text (IDs and tags are strings; anything else is shown as JSON).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}
