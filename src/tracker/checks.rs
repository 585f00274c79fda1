//! The checks `add` and `update` share: statuses (known, allowed for the
//! kind, human-only), priorities, tag names, references into stealth, and
//! what may be stored under a custom field key (request field `fields`,
//! the CLI's `--field k=v`): never a core attribute name (that would give
//! one fact two homes), and not a near-twin of a declared field
//! (`Statement` for `statement`) unless forced (`force_field_key`).

use serde_json::Value;

use super::{ItemFile, Tracker};
use crate::error::{Error, Result};
use crate::items::tiers::Tier;

/// Item attributes that are not stored as item fields in ops but still
/// have their own request fields or places (`blocked_by` is written as the other
/// item's `isbefore`).
const OTHER_ATTRIBUTES: &[&str] = &[
    "id",
    "tier",
    "blocked_by",
    "discussion",
    "created",
    "updated",
];

/// Is `name` (normalised) a core item attribute: one of the
/// [`ITEM_FIELDS`](crate::oplog::op::ITEM_FIELDS) or [`OTHER_ATTRIBUTES`]? The
/// `fields` map itself is not one: a custom field may be called `fields`.
fn is_core_attribute(name: &str) -> bool {
    (name != "fields" && crate::oplog::op::ITEM_FIELDS.contains(&name))
        || OTHER_ATTRIBUTES.contains(&name)
}

/// Folds case, surrounding space and `-`/`_`/space spellings together.
pub fn normalise(key: &str) -> String {
    key.trim().to_lowercase().replace(['-', ' '], "_")
}

/// Refuses a custom field key that shadows a core attribute, or one that
/// differs from a declared field only in spelling (unless `force`). Errors
/// name the request fields (`fields`, `force_field_key`), so each front end
/// shows them in its own terms (`--field`, MCP's `fields`).
pub fn check_field_key(key: &str, declared: &[&str], force: bool) -> Result<()> {
    let folded = normalise(key);
    if key.is_empty() {
        return Err(Error::user("has an empty field name")
            .on_field("fields")
            .with_hint("give each custom field a name"));
    }
    if is_core_attribute(&folded) {
        return Err(Error::user(format!(
            "cannot hold '{key}': it is a core attribute, not a custom field; storing it there would give one fact two homes and the second would never be updated. Set the item's {folded} itself."
        ))
        .on_field("fields"));
    }
    if let Some(twin) = declared.iter().find(|d| normalise(d) == folded) {
        if *twin != key && !force {
            return Err(Error::user(format!(
                "is needed to store '{key}': it differs from the declared field '{twin}' only in spelling, so the two would be stored separately and read as one. Use '{twin}', or force the key if you really mean a second field."
            ))
            .on_field("force_field_key"));
        }
    }
    Ok(())
}

/// Tag names are `^[a-z_][a-z0-9_]*$`.
pub fn check_tag(tag: &str) -> Result<()> {
    let ok = tag.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "tag name '{tag}' does not match ^[a-z_][a-z0-9_]*$"
        ))
        .with_hint("use lower-case letters, digits and underscores, e.g. ci_infrastructure"))
    }
}

impl Tracker {
    /// Whether an item of `kind` may have `status`.
    pub fn status_allowed(&self, kind: &str, status: &str) -> bool {
        self.check_status(kind, status).is_ok()
    }

    pub(super) fn check_status(&self, kind: &str, status: &str) -> Result<()> {
        if !self.config.statuses.iter().any(|s| s == status) {
            return Err(Error::user(format!(
                "Unknown status '{status}'. Valid statuses: {}",
                self.config.statuses.join(", ")
            ))
            .with_hint(
                match crate::nearest::did_you_mean(
                    status,
                    self.config.statuses.iter().map(String::as_str),
                ) {
                    Some(d) => format!("{d} (the statuses come from the tracker's config.yaml)"),
                    None => {
                        "pick one of the statuses listed (they come from the tracker's config.yaml)"
                            .into()
                    }
                },
            ));
        }
        if let Some(k) = self.config.kind(kind) {
            if let Some(allowed) = &k.allowed_statuses {
                if !allowed.iter().any(|s| s == status) {
                    let deprecated = k.deprecated_statuses.iter().flatten().any(|s| s == status);
                    let what = if deprecated {
                        "deprecated"
                    } else {
                        "not allowed"
                    };
                    return Err(Error::user(format!(
                        "Status '{status}' is {what} for kind '{kind}'. Use one of: {}",
                        allowed.join(", ")
                    ))
                    .with_hint(format!(
                        "kinds.{kind}.allowed_statuses in the tracker's config.yaml lists what a {kind} may be"
                    )));
                }
            }
        }
        if self.actor.is_agent() && self.config.is_human_only(status) {
            return Err(Error::new(
                crate::error::ErrorKind::HumanOnly,
                format!("Status '{status}' requires human authority."),
            )
            .with_hint(format!(
                "'{status}' is in stop_hook.human_only_statuses: ask your human to set it"
            )));
        }
        Ok(())
    }

    pub(super) fn check_priority(p: &Value) -> Result<()> {
        match p.as_i64() {
            Some(0..=4) => Ok(()),
            _ => Err(Error::user(format!(
                "invalid priority {p}: must be an integer from 0 (highest) to 4 (lowest)"
            ))
            .with_hint("e.g. --priority 1 (P1); 2 is the default")),
        }
    }

    /// References from canonical/workspace items may not point into stealth.
    pub(crate) fn check_ref_tier(
        &self,
        writer: Tier,
        target: &ItemFile,
        field: &'static str,
    ) -> Result<()> {
        if writer != Tier::Stealth && target.tier == Tier::Stealth {
            return Err(Error::user(format!(
                "{} points at a stealth item from a {} item; stealth items are local-only and never synced",
                target.id,
                writer.as_str()
            ))
            .on_field(field)
            .with_hint("unstealth the target first, or keep both items in stealth"));
        }
        Ok(())
    }
}
