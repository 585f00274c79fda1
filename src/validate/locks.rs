//! `--check-locks`: judges the ops that are new since `HEAD` — an agent
//! (`by: agent`) may not use a human's powers (lock, unlock, discuss_clear,
//! stealth, unstealth, edit-mode on/off, a status in `human_only_statuses`)
//! nor change a field locked when it wrote the op.
//!
//! A file the same, byte for byte, in the working tree, the index and `HEAD`
//! has no new op ([`super::clean`] tells, from git's object IDs). The
//! staged (index) and `HEAD` copies of every other file are read through one
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

use std::sync::Mutex;

use serde_json::Value;

use super::clean::{ObjectId, Unchanged};
use super::copies::{Copies, Reader};
use super::file::ops_lenient;
use super::{Checked, Target};
use crate::governance::policy::{status_set, touched, HUMAN_ONLY_OPS};
use crate::items::compile::fold_order_refs;
use crate::oplog::op::{canonical_field, Op};
use crate::tracker::Tracker;

/// Git's copies of the files being validated, asked for batch by batch
/// through one `git cat-file` process — only for files that are not the
/// same in the working tree, the index and `HEAD` ([`Unchanged`]).
pub(super) struct Git<'a> {
    tracker: &'a Tracker,
    /// (Asked by one thread at a time, while others judge files.)
    reader: Mutex<Option<Reader>>,
    /// The files known to be unchanged since `HEAD`, being asked for.
    asking: Option<std::thread::JoinHandle<Option<Unchanged>>>,
    unchanged: Option<Unchanged>,
    /// Why git could not be asked (then every op is judged as new).
    warning: Mutex<Option<String>>,
}

impl<'a> Git<'a> {
    /// Starts git's cat-file process and, for a whole-tracker run (`whole`),
    /// asks on another thread which files are unchanged since `HEAD`. (Files
    /// named on the command line — a pre-commit hook's staged files — have
    /// changed, mostly: each is read from git.)
    pub(super) fn new(tracker: &'a Tracker, whole: bool) -> Git<'a> {
        let mut git = Git {
            tracker,
            reader: Mutex::new(None),
            asking: None,
            unchanged: None,
            warning: Mutex::new(None),
        };
        if let Some(wt) = &tracker.work_tree {
            if whole {
                let (top, root) = (wt.clone(), tracker.root.clone());
                git.asking = Some(std::thread::spawn(move || Unchanged::ask(&top, &root)));
            }
            match Reader::new(wt) {
                Ok(r) => git.reader = Mutex::new(Some(r)),
                Err(e) => git.failed(&mut None, e),
            }
        }
        git
    }

    /// Waits for git's answer on which files are unchanged.
    pub(super) fn settle(&mut self) {
        if let Some(asking) = self.asking.take() {
            self.unchanged = asking.join().ok().flatten();
        }
    }

    /// The object ID of `c`'s file when its bytes, `bytes` (`None`: it
    /// could not be read), are byte for byte its staged and its `HEAD`
    /// copy: it has no new op, and git's copies are not needed.
    pub(super) fn unchanged(&self, c: &Checked, bytes: Option<&[u8]>) -> Option<ObjectId> {
        let (wt, u) = (self.tracker.work_tree.as_ref()?, self.unchanged.as_ref()?);
        u.holds(c.target.path.strip_prefix(wt).ok()?, bytes?)
    }

    /// The object ID of `t`'s staged copy, when that is its `HEAD` copy
    /// too.
    pub(super) fn staged_id(&self, t: &Target) -> Option<ObjectId> {
        let (wt, u) = (self.tracker.work_tree.as_ref()?, self.unchanged.as_ref()?);
        u.staged(t.path.strip_prefix(wt).ok()?)
    }

    /// Why git could not be asked, once it is done.
    pub(super) fn warning(self) -> Option<String> {
        self.warning.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives up on `reader` (git's cat-file process) after `e`.
    fn failed(&self, reader: &mut Option<Reader>, e: std::io::Error) {
        *reader = None;
        let mut warning = self.warning.lock().unwrap_or_else(|e| e.into_inner());
        warning.get_or_insert_with(|| {
            format!("--check-locks: cannot read git's copies ({e}): every op was judged as new")
        });
    }

    /// The staged and `HEAD` copies of each of `targets` (none for a file
    /// outside the work tree, or when git cannot be asked).
    pub(super) fn copies(&self, targets: &[&Target]) -> Vec<Copies> {
        let mut copies: Vec<Copies> = vec![(None, None); targets.len()];
        let mut slot = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(wt), Some(reader)) = (&self.tracker.work_tree, slot.as_mut()) else {
            return copies;
        };
        let mut rels = Vec::new();
        let mut owners = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            if let Ok(rel) = t.path.strip_prefix(wt) {
                rels.push(rel.to_string_lossy().into_owned());
                owners.push(i);
            }
        }
        if rels.is_empty() {
            return copies;
        }
        match reader.read(&rels) {
            Ok(read) => {
                for (i, c) in owners.into_iter().zip(read) {
                    copies[i] = c;
                }
            }
            Err(e) => self.failed(&mut slot, e),
        }
        copies
    }
}

/// Judges the ops of `c` that are new since `HEAD`, given the file's
/// staged and `HEAD` copies.
pub(super) fn check(tracker: &Tracker, c: &mut Checked, (staged, head): Copies) {
    // Unchanged since HEAD, staged or not: nothing is new.
    if head.is_some() && staged == head && c.bytes == head {
        return;
    }
    let text = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| ops_lenient(&String::from_utf8_lossy(b)))
    };
    check_file(tracker, c, text(&staged), text(&head).unwrap_or_default());
}

