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

/// The block, markers included, without a final newline.
pub fn block() -> String {
    format!(
        "{BEGIN}
## Work tracking: htrac

This repository tracks its work with htrac (`.agent/`). Do not edit files
under `.agent/` by hand; use the `htrac` command (or its MCP server,
`htrac mcp`).

- Start every session (and after a context compaction) with `htrac prime`:
  the workflow, what is ready, unread human messages, locked fields.
- Loop: `htrac --json ready` → `htrac update ID --status in_progress` →
  work → `htrac discuss ID \"...\"` / `htrac update ID ...` →
  `htrac update ID --status done --note \"...\"`.
- Record new work with `htrac add --kind work_item --title \"...\"`.
- Answer unread human messages first (`htrac --json check-messages`).
  Never change fields a human locked, nor set human-only statuses.
{END}"
    )
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

/// The setup check: insert or refresh the block, unless opted out.
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
    match enabled(&config) {
        Ok(true) => {}
        Ok(false) => {
            return Check::ok(name, "AGENTS.md block off (agents_md: false in the config)")
        }
        Err(e) => {
            return Check::new(name, Status::Warn, "AGENTS.md left alone").with([
                e,
                "Set agents_md: true or false in .agent/tracker/config.yaml".to_string(),
            ])
        }
    }
    let block = block();
    let mut fixed = Vec::new();
    let mut unclear = Vec::new();
    for path in files(&ctx.top()) {
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                unclear.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        match upsert(&text, &block) {
            Edit::Unchanged => {}
            Edit::Changed(new) => match write(&path, &new) {
                Ok(()) => fixed.push(format!(
                    "  {}: {}",
                    if text.is_empty() {
                        "created"
                    } else {
                        "updated"
                    },
                    path.display()
                )),
                Err(e) => unclear.push(format!("{}: cannot write: {e}", path.display())),
            },
            Edit::Unclear(why) => unclear.push(format!("{}: {why}", path.display())),
        }
    }
    if !unclear.is_empty() {
        return Check::new(name, Status::Warn, "AGENTS.md block not written")
            .with(unclear)
            .with(fixed)
            .with(["Fix the markers by hand (or delete the block) and run setup again; opt out with agents_md: false in the config".to_string()]);
    }
    if fixed.is_empty() {
        return Check::ok(name, "AGENTS.md block is current");
    }
    Check::new(name, Status::Fixed, "AGENTS.md block written").with(fixed)
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
