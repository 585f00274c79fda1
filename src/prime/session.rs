//! `htrac-hook session-start`: the [`super::Prime`] briefing in the form a
//! harness's session-start hook takes. Claude Code's `SessionStart` event
//! (fired at startup, resume, clear and after every compaction) gets
//! `{"hookSpecificOutput": {"hookEventName": "SessionStart",
//! "additionalContext": TEXT}}`; anything else — `PreCompact`, another
//! harness, no event at all — gets the plain text, which Claude Code's
//! `SessionStart` and most harnesses add to the context as it is.
//!
//! It never stands in the session's way: without a tracker it prints
//! nothing, and every problem is a note for stderr.

use serde_json::json;

use crate::stophook::event::{EventError, HookEvent};
use crate::stophook::hook::{locate, Options};

/// What the hook prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// For stdout (empty: print nothing).
    pub stdout: String,
    /// For stderr.
    pub notes: Vec<String>,
}

/// The output for one session-start (or pre-compact) event.
pub fn session_start(event: Result<HookEvent, EventError>, opts: &Options) -> Output {
    let mut notes = Vec::new();
    let event = event.unwrap_or_else(|e| {
        notes.push(format!("htrac-hook: {e}; answering in plain text"));
        HookEvent::default()
    });
    let prime = match locate(&event, opts).and_then(|t| super::gather(&t)) {
        Ok(p) => p,
        Err(e) => {
            notes.push(format!("htrac-hook: no briefing: {}", e.message));
            return Output {
                stdout: String::new(),
                notes,
            };
        }
    };
    notes.extend(prime.warnings.iter().cloned());
    if let Some(id) = crate::claims::export_session(event.session_id.as_deref()) {
        notes.push(format!(
            "htrac-hook: claims by this agent are made as session {id} (HTRAC_SESSION, in CLAUDE_ENV_FILE)"
        ));
    }
    // The hook feeds an agent's context, whoever the OS user is.
    let mut text = prime.to_text(super::Audience::Agent);
    if event.source.as_deref() == Some("compact") {
        text.insert_str(
            0,
            "Your context was just compacted; here is the tracker's state again.\n\n",
        );
    }
    let stdout = match event.hook_event_name.as_deref() {
        Some("SessionStart") => {
            let v = json!({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}});
            format!("{v}\n")
        }
        _ => text,
    };
    Output { stdout, notes }
}
