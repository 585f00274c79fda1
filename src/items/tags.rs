//! Tags and the tag catalog (`tracker/tag_catalog.yaml`): counts, statuses,
//! descriptions, deprecation and renaming.
//!
//! The catalog is the reference's file, byte for byte (PyYAML block style,
//! entries sorted by name): per tag a single-line `description`, the
//! `created_on` / `last_modified` / `last_used` timestamps, `deprecated`,
//! and `in_favor_of` (written only while deprecated). A tag's status is
//! derived, never stored: `deprecated` if flagged, else `active` when some
//! canonical or workspace item carries it, else `inactive`.
//!
//! `add` and `update --add-tag/--remove-tag` stamp `last_used` ([`touch`]);
//! the first listing without a catalog file builds one from the op logs
//! ([`ensure`]); `describe`, `deprecate` and `rename` stamp `last_modified`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::items::item::{value_text, Item};
use crate::items::tiers::Tier;
use crate::py::yaml::{self, Node};
use crate::timestamp::now_utc;
use crate::tracker::checks::check_tag;
use crate::tracker::update::Changes;
use crate::tracker::{ItemFile, Tracker};

/// The catalog's file name, beside `config.yaml`.
pub const CATALOG_FILE: &str = "tag_catalog.yaml";

/// The tiers whose items are counted (stealth tags are deliberately private).
pub const ENUM_TIERS: [Tier; 2] = [Tier::Canonical, Tier::Workspace];

/// One catalog row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub description: String,
    pub created_on: Option<String>,
    pub last_modified: Option<String>,
    pub last_used: Option<String>,
    pub deprecated: bool,
    pub in_favor_of: Option<String>,
}

impl Entry {
    fn new(when: &str) -> Entry {
        Entry {
            created_on: Some(when.to_string()),
            ..Entry::default()
        }
    }

    /// The redirect, only while deprecated.
    pub fn redirect(&self) -> Option<&str> {
        self.in_favor_of
            .as_deref()
            .filter(|s| self.deprecated && !s.is_empty())
    }
}

/// Tag name → entry, in name order (the order the file is written in).
pub type Catalog = BTreeMap<String, Entry>;

/// `active`, `inactive` or `deprecated`.
pub fn status(count: usize, deprecated: bool) -> &'static str {
    if deprecated {
        "deprecated"
    } else if count > 0 {
        "active"
    } else {
        "inactive"
    }
}

pub fn catalog_path(root: &Path) -> PathBuf {
    root.join("tracker").join(CATALOG_FILE)
}

fn is_tag_name(s: &str) -> bool {
    check_tag(s).is_ok()
}

fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::user(format!("{}: {what}", path.display())).with_hint(
        "fix or remove the tag catalog file (removing it rebuilds it from the op logs on the next 'htrac tags')",
    )
}

