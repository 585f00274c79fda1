//! What a stop hook asks: the blocking items in scope, their count and
//! fingerprint, the guidance document, and the circuit breaker.
//!
//! The pieces, each in its own module: [`scope`] (which items the hook
//! sees), [`todos`] (count and fingerprint, exactly as the reference),
//! [`guidance`] (the two markdown documents), [`event`] (the harness's
//! hook event on stdin), [`breaker`] (the per-repository circuit-breaker
//! state), [`reason`] (the text an agent reads when it may not stop) and
//! [`hook`] (the decision `htrac-hook` prints, tying them together).

pub mod breaker;
pub mod escalation;
pub mod event;
pub mod guidance;
pub mod hook;
pub mod reason;
pub mod scope;
pub mod todos;

/// A compiled item for unit tests.
#[cfg(test)]
pub(crate) fn sample(
    id: &str,
    tier: crate::Tier,
    status: &str,
    priority: i64,
    title: &str,
) -> crate::Item {
    crate::Item {
        id: id.into(),
        kind: "work_item".into(),
        title: title.into(),
        status: status.into(),
        priority: serde_json::json!(priority),
        parent: None,
        tags: Vec::new(),
        isbefore: Vec::new(),
        duplicate_of: Vec::new(),
        not_duplicate_of: Vec::new(),
        pr_ref: serde_json::Value::Null,
        description: String::new(),
        fields: Default::default(),
        locked_fields: Vec::new(),
        discussion: Vec::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        tier,
        frozen: false,
        cross_tier_conflict: false,
        op_count: 1,
        rejected_ops: Vec::new(),
        unverified_ops: Vec::new(),
    }
}
