//! What may be stored under a custom field key (`--field k=v`): never a core
//! attribute name (that would give one fact two homes), and not a near-twin
//! of a declared field (`Statement` for `statement`) unless forced.

use crate::error::{Error, Result};

/// Item attributes that are not stored as item fields in ops but still
/// have their own flags or places (`blocked_by` is written as the other
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

/// The flag that sets a core attribute.
pub fn flag_for(core: &str) -> String {
    match core {
        "tags" => "--tag".into(),
        "isbefore" => "--add-isbefore".into(),
        "duplicate_of" => "--add-duplicate-of".into(),
        "not_duplicate_of" => "--add-not-duplicate-of".into(),
        "blocked_by" => "--add-blocked-by".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// Refuses a custom field key that shadows a core attribute, or one that
/// differs from a declared field only in spelling (unless `force`).
pub fn check_field_key(key: &str, declared: &[&str], force: bool) -> Result<()> {
    let folded = normalise(key);
    if key.is_empty() {
        return Err(Error::user("empty field name").with_hint("write --field name=value"));
    }
    if is_core_attribute(&folded) {
        return Err(Error::user(format!(
            "'{key}' is a core attribute, not a custom field: storing it under --field would give one fact two homes and the second would never be updated. Use {} instead.",
            flag_for(&folded)
        )));
    }
    if let Some(twin) = declared.iter().find(|d| normalise(d) == folded) {
        if *twin != key && !force {
            return Err(Error::user(format!(
                "'{key}' differs from the declared field '{twin}' only in spelling, so the two would be stored separately and read as one. Use '{twin}', or pass --force-field-key if you really mean a second field."
            )));
        }
    }
    Ok(())
}
