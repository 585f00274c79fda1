//! What a run validates and how it names it: each file's [`Target`] (its
//! role, tier and ID), the files of a whole-tracker run, a file named on
//! the command line, the path messages show, and whether an item is frozen
//! (its sentinel's ops are the approved state its file compiles under).

use std::path::{Path, PathBuf};

use crate::cache::listing::Listing;
use crate::items::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// One item's op log (`.<ID>.ops`).
    Item,
    /// A tier's global edit-mode log (`.edit-mode/edit-mode.ops`).
    EditModeLog,
}

/// A file to validate.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) path: PathBuf,
    /// The path as messages show it, when not [`shown_path`] of `path`
    /// (worked out only for a file with something to report).
    pub(super) shown: Option<String>,
    pub(super) role: Role,
    pub(super) id: Option<String>,
    /// The tier whose directory holds the file, if any.
    pub(super) tier: Option<Tier>,
    /// Listed in its tier's directory (whole-tracker runs): opened there by name.
    pub(super) listed: bool,
}

/// The ops of the item's freeze sentinel, when `t` is a frozen item's file.
pub(super) fn frozen_approval(
    tracker: &Tracker,
    listing: &Listing,
    t: &Target,
) -> Option<Vec<crate::oplog::op::Op>> {
    let (Some(id), Some(tier), Role::Item) = (&t.id, t.tier, t.role) else {
        return None;
    };
    // Listed sentinels are few: only those are looked at again.
    if !listing.frozen[crate::cache::tier_index(tier)].contains(id) {
        return None;
    }
    let file = crate::tracker::ItemFile {
        id: id.clone(),
        tier,
        path: t.path.clone(),
    };
    if !tracker.frozen_path(tier, id).exists() {
        return None;
    }
    Some(tracker.approved_ops(&file, &mut Vec::new()))
}

/// Whether `t` is an item with a freeze sentinel listed.
pub(super) fn is_frozen(listing: &Listing, t: &Target) -> bool {
    match (&t.id, t.tier) {
        (Some(id), Some(tier)) => listing.frozen[crate::cache::tier_index(tier)].contains(id),
        _ => false,
    }
}

/// A file to validate: one of the listing's (by its index there), made a
/// [`Target`] when it is validated, or a target worked out already.
pub(super) enum Source {
    Listed(usize),
    Given(Target),
}

/// Every item file of every tier, then the edit-mode logs.
pub(super) fn all_targets(tracker: &Tracker, listing: &Listing) -> Vec<Source> {
    let mut out: Vec<Source> = (0..listing.files.len()).map(Source::Listed).collect();
    let mut logs: Vec<PathBuf> = Vec::new();
    for tier in Tier::ALL {
        let log = tier.edit_mode_log(&tracker.root);
        if log.is_file() && !logs.contains(&log) {
            logs.push(log);
        }
    }
    for path in logs {
        out.push(Source::Given(Target {
            shown: None,
            path,
            role: Role::EditModeLog,
            id: None,
            tier: None,
            listed: false,
        }));
    }
    out
}

/// The target of a listed item file (`dirs`: each tier's directory, in
/// [`Tier::ALL`] order).
pub(super) fn listed_target(
    dirs: &[PathBuf; 3],
    listing: &Listing,
    f: &crate::cache::listing::Listed,
) -> Target {
    Target {
        // The tier's directory and `.<ID>.ops`, as [`Tracker::item_path`] makes it.
        path: dirs[crate::cache::tier_index(f.tier)].join(listing.name(f)),
        shown: None,
        role: Role::Item,
        id: Some(listing.id(f).to_string()),
        tier: Some(f.tier),
        listed: true,
    }
}

/// What a file named on the command line is: its tier from its directory,
/// its ID from its name.
pub(super) fn classify(tracker: &Tracker, path: &Path, given: &str) -> Target {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let shown = if path.starts_with(tracker.work_tree.as_deref().unwrap_or(&tracker.root))
        || tracker.root.parent().is_some_and(|p| path.starts_with(p))
    {
        None
    } else {
        Some(given.to_string())
    };
    let is_edit_log = name == "edit-mode.ops" && dir.file_name().is_some_and(|d| d == ".edit-mode");
    let tier = Tier::ALL
        .into_iter()
        .find(|t| tracker.tier_dir(*t).canonicalize().is_ok_and(|d| d == dir));
    Target {
        path,
        shown,
        role: if is_edit_log {
            Role::EditModeLog
        } else {
            Role::Item
        },
        id: id_from_file_name(&name).map(str::to_string),
        tier,
        listed: false,
    }
}

/// `path` relative to the git work tree, else to the directory holding
/// `.agent/`, else as it is.
pub(super) fn shown_path(tracker: &Tracker, path: &Path) -> String {
    let bases = [
        tracker.work_tree.clone(),
        tracker.root.parent().map(Path::to_path_buf),
    ];
    for base in bases.into_iter().flatten() {
        if let Ok(rel) = path.strip_prefix(&base) {
            return rel.to_string_lossy().into_owned();
        }
    }
    path.to_string_lossy().into_owned()
}
