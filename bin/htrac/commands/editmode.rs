//! `edit-mode on|off|status` and the message ops it authorises
//! (`delete-msg`, `undelete-msg`, `edit-msg-text`).

use htrac::tracker::editmode::{parse_ttl, MessageOp};
use htrac::{Error, Result, Tracker};
use serde_json::json;

use crate::args::Parsed;
use crate::Output;

pub fn edit_mode(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    match p.positional(0).unwrap_or("") {
        "on" => {
            let ttl = match p.one("ttl") {
                Some(v) => parse_ttl(v)?,
                None => 1800,
            };
            let cap = p.int("cap-max")?.unwrap_or(500);
            t.edit_mode_on(ttl, cap)?;
            if p.json {
                out.line(htrac::py::json::compact(
                    &json!({"ok": true, "ttl_seconds": ttl, "cap_max": cap}),
                ));
            } else {
                out.line(format!("edit-mode ON  (ttl={ttl}s, cap={cap})"));
            }
        }
        "off" => {
            t.edit_mode_off()?;
            if p.json {
                out.line(htrac::py::json::compact(&json!({"ok": true})));
            } else {
                out.line("edit-mode OFF");
            }
        }
        "status" => {
            let w = t.edit_mode_status()?;
            if p.json {
                out.line(htrac::py::json::compact(&w.to_json()));
            } else if w.on {
                out.line(format!(
                    "edit-mode ON  remaining={}s  ops_used={}/{}",
                    w.remaining_s, w.ops_used, w.cap_max
                ));
            } else {
                out.line("edit-mode OFF");
            }
        }
        other => {
            return Err(
                Error::user(format!("edit-mode takes on, off or status, not '{other}'"))
                    .with_hint("e.g. 'htrac edit-mode on --ttl 30m'"),
            )
        }
    }
    Ok(())
}

pub fn message(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let kind = MessageOp::parse(p.command.name)
        .ok_or_else(|| Error::internal(format!("'{}' is not a message op", p.command.name)))?;
    let file = t.resolve(p.positional(0).unwrap_or(""))?;
    let nonce = p.positional(1).unwrap_or("");
    let reason = p.one("reason").ok_or_else(|| {
        Error::user(format!("{} needs --reason TEXT", kind.as_str()))
            .with_hint("say why in at most 100 characters")
    })?;
    if kind == MessageOp::EditText && p.one("new-text").is_none() {
        return Err(Error::user("edit-msg-text needs --new-text TEXT"));
    }
    t.message_op(&file, kind, nonce, p.one("new-text"), reason)?;
    if p.json {
        out.line(htrac::py::json::compact(&json!({"ok": true})));
    } else {
        let verb = match kind {
            MessageOp::Delete => "deleted",
            MessageOp::Undelete => "undeleted",
            MessageOp::EditText => "edited",
        };
        out.line(format!("{verb} message {nonce} on {}", file.id));
    }
    Ok(())
}
