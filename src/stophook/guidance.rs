//! `htrac guidance`: the markdown document telling an agent what is left,
//! laid out as the reference's.
//!
//! With no unread human message in scope it is the normal document
//! (`# Stop Hook Guidance — <ISO UTC>`, the counts, then hard TODO items,
//! invariant violations and soft TODO items as `- [ID] PN title`, sorted by
//! priority then ID, and a `## Guidance` paragraph). When any item in scope
//! ends its discussion with human messages, it is the reply-first document
//! instead (`# REPLY-FIRST CYCLE — <ts>`): a four-step protocol and the
//! items with unread messages, the TODO list deliberately left out.
//!
//! The reference's "precedence gate" decides whether an item whose first
//! unread human message starts with `[[tag]]` is lifted into an
//! `## Escalated` section at the top; the reference asks an LLM
//! (OpenRouter), htrac asks the command in `stop_hook.precedence_gate`
//! ([`super::escalation`]). Without one no item is escalated — what the
//! reference does when its call is unavailable.
//!
//! The file is `stop_guidance_<MMDDYYYY_HHMM>.md` (UTC; runs within the
//! same minute overwrite each other) in `--guidance-dir`, else
//! `stop_hook.guidance_dir` (relative to the repository), else
//! `$XDG_DATA_HOME/htrac/guidance`, else `~/.local/share/htrac/guidance`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::items::item::{value_text, Item};
use crate::timestamp::format_utc;
use crate::tracker::Tracker;

use super::escalation::{self, Answer};
use super::todos::{statuses, Strength};

/// A rendered guidance document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `stop_guidance_<MMDDYYYY_HHMM>.md`.
    pub file_name: String,
    pub text: String,
    /// The reply-first document (some item has unread human messages).
    pub reply_first: bool,
    /// What went wrong on the way (a precedence gate that could not
    /// answer), for the front end to show.
    pub notes: Vec<String>,
}

/// `PN` as the reference prints a priority.
fn p(item: &Item) -> String {
    format!("P{}", value_text(&item.priority))
}

