//! What an agent should work on next: items whose status is blocking (or
//! that are `in_progress` under a claim whose lease ended), that no live
//! claim holds ([`crate::claims`]), not marked a duplicate, not in
//! cross-tier conflict, and not waiting on an unresolved item that lists
//! them in its `isbefore`; sorted by (priority, created_at). Items whose
//! discussion ends with unread human messages are reported beside them,
//! whatever their status.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::claims::Claim;
use crate::config::Config;
use crate::items::item::Item;

/// The ready items, best first.
pub fn ready<'a>(items: &'a [Item], config: &Config) -> Vec<&'a Item> {
    ready_at(items, config, crate::claims::now())
}

/// [`ready`] with claims judged at `now` (Unix seconds).
pub fn ready_at<'a>(items: &'a [Item], config: &Config, now: i64) -> Vec<&'a Item> {
    let blocked = blocked_ids(items, config);
    let mut out: Vec<&Item> = items
        .iter()
        .filter(|i| {
            let claim = Claim::of(i);
            let live = claim.as_ref().is_some_and(|c| c.is_live(now));
            let lapsed = claim.is_some() && !live && i.status == crate::claims::CLAIMED_STATUS;
            (config.is_blocking(&i.status) || lapsed)
                && !live
                && i.duplicate_of.is_empty()
                && !i.cross_tier_conflict
                && !blocked.contains(i.id.as_str())
        })
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// IDs named in the `isbefore` of some unresolved item: they must wait.
pub fn blocked_ids(items: &[Item], config: &Config) -> HashSet<String> {
    let mut blocked = HashSet::new();
    for item in items.iter().filter(|i| !config.is_resolved(&i.status)) {
        blocked.extend(item.isbefore_ids());
    }
    blocked
}

/// Items whose discussion ends with human messages the agent has not
/// answered, sorted by (priority, created_at).
pub fn with_unread_human(items: &[Item]) -> Vec<&Item> {
    let mut out: Vec<&Item> = items
        .iter()
        .filter(|i| !i.unread_human().is_empty())
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// What `ready` shows: the ready items, best first, and the items in the
/// stop hook's scope whose discussion ends with unread human messages.
#[derive(Debug)]
pub struct Ready<'a> {
    pub ready: Vec<&'a Item>,
    /// Sorted by (priority, ID).
    pub unread: Vec<&'a Item>,
}

impl<'a> Ready<'a> {
    pub fn gather(items: &'a [Item], config: &Config) -> Ready<'a> {
        let mut unread: Vec<&Item> = crate::stophook::scope::in_scope(items, config)
            .into_iter()
            .filter(|i| !i.unread_human().is_empty())
            .collect();
        unread.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        unread.sort_by(|a, b| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
        Ready {
            ready: ready(items, config),
            unread,
        }
    }

    /// The first `limit` ready items (all of them without one).
    pub fn shown(&self, limit: Option<usize>) -> &[&'a Item] {
        crate::items::filter::first(&self.ready, limit)
    }

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
