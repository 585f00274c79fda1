//! `migrate`: imports the reference's legacy markdown ledgers (an
//! invariant ledger and a work-items backlog, read by [`markdown`]) as
//! create ops — invariants and meta-invariants into the canonical tier,
//! work items into the workspace — and links the child items of pending
//! generalizations to their entries with a `parent` update.
//!
//! IDs are content hashes of the create data, so an entry always gets the
//! same ID and a second run skips what the first imported (in any tier):
//! migrating is idempotent. Ops are written by the person running the
//! command (not under a made-up actor), through the journal, with Lamport
//! clocks like any other write. `--dry-run` writes nothing at all.

pub mod markdown;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::items::ids::compute_id;
use crate::items::tiers::Tier;
use crate::oplog::AppendMode;
use crate::timestamp::now_utc;
use crate::tracker::update::Changes;
use crate::tracker::write::fresh_nonce;
use crate::tracker::Tracker;
use crate::Op;

pub use markdown::ParsedItem;

/// What to migrate.
pub struct Options {
    /// The invariant ledger (skipped when the file does not exist).
    pub ledger: PathBuf,
    /// The work-items backlog (skipped when absent or the file does not exist).
    pub work_items: Option<PathBuf>,
    pub dry_run: bool,
}

/// What a migration did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Report {
    pub items_created: usize,
    pub items_skipped: usize,
    /// Kind → items created, in first-created order.
    pub items_by_kind: Map<String, Value>,
    pub errors: Vec<String>,
    /// Source ID (`INV-001`, `wi-docs-0`) → tracker ID, created or skipped.
    pub id_map: Map<String, Value>,
    /// Items written that the configuration would not accept from `add`.
    pub warnings: Vec<String>,
    pub parents_linked: usize,
}

impl Report {
    /// The `--json` object (the reference's keys, then ours).
    pub fn to_json(&self, dry_run: bool) -> Value {
        json!({
            "items_created": self.items_created,
            "items_skipped": self.items_skipped,
            "items_by_kind": self.items_by_kind,
            "errors": self.errors,
            "id_map": self.id_map,
            "dry_run": dry_run,
            "warnings": self.warnings,
            "parents_linked": self.parents_linked,
        })
    }
}

/// The reference's default ledger path: `invariant-ledger.md` in `.agent/`.
pub fn default_ledger(root: &Path) -> PathBuf {
    root.join("invariant-ledger.md")
}

/// The reference's default backlog path, under the home directory.
pub fn default_work_items() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join("hypergumbo_lab_notebook/guidance_log/work_items.md"))
}

