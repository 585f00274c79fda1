//! One operation of an item's op-log: the common header every op carries and
//! its kind-specific payload.
//!
//! Payloads are kept as ordered JSON values so that an op kind (or key) we do
//! not know survives a read and can be reported, never silently dropped.
//! Typed accessors give the compile step what it needs.

use serde_json::{Map, Value};

/// Who wrote an op, as recorded in its `by:` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Human,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Human => "human",
            Role::Agent => "agent",
        }
    }

    /// Sort rank used to break clock and time ties: an agent's op folds
    /// first, so a human's is applied last and wins (the reference folds the
    /// human's first; see [`crate::governance::policy`]).
    pub fn rank(by: &str) -> u8 {
        u8::from(by == "human")
    }
}

/// Op kinds the reference writes. Anything else is kept as an unknown kind.
pub const KNOWN_KINDS: &[&str] = &[
    "create",
    "update",
    "discuss",
    "discuss_clear",
    "discuss_summarize",
    "lock",
    "unlock",
    "promote",
    "demote",
    "stealth",
    "unstealth",
    "reconcile",
    "edit-mode-on",
    "edit-mode-off",
    "delete-msg",
    "undelete-msg",
    "edit-msg-text",
];

/// The item fields ops store: the keys of a `create` op's `data`, in the
/// order the reference writes them. This is the one list of item field
/// names; what an `update` may change ([`is_updatable`]) and what a human
/// may lock ([`lockable`]) derive from it.
pub const ITEM_FIELDS: &[&str] = &[
    "kind",
    "title",
    "status",
    "priority",
    "parent",
    "tags",
    "isbefore",
    "duplicate_of",
    "not_duplicate_of",
    "pr_ref",
    "description",
    "fields",
];

/// Set-valued item fields: changed with `add:`/`remove:`; `set:` replaces them.
pub const SET_VALUED: &[&str] = &["tags", "isbefore", "duplicate_of", "not_duplicate_of"];

/// The fields an `update` may set, add to or remove from (every item field
/// but `kind`), in [`ITEM_FIELDS`] order.
pub fn updatable() -> impl Iterator<Item = &'static str> {
    ITEM_FIELDS.iter().copied().filter(|f| *f != "kind")
}

/// May an `update` change this field?
pub fn is_updatable(field: &str) -> bool {
    field != "kind" && ITEM_FIELDS.contains(&field)
}

/// The fields a human may lock: every updatable field, and the discussion.
pub fn lockable() -> impl Iterator<Item = &'static str> {
    updatable().chain(["discussion"])
}

/// May a human lock this field (custom `fields.<key>` aside)?
pub fn is_lockable(field: &str) -> bool {
    field == "discussion" || is_updatable(field)
}

/// One op as read from, or about to be written to, an op-log.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// The `op:` key: `create`, `update`, ... (unknown kinds are kept).
    pub kind: String,
    pub at: String,
    pub by: String,
    pub actor: String,
    pub clock: i64,
    pub nonce: String,
    /// Every other key of the op, in file order.
    pub body: Map<String, Value>,
}

impl Op {
    /// A new op with an empty body.
    pub fn new(kind: &str, at: &str, role: Role, actor: &str, clock: i64, nonce: &str) -> Op {
        Op {
            kind: kind.to_string(),
            at: at.to_string(),
            by: role.as_str().to_string(),
            actor: actor.to_string(),
            clock,
            nonce: nonce.to_string(),
            body: Map::new(),
        }
    }

    /// Adds a payload key (builder style).
    pub fn with(mut self, key: &str, value: Value) -> Op {
        self.body.insert(key.to_string(), value);
        self
    }

    pub fn is_known_kind(&self) -> bool {
        KNOWN_KINDS.contains(&self.kind.as_str())
    }

    /// The payload value of `key`, treating an explicit null like absence.
    pub fn get(&self, key: &str) -> Option<&Value> {
        lookup(&self.body, key).filter(|v| !v.is_null())
    }

    /// A payload string (`message`, `reason`, ...), or "" when absent.
    pub fn get_str(&self, key: &str) -> &str {
        self.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// A payload mapping (`data`, `set`, `add`, `remove`); null or absent is empty.
    pub fn get_map(&self, key: &str) -> Option<&Map<String, Value>> {
        self.get(key).and_then(Value::as_object)
    }

    /// The fold order of ops: clock, then timestamp, then human before agent,
    /// then nonce. Total and independent of file order.
    pub fn sort_key(&self) -> (i64, &str, u8, &str) {
        (self.clock, &self.at, Role::rank(&self.by), &self.nonce)
    }
}

/// `map`'s value for `key`. The mappings ops hold have a few keys (a body)
/// or a dozen (a `create`'s `data`): looking along them costs less than
/// hashing `key`, which only larger ones are worth.
pub fn lookup<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// The field name an old op may use for `isbefore`.
pub fn canonical_field(name: &str) -> &str {
    if name == "before" {
        "isbefore"
    } else {
        name
    }
}

/// The payload keys of each op kind, in the order the reference writes
/// them (what the emitter orders by and `validate` checks against).
pub fn payload_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "create" => &["data"],
        "update" => &["set", "add", "remove"],
        "discuss" | "discuss_summarize" => &["message"],
        "lock" => &["lock"],
        "unlock" => &["unlock"],
        "reconcile" => &["from_tier", "reason"],
        "edit-mode-on" => &["ttl_seconds", "cap_max"],
        "delete-msg" | "undelete-msg" => &["item", "target_nonce", "reason"],
        "edit-msg-text" => &["item", "target_nonce", "new_text", "reason"],
        _ => &[],
    }
}

impl Op {
    /// An `edit-mode-on` op's window: (ttl in seconds, cap), with the
    /// reference's defaults (1800 s, 500 edits).
    pub fn edit_window(&self) -> (i64, i64) {
        let ttl = self
            .get("ttl_seconds")
            .and_then(Value::as_i64)
            .unwrap_or(1800);
        let cap = self.get("cap_max").and_then(Value::as_i64).unwrap_or(500);
        (ttl, cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_finds_what_a_hashed_get_finds_in_maps_small_and_large() {
        for n in [0, 1, 2, 15, 16, 17, 40] {
            let map: Map<String, Value> = (0..n)
                .map(|i| (format!("key{i}"), Value::from(i)))
                .collect();
            for i in 0..n + 1 {
                let key = format!("key{i}");
                assert_eq!(lookup(&map, &key), map.get(&key), "{n} keys, {key}");
            }
            assert_eq!(lookup(&map, "key"), None);
        }
    }
}
