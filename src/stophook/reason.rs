//! The text an agent reads when the stop hook does not let it stop: short,
//! and saying exactly what to do next. Unread human messages come first
//! (they are answered before any other work), then the best ready items
//! with the command that claims each, then how to finish one.

use crate::config::{Config, Scope};
use crate::items::item::{value_text, Item};
use crate::tracker::load::Broken;

use super::scope;

/// How many items of each list the reason shows.
pub const TOP: usize = 5;
/// How many characters of a human message it quotes.
const QUOTE: usize = 400;
/// How many unread messages per item it quotes (the latest ones).
const MESSAGES: usize = 3;

/// What the reason is made from; every list is limited to the scope.
pub struct Facts<'a> {
    pub config: &'a Config,
    pub scope: Scope,
    /// Every blocking item, sorted best first.
    pub blocking: &'a [&'a Item],
    pub hard: usize,
    pub soft: usize,
    /// The ready items (as `htrac ready`), best first.
    pub ready: &'a [&'a Item],
    /// Items whose discussion ends with human messages, sorted (priority, ID).
    pub unread: &'a [&'a Item],
    /// Item files in scope that cannot be read.
    pub broken: &'a [&'a Broken],
    /// The harness says the agent is already continuing because of a stop hook.
    pub stop_hook_active: bool,
}

/// `message` on one line per line, indented, cut to [`QUOTE`] characters.
fn quote(message: &str, indent: &str) -> String {
    let mut text: String = message.trim().chars().take(QUOTE).collect();
    if message.trim().chars().count() > QUOTE {
        text.push('…');
    }
    text.lines()
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn row(n: usize, i: &Item) -> String {
    format!(
        "{n}. {}  P{}  {}  {}",
        i.id,
        value_text(&i.priority),
        i.status,
        i.title
    )
}

/// The status that finishes an item: `done` when configured, else the
/// first resolved status.
fn finished_status(config: &Config) -> &str {
    if config.statuses.iter().any(|s| s == "done") {
        "done"
    } else {
        config
            .resolved_statuses
            .first()
            .map(String::as_str)
            .unwrap_or("done")
    }
}

fn more(lines: &mut Vec<String>, total: usize, command: &str) {
    if total > TOP {
        lines.push(format!("   (+{} more: {command})", total - TOP));
    }
}

/// The reason for blocking a stop.
pub fn block_reason(f: &Facts) -> String {
    let total = f.blocking.len();
    let mut lines = vec![format!(
        "You may not stop yet: {total} blocking item(s) remain in the tracker ({} hard, {} soft; scope: {}).",
        f.hard,
        f.soft,
        scope::name(f.scope)
    )];

    if !f.unread.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "First answer the human: {} item(s) end with unread human messages. Read the thread \
             with `htrac show <ID>`, then reply with `htrac discuss <ID> \"your reply\"`:",
            f.unread.len()
        ));
        for item in f.unread.iter().take(TOP) {
            let unread = item.unread_human();
            lines.push(format!(
                "- {}  [{}]  {}  ({} unread)",
                item.id,
                item.status,
                item.title,
                unread.len()
            ));
            let skip = unread.len().saturating_sub(MESSAGES);
            for e in &unread[skip..] {
                lines.push(format!("    {} at {}:", e.actor, e.at));
                lines.push(quote(&e.message, "      "));
            }
        }
        more(&mut lines, f.unread.len(), "htrac check-messages");
    }

    lines.push(String::new());
    if !f.ready.is_empty() {
        lines.push(if f.unread.is_empty() {
            "Ready to work on, best first. Claim one with the command under it, do it, then mark it finished:".to_string()
        } else {
            "Then work on the ready items, best first. Claim one with the command under it:".to_string()
        });
        for (n, item) in f.ready.iter().take(TOP).enumerate() {
            lines.push(row(n + 1, item));
            lines.push(format!("   claim: htrac claim {}", item.id));
        }
        more(&mut lines, f.ready.len(), "htrac ready");
    } else {
        lines.push(
            "None of them is ready to start: each waits on an unfinished item that must come \
             first (isbefore), is marked a duplicate, or is in a cross-tier conflict. See what \
             holds one up with `htrac deps <ID>`:"
                .to_string(),
        );
        for (n, item) in f.blocking.iter().take(TOP).enumerate() {
            lines.push(row(n + 1, item));
        }
        more(&mut lines, f.blocking.len(), "htrac list --open");
    }
    lines.push(String::new());
    lines.push(format!(
        "When an item is finished: htrac update <ID> --status {}",
        finished_status(f.config)
    ));

    if !f.broken.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "Also: {} item file(s) cannot be read and were left out; `htrac validate` says why:",
            f.broken.len()
        ));
        for b in f.broken.iter().take(TOP) {
            lines.push(format!("- {} [{}]", b.file.id, b.file.tier.as_str()));
        }
    }
    if f.stop_hook_active {
        lines.push(String::new());
        lines.push(
            "(You are already continuing because this stop hook blocked an earlier stop. Keep \
             working on the items above and record each step with htrac; stopping again with \
             nothing changed in the tracker counts as no progress.)"
                .to_string(),
        );
    }
    lines.join("\n")
}

