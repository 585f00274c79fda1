//! Edit mode: a human opens a time-boxed window (at most an hour, at most
//! `cap_max` edits) during which discussion messages may be tombstoned,
//! restored or re-worded by their nonce. Windows live in a global log per
//! tier directory (`<tier>/.edit-mode/edit-mode.ops`), outside the synced
//! `.ops/` directories; message ops live in the item's own log and take
//! effect only when they fall inside a human-opened window (see
//! [`crate::items::compile`]). A log owned by an agent OS user is ignored.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::oplog::blocks::{trailing_nonce, Blocks};
use crate::oplog::op::Op;
use crate::oplog::{self, AppendMode};
use crate::timestamp::{now_utc_micros, parse_utc_micros};
use crate::tracker::write::fresh_nonce;
use crate::tracker::{ItemFile, Tracker};

/// Longest window a human may open, in seconds.
pub const MAX_TTL: i64 = 3600;
/// Largest edit cap of a window.
pub const MAX_CAP: i64 = 500;
/// A window's length when none is asked for (30 minutes).
pub const DEFAULT_TTL: i64 = 1800;
/// A window's edit cap when none is asked for.
pub const DEFAULT_CAP: i64 = 500;

/// The state of the edit-mode window now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub on: bool,
    pub remaining_s: i64,
    pub ttl_seconds: i64,
    pub cap_max: i64,
    /// `delete-msg` and `edit-msg-text` ops inside the window (undeletes are free).
    pub ops_used: i64,
}

impl Window {
    /// `{"on", "remaining_s", "ttl_seconds", "cap_max", "ops_used"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "on": self.on,
            "remaining_s": self.remaining_s,
            "ttl_seconds": self.ttl_seconds,
            "cap_max": self.cap_max,
            "ops_used": self.ops_used,
        })
    }
}

/// A message op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOp {
    Delete,
    Undelete,
    EditText,
}

impl MessageOp {
    pub fn parse(s: &str) -> Option<MessageOp> {
        match s {
            "delete-msg" => Some(MessageOp::Delete),
            "undelete-msg" => Some(MessageOp::Undelete),
            "edit-msg-text" => Some(MessageOp::EditText),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageOp::Delete => "delete-msg",
            MessageOp::Undelete => "undelete-msg",
            MessageOp::EditText => "edit-msg-text",
        }
    }

    fn counts_against_cap(self) -> bool {
        self != MessageOp::Undelete
    }
}

/// Parses a window length: `30m`, `1h`, `600s` or plain seconds.
pub fn parse_ttl(text: &str) -> Result<i64> {
    let s = text.trim().to_lowercase();
    let (num, unit) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        _ => (s.as_str(), 1),
    };
    num.trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| {
            Error::user(format!("--ttl: cannot read '{text}' as a duration"))
                .with_hint("write e.g. --ttl 30m, --ttl 1h, --ttl 600s or --ttl 600")
        })
}

impl Tracker {
    /// The distinct edit-mode logs (canonical's, and the one workspace and
    /// stealth share).
    fn edit_mode_logs(&self) -> Vec<PathBuf> {
        let mut logs: Vec<PathBuf> = Vec::new();
        for t in Tier::ALL {
            let p = t.edit_mode_log(&self.root);
            if !logs.contains(&p) {
                logs.push(p);
            }
        }
        logs
    }

