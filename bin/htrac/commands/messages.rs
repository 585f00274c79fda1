//! `check-messages`: items with unread human messages, with context.

use htrac::items::messages::{preview, unread};
use htrac::stophook::scope::tiers as scope_tiers;
use htrac::{Result, Tracker};

use crate::args::{CheckMessagesArgs, Globals};
use crate::render::py_str;
use crate::Output;

/// Longest description shown (characters), as the reference.
const DESCRIPTION_CHARS: usize = 500;
/// Longest preview of an earlier message (characters), as the reference.
const PRIOR_CHARS: usize = 200;

pub fn run(a: &CheckMessagesArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let autolimit = a.autolimit;
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let found = unread(&snap.items, scope_tiers(t.config.scope), autolimit);
    if g.json {
        out.line(htrac::py::json::pretty(&htrac::items::messages::list_json(
            &found,
        )));
        return Ok(());
    }
    if found.is_empty() {
        out.line("(no unread human messages)");
        return Ok(());
    }
    for (n, u) in found.iter().enumerate() {
        let i = u.item;
        if n > 0 {
            out.line("");
        }
        out.line(format!(
            "{}  P{}  {}  [{}]  {}",
            i.id,
            py_str(&i.priority),
            i.status,
            i.tier.as_str(),
            i.title
        ));
        if !i.description.is_empty() {
            out.line(format!(
                "  description: {}",
                preview(&i.description, DESCRIPTION_CHARS)
            ));
        }
        if htrac::py::textconv::truthy(&i.pr_ref) {
            out.line(format!("  pr_ref: {}", py_str(&i.pr_ref)));
        }
        if !u.prior.is_empty() {
            out.line("  prior discussion:");
            for d in u.prior {
                out.line(format!(
                    "    [{}] {} ({}): {}",
                    d.at,
                    d.actor,
                    d.by,
                    preview(&d.message, PRIOR_CHARS)
                ));
            }
        }
        for m in u.messages {
            out.line(format!(
                "  [{}] {} ({}): {}",
                m.at, m.actor, m.by, m.message
            ));
        }
    }
    Ok(())
}