fn by_priority_then_id(items: &mut [&Item]) {
    items.sort_by(|a, b| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
}

/// Renders the document for the items in scope (`items`) at `now`
/// (seconds since the epoch), asking the configured precedence gate, if
/// any, about `[[tag]]`-prefaced messages.
pub fn render(items: &[&Item], config: &Config, now: i64) -> Document {
    match &config.precedence_gate {
        Some(g) => render_with(
            items,
            config,
            now,
            Some(&mut |p: &str| escalation::ask(g, p)),
        ),
        None => render_with(items, config, now, None),
    }
}

/// [`render`], with the precedence gate given (`None`: no escalation).
pub fn render_with(
    items: &[&Item],
    config: &Config,
    now: i64,
    gate: Option<&mut dyn FnMut(&str) -> Answer>,
) -> Document {
    let hard_statuses = statuses(config, Strength::Hard);
    let soft_statuses = statuses(config, Strength::Soft);
    let (mut hard, mut violated, mut soft) = (Vec::new(), Vec::new(), Vec::new());
    for &item in items {
        let s = item.status.as_str();
        if hard_statuses.contains(&s) {
            hard.push(item);
        } else if s == "violated" {
            // Listed whether or not `violated` is configured as blocking, as the reference.
            violated.push(item);
        } else if soft_statuses.contains(&s) {
            soft.push(item);
        }
    }
    by_priority_then_id(&mut hard);
    by_priority_then_id(&mut violated);
    by_priority_then_id(&mut soft);

    let listed: HashSet<&str> = hard
        .iter()
        .chain(&violated)
        .chain(&soft)
        .map(|i| i.id.as_str())
        .collect();
    let mut unread_listed: HashSet<&str> = HashSet::new();
    let mut unread_other: Vec<&Item> = Vec::new();
    for &item in items {
        if item.unread_human().is_empty() {
            continue;
        }
        if listed.contains(item.id.as_str()) {
            unread_listed.insert(item.id.as_str());
        } else {
            unread_other.push(item);
        }
    }
    by_priority_then_id(&mut unread_other);

    let ts = format_utc(now);
    // `YYYY-MM-DDTHH:MM:SSZ` → `MMDDYYYY_HHMM`.
    let file_name = format!(
        "stop_guidance_{}{}{}_{}{}.md",
        &ts[5..7],
        &ts[8..10],
        &ts[0..4],
        &ts[11..13],
        &ts[14..16]
    );

    if !unread_listed.is_empty() || !unread_other.is_empty() {
        let mut blocked: Vec<&Item> = items
            .iter()
            .copied()
            .filter(|i| unread_listed.contains(i.id.as_str()))
            .collect();
        by_priority_then_id(&mut blocked);
        let (elevated, notes) = escalate(&blocked, &unread_other, gate);
        let total = blocked.len() + unread_other.len();
        let text = reply_first(
            &ts,
            total,
            &elevated,
            &without(&blocked, &elevated),
            &without(&unread_other, &elevated),
        );
        return Document {
            file_name,
            text,
            reply_first: true,
            notes,
        };
    }

    let mut lines: Vec<String> = vec![
        format!("# Stop Hook Guidance — {ts}"),
        String::new(),
        "## Status".into(),
        format!("- Hard TODO Items: {}", hard.len()),
    ];
    if !violated.is_empty() {
        lines.push(format!("- Invariant Violations: {}", violated.len()));
    }
    lines.push(format!("- Soft TODO Items: {}", soft.len()));
    lines.push(String::new());
    for (heading, list) in [
        ("## Hard TODO Items", &hard),
        ("## Invariant Violations", &violated),
        ("## Soft TODO Items", &soft),
    ] {
        if list.is_empty() {
            continue;
        }
        lines.push(heading.into());
        for i in list.iter() {
            lines.push(format!("- [{}] {} {}", i.id, p(i), i.title));
        }
        lines.push(String::new());
    }
    lines.push("## Guidance".into());
    lines.push(
        "Hard TODO items: investigate deeply; assume the item is a symptom of a structural defect."
            .into(),
    );
    if !violated.is_empty() {
        lines.push(
            "Invariant violations: these are blocking. Investigate the root cause and fix or escalate."
                .into(),
        );
    }
    lines.push(
        "Soft TODO items: resolve the issue normally. As always, revise your beliefs when new information comes to light."
            .into(),
    );
    lines.push(String::new());
    Document {
        file_name,
        text: lines.join("\n"),
        reply_first: false,
        notes: Vec::new(),
    }
}

/// `list` less the escalated items.
fn without<'a>(list: &[&'a Item], elevated: &[(&Item, String)]) -> Vec<&'a Item> {
    list.iter()
        .copied()
        .filter(|i| !elevated.iter().any(|(e, _)| e.id == i.id))
        .collect()
}

