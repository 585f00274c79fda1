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

impl Ready<'_> {
    /// `ready --json`: `{"ready": [...], "items_with_unread_messages": [...]}`,
    /// the second key only when there are some.
    pub fn to_json(&self, limit: Option<usize>) -> Value {
        let mut m = Map::new();
        m.insert("ready".into(), Item::list_json(self.shown(limit)));
        if !self.unread.is_empty() {
            let list: Vec<Value> = self
                .unread
                .iter()
                .map(|i| {
                    json!({"id": i.id, "title": i.title, "status": i.status, "priority": i.priority, "unread_count": i.unread_human().len()})
                })
                .collect();
            m.insert("items_with_unread_messages".into(), Value::Array(list));
        }
        Value::Object(m)
    }
}
