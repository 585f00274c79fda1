//! What a user can do to the tracker, written once for every front end.
//!
//! The command line, htrac-tui, htrac-serve and the MCP server each turn
//! their input into a typed request (`Update`, `Discuss`, `Lock`, ...), run
//! it in a [`Transaction`], show the [`Outcome`] in their own form, and
//! [`Transaction::finish`] it. Every rule — authority, locks, the stealth
//! rule, the unread-message gate — is applied here or below, in
//! [`Tracker`]; what follows writes (the tag catalog's `last_used` stamps,
//! auto-sync) happens once, in `finish`.
//!
//! ```text
//! front end: input -> request -> action (this module) -> Tracker (rules,
//! policy) -> oplog (append) -> Outcome -> output
//! ```

mod add;
mod claim;
mod describe;
mod discuss;
mod govern;
mod update;

pub use add::add;
pub use claim::{
    claim, configured_lease, release, released_json, remote_items, session_of, ClaimRequest,
    Claimed, Release,
};
pub use describe::{describe, Change};
pub use discuss::{discuss, Discuss, Discussed};
pub use govern::{delete, freeze, lock, move_tier, Freeze, LockChange};
pub use update::{update, Update};

use serde_json::{json, Map, Value};

use crate::items::item::{Entry, Item};
use crate::oplog::op::Op;
use crate::tracker::Tracker;

/// What one action did: the item before and after (as compiled), the ops
/// it appended, what changed in words, and warnings to show the user.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The item the action was about (its new ID after `add`).
    pub id: String,
    /// Its state before the action (`None` for `add`).
    pub before: Option<Item>,
    /// Its state after the action.
    pub after: Option<Item>,
    /// Every op appended, in order (to this item and, for blocked-by
    /// links, to others).
    pub ops: Vec<Op>,
    /// What changed, one entry per field change (`update`).
    pub changes: Vec<Change>,
    /// Unread human messages on the item when the writer added a message
    /// (front ends show them: the writer has now been told).
    pub unread: Vec<Entry>,
    /// Warnings for the user (deprecated tags, near-duplicates, torn ops
    /// read on the way, unsigned human ops, ...), oldest first.
    pub warnings: Vec<String>,
}

impl Outcome {
    /// `add`'s answer, as `add --json` prints it: `{"id": ...}`.
    pub fn to_add_json(&self) -> Value {
        json!({"id": self.id})
    }

    /// `update`'s answer, as `update --json` prints it: `{"ok": true,
    /// "changes": [{"field", "detail"}...]}` (`changes` only when some).
    pub fn to_update_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("ok".into(), json!(true));
        if !self.changes.is_empty() {
            let list = self.changes.iter().map(|c| c.to_json()).collect();
            m.insert("changes".into(), Value::Array(list));
        }
        Value::Object(m)
    }
}

/// One front end's run of actions against a tracker: the actions, then
/// [`Transaction::finish`], which does what follows the writes once.
pub struct Transaction<'t> {
    tracker: &'t Tracker,
    auto_sync: bool,
    /// [`Tracker::appends`] when the transaction began.
    appends: u64,
    tags: Vec<String>,
    /// Items written (their state after), for the claim board.
    written: Vec<Item>,
    /// Items whose claim a `claim` or `release` action already set.
    claims_set: Vec<String>,
}

/// What [`Transaction::finish`] did after the writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finished {
    /// Whether any action appended an op.
    pub wrote: bool,
    /// Whether auto-sync was started (it decides itself whether to sync).
    pub auto_synced: bool,
    /// Lines to show: auto-sync's report and warnings.
    pub warnings: Vec<String>,
}

impl<'t> Transaction<'t> {
    /// A transaction on `tracker`; `auto_sync`: run auto-sync after the
    /// writes (the user's `--no-auto-sync` turns it off).
    pub fn new(tracker: &'t Tracker, auto_sync: bool) -> Transaction<'t> {
        Transaction {
            tracker,
            auto_sync,
            appends: tracker.appends(),
            tags: Vec::new(),
            written: Vec::new(),
            claims_set: Vec::new(),
        }
    }

    pub fn tracker(&self) -> &'t Tracker {
        self.tracker
    }

    /// Whether anything was appended to an op file since the transaction
    /// began (by an action here or any other library call on the tracker).
    pub fn wrote(&self) -> bool {
        self.tracker.appends() != self.appends
    }

    /// Tags added or removed: their `last_used` is stamped at the finish.
    fn touched_tags(&mut self, tags: &[String]) {
        for t in tags {
            if !self.tags.contains(t) {
                self.tags.push(t.clone());
            }
        }
    }

    /// Closes an action's outcome: the tracker's warnings left on the way
    /// are moved into it, and a write is noted.
    fn close(&mut self, mut outcome: Outcome) -> Outcome {
        let mut warnings = self.tracker.take_warnings();
        warnings.append(&mut outcome.warnings);
        outcome.warnings = warnings;
        if let (false, Some(after)) = (outcome.ops.is_empty(), &outcome.after) {
            self.written.retain(|i| i.id != after.id);
            self.written.push(after.clone());
        }
        outcome
    }

    /// Notes that a claim action set `id`'s claim on the board itself.
    fn claims_written(&mut self, id: &str) {
        self.claims_set.push(id.to_string());
    }

