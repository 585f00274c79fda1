//! `edit-mode on|off|status` and the message ops it authorises
//! (`delete-msg`, `undelete-msg`, `edit-msg-text`).

use htrac::tracker::editmode::MessageOp;
use htrac::{Error, Result, Tracker};
use serde_json::json;

use crate::args::{EditModeAction, EditModeArgs, Globals, MsgArgs};
use crate::Output;

pub fn edit_mode(a: &EditModeArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let EditModeArgs {
        action,
        ttl,
        cap_max,
    } = *a;
    match action {
        EditModeAction::On => {
            let ttl = ttl.unwrap_or(htrac::tracker::editmode::DEFAULT_TTL);
            let cap = cap_max.unwrap_or(htrac::tracker::editmode::DEFAULT_CAP);
            t.edit_mode_on(ttl, cap)?;
            if g.json {
                out.line(htrac::py::json::compact(
                    &json!({"ok": true, "ttl_seconds": ttl, "cap_max": cap}),
                ));
            } else {
                out.line(format!("edit-mode ON  (ttl={ttl}s, cap={cap})"));
            }
        }
        EditModeAction::Off => {
            t.edit_mode_off()?;
            if g.json {
                out.line(htrac::py::json::compact(&json!({"ok": true})));
            } else {
                out.line("edit-mode OFF");
            }
        }
        EditModeAction::Status => {
            let w = t.edit_mode_status()?;
            if g.json {
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
    }
    Ok(())
}

pub fn message(
    a: &MsgArgs,
    kind: MessageOp,
    g: &Globals,
    t: &Tracker,
    out: &mut Output,
) -> Result<()> {
    let MsgArgs {
        item,
        nonce,
        reason,
        new_text,
    } = a;
    let file = t.resolve(item)?;
    let reason = reason.as_deref().ok_or_else(|| {
        Error::user(format!("{} needs --reason TEXT", kind.as_str()))
            .with_hint("say why in at most 100 characters")
    })?;
    if kind == MessageOp::EditText && new_text.is_none() {
        return Err(Error::user("edit-msg-text needs --new-text TEXT"));
    }
    t.message_op(&file, kind, nonce, new_text.as_deref(), reason)?;
    if g.json {
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
