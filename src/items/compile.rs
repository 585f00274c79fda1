//! Folds an item's ops into its current state.
//!
//! Ops are sorted by (clock, at, actor rank, nonce) — and, past the
//! reference, by their serialized text so the order is total — then folded:
//! the earliest `create` initialises the item (later ones only move
//! `created_at` earlier), `update` sets / adds / removes, `discuss*` edit the
//! thread, `lock`/`unlock` edit the locked set, and message edits apply only
//! inside a human-opened edit-mode window. An op that appears twice (same
//! nonce, same content) counts once. The result never depends on file order.
//!
//! [`compile_governed`] applies the authority rules of a [`Policy`] at each
//! op's causal position: an agent op that uses a human's power has no effect
//! and is listed in [`Item::rejected_ops`]. On equal clock and time a
//! human's op folds after an agent's (a deliberate divergence from the
//! reference, whose fold lets the agent's win). With signed authority on,
//! human claims without a valid signature are found first
//! ([`crate::governance::signing`]): listed in [`Item::unverified_ops`], and under
//! `required` folded as agent ops.

use crate::timestamp::parse_utc_micros;
use serde_json::{Map, Value};

use crate::governance::policy::{Policy, Rejected};
use crate::governance::signing::{binding, Problem};
use crate::items::item::{Entry, Item};
use crate::items::tiers::Tier;
use crate::oplog::op::{canonical_field, lookup, Op, SET_VALUED};

/// Why an op-log cannot be compiled.
#[derive(Debug, Clone, PartialEq)]
pub enum CompileError {
    NoCreate,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::NoCreate => write!(f, "op log has no create op"),
        }
    }
}

/// Sorts ops into fold order and drops exact duplicates.
pub fn fold_order(ops: &[Op]) -> Vec<&Op> {
    fold_order_with(ops, &Policy::none())
}

/// [`fold_order`] with the ranks of `policy`: on equal clock and time, an
/// op that counts as an agent's folds before a human's.
pub fn fold_order_with<'a>(ops: &'a [Op], policy: &Policy) -> Vec<&'a Op> {
    fold_order_by(ops, &|o| policy.rank(o))
}

/// [`fold_order`] of ops held elsewhere (no copies made).
pub fn fold_order_refs<'a>(ops: &[&'a Op]) -> Vec<&'a Op> {
    let none = Policy::none();
    fold_order_by(ops.iter().copied(), &|o| none.rank(o))
}

/// [`fold_order`] with `rank` breaking clock and time ties (lower first).
fn fold_order_by<'a>(
    ops: impl IntoIterator<Item = &'a Op>,
    rank: &dyn Fn(&Op) -> u8,
) -> Vec<&'a Op> {
    // The rank (a pattern match, maybe a signature check) is worked out
    // only for ops that tie on clock and time, which is rare.
    let cmp = |a: &&'a Op, b: &&'a Op| {
        (a.clock, a.at.as_str())
            .cmp(&(b.clock, b.at.as_str()))
            .then_with(|| rank(a).cmp(&rank(b)))
            .then_with(|| a.nonce.cmp(&b.nonce))
    };
    let mut sorted: Vec<&Op> = ops.into_iter().collect();
    sorted.sort_by(cmp);
    let mut out: Vec<&Op> = Vec::with_capacity(sorted.len());
    // Ops equal on the sort key (rare, but duplicates are such ops): ordered
    // by the serialized tiebreak, computed once per op; an op equal to one
    // already in the run is dropped.
    for run in sorted.chunk_by(|a, b| cmp(a, b).is_eq()) {
        if let [op] = run {
            out.push(op);
            continue;
        }
        let mut run = run.to_vec();
        if run.len() > 1 {
            run.sort_by_cached_key(|op| tiebreak(op));
        }
        let start = out.len();
        for op in run {
            if !out[start..].contains(&op) {
                out.push(op);
            }
        }
    }
    out
}

/// The last tiebreak between ops equal on (clock, at, rank, nonce): every
/// other part of the op, so the order is total.
fn tiebreak(op: &Op) -> (&str, &str, &str, String) {
    (
        &op.kind,
        &op.by,
        &op.actor,
        crate::items::ids::python_json(&Value::Object(op.body.clone())),
    )
}