/// The items the gate lifts (with their tag, sorted by priority then ID),
/// and notes on answers that failed. An item is put to the gate when its
/// first unread human message has a `[[tag]]` preface and other items have
/// unread messages too.
fn escalate<'a>(
    blocked: &[&'a Item],
    other: &[&'a Item],
    gate: Option<&mut dyn FnMut(&str) -> Answer>,
) -> (Vec<(&'a Item, String)>, Vec<String>) {
    let (mut elevated, mut notes) = (Vec::new(), Vec::new());
    let Some(gate) = gate else {
        return (elevated, notes);
    };
    let all: Vec<&Item> = blocked.iter().chain(other).copied().collect();
    if all.len() < 2 {
        return (elevated, notes);
    }
    for &item in &all {
        let Some(first) = item.unread_human().first() else {
            continue;
        };
        let Some(tag) = escalation::preface(&first.message) else {
            continue;
        };
        let others: Vec<(&str, &str)> = all
            .iter()
            .filter(|o| o.id != item.id)
            .map(|o| (o.id.as_str(), o.title.as_str()))
            .collect();
        match gate(&escalation::prompt(tag, &item.id, &item.title, &others)) {
            Answer::Yes => elevated.push((item, tag.to_string())),
            Answer::No => {}
            Answer::Failed(why) => notes.push(format!(
                "precedence gate for {} [[{tag}]]: {why}; not escalated",
                item.id
            )),
        }
    }
    elevated.sort_by(|(a, _), (b, _)| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
    (elevated, notes)
}

/// The REPLY-FIRST CYCLE document: answering humans is the only assignment.
fn reply_first(
    ts: &str,
    total: usize,
    elevated: &[(&Item, String)],
    blocked: &[&Item],
    other: &[&Item],
) -> String {
    let mut lines: Vec<String> = vec![
        format!("# REPLY-FIRST CYCLE — {ts}"),
        String::new(),
        format!("**{total} unread human message(s) across {total} item(s).**"),
        String::new(),
        "Take a breather from the \"forward-march vibe\" of autonomous mode. Do not start new code \
         tasks, do not run bakeoffs, do not pick from tracker ready. Your only assignment is to \
         clear reply debt. For each item:"
            .into(),
        String::new(),
        "1. `htrac show <ID>` — load the full thread + description".into(),
        "2. Classify: approval, directive, or question".into(),
        "3. Questions: plan the investigation (Read/Grep, Explore subagent, WebSearch on \
         allowlisted domains) BEFORE drafting"
            .into(),
        "4. `htrac discuss <ID>` — post the reply".into(),
        String::new(),
    ];
    if !elevated.is_empty() {
        lines.push("## Escalated (preface precedence gate → YES)".into());
        for (i, tag) in elevated {
            lines.push(format!(
                "- [{}] {} [[{tag}]] {} ({} unread)",
                i.id,
                p(i),
                i.title,
                i.unread_human().len()
            ));
        }
        lines.push(String::new());
        lines.push(
            "Reply to the escalated item(s) above first — the human's preface tag was judged to \
             carry precedence over the other unreads. Then continue with the listing below."
                .into(),
        );
        lines.push(String::new());
    }
    for (heading, list) in [
        ("## Blocking items with unread messages", blocked),
        ("## Non-blocking items with unread messages", other),
    ] {
        if list.is_empty() {
            continue;
        }
        lines.push(heading.into());
        for i in list {
            lines.push(format!(
                "- [{}] {} {} ({} unread)",
                i.id,
                p(i),
                i.title,
                i.unread_human().len()
            ));
        }
        lines.push(String::new());
    }
    lines.push(
        "Reply to every item above before resuming TODO or bakeoff work. The TODO listing is \
         intentionally suppressed in this cycle."
            .into(),
    );
    lines.push(String::new());
    lines.join("\n")
}

/// The user's data directory for guidance documents:
/// `$XDG_DATA_HOME/htrac/guidance`, else `~/.local/share/htrac/guidance`.
pub fn default_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".local/share")
        }
    };
    Some(base.join("htrac").join("guidance"))
}

/// Where to write: `flag` (relative to `cwd`), else the configured
/// directory (relative to the repository holding `.agent/`, or to the
/// home directory when it starts with `~/`), else
/// [`default_dir`].
pub fn choose_dir(flag: Option<&Path>, cwd: &Path, tracker: &Tracker) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(cwd.join(d));
    }
    if let Some(d) = &tracker.config.guidance_dir {
        // `~/…` is the user's home (the reference's own place is written so).
        if let (Ok(rest), Some(home)) = (d.strip_prefix("~"), std::env::var_os("HOME")) {
            return Ok(PathBuf::from(home).join(rest));
        }
        let repo = tracker.root.parent().unwrap_or(&tracker.root);
        return Ok(repo.join(d));
    }
    default_dir().ok_or_else(|| {
        Error::user("no directory for the guidance document: neither XDG_DATA_HOME nor HOME is set")
            .with_hint("pass --guidance-dir DIR or set stop_hook.guidance_dir in the config")
    })
}

