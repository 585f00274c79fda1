//! `discuss`: adds a message to an item's discussion — refused while the
//! thread ends in human messages the writer has not acknowledged — or
//! replaces the thread with a summary, or clears it (human only).

use serde_json::{json, Value};

use super::{Outcome, Transaction};
use crate::error::{Error, Result};

/// A write to an item's discussion.
#[derive(Debug, Clone)]
pub enum Discuss {
    /// Add a message. `ack_thread`: the writer has read the unread human
    /// messages (a front end that shows the thread while one writes, like
    /// the TUI and the web page, passes true).
    Message {
        item: String,
        text: String,
        ack_thread: bool,
    },
    /// Replace the discussion with one summary entry.
    Summarize { item: String, text: String },
    /// Clear the discussion (human only).
    Clear { item: String },
}

/// What a [`Discuss`] did.
#[derive(Debug, Clone)]
pub enum Discussed {
    Written(Outcome),
    /// The message was not written: the thread ends in human messages the
    /// writer did not acknowledge (in `outcome.unread`).
    Unacknowledged(Outcome),
}

impl Discussed {
    /// The answer, as `discuss --json` prints it: `{"ok": true}`, or for a
    /// message refused by the gate `{"ok": false, "reason":
    /// "unread_human_messages", "unread": [entries...]}`.
    pub fn to_json(&self) -> Value {
        match self {
            Discussed::Written(_) => json!({"ok": true}),
            Discussed::Unacknowledged(o) => {
                let entries: Vec<Value> = o.unread.iter().map(|e| e.to_json(false)).collect();
                json!({"ok": false, "reason": "unread_human_messages", "unread": entries})
            }
        }
    }

    pub fn outcome(&self) -> &Outcome {
        match self {
            Discussed::Written(o) | Discussed::Unacknowledged(o) => o,
        }
    }
}

/// Runs a [`Discuss`].
pub fn discuss(tx: &mut Transaction, req: &Discuss) -> Result<Discussed> {
    let t = tx.tracker;
    if let Discuss::Clear { .. } = req {
        // Authority first: an agent learns nothing else about the item.
        t.require_human("discuss --clear")?;
    }
    let (Discuss::Message { item, .. } | Discuss::Summarize { item, .. } | Discuss::Clear { item }) =
        req;
    let file = t.resolve(item)?;
    let mut it = t.open_item(&file)?;
    let mut out = Outcome {
        id: file.id.clone(),
        before: Some(it.item.clone()),
        ..Outcome::default()
    };
    match req {
        Discuss::Clear { .. } => out.ops.push(t.discuss_clear_opened(&mut it)?),
        Discuss::Summarize { text, .. } => out.ops.push(t.discuss_opened(&mut it, text, true)?),
        Discuss::Message {
            text, ack_thread, ..
        } => {
            if text.trim().is_empty() {
                return Err(Error::user("must not be empty").on_field("message"));
            }
            out.unread = it.item.unread_human().to_vec();
            if !out.unread.is_empty() && !ack_thread {
                out.after = Some(it.item);
                return Ok(Discussed::Unacknowledged(tx.close(out)));
            }
            out.ops.push(t.discuss_opened(&mut it, text, false)?);
        }
    }
    out.after = Some(it.item);
    Ok(Discussed::Written(tx.close(out)))
}
