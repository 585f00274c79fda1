//! One `tools/call`: its arguments checked ([`super::args`]; a bad one is
//! a JSON-RPC invalid-params error naming it), the tool run on the library
//! in one [`Transaction`] ([`super::run`]), and its answer as the result.
//! What the library refuses — governance, an unknown item, the
//! unread-message gate — is a result with `isError: true`: the error's
//! message naming the tool's argument, its hint, and its kind's code.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Map, Value};

use super::args;
use super::rpc::RpcError;
use super::run::{run, Notes, Reply};
use super::tools::{find, Tool, TOOLS};
use super::Session;
use crate::actions::Transaction;
use crate::error::{Error, Result};

/// The tool argument a request field is (errors about a field name it so):
/// the actions' `item` is the tools' `id`; every other field has its name.
pub fn argument(field: &str) -> String {
    match field {
        "item" => "id".into(),
        f => f.into(),
    }
}

/// An error as the tool result's text: `error: …` naming the tool's
/// argument, then `hint: …`.
pub fn error_text(e: &Error) -> String {
    let message = e.text(argument);
    match &e.hint {
        Some(hint) => format!("error: {message}\nhint: {hint}"),
        None => format!("error: {message}"),
    }
}

/// `tools/call`: runs the tool and answers its result.
pub fn call(
    session: &Session,
    name: &str,
    arguments: &Map<String, Value>,
    structured: bool,
) -> Result<Value, RpcError> {
    let Some(tool) = find(name) else {
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        return Err(RpcError::invalid_params(format!(
            "unknown tool '{name}' (tools: {})",
            names.join(", ")
        )));
    };
    let args = args::check(tool, arguments)?;
    let mut notes = Notes::default();
    // A panic fails this call only; the server goes on.
    let answer = catch_unwind(AssertUnwindSafe(|| {
        let tracker = session.open()?;
        let mut tx = Transaction::new(&tracker, session.auto_sync);
        let answer = run(tool.name, &mut tx, &args, &mut notes);
        // The library's warnings come first, before the tool's own notes.
        let mut first = Notes::default();
        for w in tracker.take_warnings() {
            first.0.push_str(&w);
            first.0.push('\n');
        }
        notes.0.insert_str(0, &first.0);
        // What follows writes (tag stamps, auto-sync) follows every write
        // made, even when the tool then failed.
        for line in tx.finish().warnings {
            notes.0.push_str(&line);
            notes.0.push('\n');
        }
        answer
    }))
    .unwrap_or_else(|_| {
        Err(Error::internal(format!(
            "htrac's {} tool crashed (see the server's stderr); the server goes on",
            tool.name
        )))
    });
    Ok(result(tool, answer, notes.0.trim_end(), structured))
}

fn text(s: &str) -> Value {
    json!({"type": "text", "text": s})
}

/// A `tools/call` result: the answer as text (the CLI's `--json` output)
/// and, when `structured`, as `structuredContent`; notes as a second text;
/// `isError` when the tool failed or refused. A failure's text comes first,
/// and `_meta` names its kind (`htrac/error`: `code`, and the `argument`
/// it is about).
pub fn result(tool: &Tool, answer: Result<Reply>, notes: &str, structured: bool) -> Value {
    let mut content = Vec::new();
    let mut r = Map::new();
    match answer {
        Ok(reply) => {
            let out = if reply.pretty {
                crate::py::json::pretty(&reply.value)
            } else {
                crate::py::json::compact(&reply.value)
            };
            content.push(text(&out));
            if structured {
                match reply.value {
                    v @ Value::Object(_) => {
                        r.insert("structuredContent".into(), v);
                    }
                    v @ Value::Array(_) if !tool.wrap.is_empty() => {
                        r.insert("structuredContent".into(), json!({ tool.wrap: v }));
                    }
                    _ => {}
                }
            }
            if reply.refused {
                r.insert("isError".into(), json!(true));
            }
        }
        Err(e) => {
            content.push(text(&error_text(&e)));
            let mut about = Map::new();
            about.insert("code".into(), json!(e.kind.code()));
            if let Some(f) = e.field {
                about.insert("argument".into(), json!(argument(f)));
            }
            r.insert("_meta".into(), json!({"htrac/error": about}));
            r.insert("isError".into(), json!(true));
        }
    }
    if !notes.is_empty() {
        content.push(text(notes));
    }
    r.insert("content".into(), Value::Array(content));
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn answers_are_the_cli_s_json_and_arrays_are_wrapped() {
        let list = find("list").unwrap();
        let reply = Reply {
            value: json!([{"id": "WI-a"}]),
            pretty: true,
            refused: false,
        };
        let r = result(list, Ok(reply), "warning: torn", true);
        assert_eq!(r["structuredContent"], json!({"items": [{"id": "WI-a"}]}));
        assert_eq!(
            r["content"][0]["text"],
            "[\n  {\n    \"id\": \"WI-a\"\n  }\n]"
        );
        assert_eq!(r["content"][1]["text"], "warning: torn");
        assert!(r.get("isError").is_none());
        let count = find("count_todos").unwrap();
        let reply = Reply {
            value: json!({"count": 2}),
            pretty: false,
            refused: false,
        };
        let r = result(count, Ok(reply), "", false);
        assert_eq!(
            r["content"],
            json!([{"type": "text", "text": "{\"count\": 2}"}])
        );
        assert!(r.get("structuredContent").is_none());
    }

    /// Every kind of library error is a tool error (never a protocol
    /// error) whose code comes from the kind, whatever the message says.
    #[test]
    fn every_error_kind_is_a_tool_error_with_its_code() {
        let show = find("show").unwrap();
        for kind in ErrorKind::ALL {
            let e = Error::new(kind, "Field 'status' on WI-x is locked").with_hint("ask");
            let r = result(show, Err(e), "warning: w", true);
            assert_eq!(r["isError"], true, "{kind:?}");
            assert_eq!(r["_meta"]["htrac/error"]["code"], kind.code(), "{kind:?}");
            assert_eq!(
                r["content"],
                json!([
                    {"type": "text", "text": "error: Field 'status' on WI-x is locked\nhint: ask"},
                    {"type": "text", "text": "warning: w"},
                ])
            );
            assert!(r.get("structuredContent").is_none());
        }
    }

    #[test]
    fn errors_name_the_tool_s_argument() {
        let update = find("update").unwrap();
        for (field, named) in [
            ("item", "id"),
            ("add_blocked_by", "add_blocked_by"),
            ("parent", "parent"),
        ] {
            let e = Error::user("points at a stealth item").on_field(field);
            let r = result(update, Err(e), "", true);
            assert_eq!(
                r["content"][0]["text"],
                format!("error: {named} points at a stealth item")
            );
            assert_eq!(r["_meta"]["htrac/error"]["argument"], named);
            assert_eq!(r["_meta"]["htrac/error"]["code"], "invalid_field");
        }
    }
}
