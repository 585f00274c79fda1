//! Values against the configuration: each op's header and payload (op
//! kinds, key order, timestamps, kinds, statuses, priorities, list shapes),
//! and the compiled item (a kind's allowed statuses and `fields_schema`),
//! which is judged as it stands now: a later op may repair an earlier one.

use std::borrow::Cow;

use serde_json::Value;

use super::Checked;
use crate::config::{Config, FieldSchema};
use crate::items::item::Item;
use crate::oplog::op::{self, canonical_field, lookup, Op, ITEM_FIELDS, KNOWN_KINDS, SET_VALUED};
use crate::timestamp::{is_canonical_time, valid_time};

/// Keys old versions of the reference wrote into `data`/`set` that compile
/// ignores; not worth a warning.
const LEGACY_KEYS: &[&str] = &["justification"];

/// Header keys every op carries, in the order writers put them.
const HEADER: &[&str] = &["op", "at", "by", "actor", "clock", "nonce"];

/// Python's name for a value's type, as schema messages say it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn show(v: &Value) -> String {
    crate::items::ids::python_json(v)
}

/// An op's keys as written, in order, each with whether its value is null.
struct Keys<'a>(&'a [(Cow<'a, str>, bool)]);

impl Keys<'_> {
    fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + Clone {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// Which [`HEADER`] keys are written (bit `i` for `HEADER[i]`), and
    /// which of them are not null.
    fn header(&self) -> (u8, u8) {
        let (mut written, mut valued) = (0u8, 0u8);
        for (k, null) in self.0 {
            if let Some(i) = HEADER.iter().position(|h| h == k) {
                written |= 1 << i;
                valued |= u8::from(!null) << i;
            }
        }
        (written, valued)
    }
}

/// The bit of header key `key` in [`Keys::header`]'s masks.
fn bit(key: &str) -> u8 {
    1 << HEADER.iter().position(|h| *h == key).expect("a header key")
}

/// Checks one op's header and payload.
pub(super) fn check_op(
    c: &mut Checked,
    keys: &[(Cow<'_, str>, bool)],
    op: &Op,
    line: usize,
    config: &Config,
) {
    let raw = Keys(keys);
    let at = Some(line);
    let (written, valued) = raw.header();
    for (i, key) in HEADER.iter().enumerate() {
        if valued & (1 << i) == 0 {
            let msg = format!("missing required key '{key}'");
            if *key == "actor" {
                c.warn(at, msg);
            } else {
                c.error(at, msg);
            }
        }
    }
    if !op.is_known_kind() {
        c.error(
            at,
            format!(
                "unknown op kind '{}' (known: {})",
                op.kind,
                KNOWN_KINDS.join(", ")
            ),
        );
        return;
    }
    let payload = crate::oplog::op::payload_keys(&op.kind);
    // Each key's place among the header keys then the payload keys (none
    // for any other key): in the order writers use, the places rise.
    let place = |k: &str| HEADER.iter().chain(payload).position(|h| *h == k);
    let mut places = raw.keys().filter_map(place);
    let mut last = places.next();
    let in_order = places.all(|p| {
        let rises = last.is_none_or(|l| p > l);
        last = Some(p);
        rises
    });
    if !in_order {
        let expected = HEADER
            .iter()
            .chain(payload)
            .copied()
            .filter(|k| raw.contains_key(k));
        let actual = raw
            .keys()
            .filter(|k| HEADER.contains(k) || payload.contains(k));
        c.warn(
            at,
            format!(
                "keys out of the canonical order (got {}, expected {}): was the op edited by hand?",
                actual.collect::<Vec<_>>().join(", "),
                expected.collect::<Vec<_>>().join(", ")
            ),
        );
    }
    // A signature (authority.signing) is the op's last key.
    let sig = crate::governance::signing::SIG_KEY;
    if raw.contains_key(sig) && raw.keys().next_back() != Some(sig) {
        c.warn(
            at,
            format!("'{sig}' is not the op's last key: was the op edited by hand?"),
        );
    }
    for k in raw.keys() {
        if place(k).is_none() && k != sig {
            c.warn(
                at,
                format!("unexpected key '{k}' in a '{}' op (ignored)", op.kind),
            );
        }
    }
    if written & bit("by") != 0 && op.by != "agent" && op.by != "human" {
        c.error(
            at,
            format!("by: must be 'agent' or 'human', got '{}'", op.by),
        );
    }
    if written & bit("at") != 0 {
        if !valid_time(&op.at) {
            c.error(at, format!("at: invalid timestamp '{}'", op.at));
        } else if !is_canonical_time(&op.at) {
            c.warn(
                at,
                format!(
                    "at: '{}' is not written as YYYY-MM-DDTHH:MM:SSZ (UTC)",
                    op.at
                ),
            );
        }
    }
    if op.clock < 0 {
        c.error(at, format!("clock: must not be negative, got {}", op.clock));
    }
    if written & bit("nonce") != 0
        && !(op.nonce.len() == 4 && op.nonce.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        c.warn(at, format!("nonce: '{}' is not 4 hex digits", op.nonce));
    }
    match op.kind.as_str() {
        "create" => check_create(c, op, line, config),
        "update" => check_update(c, op, line, config),
        "discuss" | "discuss_summarize" if !op.get("message").is_some_and(Value::is_string) => {
            c.error(at, "message: missing or not text");
        }
        "lock" | "unlock" => check_lock(c, op, line),
        "edit-mode-on" => {
            for k in ["ttl_seconds", "cap_max"] {
                if let Some(v) = op.get(k) {
                    if v.as_i64().is_none_or(|n| n <= 0) {
                        c.error(
                            at,
                            format!("{k}: must be a positive integer, got {}", show(v)),
                        );
                    }
                }
            }
        }
        "delete-msg" | "undelete-msg" | "edit-msg-text" => {
            if !op.get("target_nonce").is_some_and(Value::is_string) {
                c.error(at, "target_nonce: missing or not text");
            }
            if op.kind == "edit-msg-text" && !op.get("new_text").is_some_and(Value::is_string) {
                c.error(at, "new_text: missing or not text");
            }
        }
        _ => {}
    }
}

fn check_status(c: &mut Checked, line: usize, key: Field<'_>, v: &Value, config: &Config) {
    let ok = v
        .as_str()
        .is_some_and(|s| config.statuses.iter().any(|x| x == s));
    if !ok {
        c.error(
            Some(line),
            format!(
                "{key}: unknown status {} (valid: {})",
                show(v),
                config.statuses.join(", ")
            ),
        );
    }
}

fn check_priority(c: &mut Checked, line: usize, key: Field<'_>, v: &Value) {
    if !v.as_i64().is_some_and(|p| (0..=4).contains(&p)) {
        c.error(
            Some(line),
            format!("{key}: priority must be an integer 0-4, got {}", show(v)),
        );
    }
}

/// A field of an op's payload as messages name it (`data.tags`,
/// `set.status`): spelled out only when a message is, not for every field
/// of every op checked.
#[derive(Clone, Copy)]
struct Field<'a>(&'a str, &'a str);

impl std::fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// A list of IDs or tags: a list of strings.
fn check_id_list(c: &mut Checked, line: usize, key: Field<'_>, v: &Value) {
    match v {
        Value::Array(items) => {
            for item in items.iter().filter(|i| !i.is_string()) {
                c.error(
                    Some(line),
                    format!("{key}: entries must be text, found {}", show(item)),
                );
            }
        }
        other => c.error(
            Some(line),
            format!("{key}: must be a list, got {}", type_name(other)),
        ),
    }
}

fn check_create(c: &mut Checked, op: &Op, line: usize, config: &Config) {
    let at = Some(line);
    let Some(data) = op.get_map("data") else {
        c.error(at, "data: missing or not a mapping");
        return;
    };
    match lookup(data, "kind") {
        None | Some(Value::Null) => c.error(at, "data.kind: missing"),
        Some(Value::String(k)) if config.kind(k).is_some() => {}
        Some(v) => c.error(
            at,
            format!(
                "data.kind: unknown kind {} (configured: {})",
                show(v),
                config.kind_names().join(", ")
            ),
        ),
    }
    match lookup(data, "title") {
        None | Some(Value::Null) => c.error(at, "data.title: missing"),
        Some(Value::String(_)) => {}
        Some(v) => c.error(
            at,
            format!("data.title: must be text, got {}", type_name(v)),
        ),
    }
    match lookup(data, "status") {
        None | Some(Value::Null) => c.error(at, "data.status: missing"),
        Some(v) => check_status(c, line, Field("data", "status"), v, config),
    }
    if let Some(v) = lookup(data, "priority") {
        check_priority(c, line, Field("data", "priority"), v);
    }
    if let Some(v) = lookup(data, "parent") {
        if !v.is_null() && !v.is_string() {
            c.error(
                at,
                format!("data.parent: must be an item ID, got {}", show(v)),
            );
        }
    }
    for key in SET_VALUED.iter().copied().chain(["before"]) {
        if let Some(v) = lookup(data, key).filter(|v| !v.is_null()) {
            check_id_list(c, line, Field("data", key), v);
        }
    }
    if let Some(v) = lookup(data, "fields").filter(|v| !v.is_null() && !v.is_object()) {
        c.error(
            at,
            format!("data.fields: must be a mapping, got {}", type_name(v)),
        );
    }
    if let Some(v) = lookup(data, "description").filter(|v| !v.is_null() && !v.is_string()) {
        c.warn(
            at,
            format!("data.description: should be text, got {}", type_name(v)),
        );
    }
    for k in data.keys() {
        if !ITEM_FIELDS.contains(&k.as_str()) && k != "before" && !LEGACY_KEYS.contains(&k.as_str())
        {
            c.warn(at, format!("data.{k}: not an item attribute (ignored)"));
        }
    }
}

fn check_update(c: &mut Checked, op: &Op, line: usize, config: &Config) {
    let at = Some(line);
    for which in ["set", "add", "remove"] {
        let Some(v) = op.get(which) else { continue };
        let Some(map) = v.as_object() else {
            c.error(
                at,
                format!("{which}: must be a mapping, got {}", type_name(v)),
            );
            continue;
        };
        for (key, value) in map {
            let field = canonical_field(key);
            if which == "set" {
                if !op::is_updatable(field) && !LEGACY_KEYS.contains(&field) {
                    c.warn(at, format!("set.{key}: not an updatable item field"));
                }
            } else if !SET_VALUED.contains(&field) {
                c.warn(
                    at,
                    format!(
                        "{which}.{key}: only {} can be added to or removed from (ignored)",
                        SET_VALUED.join(", ")
                    ),
                );
            }
            let key = Field(which, key);
            match field {
                "status" if which == "set" => check_status(c, line, key, value, config),
                "priority" if which == "set" => check_priority(c, line, key, value),
                "title" | "description" if !value.is_string() => {
                    c.error(at, format!("{key}: must be text, got {}", type_name(value)))
                }
                "parent" if !value.is_null() && !value.is_string() => c.error(
                    at,
                    format!("{key}: must be an item ID, got {}", show(value)),
                ),
                "fields" if !value.is_null() && !value.is_object() => c.error(
                    at,
                    format!("{key}: must be a mapping (or null to clear all fields)"),
                ),
                f if SET_VALUED.contains(&f) => match value {
                    Value::Array(_) => check_id_list(c, line, key, value),
                    Value::String(_) | Value::Null => {}
                    other => c.error(
                        at,
                        format!("{key}: must be a list of text, got {}", show(other)),
                    ),
                },
                _ => {}
            }
        }
    }
}

fn check_lock(c: &mut Checked, op: &Op, line: usize) {
    let at = Some(line);
    let key = op.kind.as_str();
    let Some(Value::Array(names)) = op.get(key) else {
        c.error(at, format!("{key}: must be a list of field names"));
        return;
    };
    for n in names {
        let Some(name) = n.as_str() else {
            c.error(
                at,
                format!("{key}: entries must be field names, found {}", show(n)),
            );
            continue;
        };
        let lower = name.to_lowercase();
        let name = canonical_field(&lower);
        if !op::is_lockable(name) && !name.starts_with("fields.") {
            c.warn(
                at,
                format!(
                    "{key}: '{name}' is not a lockable field ({})",
                    op::lockable().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

/// The line of the op that last wrote what `wrote` recognises (in fold order).
pub(super) fn writer_line(c: &Checked, wrote: impl Fn(&Op) -> bool) -> Option<usize> {
    c.ops
        .iter()
        .filter(|(_, op)| wrote(op))
        .max_by(|a, b| a.1.sort_key().cmp(&b.1.sort_key()))
        .map(|(l, _)| *l)
}

/// Whether `op` wrote custom field `name`.
fn wrote_field(op: &Op, name: &str) -> bool {
    let key = match op.kind.as_str() {
        "create" => "data",
        "update" => "set",
        _ => return false,
    };
    op.get_map(key)
        .and_then(|m| lookup(m, "fields"))
        .and_then(Value::as_object)
        .is_some_and(|f| lookup(f, name).is_some())
}

/// The compiled item against its kind: allowed statuses and fields schema.
pub(super) fn check_item(c: &mut Checked, item: &Item, config: &Config) {
    let Some(kind) = config.kind(&item.kind) else {
        return;
    };
    if let Some(allowed) = &kind.allowed_statuses {
        let deprecated = kind.deprecated_statuses.as_deref().unwrap_or(&[]);
        let line = writer_line(c, |op| {
            let key = if op.kind == "create" { "data" } else { "set" };
            op.get_map(key).is_some_and(|m| m.contains_key("status"))
        });
        if deprecated.contains(&item.status) {
            c.warn(
                line,
                format!(
                    "status '{}' is deprecated for kind '{}' (allowed: {})",
                    item.status,
                    kind.name,
                    allowed.join(", ")
                ),
            );
        } else if !allowed.contains(&item.status) && config.statuses.contains(&item.status) {
            c.error(
                line,
                format!(
                    "status '{}' is not allowed for kind '{}' (allowed: {})",
                    item.status,
                    kind.name,
                    allowed.join(", ")
                ),
            );
        }
    }
    if kind.fields_schema.is_empty() {
        return;
    }
    for fs in &kind.fields_schema {
        if fs.required && lookup(&item.fields, &fs.name).is_none() {
            c.error(
                None,
                format!(
                    "fields.{}: required by kind '{}' but missing",
                    fs.name, kind.name
                ),
            );
        }
    }
    for (name, value) in &item.fields {
        let line = writer_line(c, |op| wrote_field(op, name));
        match kind.field(name) {
            Some(fs) => {
                if let Some(problem) = field_problem(fs, value) {
                    c.error(line, format!("fields.{name}: {problem}"));
                }
            }
            None => {
                let names: Vec<&str> = kind.fields_schema.iter().map(|f| f.name.as_str()).collect();
                let hint = suggest(name, &names)
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                c.warn(
                    line,
                    format!(
                        "fields.{name}: not in the fields_schema of kind '{}'{hint}",
                        kind.name
                    ),
                );
            }
        }
    }
}

/// Why `value` does not fit `fs`, if it does not.
fn field_problem(fs: &FieldSchema, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let fits = match fs.ty.as_str() {
        "text" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "list" => value.is_array(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !fits {
        return Some(format!("expects {}, got {}", fs.ty, type_name(value)));
    }
    let n = value.as_i64()?;
    if let Some(min) = fs.min.filter(|m| n < *m) {
        return Some(format!("value {n} is below the minimum {min}"));
    }
    if let Some(max) = fs.max.filter(|m| n > *m) {
        return Some(format!("value {n} is above the maximum {max}"));
    }
    None
}

/// The closest of `names` to `name`.
fn suggest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    crate::nearest::nearest(name, names.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_distances() {
        assert_eq!(crate::nearest::distance("kitten", "sitting"), 3);
        assert_eq!(
            suggest("statment", &["statement", "root_cause"]),
            Some("statement")
        );
        assert_eq!(suggest("zzzzzzzz", &["statement"]), None);
    }
}
