//! What may be stored under a custom field key (request field `fields`,
//! the CLI's `--field k=v`): never a core attribute name (that would give
//! one fact two homes), and not a near-twin of a declared field
//! (`Statement` for `statement`) unless forced (`force_field_key`). Errors
//! name those request fields, so each front end shows them in its terms.

use crate::error::{Error, Result};

/// Item attributes that have their own request fields.
pub const CORE_ATTRIBUTE_NAMES: &[&str] = &[
    "id",
    "kind",
    "title",
    "status",
    "priority",
    "tags",
    "description",
    "parent",
    "isbefore",
    "pr_ref",
    "tier",
    "duplicate_of",
    "not_duplicate_of",
    "blocked_by",
    "discussion",
    "created",
    "updated",
];

/// Folds case, surrounding space and `-`/`_`/space spellings together.
pub fn normalise(key: &str) -> String {
    key.trim().to_lowercase().replace(['-', ' '], "_")
}

/// Refuses a custom field key that shadows a core attribute, or one that
/// differs from a declared field only in spelling (unless `force`).
pub fn check_field_key(key: &str, declared: &[&str], force: bool) -> Result<()> {
    let folded = normalise(key);
    if key.is_empty() {
        return Err(Error::user("has an empty field name")
            .on_field("fields")
            .with_hint("give each custom field a name"));
    }
    if CORE_ATTRIBUTE_NAMES.contains(&folded.as_str()) {
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