/// The reason for blocking when the tracker cannot be read (fail closed).
pub fn error_reason(error: &str, stop_hook_active: bool) -> String {
    let mut s = format!(
        "You may not stop yet: the stop hook cannot read the work tracker, so it cannot tell \
         whether blocking work remains (it fails closed).\n\nThe problem: {error}\n\nFix it if it \
         is yours to fix (e.g. `htrac validate` for damaged item files); otherwise tell the human \
         what is wrong, quoting the problem above."
    );
    if stop_hook_active {
        s.push_str(
            "\n\n(You are already continuing because this stop hook blocked an earlier stop.)",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::item::Entry;
    use crate::stophook::sample;
    use crate::Tier;

    #[test]
    fn unread_messages_come_first_then_ready_items_with_claim_commands() {
        let c = Config::defaults();
        let mut talk = sample("WI-talk", Tier::Workspace, "done", 0, "asked something");
        talk.discussion = vec![Entry {
            by: "human".into(),
            actor: "amy".into(),
            at: "2026-01-02T03:04:05Z".into(),
            message: "why is this done?\nplease check".into(),
            is_summary: false,
            nonce: "abcd".into(),
            is_tombstoned: false,
            edit_history: Vec::new(),
        }];
        let items: Vec<Item> = (0..7)
            .map(|n| {
                sample(
                    &format!("WI-{n}"),
                    Tier::Workspace,
                    "todo_hard",
                    1,
                    &format!("task {n}"),
                )
            })
            .collect();
        let refs: Vec<&Item> = items.iter().collect();
        let unread = [&talk];
        let text = block_reason(&Facts {
            config: &c,
            scope: Scope::All,
            blocking: &refs,
            hard: 7,
            soft: 0,
            ready: &refs,
            unread: &unread,
            broken: &[],
            stop_hook_active: true,
        });
        assert!(text.starts_with("You may not stop yet: 7 blocking item(s) remain in the tracker (7 hard, 0 soft; scope: all)."));
        let msg = text.find("why is this done?").unwrap();
        let claim = text.find("claim: htrac claim WI-0").unwrap();
        assert!(msg < claim, "messages first:\n{text}");
        assert!(text.contains("      please check"));
        assert!(text.contains("claim: htrac claim WI-4"));
        assert!(!text.contains("WI-5 --status"), "only the top {TOP}");
        assert!(text.contains("(+2 more: htrac ready)"));
        assert!(text.contains("already continuing"));
        assert!(text.contains("htrac update <ID> --status done"));
    }

    #[test]
    fn nothing_ready_says_what_holds_items_up() {
        let c = Config::defaults();
        let a = sample("WI-a", Tier::Workspace, "todo_soft", 2, "waiting");
        let text = block_reason(&Facts {
            config: &c,
            scope: Scope::Workspace,
            blocking: &[&a],
            hard: 0,
            soft: 1,
            ready: &[],
            unread: &[],
            broken: &[],
            stop_hook_active: false,
        });
        assert!(text.contains("scope: workspace"));
        assert!(text.contains("None of them is ready"));
        assert!(text.contains("1. WI-a  P2  todo_soft  waiting"));
        assert!(!text.contains("already continuing"));
    }
}
