//! Which items a listing shows: `list`'s filters (statuses, the open
//! statuses, kind, tag, tier) and a listing's limit, the same for every
//! front end that lists (the command line, MCP).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::items::item::Item;
use crate::items::tiers::Tier;

/// The statuses `open` selects (whether or not the config defines them).
pub const OPEN_STATUSES: &[&str] = &[
    "todo_hard",
    "todo_soft",
    "violated",
    "pending_validation",
    "needs_human_review",
];

/// A listing's filters; an empty one keeps every item.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these statuses (any, when empty and not `open`).
    pub statuses: Vec<String>,
    /// Also the [`OPEN_STATUSES`].
    pub open: bool,
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub tier: Option<Tier>,
}

impl Filter {
    /// Refuses a kind the config does not define.
    pub fn check(&self, config: &Config) -> Result<()> {
        match &self.kind {
            Some(k) if config.kind(k).is_none() => Err(config.unknown_kind(k)),
            _ => Ok(()),
        }
    }

    pub fn matches(&self, item: &Item) -> bool {
        let any_status = self.statuses.is_empty() && !self.open;
        (any_status
            || self.statuses.contains(&item.status)
            || (self.open && OPEN_STATUSES.contains(&item.status.as_str())))
            && self.kind.as_ref().is_none_or(|k| &item.kind == k)
            && self.tag.as_ref().is_none_or(|g| item.has_tag(g))
            && self.tier.is_none_or(|t| item.tier == t)
    }

    /// The items it keeps, in their order.
    pub fn apply<'a>(&self, items: &'a [Item]) -> Vec<&'a Item> {
        items.iter().filter(|i| self.matches(i)).collect()
    }
}

/// A listing's limit as asked (request field `limit`): none, or 0, is no
/// limit; a negative one is refused.
pub fn limit(asked: Option<i64>) -> Result<Option<usize>> {
    match asked {
        None | Some(0) => Ok(None),
        Some(n) if n > 0 => Ok(Some(n as usize)),
        Some(n) => Err(Error::user(format!("must be positive, got {n}")).on_field("limit")),
    }
}

/// The first `limit` of `items` (all of them without one).
pub fn first<'s, 'a>(items: &'s [&'a Item], limit: Option<usize>) -> &'s [&'a Item] {
    &items[..limit.unwrap_or(items.len()).min(items.len())]
}
