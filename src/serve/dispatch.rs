//! Running an item action by name, as a WebSocket command or a REST route
//! names it, in one [`Transaction`]: what follows the writes runs once, and
//! the caller learns whether anything was written (an idempotency key keeps
//! the answer of a write, see [`super::idempotency`]).

use serde_json::Value;

use super::api::{
    add, config, discuss, freeze, list, lock, move_tier, ready, show, update, ApiError,
};
use crate::actions::Transaction;
use crate::tracker::Tracker;

type ApiResult<T> = std::result::Result<T, ApiError>;

/// Runs one action by name (a WebSocket command or a REST route).
/// Returns the HTTP status and the answer.
pub fn dispatch(
    t: &Tracker,
    action: &str,
    item: Option<&str>,
    body: &Value,
) -> ApiResult<(u16, Value)> {
    dispatch_noting_writes(t, action, item, body).0
}

/// Whether `action` writes (and so may carry an idempotency key).
pub fn is_write(action: &str) -> bool {
    matches!(
        action,
        "add" | "update" | "discuss" | "lock" | "unlock" | "freeze" | "unfreeze" | "move"
    )
}

/// [`dispatch`], and whether anything was appended to an op file while it
/// ran (by it or, the tracker being shared, by another request meanwhile).
pub fn dispatch_noting_writes(
    t: &Tracker,
    action: &str,
    item: Option<&str>,
    body: &Value,
) -> (ApiResult<(u16, Value)>, bool) {
    let mut tx = Transaction::new(t, true);
    let answer = run_action(&mut tx, action, item, body)
        .map(|a| (if action == "add" { 201 } else { 200 }, a));
    // What follows writes (tag stamps, auto-sync) follows every write made,
    // even when the action then failed; its notes go to the server's log.
    let finished = tx.finish();
    for line in finished.warnings {
        super::log::line(line);
    }
    (answer, finished.wrote)
}

/// Runs one action by name in `tx`.
fn run_action(
    tx: &mut Transaction,
    action: &str,
    item: Option<&str>,
    body: &Value,
) -> ApiResult<Value> {
    let t = tx.tracker();
    let need = || item.ok_or_else(|| ApiError::invalid(format!("'{action}' needs an 'item'")));
    match action {
        "list" => {
            let mut query = Vec::new();
            if let Some(b) = body.as_object() {
                for (k, v) in b {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    query.push((k.clone(), text));
                }
            }
            list(t, &query)
        }
        "ready" => ready(t),
        "show" => show(t, need()?),
        "config" => Ok(config(t)),
        "add" => add(tx, body),
        "update" => update(tx, need()?, body),
        "discuss" => discuss(tx, need()?, body),
        "lock" => lock(tx, need()?, body, false),
        "unlock" => lock(tx, need()?, body, true),
        "freeze" => freeze(tx, need()?, body, false),
        "unfreeze" => freeze(tx, need()?, body, true),
        "move" => move_tier(tx, need()?, body),
        other => Err(ApiError::new(
            404,
            "not_found",
            format!("unknown action '{other}'"),
        )),
    }
}
