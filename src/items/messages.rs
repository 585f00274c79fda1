//! Unread human messages: which items in the stop hook's scope end their
//! discussion with human entries the agent has not answered, those
//! entries (optionally only the last N), and the discussion just before
//! them for context — what `check-messages` shows — and the notice a
//! writer gets who adds to such a discussion.

use serde_json::{json, Value};

use crate::items::item::{Entry, Item};
use crate::items::tiers::Tier;

/// How many entries before the unread ones are shown for context.
pub const PRIOR_ENTRIES: usize = 3;

/// One item with unread human messages.
#[derive(Debug)]
pub struct Unread<'a> {
    pub item: &'a Item,
    /// The trailing human entries (the last `autolimit` of them, if given).
    pub messages: &'a [Entry],
    /// Up to [`PRIOR_ENTRIES`] entries just before `messages`. With an
    /// autolimit these can include earlier unread entries, as in the reference.
    pub prior: &'a [Entry],
}

/// Items in `tiers` whose discussion ends with human entries, sorted by
/// (priority, id). `autolimit` (if positive) keeps only the last N
/// unread entries per item.
pub fn unread<'a>(items: &'a [Item], tiers: &[Tier], autolimit: Option<usize>) -> Vec<Unread<'a>> {
    let mut out: Vec<Unread> = items
        .iter()
        .filter(|i| tiers.contains(&i.tier))
        .filter_map(|item| {
            let all = item.unread_human();
            if all.is_empty() {
                return None;
            }
            let keep = match autolimit {
                Some(n) if n > 0 => n.min(all.len()),
                _ => all.len(),
            };
            let messages = &all[all.len() - keep..];
            let before = &item.discussion[..item.discussion.len() - keep];
            let prior = &before[before.len().saturating_sub(PRIOR_ENTRIES)..];
            Some(Unread {
                item,
                messages,
                prior,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.item.priority_num(), &a.item.id).cmp(&(b.item.priority_num(), &b.item.id))
    });
    out
}

/// The first `n` characters of `s`, plus `...` when there were more.
pub fn preview(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_string(),
    }
}

/// `check-messages --json`: the array of [`Unread::to_json`] elements.
pub fn list_json(found: &[Unread]) -> Value {
    found.iter().map(Unread::to_json).collect()
}

impl Unread<'_> {
    /// The reference's `check-messages --json` element.
    pub fn to_json(&self) -> Value {
        let i = self.item;
        let unread: Vec<Value> = self
            .messages
            .iter()
            .map(|m| json!({"by": m.by, "actor": m.actor, "at": m.at, "message": m.message, "is_summary": m.is_summary}))
            .collect();
        let prior: Vec<Value> = self
            .prior
            .iter()
            .map(|d| json!({"by": d.by, "actor": d.actor, "at": d.at, "message": d.message}))
            .collect();
        json!({
            "id": i.id,
            "title": i.title,
            "status": i.status,
            "priority": i.priority,
            "tier": i.tier.as_str(),
            "description": i.description,
            "pr_ref": i.pr_ref,
            "unread_messages": unread,
            "prior_discussion": prior,
        })
    }
}

/// How a write after unread human messages went.
pub enum Gate<'a> {
    /// Refused: re-run with `ack` (the front end's name for acknowledging,
    /// `--ack-thread`), e.g. `example`.
    Refused { ack: &'a str, example: &'a str },
    /// Written without a gate (`update --note`): the messages are shown so
    /// the writer reads them.
    Written,
}

/// The notice shown to a writer whose message comes after unread human
/// messages on `item` (its state before the write): those messages, the
/// discussion before them for context, and, when refused, how to go on.
pub fn unread_notice(item: &Item, gate: Gate) -> String {
    let unread = item.unread_human();
    let earlier = &item.discussion[..item.discussion.len() - unread.len()];
    let mut out = String::from("\nYour addition to the Activity/Discussion for this item comes after an unread message from the human:\n");
    for e in unread {
        out.push_str(&format!("  [{}] {}: {}\n", e.at, e.actor, e.message));
    }
    if !earlier.is_empty() {
        out.push_str("\nFor context, here is the full Activity/Discussion transcript preceding that latest unread message:\n");
        for e in earlier {
            let summary = if e.is_summary { "(summary) " } else { "" };
            out.push_str(&format!(
                "  [{}] {} ({}): {summary}{}\n",
                e.at, e.actor, e.by, e.message
            ));
        }
    }
    match gate {
        Gate::Refused { ack, example } => out.push_str(&format!(
            "\nTo proceed, re-run with {ack} to confirm you have read the thread:\n  {example}\n"
        )),
        Gate::Written => out.push_str(
            "\nYour note was written; answer the human with discuss if they asked something.\n",
        ),
    }
    out
}

/// The one line a writer sees when it confirmed reading `n` unread
/// human messages and its message was written after them.
pub fn acknowledged(n: usize) -> String {
    format!(
        "(acknowledged {n} unread message{} from the human)",
        if n == 1 { "" } else { "s" }
    )
}
