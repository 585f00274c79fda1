//! What an agent should work on next: items whose status is blocking, not
//! marked a duplicate, not in cross-tier conflict, and not waiting on an
//! unresolved item that lists them in its `isbefore`; sorted by (priority,
//! created_at). Items whose discussion ends with unread human messages are
//! reported beside them, whatever their status.

use std::collections::HashSet;

use crate::config::Config;
use crate::items::item::Item;

/// The ready items, best first.
pub fn ready<'a>(items: &'a [Item], config: &Config) -> Vec<&'a Item> {
    let blocked = blocked_ids(items, config);
    let mut out: Vec<&Item> = items
        .iter()
        .filter(|i| {
            config.is_blocking(&i.status)
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
