//! What an agent should work on next: items whose status is blocking (or
//! that are `in_progress` under a claim whose lease ended), that no live
//! claim holds ([`crate::claims`]), not marked a duplicate, not in
//! cross-tier conflict, and not waiting on an unresolved item that lists
//! them in its `isbefore`; sorted by (priority, created_at). Items whose
//! discussion ends with unread human messages are reported beside them,
//! whatever their status.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::items::item::Item;
use crate::items::slim::Listable;

/// The ready items, best first.
pub fn ready<'a, T: Listable>(items: &'a [T], config: &Config) -> Vec<&'a T> {
    ready_at(items, config, crate::claims::now())
}

/// [`ready`] with claims judged at `now` (Unix seconds).
pub fn ready_at<'a, T: Listable>(items: &'a [T], config: &Config, now: i64) -> Vec<&'a T> {
    let mut out = unsorted_at(items, config, now);
    crate::items::slim::sort_listed(&mut out);
    out
}

/// The ready items in `items`' order, claims judged now (for a caller
/// that shows only the best few: [`crate::items::slim::best`]).
pub fn unsorted<'a, T: Listable>(items: &'a [T], config: &Config) -> Vec<&'a T> {
    unsorted_at(items, config, crate::claims::now())
}

fn unsorted_at<'a, T: Listable>(items: &'a [T], config: &Config, now: i64) -> Vec<&'a T> {
    // Borrowed IDs: no copy of each, and none looked up when none waits.
    let mut blocked: HashSet<Cow<'_, str>, foldhash::fast::RandomState> = HashSet::default();
    for item in items.iter().filter(|i| !config.is_resolved(i.status())) {
        blocked.extend(item.isbefore_texts());
    }
    items
        .iter()
        .filter(|i| {
            let claim = i.claim();
            let live = claim.as_ref().is_some_and(|c| c.is_live(now));
            let lapsed = claim.is_some() && !live && i.status() == crate::claims::CLAIMED_STATUS;
            (config.is_blocking(i.status()) || lapsed)
                && !live
                && !i.is_duplicate()
                && !i.cross_tier_conflict()
                && (blocked.is_empty() || !blocked.contains(i.id()))
        })
        .collect()
}

/// IDs named in the `isbefore` of some unresolved item: they must wait.
pub fn blocked_ids<T: Listable>(items: &[T], config: &Config) -> HashSet<String> {
    let mut blocked = HashSet::new();
    for item in items.iter().filter(|i| !config.is_resolved(i.status())) {
        blocked.extend(item.isbefore_ids());
    }
    blocked
}

/// Items whose discussion ends with human messages the agent has not
/// answered, sorted by (priority, created_at).
pub fn with_unread_human<T: Listable>(items: &[T]) -> Vec<&T> {
    let mut out: Vec<&T> = items.iter().filter(|i| i.unread_count() > 0).collect();
    crate::items::slim::sort_listed(&mut out);
    out
}

/// What `ready` shows: the ready items, best first, and the items in the
/// stop hook's scope whose discussion ends with unread human messages.
#[derive(Debug)]
pub struct Ready<'a, T = Item> {
    pub ready: Vec<&'a T>,
    /// Sorted by (priority, ID).
    pub unread: Vec<&'a T>,
}

impl<'a, T: Listable> Ready<'a, T> {
    pub fn gather(items: &'a [T], config: &Config) -> Ready<'a, T> {
        let mut unread: Vec<&T> = crate::stophook::scope::in_scope(items, config)
            .into_iter()
            .filter(|i| i.unread_count() > 0)
            .collect();
        crate::items::slim::sort_listed(&mut unread);
        unread.sort_by(|a, b| (a.priority_num(), a.id()).cmp(&(b.priority_num(), b.id())));
        Ready {
            ready: ready(items, config),
            unread,
        }
    }

    /// The first `limit` ready items (all of them without one).
    pub fn shown(&self, limit: Option<usize>) -> &[&'a T] {
        crate::items::filter::first(&self.ready, limit)
    }
}

/// The keys of `ready --json`'s object, whether it is built whole
/// ([`Ready::to_json`]) or written key by key ([`Ready::to_pretty_json`]).
const READY_KEY: &str = "ready";
const UNREAD_KEY: &str = "items_with_unread_messages";

impl Ready<'_> {
    /// `ready --json`: `{"ready": [...], "items_with_unread_messages": [...]}`,
    /// the second key only when there are some.
    pub fn to_json(&self, limit: Option<usize>) -> Value {
        let mut m = Map::new();
        m.insert(READY_KEY.into(), Item::list_json(self.shown(limit)));
        if let Some(list) = self.unread_json() {
            m.insert(UNREAD_KEY.into(), list);
        }
        Value::Object(m)
    }

