//! The hook event a harness sends on stdin: Claude Code's `Stop` and
//! `SubagentStop` events (`session_id`, `transcript_path`, `cwd`,
//! `stop_hook_active`, `hook_event_name`), and `SessionStart`'s `source`. Unknown keys are ignored, an
//! empty input is an event with nothing in it, and anything else that is
//! not a JSON object is an error naming what was wrong.

use std::path::PathBuf;

use serde_json::Value;

/// What the hook uses from the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEvent {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    /// Where the agent is working; the tracker is found from here.
    pub cwd: Option<PathBuf>,
    /// The harness says the agent is already continuing because a stop
    /// hook blocked it before.
    pub stop_hook_active: bool,
    pub hook_event_name: Option<String>,
    /// Why a `SessionStart` fired: `startup`, `resume`, `clear` or `compact`.
    pub source: Option<String>,
}

/// Why the input is not a hook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn text(m: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, EventError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(EventError(format!(
            "hook event key '{key}' must be a string, got {other}"
        ))),
    }
}

/// Parses the event JSON (an empty or all-whitespace input is an empty event).
pub fn parse(input: &str) -> Result<HookEvent, EventError> {
    if input.trim().is_empty() {
        return Ok(HookEvent::default());
    }
    let v: Value = serde_json::from_str(input).map_err(|e| {
        EventError(format!(
            "the hook event on stdin is not valid JSON ({e}); expected an object such as \
             {{\"hook_event_name\": \"Stop\", \"cwd\": \"/path\", \"stop_hook_active\": false}}"
        ))
    })?;
    let Value::Object(m) = v else {
        return Err(EventError(format!(
            "the hook event on stdin must be a JSON object, got {}",
            match v {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )));
    };
    let stop_hook_active = match m.get("stop_hook_active") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(other) => {
            return Err(EventError(format!(
                "hook event key 'stop_hook_active' must be true or false, got {other}"
            )))
        }
    };
    Ok(HookEvent {
        session_id: text(&m, "session_id")?,
        transcript_path: text(&m, "transcript_path")?,
        cwd: text(&m, "cwd")?
            .filter(|c| !c.is_empty())
            .map(PathBuf::from),
        stop_hook_active,
        hook_event_name: text(&m, "hook_event_name")?,
        source: text(&m, "source")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_stop_event_with_unknown_keys() {
        let e = parse(r#"{"session_id":"s1","transcript_path":"/t.jsonl","cwd":"/repo","permission_mode":"default","hook_event_name":"Stop","stop_hook_active":true,"extra":{"x":[1]}}"#).unwrap();
        assert_eq!(e.session_id.as_deref(), Some("s1"));
        assert_eq!(e.cwd, Some(PathBuf::from("/repo")));
        assert!(e.stop_hook_active);
        assert_eq!(e.hook_event_name.as_deref(), Some("Stop"));
    }

    #[test]
    fn empty_input_is_an_empty_event() {
        assert_eq!(parse("").unwrap(), HookEvent::default());
        assert_eq!(parse(" \n").unwrap(), HookEvent::default());
        assert_eq!(parse("{}").unwrap(), HookEvent::default());
    }

    #[test]
    fn malformed_input_is_a_clear_error() {
        assert!(parse("{not json").unwrap_err().0.contains("not valid JSON"));
        assert!(parse("[1]")
            .unwrap_err()
            .0
            .contains("must be a JSON object, got an array"));
        assert!(parse(r#"{"cwd": 3}"#)
            .unwrap_err()
            .0
            .contains("'cwd' must be a string"));
        assert!(parse(r#"{"stop_hook_active": "yes"}"#)
            .unwrap_err()
            .0
            .contains("stop_hook_active"));
    }
}