    /// The host board after this transaction's writes: claims released or
    /// resolved by other means leave it, the holder's writes renew them
    /// ([`crate::claims::after_write`]). A failure is a warning.
    fn settle_claims(&self) -> Option<String> {
        use crate::claims::{self, board};
        let t = self.tracker;
        let written: Vec<&Item> = self
            .written
            .iter()
            .filter(|i| !self.claims_set.contains(&i.id))
            .collect();
        if written.is_empty() {
            return None;
        }
        let (file, lock_file) = board::paths(&t.root, t.work_tree.as_deref());
        let here = board::worktree_key(t.work_tree.as_deref());
        let ours =
            |b: &board::Board, i: &Item| b.claims.get(&i.id).is_some_and(|e| e.worktree == here);
        // Most writes touch no claim: look before taking the lock.
        let peek = board::read(&file);
        if !written.iter().any(|i| ours(&peek, i)) {
            return None;
        }
        let now = claims::now();
        let session = claim::session_of(t);
        let mut locked = match board::lock(&file, &lock_file, now) {
            Ok(l) => l,
            Err(e) => return Some(format!("warning: claim board not updated: {}", e.message)),
        };
        let mut changed = false;
        for item in written {
            let Some(entry) = locked
                .board
                .claims
                .get(&item.id)
                .filter(|e| e.worktree == here)
            else {
                continue;
            };
            let resolved = t.config.is_resolved(&item.status);
            match claims::after_write(entry, item, resolved, &session, now) {
                Some(Some(renewed)) => {
                    locked.board.claims.insert(item.id.clone(), renewed);
                    changed = true;
                }
                Some(None) => {
                    locked.board.claims.remove(&item.id);
                    changed = true;
                }
                None => {}
            }
        }
        if changed {
            if let Err(e) = locked.save() {
                return Some(format!("warning: claim board not updated: {}", e.message));
            }
        }
        None
    }

    /// What follows the writes: the tag catalog's `last_used` stamps for
    /// every tag added or removed (a failure is a warning: the ops are
    /// written), then auto-sync when anything was appended to an op file
    /// since the transaction began.
    pub fn finish(self) -> Finished {
        let mut done = Finished {
            wrote: self.wrote(),
            ..Finished::default()
        };
        done.warnings.extend(self.settle_claims());
        if !self.tags.is_empty() {
            let now = crate::timestamp::now_utc();
            if let Err(e) = crate::items::tags::touch(&self.tracker.root, &self.tags, &now) {
                done.warnings
                    .push(format!("warning: tag catalog not updated: {}", e.message));
            }
        }
        if done.wrote && self.auto_sync {
            done.auto_synced = true;
            done.warnings.extend(crate::sync::auto_sync(self.tracker));
        }
        done.warnings.extend(self.tracker.take_warnings());
        done
    }
}

/// Warnings for deprecated tags among `tags` (from the tag catalog).
fn deprecated_tags(tracker: &Tracker, tags: &[String], warnings: &mut Vec<String>) {
    if tags.is_empty() {
        return;
    }
    match crate::items::tags::deprecation_warnings(&tracker.root, tags) {
        Ok(ws) => warnings.extend(ws),
        Err(e) => warnings.push(format!("warning: tag catalog not read: {}", e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::compile::compiles_on_this_thread;

    fn tracker() -> (tempfile::TempDir, Tracker) {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "dev"]);
        git(&[
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=T",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "root",
        ]);
        let root = dir.path().join(".agent");
        crate::init::init(&root).unwrap();
        let t = Tracker::open(&root).unwrap();
        (dir, t)
    }

    #[test]
    fn update_with_a_note_compiles_the_item_once_and_after_is_what_a_reader_compiles() {
        let (_dir, t) = tracker();
        let mut tx = Transaction::new(&t, false);
        let id = add(
            &mut tx,
            &crate::tracker::create::NewItem::new("work_item", "first"),
        )
        .unwrap()
        .id;
        let req = Update {
            item: id.clone(),
            status: Some("in_progress".into()),
            priority: Some(1),
            add_tags: vec!["core".into()],
            note: Some("starting".into()),
            ..Update::default()
        };
        let before = compiles_on_this_thread();
        let done = update(&mut tx, &req).unwrap();
        assert_eq!(compiles_on_this_thread() - before, 1, "one compile");
        assert_eq!(done.ops.len(), 2, "an update and a discuss op");
        let after = done.after.unwrap();
        let read = t.load(&t.resolve(&id).unwrap()).unwrap();
        assert_eq!(after.to_json(true, true), read.to_json(true, true));
        assert_eq!(after.op_count, read.op_count);
        assert_eq!(done.before.unwrap().status, "todo_hard");
        let fields: Vec<&str> = done.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["status", "priority", "tags"]);
        let finished = tx.finish();
        assert!(finished.wrote && !finished.auto_synced);
    }

    #[test]
    fn a_snapshot_lends_its_copy_of_an_item_and_reads_one_written_since() {
        use std::borrow::Cow;
        let (_dir, t) = tracker();
        let mut tx = Transaction::new(&t, false);
        let new = |title: &str| crate::tracker::create::NewItem::new("work_item", title);
        let first = add(&mut tx, &new("first")).unwrap().id;
        let snap = t.snapshot().unwrap();
        let second = add(&mut tx, &new("second")).unwrap().id;
        let held = snap.item_of(&t, &t.resolve(&first).unwrap()).unwrap();
        assert!(matches!(held, Cow::Borrowed(_)));
        assert_eq!(held.title, "first");
        let read = snap.item_of(&t, &t.resolve(&second).unwrap()).unwrap();
        assert!(
            matches!(read, Cow::Owned(_)),
            "not in the snapshot: read afresh"
        );
        assert_eq!(
            (read.id.as_str(), read.title.as_str()),
            (second.as_str(), "second")
        );
        tx.finish();
    }

    #[test]
    fn a_transaction_that_wrote_nothing_does_not_sync() {
        let (_dir, t) = tracker();
        let tx = Transaction::new(&t, true);
        let done = tx.finish();
        assert!(!done.wrote && !done.auto_synced);
    }
}
