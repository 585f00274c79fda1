//! The managed block in `AGENTS.md` (and `CLAUDE.md` when the repository
//! has one): a short text telling agents how to use htrac here, between
//! `<!-- htrac:begin -->` and `<!-- htrac:end -->`. Setup inserts it once,
//! then keeps it current in place; every byte outside the markers stays as
//! the user wrote it. A human opts out with `agents_md: false` in the
//! tracker's config (a key the reference ignores).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Check, Context, Status};
use crate::config::Config;

pub const BEGIN: &str = "<!-- htrac:begin -->";
pub const END: &str = "<!-- htrac:end -->";

/// The block, markers included, without a final newline: the same for
/// every configuration, so a refresh never churns.
pub fn block() -> String {
    format!(
        "{BEGIN}
## Work tracking: htrac

This repository tracks its work with htrac (`.agent/`). Do not edit files
under `.agent/` by hand; use the `htrac` command (or its MCP server,
`htrac mcp`). Read an item with `htrac show ID`.

- Start every session (and after a context compaction) with `htrac prime`:
  the workflow, what is ready, unread human messages, locked fields.
- Loop: `htrac --json ready` → `htrac update ID --status in_progress` →
  work → `htrac discuss ID \"...\"` / `htrac update ID ...` →
  `htrac update ID --status done --note \"...\"` (say why).
- Record new work with `htrac add --kind work_item --title \"...\"`; make
  many changes at once with `htrac batch FILE`.
- Answer unread human messages first (`htrac --json check-messages`).
  Never change fields a human locked, nor set human-only statuses; hand
  what needs a human's judgment over with `--status needs_human_review`
  (where the configuration has that status).
- Do not commit or push files under `.agent/` yourself: htrac syncs them.
{END}"
    )
}

/// The heading of the project-owned status policy section.
pub const POLICY_HEADING: &str = "### Tracker status policy";

/// The status policy section `setup --with-policy-template` adds once,
/// outside the markers (so setup never touches it again), drawn from the
/// configuration: each status, whether it keeps an agent from stopping, and
/// a first guess at what an agent does with it, for the project to edit.
pub fn policy_template(config: &Config) -> String {
    let has = |list: &[String], s: &str| list.iter().any(|x| x == s);
    let mut out = format!(
        "{POLICY_HEADING}

> This section is the project's: `htrac setup` wrote it once and never
> changes it. Say what each status means for an agent here.

| Status | Blocks stopping? | Agent behaviour |
|--------|------------------|-----------------|
"
    );
    for s in &config.statuses {
        let blocks = has(&config.blocking_statuses, s);
        let behaviour = if has(&config.human_only_statuses, s) {
            "Set by a human only"
        } else if has(&config.resolved_statuses, s) {
            "Resolved; record why with --note"
        } else if blocks {
            "Work on it (`htrac ready` offers it)"
        } else if s == "in_progress" {
            "Being worked on; finish or hand back"
        } else if s == "needs_human_review" {
            "Do not work on it; the human triages it"
        } else {
            "Not offered by `ready`"
        };
        out.push_str(&format!(
            "| `{s}` | {} | {behaviour} |\n",
            if blocks { "Yes" } else { "No" }
        ));
    }
    out
}

/// Adds the policy section after the managed block unless the text has one.
pub fn with_policy(text: &str, policy: &str) -> Option<String> {
    if text
        .lines()
        .any(|l| l.trim_end().eq_ignore_ascii_case(POLICY_HEADING))
    {
        return None;
    }
    let at = text.find(END).map(|i| i + END.len()).unwrap_or(text.len());
    let (head, tail) = text.split_at(at);
    Some(format!("{head}\n\n{}{tail}", policy.trim_end()))
}

/// What inserting or refreshing the block does to a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The block is there and current.
    Unchanged,
    /// The new text: the block appended, or replaced in place.
    Changed(String),
    /// The markers are not one begin followed by one end: left alone.
    Unclear(String),
}

/// Inserts `block` into `text` (at the end, after a blank line) or
/// replaces the one existing block with it; nothing else changes.
pub fn upsert(text: &str, block: &str) -> Edit {
    let begins: Vec<usize> = text.match_indices(BEGIN).map(|(i, _)| i).collect();
    let ends: Vec<usize> = text.match_indices(END).map(|(i, _)| i).collect();
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => {
            let mut out = text.to_string();
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str(block);
            out.push('\n');
            Edit::Changed(out)
        }
        ([b], [e]) if b < e => {
            let end = e + END.len();
            if &text[*b..end] == block {
                return Edit::Unchanged;
            }
            Edit::Changed(format!("{}{block}{}", &text[..*b], &text[end..]))
        }
        _ => Edit::Unclear(format!(
            "{} '{BEGIN}' and {} '{END}' markers; there must be one of each, in that order",
            begins.len(),
            ends.len()
        )),
    }
}

/// Whether the config opts out (`agents_md: false`); an error for a value
/// that is not true or false.
pub fn enabled(config: &Config) -> Result<bool, String> {
    match config.raw.get("agents_md") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Ok(true),
        Some(Value::Bool(false)) => Ok(false),
        Some(other) => Err(format!("agents_md must be true or false, got {other}")),
    }
}