/// Compiles the ops of item `id` (its own file plus the tier's edit-mode
/// log), every op having its effect (the reference's fold, for trusted
/// input; see [`compile_governed`]).
pub fn compile(id: &str, tier: Tier, ops: &[Op]) -> Result<Item, CompileError> {
    compile_governed(id, tier, ops, &Policy::none(), None)
}

/// Compiles the ops of item `id` under `policy`: an agent op that uses a
/// human's power has no effect and is listed in `rejected_ops`. `approved`:
/// the ops of the item's freeze sentinel, when it is frozen.
pub fn compile_governed(
    id: &str,
    tier: Tier,
    ops: &[Op],
    policy: &Policy,
    approved: Option<&[Op]>,
) -> Result<Item, CompileError> {
    COMPILES.with(|c| c.set(c.get() + 1));
    // Human claims whose signature does not hold (signing on only).
    let unverified: Vec<(&Op, Problem)> = match &policy.signing {
        Some(v) => {
            let found: Vec<(&Op, Problem)> = ops
                .iter()
                .filter_map(|o| Some((o, policy.signature_problem(binding(id, o), o)?)))
                .collect();
            v.flush();
            found
        }
        None => Vec::new(),
    };
    let problem = |op: &Op| {
        unverified
            .iter()
            .find(|(u, _)| std::ptr::eq(*u, op))
            .map(|(_, p)| p)
    };
    let required = policy.signatures_required();
    let human = |op: &Op| policy.is_human(op) && !(required && problem(op).is_some());
    let sorted = fold_order_by(ops, &|o| u8::from(human(o)));
    let first_create = sorted
        .iter()
        .find(|o| o.kind == "create")
        .ok_or(CompileError::NoCreate)?;
    let empty = Map::new();
    let data = first_create.get_map("data").unwrap_or(&empty);
    let str_of = |k: &str| {
        lookup(data, k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let list_of = |k: &str| match lookup(data, k) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let isbefore = match lookup(data, "isbefore") {
        Some(Value::Array(a)) => a.clone(),
        Some(_) => Vec::new(),
        None => list_of("before"),
    };
    let mut item = Item {
        id: id.to_string(),
        kind: str_of("kind"),
        title: str_of("title"),
        status: str_of("status"),
        priority: lookup(data, "priority").cloned().unwrap_or(Value::from(2)),
        parent: lookup(data, "parent").and_then(scalar_string),
        tags: list_of("tags"),
        isbefore,
        duplicate_of: list_of("duplicate_of"),
        not_duplicate_of: list_of("not_duplicate_of"),
        pr_ref: lookup(data, "pr_ref").cloned().unwrap_or(Value::Null),
        description: str_of("description"),
        fields: lookup(data, "fields")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        locked_fields: Vec::new(),
        discussion: Vec::new(),
        created_at: first_create.at.clone(),
        updated_at: String::new(),
        tier,
        frozen: false,
        cross_tier_conflict: false,
        op_count: sorted.len(),
        rejected_ops: Vec::new(),
        unverified_ops: Vec::new(),
    };
    for op in &sorted {
        if let Some(p) = problem(op) {
            let effect = if required {
                "it counts as an agent's op (authority.signing: required)"
            } else {
                "it still counts as the human's (authority.signing: warn)"
            };
            item.unverified_ops
                .push(Rejected::of(op, format!("{p}: {effect}")));
        }
    }

    let mut applied: Vec<&Op> = Vec::with_capacity(sorted.len());
    for op in &sorted {
        if policy.enforced && !std::ptr::eq(*op, *first_create) {
            let unsigned = problem(op).filter(|_| required);
            if let Some(reason) =
                policy.judge_as(op, human(op), unsigned, &item.locked_fields, approved)
            {
                item.rejected_ops.push(Rejected::of(op, reason));
                continue;
            }
        }
        applied.push(op);
        apply_op(&mut item, op, std::ptr::eq(*op, *first_create), human(op));
    }
    apply_message_edits(&mut item, &applied, &human);
    if item.updated_at < item.created_at {
        item.updated_at = item.created_at.clone();
    }
    Ok(item)
}

/// How many items this thread has compiled ([`compile_governed`] calls):
/// lets tests prove that a command compiles an item once.
pub fn compiles_on_this_thread() -> u64 {
    COMPILES.with(std::cell::Cell::get)
}

thread_local! {
    static COMPILES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Folds `op`, just appended to the item's file, into `item` (its state
/// before the append) without compiling again: an appended op carries the
/// highest clock, so it folds last. Returns false for an op this cannot
/// fold alone (a create, a message edit): compile the item again then.
pub fn fold_appended(item: &mut Item, op: &Op, policy: &Policy) -> bool {
    if !matches!(
        op.kind.as_str(),
        "update" | "discuss" | "discuss_clear" | "discuss_summarize" | "lock" | "unlock"
    ) {
        return false;
    }
    let human = policy.is_human(op);
    if policy.enforced {
        if let Some(reason) = policy.judge_as(op, human, None, &item.locked_fields, None) {
            item.rejected_ops.push(Rejected::of(op, reason));
            item.op_count += 1;
            return true;
        }
    }
    item.op_count += 1;
    apply_op(item, op, false, human);
    true
}

/// The effect of one op at its place in the fold (`first_create`: the op
/// that created the item; `human`: whether it counts as a human's).
fn apply_op(item: &mut Item, op: &Op, first_create: bool, human: bool) {
    item.updated_at.clone_from(&op.at);
    match op.kind.as_str() {
        // A later create (the same item created on two branches) only
        // moves created_at earlier.
        "create"
            if !first_create
                && !op.at.is_empty()
                && (item.created_at.is_empty() || op.at < item.created_at) =>
        {
            item.created_at = op.at.clone();
        }
        "create" => {}
        "update" => apply_update(item, op),
        "discuss" => item.discussion.push(entry(op, false, human)),
        "discuss_clear" => item.discussion.clear(),
        "discuss_summarize" => item.discussion = vec![entry(op, true, human)],
        "lock" | "unlock" => {
            let names = op
                .get(op.kind.as_str())
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for name in names.iter().filter_map(Value::as_str) {
                let name = name.to_lowercase();
                let name = canonical_field(&name).to_string();
                if op.kind == "lock" {
                    if !item.locked_fields.contains(&name) {
                        item.locked_fields.push(name);
                    }
                } else {
                    item.locked_fields.retain(|f| f != &name);
                }
            }
        }
        // Tier moves and reconcile are audit records; edit-mode ops are
        // applied below; unknown kinds are kept in the file and ignored here.
        _ => {}
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A discussion entry; its `by` is the role the op counts as (a human
/// claim by an agent's actor, or unsigned where signatures are required,
/// shows as the agent's).
fn entry(op: &Op, is_summary: bool, human: bool) -> Entry {
    let by = if op.by == "human" && !human {
        "agent".to_string()
    } else {
        op.by.clone()
    };
    Entry {
        by,
        actor: op.actor.clone(),
        at: op.at.clone(),
        message: op.get_str("message").to_string(),
        is_summary,
        nonce: op.nonce.clone(),
        is_tombstoned: false,
        edit_history: Vec::new(),
    }
}

fn set_list_mut<'a>(item: &'a mut Item, key: &str) -> Option<&'a mut Vec<Value>> {
    match key {
        "tags" => Some(&mut item.tags),
        "isbefore" => Some(&mut item.isbefore),
        "duplicate_of" => Some(&mut item.duplicate_of),
        "not_duplicate_of" => Some(&mut item.not_duplicate_of),
        _ => None,
    }
}

/// Whether `op` claims `item` (sets `claimed_by`) while another session's
/// claim is live at the op's time: the first claim wins, so a claim made
/// concurrently in another clone does not take the item over when the
/// clones merge, in whatever order they sync. (The reference, which knows
/// no claims, lets the later write win.)
fn claim_overruled(item: &Item, op: &Op, fields: &Map<String, Value>) -> bool {
    let Some(Value::String(session)) = fields.get(crate::claims::CLAIMED_BY) else {
        return false;
    };
    let Some(held) = crate::claims::Claim::of(item) else {
        return false;
    };
    let at = crate::timestamp::parse_utc(&op.at).unwrap_or(i64::MIN);
    held.session != *session && held.is_live(at)
}

fn apply_update(item: &mut Item, op: &Op) {
    if let Some(set) = op.get_map("set") {
        for (key, value) in set {
            let key = canonical_field(key);
            match key {
                "fields" if value.is_object() => {
                    let fields = value.as_object().expect("an object");
                    let overruled = claim_overruled(item, op, fields);
                    for (fk, fv) in fields {
                        if overruled && crate::claims::FIELDS.contains(&fk.as_str()) {
                            continue;
                        }
                        if fv.is_null() {
                            item.fields.shift_remove(fk);
                        } else {
                            item.fields.insert(fk.clone(), fv.clone());
                        }
                    }
                }
                k if SET_VALUED.contains(&k) => {
                    let list = match value {
                        Value::Array(a) => a.clone(),
                        other => vec![other.clone()],
                    };
                    *set_list_mut(item, k).expect("set-valued") = list;
                }
                "kind" => item.kind = value.as_str().unwrap_or("").to_string(),
                "title" => item.title = text_of(value),
                "status" => item.status = text_of(value),
                "priority" => item.priority = value.clone(),
                "parent" => item.parent = scalar_string(value),
                "pr_ref" => item.pr_ref = value.clone(),
                "description" => item.description = text_of(value),
                "fields" => item.fields = Map::new(),
                // Keys that are not item attributes (e.g. an old `justification`) are ignored.
                _ => {}
            }
        }
    }
    for (which, adding) in [("add", true), ("remove", false)] {
        let Some(map) = op.get_map(which) else {
            continue;
        };
        for (key, values) in map {
            let Some(list) = set_list_mut(item, canonical_field(key)) else {
                continue;
            };
            let values = match values {
                Value::Array(a) => a.clone(),
                Value::Null => Vec::new(),
                other => vec![other.clone()],
            };
            for v in values {
                if adding {
                    if !list.contains(&v) {
                        list.push(v);
                    }
                } else if let Some(pos) = list.iter().position(|x| x == &v) {
                    list.remove(pos);
                }
            }
        }
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Applies `delete-msg` / `undelete-msg` / `edit-msg-text` ops that fall inside
/// an edit-mode window opened by a human, within the window's cap.
fn apply_message_edits(item: &mut Item, sorted: &[&Op], human: &dyn Fn(&Op) -> bool) {
    let mut windows: Vec<(i64, i64, i64)> = Vec::new(); // (start, end, cap)
    let mut open: Option<(i64, i64, i64)> = None;
    for op in sorted {
        if !matches!(op.kind.as_str(), "edit-mode-on" | "edit-mode-off") || !human(op) {
            continue;
        }
        let Some(at) = parse_utc_micros(&op.at) else {
            continue;
        };
        match op.kind.as_str() {
            "edit-mode-on" => {
                let (ttl, cap) = op.edit_window();
                if let Some((s, e, c)) = open.take() {
                    windows.push((s, e.min(at), c));
                }
                open = Some((at, at.saturating_add(ttl.saturating_mul(1_000_000)), cap));
            }
            "edit-mode-off" => {
                if let Some((s, e, c)) = open.take() {
                    windows.push((s, e.min(at), c));
                }
            }
            _ => {}
        }
    }
    windows.extend(open);
    if windows.is_empty() {
        return;
    }
    let mut used = vec![0i64; windows.len()];
    for op in sorted {
        if !matches!(
            op.kind.as_str(),
            "delete-msg" | "undelete-msg" | "edit-msg-text"
        ) {
            continue;
        }
        let Some(at) = parse_utc_micros(&op.at) else {
            continue;
        };
        let Some(w) = windows.iter().position(|&(s, e, _)| s <= at && at < e) else {
            continue;
        };
        let target = op.get_str("target_nonce");
        let Some(entry) = item
            .discussion
            .iter_mut()
            .rev()
            .find(|e| !e.nonce.is_empty() && e.nonce == target)
        else {
            continue;
        };
        let cap = windows[w].2;
        match op.kind.as_str() {
            "delete-msg" if used[w] < cap => {
                entry.is_tombstoned = true;
                used[w] += 1;
            }
            "undelete-msg" => entry.is_tombstoned = false,
            "edit-msg-text" if !entry.is_tombstoned && used[w] < cap => {
                let new_text = op.get_str("new_text").to_string();
                let old = std::mem::replace(&mut entry.message, new_text);
                entry.edit_history.push(old);
                used[w] += 1;
            }
            _ => {}
        }
    }
}
