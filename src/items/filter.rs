//! Which items a listing shows: `list`'s filters (statuses, the open
//! statuses, kind, tag, tier) and a listing's limit, the same for every
//! front end that lists (the command line, MCP).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::items::slim::Listable;
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

    pub fn matches<T: Listable>(&self, item: &T) -> bool {
        let any_status = self.statuses.is_empty() && !self.open;
        (any_status
            || self.statuses.iter().any(|s| s == item.status())
            || (self.open && OPEN_STATUSES.contains(&item.status())))
            && self.kind.as_ref().is_none_or(|k| item.kind() == k)
            && self.tag.as_ref().is_none_or(|g| item.has_tag(g))
            && self.tier.is_none_or(|t| item.tier() == t)
    }

    /// The items it keeps, in their order.
    pub fn apply<'a, T: Listable>(&self, items: &'a [T]) -> Vec<&'a T> {
        items.iter().filter(|i| self.matches(*i)).collect()
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
pub fn first<'s, 'a, T>(items: &'s [&'a T], limit: Option<usize>) -> &'s [&'a T] {
    &items[..limit.unwrap_or(items.len()).min(items.len())]
}