/// Writes `text` over `path` atomically, keeping the file's mode (through
/// a symbolic link, to the file it names).
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mode = fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    crate::atomic::replace(&target, text.as_bytes(), mode)
}

/// The files the block goes in: `AGENTS.md` (created when missing) and
/// `CLAUDE.md` when it exists, at `top`.
pub fn files(top: &Path) -> Vec<PathBuf> {
    let mut out = vec![top.join("AGENTS.md")];
    let claude = top.join("CLAUDE.md");
    if claude.exists() {
        out.push(claude);
    }
    out
}

/// The setup check: insert or refresh the block (unless opted out), add
/// the policy section when asked, then scan for what agents are not told.
pub fn agents_md(ctx: &mut Context) -> Check {
    let name = "agents_md";
    let config = match Config::load(&ctx.root) {
        Ok(c) => c,
        Err(e) => {
            return Check::new(
                name,
                Status::Warn,
                "AGENTS.md left alone: the config cannot be read",
            )
            .with([e.to_string()])
        }
    };
    let on = match enabled(&config) {
        Ok(on) => on,
        Err(e) => {
            return Check::new(name, Status::Warn, "AGENTS.md left alone").with([
                e,
                "Set agents_md: true or false in .agent/tracker/config.yaml".to_string(),
            ])
        }
    };
    let block = block();
    let mut fixed = Vec::new();
    let mut unclear = Vec::new();
    let mut texts = Vec::new();
    for (n, path) in files(&ctx.top()).into_iter().enumerate() {
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                unclear.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let mut new = match on {
            false => None,
            true => match upsert(&text, &block) {
                Edit::Unchanged => None,
                Edit::Changed(new) => Some(new),
                Edit::Unclear(why) => {
                    unclear.push(format!("{}: {why}", path.display()));
                    None
                }
            },
        };
        // The policy section goes in AGENTS.md only, once.
        if ctx.with_policy_template && n == 0 && (on || !text.is_empty()) {
            let base = new.as_deref().unwrap_or(&text);
            if let Some(with) = with_policy(base, &policy_template(&config)) {
                new = Some(with);
            }
        }
        match new {
            Some(new) => match write(&path, &new) {
                Ok(()) => {
                    fixed.push(format!(
                        "  {}: {}",
                        if text.is_empty() {
                            "created"
                        } else {
                            "updated"
                        },
                        path.display()
                    ));
                    texts.push(new);
                }
                Err(e) => {
                    unclear.push(format!("{}: cannot write: {e}", path.display()));
                    texts.push(text);
                }
            },
            None => texts.push(text),
        }
    }
    if !on && texts.iter().all(|t| t.is_empty()) {
        return Check::ok(
            name,
            "AGENTS.md block off (agents_md: false in the config); no AGENTS.md to scan",
        );
    }
    let missing = super::concepts::missing(&texts.join("\n"), &config);
    let mut advice: Vec<String> = Vec::new();
    for c in &missing {
        advice.push(format!("Missing concept '{}': {}", c.name, c.description));
        advice.push(format!("  {}", c.suggestion));
    }
    let still = match missing.len() {
        0 => String::new(),
        n => format!(" ({n} concept(s) missing)"),
    };
    if !unclear.is_empty() {
        return Check::new(name, Status::Warn, format!("AGENTS.md block not written{still}"))
            .with(unclear)
            .with(fixed)
            .with(["Fix the markers by hand (or delete the block) and run setup again; opt out with agents_md: false in the config".to_string()])
            .with(advice);
    }
    if !fixed.is_empty() {
        return Check::new(
            name,
            Status::Fixed,
            format!("AGENTS.md block written{still}"),
        )
        .with(fixed)
        .with(advice);
    }
    if !missing.is_empty() {
        return Check::new(
            name,
            Status::Warn,
            format!("AGENTS.md: {} tracker concept(s) missing", missing.len()),
        )
        .with(advice);
    }
    match on {
        true => Check::ok(name, "AGENTS.md block is current"),
        false => Check::ok(
            name,
            "AGENTS.md block off (agents_md: false in the config); it covers every tracker concept",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_once_then_refreshed_in_place() {
        let b = block();
        let user = "# My project\r\n\nOur rules.";
        let Edit::Changed(once) = upsert(user, &b) else {
            panic!()
        };
        assert_eq!(once, format!("{user}\n\n{b}\n"));
        assert_eq!(upsert(&once, &b), Edit::Unchanged);
        // An old block is replaced where it is; text around it is kept.
        let old = format!("top\n{BEGIN}\nold words\n{END}\nbottom\n");
        let Edit::Changed(new) = upsert(&old, &b) else {
            panic!()
        };
        assert_eq!(new, format!("top\n{b}\nbottom\n"));
        assert_eq!(new.matches(BEGIN).count(), 1);
        assert_eq!(upsert("", &b), Edit::Changed(format!("{b}\n")));
    }

    #[test]
    fn unclear_markers_are_left_alone() {
        let b = block();
        for text in [
            format!("{BEGIN}\nno end\n"),
            format!("{END}\n{BEGIN}\n"),
            format!("{b}\n{b}\n"),
        ] {
            assert!(matches!(upsert(&text, &b), Edit::Unclear(_)), "{text}");
        }
    }
}