/// A ledger's text with newlines normalised (as Python's text mode reads
/// it), or `None` when the file does not exist.
fn read_source(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::user(format!("{} is not UTF-8 text", path.display()))
                    .with_hint("convert it to UTF-8 and run migrate again")
            })?;
            Ok(Some(text.replace("\r\n", "\n").replace('\r', "\n")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::user(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Every item of both files, ledger first.
pub fn parse_sources(opts: &Options) -> Result<Vec<ParsedItem>> {
    let mut items = Vec::new();
    if let Some(text) = read_source(&opts.ledger)? {
        items.extend(markdown::parse_invariant_ledger(&text));
    }
    let backlog = match &opts.work_items {
        Some(p) => read_source(p)?,
        None => None,
    };
    if let Some(text) = backlog {
        items.extend(markdown::parse_work_items(&text));
    }
    Ok(items)
}

/// The create op's `data` for an item (the reference's keys and order).
pub fn create_data(item: &ParsedItem) -> Value {
    json!({
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
        "priority": item.priority,
        "parent": null,
        "tags": item.tags,
        "isbefore": [],
        "duplicate_of": [],
        "not_duplicate_of": [],
        "pr_ref": item.pr_ref,
        "description": item.description,
        "fields": item.fields,
    })
}

fn target_tier(kind: &str) -> Tier {
    if kind == "invariant" || kind == "meta_invariant" {
        Tier::Canonical
    } else {
        Tier::Workspace
    }
}

/// Runs the migration.
pub fn migrate(t: &Tracker, opts: &Options) -> Result<Report> {
    let items = parse_sources(opts)?;
    let mut report = Report::default();
    let mut created: HashSet<String> = HashSet::new();
    let mut needing_parent: Vec<(&ParsedItem, String)> = Vec::new();
    for item in &items {
        let Some(kind) = t.config.kind(&item.kind) else {
            report.errors.push(format!(
                "Failed to build op for {}: kind '{}' is not in the tracker's config (add it to .agent/tracker/config.yaml, then run migrate again)",
                item.source_id, item.kind
            ));
            continue;
        };
        if !t.config.statuses.contains(&item.status)
            || (t.actor.is_agent() && t.config.is_human_only(&item.status))
        {
            report.errors.push(format!(
                "Failed to build op for {}: status '{}' is not one this tracker lets {} set",
                item.source_id, item.status, t.actor.name
            ));
            continue;
        }
        let data = create_data(item);
        let id = compute_id(&kind.prefix, &data, "");
        let exists = created.contains(&id)
            || Tier::ALL
                .iter()
                .any(|tier| t.item_path(*tier, &id).exists());
        report
            .id_map
            .insert(item.source_id.clone(), Value::String(id.clone()));
        if item.parent_source_id.is_some() {
            needing_parent.push((item, id.clone()));
        }
        if exists {
            report.items_skipped += 1;
            continue;
        }
        if !opts.dry_run {
            write_create(t, target_tier(&item.kind), &id, data)?;
        }
        created.insert(id.clone());
        report.items_created += 1;
        let n = report
            .items_by_kind
            .get(&item.kind)
            .and_then(Value::as_u64)
            .unwrap_or(0);
        report.items_by_kind.insert(item.kind.clone(), json!(n + 1));
        let missing: Vec<&str> = kind
            .fields_schema
            .iter()
            .filter(|f| f.required && !item.fields.contains_key(&f.name))
            .map(|f| f.name.as_str())
            .collect();
        if let Some(first) = missing.first() {
            report.warnings.push(format!(
                "{} ({}) lacks required field(s) {}; add them with 'htrac update {id} --add-field {first}=...'",
                id,
                item.source_id,
                missing.join(", ")
            ));
        }
    }
    if !opts.dry_run {
        for (item, id) in needing_parent {
            let parent_source = item.parent_source_id.as_deref().unwrap_or("");
            let Some(parent) = report.id_map.get(parent_source).and_then(Value::as_str) else {
                continue;
            };
            let parent = parent.to_string();
            match link_parent(t, &id, &parent) {
                Ok(true) => report.parents_linked += 1,
                Ok(false) => {}
                Err(e) => report.errors.push(format!(
                    "Failed to set the parent of {id} ({}) to {parent}: {}",
                    item.source_id, e.message
                )),
            }
        }
    }
    Ok(report)
}

/// Writes a new item file holding one create op.
fn write_create(t: &Tracker, tier: Tier, id: &str, data: Value) -> Result<()> {
    let path = t.item_path(tier, id);
    std::fs::create_dir_all(t.tier_dir(tier))?;
    let copies = crate::tracker::clock::branch_copies(
        &path,
        t.work_tree.as_deref(),
        &t.config.lamport_branches,
        crate::git::peek::dir_for(&t.root).as_deref(),
    )
    .unwrap_or_default();
    let mut op = Op::new(
        "create",
        &now_utc(),
        t.actor.role,
        &t.actor.name,
        crate::tracker::clock::next_clock(0, &copies),
        &fresh_nonce(&[]),
    )
    .with("data", data);
    t.sign_op(id, &mut op)?;
    let text = crate::oplog::emit::emit_op(&op);
    let mirror = |s: &str| crate::journal::mirror_or_warn(t, &path, s);
    crate::oplog::append_text_mirrored(&path, &text, AppendMode::New, &mirror).map_err(|e| {
        let e = crate::tracker::write::append_error(&path, &e, "write");
        let hint = format!(
            "{}; the items before it were written; fix the cause and run migrate again (it skips them)",
            e.hint.as_deref().unwrap_or("")
        );
        e.with_hint(hint)
    })?;
    t.appended();
    Ok(())
}

/// Sets `id`'s parent to `parent` unless it already is; true if it wrote.
fn link_parent(t: &Tracker, id: &str, parent: &str) -> Result<bool> {
    let file = t.resolve(id)?;
    let item = t.load(&file)?;
    if item.parent.as_deref() == Some(parent) {
        return Ok(false);
    }
    let mut changes = Changes::default();
    changes.set.insert("parent".into(), json!(parent));
    t.update(&file, &changes)?;
    Ok(true)
}