    /// Appends `op` to every edit-mode log, under a nonce none of them
    /// uses: chosen from the logs as read, and checked under the first
    /// log's lock (another human's toggle may take it meanwhile: then
    /// another is chosen). The op is signed once its nonce is settled.
    fn append_global(&self, mut op: Op) -> Result<()> {
        let logs = self.edit_mode_logs();
        // The nonce of each op of the logs: the `# <nonce>` comment its
        // lines end with (what git's union merge needs unique; readers
        // take no op whose lines lack it).
        let mut taken: HashSet<String> = HashSet::new();
        let read_logs = |taken: &mut HashSet<String>| {
            for log in &logs {
                let Ok(bytes) = std::fs::read(log) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&bytes);
                for block in Blocks::new(&text) {
                    let first = block.text.lines().next().unwrap_or_default();
                    if let Some(n) = trailing_nonce(first) {
                        taken.insert(n.to_string());
                    }
                }
            }
        };
        read_logs(&mut taken);
        let mut attempt = 0;
        loop {
            attempt += 1;
            op.nonce = loop {
                let n = fresh_nonce(&[]);
                if !taken.contains(&n) {
                    break n;
                }
            };
            self.sign_op(crate::governance::signing::EDIT_MODE_BINDING, &mut op)?;
            let text = crate::oplog::emit::emit_op(&op);
            match self.append_to_logs(&logs, &text) {
                Err(e) if oplog::nonce_taken(&e) && attempt < 16 => {
                    taken.insert(op.nonce.clone());
                    read_logs(&mut taken);
                }
                other => return other.map_err(Into::into),
            }
        }
    }

    /// Appends `text` to each of `logs`, creating those that do not exist
    /// yet; the first existing log refuses it if its nonce is in use
    /// ([`oplog::NonceTaken`], nothing written anywhere then). Once one log
    /// holds the op the others get it whatever: a window is in every log.
    fn append_to_logs(&self, logs: &[PathBuf], text: &str) -> std::io::Result<()> {
        let mut written = false;
        for log in logs {
            let dir = log.parent().expect("log has a directory");
            if !dir.exists() {
                std::fs::create_dir_all(dir)?;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
            }
            // Windows are local decisions: never committed.
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                std::fs::write(&ignore, "*\n")?;
            }
            let created = match oplog::append_text(log, text, AppendMode::New) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let mode = if written {
                        AppendMode::Existing
                    } else {
                        AppendMode::Fresh
                    };
                    oplog::append_text(log, text, mode)?;
                    false
                }
                Err(e) => return Err(e),
            };
            written = true;
            if created {
                // Only its human may add to it: no group write.
                std::fs::set_permissions(log, std::fs::Permissions::from_mode(0o644))?;
            }
        }
        Ok(())
    }

    fn global_op(&self, kind: &str) -> Op {
        Op::new(
            kind,
            &now_utc_micros(),
            self.actor.role,
            &self.actor.name,
            0,
            // (Chosen again by [`Tracker::append_global`], from the logs.)
            "",
        )
    }

    /// Opens an edit-mode window in every tier (human only).
    pub fn edit_mode_on(&self, ttl_seconds: i64, cap_max: i64) -> Result<()> {
        self.require_human("edit-mode on")?;
        if !(1..=MAX_TTL).contains(&ttl_seconds) {
            return Err(Error::user(format!(
                "--ttl must be from 1 second to 60 minutes, got {ttl_seconds}s"
            )));
        }
        if !(1..=MAX_CAP).contains(&cap_max) {
            return Err(Error::user(format!(
                "--cap-max must be from 1 to {MAX_CAP}, got {cap_max}"
            )));
        }
        let op = self
            .global_op("edit-mode-on")
            .with("ttl_seconds", json!(ttl_seconds))
            .with("cap_max", json!(cap_max));
        self.append_global(op)
    }

    /// Closes any open window early (human only; harmless when none is open).
    pub fn edit_mode_off(&self) -> Result<()> {
        self.require_human("edit-mode off")?;
        self.append_global(self.global_op("edit-mode-off"))
    }

    /// The window now (the workspace log speaks for all tiers), with the
    /// edits made inside it counted over every item.
    pub fn edit_mode_status(&self) -> Result<Window> {
        let (mut ops, _) = self.edit_mode_ops(Tier::Workspace);
        ops.retain(|o| o.by == "human");
        ops.sort_by_key(|o| parse_utc_micros(&o.at).unwrap_or(i64::MIN));
        let mut open: Option<(i64, i64, i64, i64)> = None; // start, end, ttl, cap
        for op in &ops {
            let Some(at) = parse_utc_micros(&op.at) else {
                continue;
            };
            match op.kind.as_str() {
                "edit-mode-on" => {
                    let (ttl, cap) = op.edit_window();
                    open = Some((at, at.saturating_add(ttl * 1_000_000), ttl, cap));
                }
                "edit-mode-off" => open = None,
                _ => {}
            }
        }
        let now = parse_utc_micros(&now_utc_micros()).unwrap_or(0);
        let Some((start, end, ttl, cap)) = open.filter(|w| now < w.1) else {
            return Ok(Window::default());
        };
        let mut used = 0;
        for file in self.files()? {
            let Ok(log) = oplog::read(&file.path) else {
                continue;
            };
            used += log
                .ops
                .iter()
                .filter(|(_, o)| matches!(o.kind.as_str(), "delete-msg" | "edit-msg-text"))
                .filter_map(|(_, o)| parse_utc_micros(&o.at))
                .filter(|at| (start..end).contains(at))
                .count() as i64;
        }
        Ok(Window {
            on: true,
            remaining_s: ((end - now) / 1_000_000).max(0),
            ttl_seconds: ttl,
            cap_max: cap,
            ops_used: used,
        })
    }

    /// Appends a message op to an item, inside an open window.
    pub fn message_op(
        &self,
        file: &ItemFile,
        kind: MessageOp,
        target_nonce: &str,
        new_text: Option<&str>,
        reason: &str,
    ) -> Result<Op> {
        let n = reason.chars().count();
        if reason.trim().is_empty() || n > 100 {
            return Err(Error::user(format!(
                "--reason is required and must be 1-100 characters (got {n})"
            )));
        }
        let hex4 = target_nonce.len() == 4
            && target_nonce
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !hex4 {
            return Err(Error::user(format!(
                "NONCE must be 4 lower-case hex characters, got '{target_nonce}'"
            ))
            .with_hint(format!(
                "'htrac --json show {}' lists each message's nonce",
                file.id
            )));
        }
        let window = self.edit_mode_status()?;
        if !window.on {
            return Err(
                Error::user("Edit-mode is not active. This op cannot be applied.")
                    .with_hint("a human opens a window with 'htrac edit-mode on'"),
            );
        }
        if kind.counts_against_cap() && window.ops_used >= window.cap_max {
            return Err(Error::user(format!(
                "the edit-mode window's cap is used up ({}/{} edits)",
                window.ops_used, window.cap_max
            ))
            .with_hint("a human may open a new window with 'htrac edit-mode on'"));
        }
        let mut it = self.open_item(file)?;
        let Some(entry) = it
            .item
            .discussion
            .iter()
            .rev()
            .find(|e| e.nonce == target_nonce)
        else {
            return Err(Error::user(format!(
                "No discussion message with nonce '{target_nonce}' on {}",
                file.id
            )));
        };
        match kind {
            MessageOp::EditText if entry.is_tombstoned => {
                return Err(Error::user(format!(
                    "Message '{target_nonce}' is tombstoned; run undelete-msg first before editing"
                )))
            }
            MessageOp::Delete if entry.is_tombstoned => {
                return Err(Error::user(format!(
                    "Message '{target_nonce}' on {} is already deleted",
                    file.id
                )))
            }
            MessageOp::Undelete if !entry.is_tombstoned => {
                return Err(Error::user(format!(
                    "Message '{target_nonce}' on {} is not deleted",
                    file.id
                )))
            }
            _ => {}
        }
        let copies = self.check_discussion_open(&it)?;
        let mut body = Map::new();
        body.insert("item".into(), json!(file.id));
        body.insert("target_nonce".into(), json!(target_nonce));
        if kind == MessageOp::EditText {
            let text = new_text.unwrap_or("");
            if text.trim().is_empty() {
                return Err(Error::user("--new-text is required and must not be empty"));
            }
            body.insert("new_text".into(), json!(text));
        }
        body.insert("reason".into(), json!(reason));
        self.append_to(&mut it, kind.as_str(), body, copies, now_utc_micros())
    }
}
