//! Creating an item: `add` checks the new item (kind, status, priority,
//! tags, title, custom field keys and required fields, references), derives
//! its ID from its content, and writes its `create` op as a new file.

use serde_json::{json, Map, Value};

use super::checks::{check_field_key, check_tag};
use super::write::{append_error, fresh_nonce};
use super::Tracker;
use crate::error::{Error, Result};
use crate::items::ids::compute_id;
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::oplog::{self, AppendMode};
use crate::timestamp::now_utc;

/// A new item, as `add` describes it.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: String,
    pub title: String,
    pub status: Option<String>,
    pub priority: i64,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub isbefore: Vec<String>,
    pub duplicate_of: Vec<String>,
    pub not_duplicate_of: Vec<String>,
    pub pr_ref: Option<String>,
    pub description: String,
    pub fields: Map<String, Value>,
    pub tier: Tier,
    pub force_field_key: bool,
}

impl NewItem {
    pub fn new(kind: &str, title: &str) -> NewItem {
        NewItem {
            kind: kind.into(),
            title: title.into(),
            status: None,
            priority: 2,
            parent: None,
            tags: Vec::new(),
            isbefore: Vec::new(),
            duplicate_of: Vec::new(),
            not_duplicate_of: Vec::new(),
            pr_ref: None,
            description: String::new(),
            fields: Map::new(),
            tier: Tier::Workspace,
            force_field_key: false,
        }
    }
}

impl Tracker {
    /// Creates a new item; returns its ID.
    pub fn add(&self, new: &NewItem) -> Result<String> {
        let Some(kind) = self.config.kind(&new.kind) else {
            return Err(self.config.unknown_kind(&new.kind));
        };
        let status = match &new.status {
            Some(s) => s.clone(),
            None => match &kind.allowed_statuses {
                Some(allowed) => self
                    .config
                    .blocking_statuses
                    .iter()
                    .find(|s| allowed.contains(s))
                    .or(allowed.first())
                    .cloned()
                    .unwrap_or_else(|| self.config.blocking_statuses[0].clone()),
                None => self.config.blocking_statuses[0].clone(),
            },
        };
        self.check_status(&new.kind, &status)?;
        Self::check_priority(&json!(new.priority))?;
        for tag in &new.tags {
            check_tag(tag)?;
        }
        if new.title.trim().is_empty() {
            return Err(Error::user("must not be empty").on_field("title"));
        }
        let declared: Vec<&str> = kind.fields_schema.iter().map(|f| f.name.as_str()).collect();
        for key in new.fields.keys() {
            check_field_key(key, &declared, new.force_field_key)?;
        }
        let missing: Vec<&str> = kind
            .fields_schema
            .iter()
            .filter(|f| f.required && !new.fields.contains_key(&f.name))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::user(format!(
                "Kind '{}' requires field(s): {}; set them as custom fields",
                new.kind,
                missing.join(", ")
            ))
            .with_hint(format!(
                "add --field {}=... (kinds.{}.fields_schema in the config lists them)",
                missing[0], new.kind
            )));
        }
        // Resolve references to full IDs.
        let resolve_all = |specs: &[String], flag: &'static str| -> Result<Vec<Value>> {
            specs
                .iter()
                .map(|s| {
                    let f = self.resolve_ref(s, flag)?;
                    self.check_ref_tier(new.tier, &f, flag)?;
                    Ok(Value::String(f.id))
                })
                .collect()
        };
        let parent = match &new.parent {
            Some(p) => {
                let f = self.resolve_ref(p, "parent")?;
                self.check_ref_tier(new.tier, &f, "parent")?;
                Value::String(f.id)
            }
            None => Value::Null,
        };
        let mut data = Map::new();
        data.insert("kind".into(), json!(new.kind));
        data.insert("title".into(), json!(new.title));
        data.insert("status".into(), json!(status));
        data.insert("priority".into(), json!(new.priority));
        data.insert("parent".into(), parent);
        data.insert("tags".into(), json!(new.tags));
        data.insert(
            "isbefore".into(),
            Value::Array(resolve_all(&new.isbefore, "isbefore")?),
        );
        data.insert(
            "duplicate_of".into(),
            Value::Array(resolve_all(&new.duplicate_of, "duplicate_of")?),
        );
        data.insert(
            "not_duplicate_of".into(),
            Value::Array(resolve_all(&new.not_duplicate_of, "not_duplicate_of")?),
        );
        data.insert("pr_ref".into(), json!(new.pr_ref));
        data.insert("description".into(), json!(new.description));
        data.insert("fields".into(), Value::Object(new.fields.clone()));
        let data = Value::Object(data);

        let nonce = fresh_nonce(&[]);
        let mut id = compute_id(&kind.prefix, &data, "");
        if let Some(existing) = Tier::ALL
            .iter()
            .map(|t| self.item_path(*t, &id))
            .find(|p| p.exists())
        {
            let log =
                oplog::read(&existing).map_err(|e| Error::corrupt(format!("corrupt data: {e}")))?;
            let title = log
                .ops
                .iter()
                .find(|(_, o)| o.kind == "create")
                .map(|(_, o)| {
                    o.get_map("data")
                        .and_then(|d| d.get("title"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                });
            match title {
                Some(t) => {
                    return Err(Error::new(
                        crate::error::ErrorKind::Conflict,
                        format!("{id} already exists (title: '{t}'). Use 'update' to modify it."),
                    )
                    .with_hint(format!(
                        "htrac update {} ...",
                        crate::items::ids::short_id(&id)
                    )))
                }
                // A file without a create op under our hash: salt the ID.
                None => id = compute_id(&kind.prefix, &data, &nonce),
            }
        }
        let path = self.item_path(new.tier, &id);
        std::fs::create_dir_all(self.tier_dir(new.tier))?;
        // A new item has no locks anywhere: if git cannot read the other
        // branches, the clock falls back to local ops for anyone.
        let copies = crate::tracker::clock::branch_copies(
            &path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
            crate::git::peek::dir_for(&self.root).as_deref(),
        )
        .unwrap_or_else(|e| {
            self.warn(format!("warning: cannot read other branches (git: {e}); the Lamport clock uses local ops only"));
            Vec::new()
        });
        let clock = crate::tracker::clock::next_clock(0, &copies);
        let mut op = Op::new(
            "create",
            &now_utc(),
            self.actor.role,
            &self.actor.name,
            clock,
            &nonce,
        )
        .with("data", data);
        self.sign_op(&id, &mut op)?;
        let text = crate::oplog::emit::emit_op(&op);
        let mirror = |t: &str| crate::journal::mirror_or_warn(self, &path, t);
        oplog::append_text_mirrored(&path, &text, AppendMode::New, &mirror).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(
                    crate::error::ErrorKind::Conflict,
                    format!("{id} already exists. Use 'update' to modify it."),
                )
                .with_hint(format!(
                    "htrac update {} ...",
                    crate::items::ids::short_id(&id)
                ))
            } else {
                // Refused (readers would refuse it), disk full, read-only
                // file system, permission denied: exit 1; nothing was left.
                append_error(&path, &e, "write")
            }
        })?;
        self.appended();
        Ok(id)
    }
}
