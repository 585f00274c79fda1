//! One `tools/call`: its arguments checked against the tool's table entry
//! (a bad one is a JSON-RPC invalid-params error naming it) and turned into
//! the htrac command line it runs; the command's output as the result. What
//! the command refuses — governance, an unknown item, the unread-message
//! gate — is a result with `isError: true` and the command's own message.

use serde_json::{json, Map, Value};

use super::rpc::RpcError;
use super::tools::{find, To, Tool, Ty, TOOLS};
use super::{Run, Runner};

fn bad(tool: &Tool, why: String) -> RpcError {
    RpcError::invalid_params(format!(
        "invalid params for tool '{}': {why} (see its inputSchema in tools/list)",
        tool.name
    ))
}

/// The command line (after the program name) a call runs: `COMMAND --json
/// FLAGS... -- POSITIONALS...`, flag values as `--flag=value` so that no
/// value is ever read as a flag.
pub fn argv(tool: &Tool, args: &Map<String, Value>) -> Result<Vec<String>, RpcError> {
    if let Some(k) = args
        .keys()
        .find(|k| !tool.params.iter().any(|p| p.name == *k))
    {
        let known: Vec<&str> = tool.params.iter().map(|p| p.name).collect();
        return Err(bad(
            tool,
            format!(
                "unknown argument '{k}' (arguments: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    let mut line = vec![tool.command.to_string(), "--json".to_string()];
    let mut positionals = Vec::new();
    for p in tool.params {
        let v = match args.get(p.name) {
            None | Some(Value::Null) if p.required => {
                return Err(bad(tool, format!("'{}' is required: {}", p.name, p.help)))
            }
            None | Some(Value::Null) => continue,
            Some(v) => v,
        };
        let values: Vec<String> = match (p.ty, v) {
            (Ty::Str, Value::String(s)) => vec![s.clone()],
            (Ty::OneOf(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => {
                vec![s.clone()]
            }
            (Ty::OneOf(allowed), _) => {
                return Err(bad(
                    tool,
                    format!("'{}' must be one of {}", p.name, allowed.join(", ")),
                ))
            }
            (Ty::Int, Value::Number(n)) if n.is_i64() => vec![n.to_string()],
            (Ty::Bool, Value::Bool(b)) => {
                if !b {
                    continue;
                }
                vec![String::new()]
            }
            (Ty::Strs, Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect(),
            (Ty::Fields, Value::Object(m)) => {
                let mut out = Vec::new();
                for (k, v) in m {
                    let Value::String(s) = v else {
                        return Err(bad(tool, format!("'{}.{k}' must be a string", p.name)));
                    };
                    if k.is_empty() || k.contains('=') {
                        return Err(bad(
                            tool,
                            format!(
                                "'{}' has a bad field name '{k}' (empty or with '=')",
                                p.name
                            ),
                        ));
                    }
                    out.push(format!("{k}={s}"));
                }
                out
            }
            (ty, _) => {
                let want = match ty {
                    Ty::Str | Ty::OneOf(_) => "a string",
                    Ty::Int => "an integer",
                    Ty::Bool => "true or false",
                    Ty::Strs => "an array of strings",
                    Ty::Fields => "an object of string values",
                };
                return Err(bad(tool, format!("'{}' must be {want}, got {v}", p.name)));
            }
        };
        match p.to {
            To::Arg => positionals.extend(values),
            To::Flag(flag) => {
                for v in values {
                    line.push(match p.ty {
                        Ty::Bool => format!("--{flag}"),
                        _ => format!("--{flag}={v}"),
                    });
                }
            }
        }
    }
    line.push("--".to_string());
    line.extend(positionals);
    Ok(line)
}

/// `tools/call`: runs the tool's command line and answers its output.
pub fn call(
    runner: &mut dyn Runner,
    name: &str,
    args: &Map<String, Value>,
    structured: bool,
) -> Result<Value, RpcError> {
    let Some(tool) = find(name) else {
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        return Err(RpcError::invalid_params(format!(
            "unknown tool '{name}' (tools: {})",
            names.join(", ")
        )));
    };
    let line = argv(tool, args)?;
    Ok(result(tool, &runner.run(&line), structured))
}

fn text(s: &str) -> Value {
    json!({"type": "text", "text": s})
}

/// A `tools/call` result: the command's output as text (and, when
/// `structured`, as `structuredContent`), its notes or error as a second
/// text, and `isError` when the command failed or refused.
pub fn result(tool: &Tool, run: &Run, structured: bool) -> Value {
    let out = run.stdout.trim_end();
    let notes = in_tool_terms(tool, run.stderr.trim_end());
    let notes = notes.as_str();
    let mut content = Vec::new();
    if !out.is_empty() {
        content.push(text(out));
    }
    if !notes.is_empty() {
        content.push(text(notes));
    }
    if content.is_empty() {
        content.push(text(if run.ok { "ok" } else { "failed" }));
    }
    let mut r = json!({ "content": content });
    if structured {
        match serde_json::from_str::<Value>(out) {
            Ok(v @ Value::Object(_)) => r["structuredContent"] = v,
            Ok(v @ Value::Array(_)) if !tool.wrap.is_empty() => {
                r["structuredContent"] = json!({ tool.wrap: v })
            }
            _ => {}
        }
    }
    if !run.ok {
        r["isError"] = json!(true);
    }
    r
}

/// The CLI's notes and hints with each of the tool's flags named as the
/// argument an MCP client passes: `re-run with --ack-thread` becomes
/// `re-run with ack_thread: true`.
fn in_tool_terms(tool: &Tool, text: &str) -> String {
    let mut flags: Vec<(&str, String)> = tool
        .params
        .iter()
        .filter_map(|p| match p.to {
            To::Flag(f) => Some((
                f,
                if matches!(p.ty, Ty::Bool) {
                    format!("{}: true", p.name)
                } else {
                    p.name.to_string()
                },
            )),
            To::Arg => None,
        })
        .collect();
    // Longer flags first, so `--tags` is never read as `--tag` + "s".
    flags.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let hit = flags.iter().find(|(f, _)| {
            after.starts_with(f)
                && !after[f.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
        });
        match hit {
            Some((f, name)) => {
                out.push_str(name);
                rest = &after[f.len()..];
            }
            None => {
                out.push_str("--");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arguments_become_a_command_line() {
        let update = find("update").unwrap();
        let line = argv(
            update,
            &args(json!({"id": "--x", "status": "-done", "priority": 1, "add_tags": ["a", "b"], "fields": {"k": "v=w"}, "force_field_key": false})),
        )
        .unwrap();
        assert_eq!(
            line,
            [
                "update",
                "--json",
                "--status=-done",
                "--priority=1",
                "--add-tag=a",
                "--add-tag=b",
                "--field=k=v=w",
                "--",
                "--x"
            ]
        );
    }

    #[test]
    fn bad_arguments_are_invalid_params() {
        let add = find("add").unwrap();
        for (a, needle) in [
            (json!({"title": "t"}), "'kind' is required"),
            (
                json!({"kind": "work_item", "title": 3}),
                "'title' must be a string",
            ),
            (
                json!({"kind": "k", "title": "t", "priority": "1"}),
                "an integer",
            ),
            (
                json!({"kind": "k", "title": "t", "tags": "x"}),
                "an array of strings",
            ),
            (
                json!({"kind": "k", "title": "t", "tier": "moon"}),
                "one of canonical",
            ),
            (
                json!({"kind": "k", "title": "t", "colour": "red"}),
                "unknown argument 'colour'",
            ),
            (
                json!({"kind": "k", "title": "t", "fields": {"a=b": "c"}}),
                "bad field name",
            ),
        ] {
            let e = argv(add, &args(a)).unwrap_err();
            assert_eq!(e.code, super::super::rpc::INVALID_PARAMS);
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

    #[test]
    fn failures_are_tool_errors_and_arrays_are_wrapped() {
        let list = find("list").unwrap();
        let r = result(
            list,
            &Run {
                ok: true,
                stdout: "[{\"id\": \"WI-a\"}]\n".into(),
                stderr: String::new(),
            },
            true,
        );
        assert_eq!(r["structuredContent"], json!({"items": [{"id": "WI-a"}]}));
        assert_eq!(r["content"][0]["text"], "[{\"id\": \"WI-a\"}]");
        assert!(r.get("isError").is_none());
        let r = result(
            list,
            &Run {
                ok: false,
                stdout: String::new(),
                stderr: "error: no\nhint: yes\n".into(),
            },
            true,
        );
        assert_eq!(r["isError"], true);
        assert_eq!(
            r["content"],
            json!([{"type": "text", "text": "error: no\nhint: yes"}])
        );
        assert!(r.get("structuredContent").is_none());
    }

    #[test]
    fn hints_name_the_tool_s_arguments_not_the_cli_s_flags() {
        let discuss = find("discuss").unwrap();
        let r = result(
            discuss,
            &Run {
                ok: false,
                stdout: String::new(),
                stderr: "unread: re-run with --ack-thread, or --ack-threads, --json\n".into(),
            },
            true,
        );
        assert_eq!(
            r["content"][0]["text"],
            "unread: re-run with ack_thread: true, or --ack-threads, --json"
        );
    }
}
