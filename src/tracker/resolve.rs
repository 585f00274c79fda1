//! Resolving what a user typed — a full ID, or a unique prefix with or
//! without the kind prefix — to one item file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::items::ids::prefix_matches;
use crate::items::tiers::Tier;
use crate::oplog;

use super::{ItemFile, Tracker};

impl Tracker {
    /// Resolves a full ID or a unique prefix (`WI-foh`, `foh`) to one item
    /// file. An item present in several tiers resolves to its first tier
    /// (canonical, then workspace, then stealth).
    pub fn resolve(&self, spec: &str) -> Result<ItemFile> {
        if spec.is_empty() {
            return Err(Error::user("empty item ID")
                .with_hint("pass an item ID, a unique prefix of one, or :N"));
        }
        if spec.starts_with(':') {
            return Err(
                Error::user(format!("positional alias {spec} was not resolved"))
                    .with_hint("aliases are resolved by the command line; pass the full ID"),
            );
        }
        // A full ID needs one stat per tier, not a directory listing.
        if spec.contains('-') && !spec.contains('/') {
            for tier in Tier::ALL {
                let path = self.item_path(tier, spec);
                // Never through a symbolic link (listing skips them too).
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                    return Ok(ItemFile {
                        id: spec.to_string(),
                        tier,
                        path,
                    });
                }
            }
        }
        let files = self.files()?;
        let mut matches: BTreeMap<&str, Vec<&ItemFile>> = BTreeMap::new();
        for f in &files {
            if prefix_matches(&f.id, spec) {
                matches.entry(f.id.as_str()).or_default().push(f);
            }
        }
        match matches.len() {
            0 => Err(Error::new(
                crate::error::ErrorKind::NotFound,
                format!("No items match prefix: {spec}"),
            )
            .with_hint(
                "run 'htrac list' to see item IDs (any unique prefix works, e.g. WI-foh or foh)",
            )),
            1 => Ok((*matches.values().next().expect("one").first().expect("file")).clone()),
            _ => {
                let mut lines = Vec::new();
                for (id, fs) in &matches {
                    let f = fs[0];
                    let title = first_title(&f.path).unwrap_or_default();
                    lines.push(format!("  {id}  [{}]  {title}", f.tier.as_str()));
                }
                Err(Error::new(
                    crate::error::ErrorKind::Ambiguous,
                    format!(
                        "Ambiguous prefix '{spec}' matches {} items:\n{}",
                        matches.len(),
                        lines.join("\n")
                    ),
                )
                .with_hint("type more of the ID to make it unique"))
            }
        }
    }

    /// Resolves a reference to another item, given in request field
    /// `field` (`parent`, `add_isbefore`, ...: errors name it), to its file.
    pub fn resolve_ref(&self, spec: &str, field: &'static str) -> Result<ItemFile> {
        // What the request names does not resolve: its field is invalid.
        self.resolve(spec).map_err(|e| Error {
            message: format!("{spec}: {}", e.message),
            kind: match e.kind {
                crate::error::ErrorKind::NotFound | crate::error::ErrorKind::Ambiguous => {
                    crate::error::ErrorKind::Invalid
                }
                k => k,
            },
            field: Some(field),
            ..e
        })
    }
}

/// The title in an item file's first create op, cheaply (for error messages).
fn first_title(path: &Path) -> Option<String> {
    let log = oplog::read(path).ok()?;
    log.ops
        .iter()
        .find(|(_, o)| o.kind == "create")
        .and_then(|(_, o)| {
            o.get_map("data")
                .and_then(|d| d.get("title"))
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
}