/// Writes `doc` into `dir` (created if missing); returns the file's absolute path.
pub fn write(dir: &Path, doc: &Document) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::user(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(&doc.file_name);
    std::fs::write(&path, &doc.text)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.canonicalize().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::item::Entry;
    use crate::stophook::sample;
    use crate::Tier;

    const NOW: i64 = 1_795_000_000; // 2026-11-18T11:06:40Z

    fn human(msg: &str) -> Entry {
        Entry {
            by: "human".into(),
            actor: "amy".into(),
            at: "2026-01-01T00:00:00Z".into(),
            message: msg.into(),
            is_summary: false,
            nonce: "abcd".into(),
            is_tombstoned: false,
            edit_history: Vec::new(),
        }
    }

    #[test]
    fn normal_document() {
        let c = Config::defaults();
        let items = [
            sample("WI-b", Tier::Workspace, "todo_hard", 2, "bee"),
            sample("WI-a", Tier::Workspace, "todo_hard", 2, "ay"),
            sample("WI-z", Tier::Canonical, "todo_hard", 0, "zed"),
            sample("WI-s", Tier::Workspace, "todo_soft", 4, "soft one"),
            sample("INV-v", Tier::Workspace, "violated", 1, "broken law"),
            sample("WI-d", Tier::Workspace, "done", 0, "finished"),
        ];
        let refs: Vec<&Item> = items.iter().collect();
        let doc = render(&refs, &c, NOW);
        assert!(!doc.reply_first);
        assert_eq!(doc.file_name, "stop_guidance_11182026_1106.md");
        assert_eq!(
            doc.text,
            "# Stop Hook Guidance — 2026-11-18T11:06:40Z\n\n## Status\n- Hard TODO Items: 3\n\
             - Invariant Violations: 1\n- Soft TODO Items: 1\n\n## Hard TODO Items\n\
             - [WI-z] P0 zed\n- [WI-a] P2 ay\n- [WI-b] P2 bee\n\n## Invariant Violations\n\
             - [INV-v] P1 broken law\n\n## Soft TODO Items\n- [WI-s] P4 soft one\n\n## Guidance\n\
             Hard TODO items: investigate deeply; assume the item is a symptom of a structural defect.\n\
             Invariant violations: these are blocking. Investigate the root cause and fix or escalate.\n\
             Soft TODO items: resolve the issue normally. As always, revise your beliefs when new information comes to light.\n"
        );
    }

    #[test]
    fn reply_first_document_suppresses_the_todo_list() {
        let c = Config::defaults();
        let mut a = sample("WI-a", Tier::Workspace, "todo_hard", 1, "blocking one");
        a.discussion = vec![human("one"), human("two")];
        let mut d = sample("WI-d", Tier::Workspace, "done", 0, "done one");
        d.discussion = vec![human("why?")];
        let quiet = sample("WI-q", Tier::Workspace, "todo_hard", 0, "quiet");
        let doc = render(&[&a, &d, &quiet], &c, NOW);
        assert!(doc.reply_first);
        assert!(doc.text.starts_with("# REPLY-FIRST CYCLE — 2026-11-18T11:06:40Z\n\n**2 unread human message(s) across 2 item(s).**\n"));
        assert!(doc.text.contains(
            "## Blocking items with unread messages\n- [WI-a] P1 blocking one (2 unread)\n\n"
        ));
        assert!(doc.text.contains(
            "## Non-blocking items with unread messages\n- [WI-d] P0 done one (1 unread)\n\n"
        ));
        assert!(!doc.text.contains("WI-q"), "the TODO list is suppressed");
        assert!(doc
            .text
            .ends_with("intentionally suppressed in this cycle.\n"));
    }

    #[test]
    fn a_preface_the_gate_says_yes_to_is_escalated_first() {
        let c = Config::defaults();
        let mut a = sample("WI-a", Tier::Workspace, "todo_hard", 1, "blocking one");
        a.discussion = vec![human("plain")];
        let mut d = sample("WI-d", Tier::Workspace, "done", 0, "urgent one");
        d.discussion = vec![human("[[urgent]] now please"), human("and this")];
        let mut asked = Vec::new();
        let mut yes = |p: &str| {
            asked.push(p.to_string());
            Answer::Yes
        };
        let doc = render_with(&[&a, &d], &c, NOW, Some(&mut yes));
        assert_eq!(asked.len(), 1, "only the prefaced item is put to the gate");
        assert!(
            asked[0].contains("tag [[urgent]]") && asked[0].contains("- WI-a: \"blocking one\"")
        );
        assert!(doc.text.contains(
            "## Escalated (preface precedence gate → YES)\n- [WI-d] P0 [[urgent]] urgent one (2 unread)\n\n\
             Reply to the escalated item(s) above first"
        ), "{}", doc.text);
        assert!(doc
            .text
            .contains("**2 unread human message(s) across 2 item(s).**"));
        assert!(
            !doc.text.contains("## Non-blocking items"),
            "lifted out of its list"
        );
        assert!(doc
            .text
            .contains("## Blocking items with unread messages\n- [WI-a]"));
        // No, a failure, or no gate: not escalated; a failure is noted.
        let mut no = |_: &str| Answer::Failed("timed out after 1 s (killed)".into());
        let doc = render_with(&[&a, &d], &c, NOW, Some(&mut no));
        assert!(!doc.text.contains("## Escalated"));
        assert_eq!(
            doc.notes,
            ["precedence gate for WI-d [[urgent]]: timed out after 1 s (killed); not escalated"]
        );
        assert_eq!(render_with(&[&a, &d], &c, NOW, None).text, doc.text);
        // Alone, an item has nothing to take precedence over: no question.
        let mut never = |_: &str| -> Answer { panic!("asked") };
        render_with(&[&d], &c, NOW, Some(&mut never));
    }
}
