//! `--check-locks`: judges the ops that are new since `HEAD` — an agent
//! (`by: agent`) may not use a human's powers (lock, unlock, discuss_clear,
//! stealth, unstealth, edit-mode on/off, a status in `human_only_statuses`)
//! nor change a field locked when it wrote the op.
//!
//! The staged (index) and `HEAD` copies of every file are read through one
//! `git cat-file --batch` process. Ops in `HEAD` are old; every other op of
//! the working-tree or staged copy is new. A file git does not know has only
//! new ops. An op of `HEAD` missing from the staged copy means history was
//! rewritten, which op logs never allow.
//!
//! A new op claiming `by: human` whose actor matches
//! `actor_resolution.agent_usernames` is an error too.
//!
//! Locks in force at a new op: every lock/unlock of `HEAD` (they were in
//! force when the op was written, whatever its clock says) plus the new
//! ones folded before it.

use serde_json::Value;

use super::copies::Copies;
use super::file::ops_lenient;
use super::Checked;
use crate::governance::policy::{status_set, touched, HUMAN_ONLY_OPS};
use crate::items::compile::fold_order;
use crate::oplog::op::{canonical_field, Op};
use crate::tracker::Tracker;

/// Checks every file's new ops; returns a warning when git could not be asked.
pub(super) fn check(tracker: &Tracker, checked: &mut [Checked]) -> Option<String> {
    let mut warning = None;
    let mut copies: Vec<Copies> = vec![(None, None); checked.len()];
    if let Some(wt) = &tracker.work_tree {
        let mut rels = Vec::new();
        let mut owners = Vec::new();
        for (i, c) in checked.iter().enumerate() {
            if let Ok(rel) = c.target.path.strip_prefix(wt) {
                rels.push(rel.to_string_lossy().into_owned());
                owners.push(i);
            }
        }
        match super::copies::read(wt, &rels) {
            Ok(read) => {
                for (i, c) in owners.into_iter().zip(read) {
                    copies[i] = c;
                }
            }
            Err(e) => {
                warning = Some(format!(
                    "--check-locks: cannot read git's copies ({e}): every op was judged as new"
                ))
            }
        }
    }
    for (c, (staged, head)) in checked.iter_mut().zip(copies) {
        // Unchanged since HEAD, staged or not: nothing is new.
        if head.is_some() && staged == head && c.bytes == head {
            continue;
        }
        let text = |b: &Option<Vec<u8>>| {
            b.as_deref()
                .map(|b| ops_lenient(&String::from_utf8_lossy(b)))
        };
        check_file(tracker, c, text(&staged), text(&head).unwrap_or_default());
    }
    warning
}

fn check_file(
    tracker: &Tracker,
    c: &mut Checked,
    staged: Option<Vec<(usize, Op)>>,
    head: Vec<(usize, Op)>,
) {
    if let Some(staged) = &staged {
        for (line, op) in &head {
            if !staged.iter().any(|(_, o)| o == op) {
                c.error(
                    None,
                    format!(
                        "the '{}' op at line {line} of HEAD (nonce {}) is missing from the staged copy: op logs are append-only",
                        op.kind, op.nonce
                    ),
                );
            }
        }
    }
    let old: Vec<&Op> = head.iter().map(|(_, o)| o).collect();
    // New ops with where to point at: a working-tree line, or a staged-copy line.
    let mut new: Vec<(String, Op)> = Vec::new();
    for (line, op) in &c.ops {
        if !old.contains(&op) {
            new.push((format!("{line}"), op.clone()));
        }
    }
    for (line, op) in staged.iter().flatten() {
        if !old.contains(&op) && !new.iter().any(|(_, o)| o == op) {
            new.push((format!("staged copy line {line}"), op.clone()));
        }
    }
    let all: Vec<Op> = old
        .iter()
        .map(|o| (*o).clone())
        .chain(new.iter().map(|(_, o)| o.clone()))
        .collect();
    let order = fold_order(&all);
    for (at, op) in &new {
        if op.by == "human" && tracker.policy.is_agent_name(&op.actor) {
            c.judged.push(op.nonce.clone());
            let msg = format!(
                "op '{}' (nonce {}) claims 'by: human' but its actor '{}' matches actor_resolution.agent_usernames",
                op.kind, op.nonce, op.actor
            );
            match at.parse::<usize>() {
                Ok(line) => c.error(Some(line), msg),
                Err(_) => c.error(None, format!("{at}: {msg}")),
            }
        }
        // A new human claim without a valid signature, where signatures are
        // required (authority.signing), is refused at commit time too.
        let id = c.target.id.clone().unwrap_or_default();
        let unsigned = tracker
            .policy
            .signature_problem(crate::governance::signing::binding(&id, op), op)
            .filter(|_| tracker.policy.signatures_required());
        if let Some(p) = unsigned {
            c.judged.push(op.nonce.clone());
            let msg = format!(
                "op '{}' (nonce {}) claims 'by: human' for '{}', but the claim does not hold: {p} (authority.signing: required)",
                op.kind, op.nonce, op.actor
            );
            match at.parse::<usize>() {
                Ok(line) => c.error(Some(line), msg),
                Err(_) => c.error(None, format!("{at}: {msg}")),
            }
        }
        if op.by != "agent" {
            continue;
        }
        let mut problems = Vec::new();
        if HUMAN_ONLY_OPS.contains(&op.kind.as_str()) {
            problems.push("needs human authority".to_string());
        }
        if let Some(status) = status_set(op) {
            if tracker.config.is_human_only(status) {
                problems.push(format!(
                    "sets status '{status}', which only a human may set (stop_hook.human_only_statuses)"
                ));
            }
        }
        let touched = touched(op);
        if !touched.is_empty() {
            let locked = locks_at(&order, op, &old);
            for f in touched.iter().filter(|f| locked.contains(f)) {
                problems.push(format!("changes locked field '{f}'"));
            }
        }
        if !problems.is_empty() {
            c.judged.push(op.nonce.clone());
        }
        for p in problems {
            let msg = format!(
                "agent op '{}' by {} (nonce {}) {p}",
                op.kind,
                if op.actor.is_empty() { "?" } else { &op.actor },
                op.nonce
            );
            match at.parse::<usize>() {
                Ok(line) => c.error(Some(line), msg),
                Err(_) => c.error(None, format!("{at}: {msg}")),
            }
        }
    }
}

/// The fields locked when `at` was written: all old lock ops, and the new
/// ones folded before it.
fn locks_at(order: &[&Op], at: &Op, old: &[&Op]) -> Vec<String> {
    let pos = order.iter().position(|o| *o == at).unwrap_or(order.len());
    let mut locked: Vec<String> = Vec::new();
    for (i, op) in order.iter().enumerate() {
        if i >= pos && !old.contains(op) {
            continue;
        }
        let (kind, adding) = match op.kind.as_str() {
            "lock" => ("lock", true),
            "unlock" => ("unlock", false),
            _ => continue,
        };
        let names = op.get(kind).and_then(Value::as_array);
        for n in names.into_iter().flatten().filter_map(Value::as_str) {
            let lower = n.to_lowercase();
            let name = canonical_field(&lower).to_string();
            if adding {
                if !locked.contains(&name) {
                    locked.push(name);
                }
            } else {
                locked.retain(|f| *f != name);
            }
        }
    }
    locked
}