/// Python's `x or None` for a scalar read from YAML, as text.
fn opt_text(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(value_text(v)),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// Reads the catalog; `None` when the file does not exist.
pub fn load(root: &Path) -> Result<Option<Catalog>> {
    let path = catalog_path(root);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::internal(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    parse_catalog(&path, &text).map(Some)
}

/// A catalog's text, read (`path` names it in errors).
pub fn parse_catalog(path: &Path, text: &str) -> Result<Catalog> {
    if text.trim().is_empty() {
        return Ok(Catalog::new());
    }
    let path = path.to_path_buf();
    let raw: Value =
        serde_norway::from_str(text).map_err(|e| corrupt(&path, format!("invalid YAML: {e}")))?;
    let top = match &raw {
        Value::Null => return Ok(Catalog::new()),
        Value::Object(m) => m,
        _ => return Err(corrupt(&path, "expected a mapping at the top level")),
    };
    let tags = match top.get("tags") {
        None | Some(Value::Null) => return Ok(Catalog::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(corrupt(&path, "expected 'tags' to be a mapping")),
    };
    let mut out = Catalog::new();
    for (name, e) in tags {
        if !is_tag_name(name) {
            return Err(corrupt(
                &path,
                format!("tag name '{name}' does not match ^[a-z_][a-z0-9_]*$"),
            ));
        }
        let Value::Object(e) = e else {
            return Err(corrupt(
                &path,
                format!("entry for tag '{name}' must be a mapping"),
            ));
        };
        out.insert(
            name.clone(),
            Entry {
                description: opt_text(e.get("description")).unwrap_or_default(),
                created_on: opt_text(e.get("created_on")),
                last_modified: opt_text(e.get("last_modified")),
                last_used: opt_text(e.get("last_used")),
                deprecated: truthy(e.get("deprecated")),
                in_favor_of: opt_text(e.get("in_favor_of")),
            },
        );
    }
    Ok(out)
}

/// The file's text for `catalog` (what the reference's `save_catalog` writes).
pub fn render(catalog: &Catalog) -> String {
    let text = |v: &Option<String>| v.clone().map(Node::Str).unwrap_or(Node::Null);
    let tags: Vec<(String, Node)> = catalog
        .iter()
        .map(|(name, e)| {
            let fields = vec![
                ("description".to_string(), Node::Str(e.description.clone())),
                ("created_on".to_string(), text(&e.created_on)),
                ("last_modified".to_string(), text(&e.last_modified)),
                ("last_used".to_string(), text(&e.last_used)),
                ("deprecated".to_string(), Node::Bool(e.deprecated)),
                (
                    "in_favor_of".to_string(),
                    text(&e.redirect().map(str::to_string)),
                ),
            ];
            (name.clone(), Node::Map(fields))
        })
        .collect();
    yaml::dump(&[("tags".to_string(), Node::Map(tags))])
}

/// Validates and writes the catalog atomically.
pub fn save(root: &Path, catalog: &Catalog) -> Result<()> {
    let path = catalog_path(root);
    for (name, e) in catalog {
        check_tag(name)?;
        if e.description.contains('\n') {
            return Err(
                Error::user(format!("tag '{name}': description must be single-line"))
                    .with_hint("write the description on one line"),
            );
        }
        if let Some(f) = &e.in_favor_of {
            check_tag(f).map_err(|err| Error {
                message: format!("tag '{name}': in_favor_of: {}", err.message),
                ..err
            })?;
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o664)
    };
    // In a two-user set-up `tracker/` (which holds the human's config) is
    // not the agent's to write, but the catalog is group-writable: it is
    // then rewritten in place. A torn catalog is rebuilt from the items.
    crate::atomic::replace_or_rewrite(&path, render(catalog).as_bytes(), mode)
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
    // Wherever the catalog is written, branches that each change it merge
    // without a conflict (see `items::tagmerge`).
    crate::items::tagmerge::ensure_driver(root);
    Ok(())
}

fn ts_min(a: Option<String>, b: &str) -> Option<String> {
    Some(match a {
        Some(a) if a.as_str() <= b => a,
        _ => b.to_string(),
    })
}

fn ts_max(a: Option<String>, b: &str) -> Option<String> {
    Some(match a {
        Some(a) if a.as_str() >= b => a,
        _ => b.to_string(),
    })
}

fn tag_list<'a>(map: Option<&'a Map<String, Value>>, key: &str) -> Vec<&'a str> {
    map.and_then(|m| m.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `created_on` / `last_used` per tag from the canonical and workspace op
/// logs: tags in `create` data and `update` add/set count as use and
/// creation, `update` remove as use only. Unreadable files are skipped;
/// names that are not valid tag names are left out (and reported).
pub fn backfill(t: &Tracker, warnings: &mut Vec<String>) -> Result<Catalog> {
    let mut out = Catalog::new();
    for tier in ENUM_TIERS {
        for file in t.tier_files(tier)? {
            let Ok(log) = crate::oplog::read(&file.path) else {
                continue;
            };
            for (_, op) in &log.ops {
                if op.at.is_empty() {
                    continue;
                }
                let (created, used_only) = match op.kind.as_str() {
                    "create" => (tag_list(op.get_map("data"), "tags"), Vec::new()),
                    "update" => {
                        let mut c = tag_list(op.get_map("add"), "tags");
                        c.extend(tag_list(op.get_map("set"), "tags"));
                        (c, tag_list(op.get_map("remove"), "tags"))
                    }
                    _ => continue,
                };
                for (tag, creates) in created
                    .into_iter()
                    .map(|t| (t, true))
                    .chain(used_only.into_iter().map(|t| (t, false)))
                {
                    if !is_tag_name(tag) {
                        let w = format!("warning: tag catalog: '{tag}' (in {}) is not a valid tag name and is not catalogued", file.id);
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                        continue;
                    }
                    let e = out.entry(tag.to_string()).or_default();
                    if creates {
                        e.created_on = ts_min(e.created_on.take(), &op.at);
                    }
                    e.last_used = ts_max(e.last_used.take(), &op.at);
                }
            }
        }
    }
    Ok(out)
}

/// The catalog, built from the op logs (and written) when there is no file
/// yet. If it cannot be written, the built catalog is still returned, with
/// a warning.
pub fn ensure(t: &Tracker, warnings: &mut Vec<String>) -> Result<Catalog> {
    if let Some(c) = load(&t.root)? {
        return Ok(c);
    }
    let built = backfill(t, warnings)?;
    if let Err(e) = save(&t.root, &built) {
        warnings.push(format!(
            "warning: the tag catalog could not be written: {}",
            e.message
        ));
    }
    Ok(built)
}

/// Records that `tags` were just added to or removed from an item: a new
/// entry for a tag not yet catalogued, `last_used` moved forward. Names
/// that are not valid tag names are not catalogued.
pub fn touch(root: &Path, tags: &[String], when: &str) -> Result<()> {
    let tags: Vec<&String> = tags.iter().filter(|t| is_tag_name(t)).collect();
    if tags.is_empty() {
        return Ok(());
    }
    let mut catalog = load(root)?.unwrap_or_default();
    let mut changed = false;
    for tag in tags {
        let e = catalog.entry(tag.clone()).or_insert_with(|| {
            changed = true;
            Entry {
                last_used: Some(when.to_string()),
                ..Entry::new(when)
            }
        });
        if e.created_on.is_none() {
            e.created_on = Some(when.to_string());
            changed = true;
        }
        let newer = ts_max(e.last_used.clone(), when);
        if newer != e.last_used {
            e.last_used = newer;
            changed = true;
        }
    }
    if changed {
        save(root, &catalog)?;
    }
    Ok(())
}

/// The stderr warnings for applying deprecated tags (never blocking).
pub fn deprecation_warnings(root: &Path, tags: &[String]) -> Result<Vec<String>> {
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let catalog = load(root)?.unwrap_or_default();
    Ok(tags
        .iter()
        .filter_map(|t| {
            let e = catalog.get(t).filter(|e| e.deprecated)?;
            let suffix = e
                .in_favor_of
                .as_deref()
                .filter(|f| !f.is_empty())
                .map(|f| format!("; use {f} instead"))
                .unwrap_or_default();
            Some(format!("warning: tag '{t}' is deprecated{suffix}"))
        })
        .collect())
}

/// How many canonical and workspace items carry each tag.
pub fn counts(items: &[Item]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for item in items.iter().filter(|i| ENUM_TIERS.contains(&i.tier)) {
        for tag in &item.tags {
            *out.entry(value_text(tag)).or_default() += 1;
        }
    }
    out
}

/// Sets (`Some`) or reads (`None`) a tag's description.
pub fn describe(root: &Path, tag: &str, text: Option<&str>) -> Result<String> {
    check_tag(tag)?;
    let mut catalog = load(root)?.unwrap_or_default();
    let Some(text) = text else {
        return Ok(catalog
            .get(tag)
            .map(|e| e.description.clone())
            .unwrap_or_default());
    };
    if text.contains('\n') {
        return Err(Error::user("description must be single-line")
            .with_hint("tag descriptions are one line; put longer text in an item"));
    }
    let when = now_utc();
    let e = catalog
        .entry(tag.to_string())
        .or_insert_with(|| Entry::new(&when));
    e.description = text.to_string();
    e.last_modified = Some(when);
    save(root, &catalog)?;
    Ok(text.to_string())
}

/// Flags a tag deprecated; `in_favor_of` (if given) replaces the redirect
/// (an empty one clears it). Returns the entry written.
pub fn deprecate(root: &Path, tag: &str, in_favor_of: Option<&str>) -> Result<Entry> {
    check_tag(tag)?;
    if let Some(f) = in_favor_of.filter(|f| !f.is_empty()) {
        check_tag(f).map_err(|e| Error {
            message: format!("--in-favor-of: {}", e.message),
            ..e
        })?;
    }
    let mut catalog = load(root)?.unwrap_or_default();
    let when = now_utc();
    let e = catalog
        .entry(tag.to_string())
        .or_insert_with(|| Entry::new(&when));
    e.deprecated = true;
    if let Some(f) = in_favor_of {
        e.in_favor_of = Some(f.to_string()).filter(|f| !f.is_empty());
    }
    e.last_modified = Some(when);
    let written = e.clone();
    save(root, &catalog)?;
    Ok(written)
}

/// Why an agent may not rename a tag on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub id: String,
    pub reason: String,
}

impl Tracker {
    /// The canonical and workspace items carrying `old`, each with the
    /// update that renames it, after checking that every one of them may
    /// be written (for an agent: not frozen, `tags` not locked here or on a
    /// lamport branch). Any refusal refuses the whole rename.
    pub fn plan_tag_rename(
        &self,
        items: &[Item],
        old: &str,
        new: &str,
    ) -> Result<Vec<(ItemFile, Changes)>> {
        let mut plan = Vec::new();
        let mut refused = Vec::new();
        for item in items
            .iter()
            .filter(|i| ENUM_TIERS.contains(&i.tier) && i.has_tag(old))
        {
            let file = ItemFile {
                id: item.id.clone(),
                tier: item.tier,
                path: self.item_path(item.tier, &item.id),
            };
            if self.actor.is_agent() {
                if self.frozen_path(file.tier, &file.id).exists() {
                    refused.push(Refusal {
                        id: file.id.clone(),
                        reason: "frozen".into(),
                    });
                    continue;
                }
                let copies = self.branch_copies(&file.path)?;
                if self
                    .locked_fields(&file, item, &copies)
                    .iter()
                    .any(|f| f == "tags")
                {
                    refused.push(Refusal {
                        id: file.id.clone(),
                        reason: "field 'tags' is locked".into(),
                    });
                    continue;
                }
            }
            let mut ch = Changes::default();
            if !item.has_tag(new) {
                ch.add.insert("tags".into(), Value::from(vec![new]));
            }
            ch.remove.insert("tags".into(), Value::from(vec![old]));
            plan.push((file, ch));
        }
        if !refused.is_empty() {
            let lines: Vec<String> = refused
                .iter()
                .map(|r| format!("  {} [{}]", r.id, r.reason))
                .collect();
            return Err(Error::user(format!(
                "tags rename {old} {new} refused: {} of {} item(s) cannot be changed by an agent; nothing was renamed:\n{}",
                refused.len(),
                refused.len() + plan.len(),
                lines.join("\n")
            ))
            .with_hint(format!(
                "ask your human to unlock or unfreeze those items, or to run 'htrac tags rename {old} {new}' themselves"
            )));
        }
        Ok(plan)
    }

    /// Renames tag `old` to `new` on every canonical and workspace item
    /// (one `update` op each: add `new` unless present, remove `old`) and
    /// stamps both catalog entries. All-or-nothing as far as policy goes
    /// (see [`Tracker::plan_tag_rename`]). Returns how many items changed.
    pub fn rename_tag(&self, items: &[Item], old: &str, new: &str) -> Result<usize> {
        check_tag(new)?;
        if old == new {
            return Ok(0);
        }
        let plan = self.plan_tag_rename(items, old, new)?;
        for (done, (file, ch)) in plan.iter().enumerate() {
            self.update(file, ch).map_err(|e| Error {
                message: format!(
                    "{} (tag renamed on {done} of {} item(s) before this failure)",
                    e.message,
                    plan.len()
                ),
                ..e
            })?;
        }
        let mut catalog = load(&self.root)?.unwrap_or_default();
        let when = now_utc();
        if is_tag_name(old) {
            let e = catalog
                .entry(old.to_string())
                .or_insert_with(|| Entry::new(&when));
            e.last_modified = Some(when.clone());
            e.last_used = Some(when.clone());
        } else {
            catalog.remove(old);
        }
        let e = catalog
            .entry(new.to_string())
            .or_insert_with(|| Entry::new(&when));
        e.last_modified = Some(when.clone());
        e.last_used = Some(when);
        save(&self.root, &catalog)?;
        Ok(plan.len())
    }
}
