//! Merging the tag catalog without conflicts. Two branches that each use a
//! new tag both change `tracker/tag_catalog.yaml` (both may even create it),
//! and git's line merge stops on that. The catalog gets a merge driver of
//! its own instead — `tag_catalog.yaml merge=htrac-catalog` in
//! `tracker/.gitattributes`, and `merge.htrac-catalog.driver = htrac
//! merge-catalog %O %A %B` in the clone's git config, both set wherever
//! htrac writes the catalog — which merges entry by entry and field by
//! field, so it cannot conflict:
//!
//! - a tag on either side is kept (one that a side removed and the other
//!   left as it was in the base goes);
//! - a field only one side changed takes that side's value;
//! - both changed: `created_on` the earlier, `last_used` and
//!   `last_modified` the later, and the curated fields (description,
//!   deprecation, redirect) those of the side modified last (ours on a tie).
//!
//! The result is written in the catalog's own layout.

use std::path::Path;
use std::process::{Command, Stdio};

use super::tags::{parse_catalog, render, Catalog, Entry};
use crate::error::{Error, Result};

/// The merge driver's name in `.gitattributes` and git config.
pub const DRIVER: &str = "htrac-catalog";

fn earlier(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b).clone()),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

fn later(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b).clone()),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

/// One field: the side that changed it, else the rule for both.
fn pick<T: Clone + PartialEq>(base: Option<&T>, ours: &T, theirs: &T, both: T) -> T {
    match base {
        Some(b) if ours == b => theirs.clone(),
        Some(b) if theirs == b => ours.clone(),
        _ if ours == theirs => ours.clone(),
        _ => both,
    }
}

fn merge_entry(base: Option<&Entry>, ours: &Entry, theirs: &Entry) -> Entry {
    let theirs_last = theirs.last_modified > ours.last_modified;
    let curated = if theirs_last { theirs } else { ours };
    Entry {
        created_on: pick(
            base.map(|b| &b.created_on),
            &ours.created_on,
            &theirs.created_on,
            earlier(&ours.created_on, &theirs.created_on),
        ),
        last_used: pick(
            base.map(|b| &b.last_used),
            &ours.last_used,
            &theirs.last_used,
            later(&ours.last_used, &theirs.last_used),
        ),
        last_modified: pick(
            base.map(|b| &b.last_modified),
            &ours.last_modified,
            &theirs.last_modified,
            later(&ours.last_modified, &theirs.last_modified),
        ),
        description: pick(
            base.map(|b| &b.description),
            &ours.description,
            &theirs.description,
            curated.description.clone(),
        ),
        deprecated: pick(
            base.map(|b| &b.deprecated),
            &ours.deprecated,
            &theirs.deprecated,
            curated.deprecated,
        ),
        in_favor_of: pick(
            base.map(|b| &b.in_favor_of),
            &ours.in_favor_of,
            &theirs.in_favor_of,
            curated.in_favor_of.clone(),
        ),
    }
}

/// The three-way merge of two catalogs (see the module's rules).
pub fn merge(base: &Catalog, ours: &Catalog, theirs: &Catalog) -> Catalog {
    let mut out = Catalog::new();
    let names: std::collections::BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names {
        let b = base.get(name);
        match (ours.get(name), theirs.get(name)) {
            (Some(o), Some(t)) => {
                out.insert(name.clone(), merge_entry(b, o, t));
            }
            // Removed on one side: gone if the other left it as it was.
            (Some(e), None) | (None, Some(e)) => {
                if b != Some(e) {
                    out.insert(name.clone(), e.clone());
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// `htrac merge-catalog BASE OURS THEIRS` (git's `%O %A %B`): the merge,
/// written over OURS.
pub fn merge_files(base: &Path, ours: &Path, theirs: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<Catalog> {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        parse_catalog(p, &text)
    };
    let merged = merge(&read(base)?, &read(ours)?, &read(theirs)?);
    std::fs::write(ours, render(&merged))
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", ours.display())))
}

/// Makes the catalog of the tracker at `root` merge with [`DRIVER`]: the
/// attribute beside it, and the driver in the clone's git config (where
/// git lets this user write it). Failures are left silent: the catalog
/// then merges as before.
pub fn ensure_driver(root: &Path) {
    let attributes = root.join("tracker/.gitattributes");
    let line = format!("{} merge={DRIVER}\n", super::tags::CATALOG_FILE);
    let current = std::fs::read_to_string(&attributes).unwrap_or_default();
    if !current.contains(line.trim_end()) {
        let _ = std::fs::write(&attributes, format!("{current}{line}"));
    }
    let Some(wt) = crate::git::work_tree_of(root) else {
        return;
    };
    let key = format!("merge.{DRIVER}.driver");
    let has = Command::new("git")
        .args(["config", "--get", &key])
        .current_dir(&wt)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if has {
        return;
    }
    let htrac = if crate::setup::os::which("htrac").is_some() {
        "htrac".to_string()
    } else {
        match std::env::current_exe() {
            Ok(p) => crate::setup::os::sh_path(&p),
            Err(_) => return,
        }
    };
    for (k, v) in [
        (
            format!("merge.{DRIVER}.name"),
            "htrac tag catalog merge".to_string(),
        ),
        (key, format!("{htrac} merge-catalog %O %A %B")),
    ] {
        let _ = Command::new("git")
            .args(["config", "--local", &k, &v])
            .current_dir(&wt)
            .stdin(Stdio::null())
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(created: &str, used: &str, modified: Option<&str>, desc: &str) -> Entry {
        Entry {
            description: desc.into(),
            created_on: Some(created.into()),
            last_modified: modified.map(Into::into),
            last_used: Some(used.into()),
            deprecated: false,
            in_favor_of: None,
        }
    }

    #[test]
    fn new_tags_on_both_sides_and_changed_fields_merge() {
        let mut base = Catalog::new();
        base.insert("core".into(), e("1", "1", None, ""));
        let mut ours = base.clone();
        ours.insert("alpha".into(), e("2", "2", None, ""));
        ours.get_mut("core").unwrap().last_used = Some("5".into());
        let mut theirs = base.clone();
        theirs.insert("beta".into(), e("3", "3", None, ""));
        let core = theirs.get_mut("core").unwrap();
        core.description = "the core".into();
        core.last_modified = Some("4".into());
        core.last_used = Some("4".into());
        let m = merge(&base, &ours, &theirs);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["alpha", "beta", "core"]);
        let core = &m["core"];
        assert_eq!(core.description, "the core");
        assert_eq!(core.last_used.as_deref(), Some("5"));
        assert_eq!(core.last_modified.as_deref(), Some("4"));
        // Symmetric: the other way round gives the same catalog.
        assert_eq!(merge(&base, &theirs, &ours), m);
    }

    #[test]
    fn both_creating_the_file_and_a_removal_merge() {
        let empty = Catalog::new();
        let mut ours = Catalog::new();
        ours.insert("a".into(), e("2", "2", None, ""));
        let mut theirs = Catalog::new();
        theirs.insert("a".into(), e("1", "3", Some("3"), "described"));
        let m = merge(&empty, &ours, &theirs);
        assert_eq!(m["a"].created_on.as_deref(), Some("1"));
        assert_eq!(m["a"].last_used.as_deref(), Some("3"));
        assert_eq!(m["a"].description, "described");
        // A tag one side removed and the other left alone goes.
        let mut base = Catalog::new();
        base.insert("old".into(), e("1", "1", None, ""));
        let m = merge(&base, &Catalog::new(), &base);
        assert!(m.is_empty());
    }
}