    /// [`Ready::to_json`] as `--json` prints it (indented), each ready
    /// item's value made, written and dropped in turn: a tracker of
    /// 100,000 items never holds all of them at once.
    pub fn to_pretty_json(&self, limit: Option<usize>) -> String {
        use crate::py::json;
        let mut out = String::new();
        json::key_into(READY_KEY, true, 0, &mut out);
        json::pretty_array_into(
            self.shown(limit).iter().map(|i| i.to_json(false, false)),
            1,
            &mut out,
        );
        if let Some(list) = self.unread_json() {
            json::key_into(UNREAD_KEY, false, 0, &mut out);
            json::pretty_into(&list, 1, &mut out);
        }
        json::end_object_into(0, &mut out);
        out
    }

    /// The items with unread messages, as `--json` lists them (`None`
    /// when there are none).
    fn unread_json(&self) -> Option<Value> {
        (!self.unread.is_empty()).then(|| {
            self.unread
                .iter()
                .map(|i| {
                    json!({"id": i.id, "title": i.title, "status": i.status, "priority": i.priority, "unread_count": i.unread_human().len()})
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::tiers::Tier;

    /// An item compiled from `ops` (op-log text).
    fn item(id: &str, ops: &str) -> Item {
        let log = crate::oplog::parse(std::path::Path::new("t.ops"), ops).expect("ops parse");
        let ops: Vec<_> = log.ops.into_iter().map(|(_, op)| op).collect();
        crate::items::compile::compile(id, Tier::Workspace, &ops).expect("compiles")
    }

    fn create(title: &str, priority: u8) -> String {
        format!(
            "- op: create  # a1b2\n  at: '2026-01-01T00:00:00Z'  # a1b2\n  by: agent  # a1b2\n  actor: bot  # a1b2\n  clock: 1  # a1b2\n  nonce: a1b2  # a1b2\n  data:  # a1b2\n    kind: work_item  # a1b2\n    title: \"{title}\"  # a1b2\n    status: todo_hard  # a1b2\n    priority: {priority}  # a1b2\n    tags: [x, \"\\u00e9\"]  # a1b2\n    description: \"two\\nlines\"  # a1b2\n"
        )
    }

    #[test]
    fn ready_json_written_item_by_item_is_the_object_written_whole() {
        let discussed = create("asked", 1)
            + "- op: discuss  # c3d4\n  at: '2026-01-02T00:00:00Z'  # c3d4\n  by: human  # c3d4\n  actor: h  # c3d4\n  clock: 2  # c3d4\n  nonce: c3d4  # c3d4\n  message: \"why?\"  # c3d4\n";
        let items = vec![
            item("WI-a", &create("first café", 2)),
            item("WI-b", &discussed),
            item("WI-c", &create("third", 3)),
        ];
        let config = Config::defaults();
        for set in [&items[..0], &items[..1], &items[..]] {
            let found = Ready::gather(set, &config);
            for limit in [None, Some(0), Some(1)] {
                assert_eq!(
                    found.to_pretty_json(limit),
                    crate::py::json::pretty(&found.to_json(limit)),
                    "{} items, limit {limit:?}",
                    set.len()
                );
            }
        }
        // Ready items and unread messages were both written.
        assert_eq!(Ready::gather(&items, &config).ready.len(), 3);
        assert!(Ready::gather(&items, &config)
            .to_json(None)
            .get("items_with_unread_messages")
            .is_some());
    }
}