/// Where a new op is: a working-tree line, or a line of the staged copy.
#[derive(Clone, Copy)]
enum At {
    Line(usize),
    Staged(usize),
}

fn check_file(
    tracker: &Tracker,
    c: &mut Checked,
    staged: Option<Vec<(usize, Op)>>,
    head: Vec<(usize, Op)>,
) {
    // (line, message) of each error, and the nonces judged, applied to `c`
    // once its ops are no longer borrowed.
    let mut errors: Vec<(Option<usize>, String)> = Vec::new();
    let mut judged: Vec<String> = Vec::new();
    if let Some(staged) = &staged {
        for (line, op) in &head {
            if !staged.iter().any(|(_, o)| o == op) {
                errors.push((
                    None,
                    format!(
                        "the '{}' op at line {line} of HEAD (nonce {}) is missing from the staged copy: op logs are append-only",
                        op.kind, op.nonce
                    ),
                ));
            }
        }
    }
    let old: Vec<&Op> = head.iter().map(|(_, o)| o).collect();
    let mut new: Vec<(At, &Op)> = Vec::new();
    for (line, op) in &c.ops {
        if !old.contains(&op) {
            new.push((At::Line(*line), op));
        }
    }
    for (line, op) in staged.iter().flatten() {
        if !old.contains(&op) && !new.iter().any(|(_, o)| *o == op) {
            new.push((At::Staged(*line), op));
        }
    }
    let all: Vec<&Op> = old
        .iter()
        .copied()
        .chain(new.iter().map(|(_, o)| *o))
        .collect();
    let order = fold_order_refs(&all);
    let mut error = |at: At, msg: String| match at {
        At::Line(line) => errors.push((Some(line), msg)),
        At::Staged(line) => errors.push((None, format!("staged copy line {line}: {msg}"))),
    };
    let id = c.target.id.clone().unwrap_or_default();
    for &(at, op) in &new {
        if op.by == "human" && tracker.policy.is_agent_name(&op.actor) {
            judged.push(op.nonce.clone());
            error(
                at,
                format!(
                    "op '{}' (nonce {}) claims 'by: human' but its actor '{}' matches actor_resolution.agent_usernames",
                    op.kind, op.nonce, op.actor
                ),
            );
        }
        // A new human claim without a valid signature, where signatures are
        // required (authority.signing), is refused at commit time too.
        let unsigned = tracker
            .policy
            .signature_problem(crate::governance::signing::binding(&id, op), op)
            .filter(|_| tracker.policy.signatures_required());
        if let Some(p) = unsigned {
            judged.push(op.nonce.clone());
            error(
                at,
                format!(
                    "op '{}' (nonce {}) claims 'by: human' for '{}', but the claim does not hold: {p} (authority.signing: required)",
                    op.kind, op.nonce, op.actor
                ),
            );
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
            judged.push(op.nonce.clone());
        }
        for p in problems {
            error(
                at,
                format!(
                    "agent op '{}' by {} (nonce {}) {p}",
                    op.kind,
                    if op.actor.is_empty() { "?" } else { &op.actor },
                    op.nonce
                ),
            );
        }
    }
    c.judged.extend(judged);
    for (line, msg) in errors {
        c.error(line, msg);
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
