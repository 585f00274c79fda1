//! `htrac mcp`'s results against what it promises: every structured
//! result matches the `outputSchema` its tool declares, and each kind of
//! library error a tool meets is a tool error with its kind's code, an
//! error about one argument naming it as the tool does.

use crate::common::mcp::{become_agent, Session};
use crate::common::{self, Env};
use serde_json::{json, Value};

/// Whether `v` fits `schema` as far as the output schemas go: an object's
/// required keys and the JSON type of each declared property.
fn fits(schema: &Value, v: &Value) -> Result<(), String> {
    let ty = schema["type"].as_str().unwrap_or("");
    let ok = match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        _ => true,
    };
    if !ok {
        return Err(format!("{v} is not of type {ty}"));
    }
    if let Some(req) = schema["required"].as_array() {
        for k in req {
            let k = k.as_str().unwrap();
            if v.get(k).is_none() {
                return Err(format!("{v} lacks required '{k}'"));
            }
        }
    }
    if let Some(props) = schema["properties"].as_object() {
        for (k, s) in props {
            if let Some(x) = v.get(k) {
                fits(s, x).map_err(|e| format!("{k}: {e}"))?;
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for x in arr {
            fits(items, x)?;
        }
    }
    Ok(())
}

/// Every tool's structured result, successful or the gate's refusal,
/// matches the `outputSchema` it declares.
#[test]
fn every_structured_result_matches_its_output_schema() {
    let env = Env::new();
    let a = env.add("first", &["--tag", "ci"]);
    let b = env.add("second", &["--isbefore", &a]);
    env.run(&["discuss", &b, "a human note"]).ok();
    let mut s = Session::start(&env);
    s.initialize();
    let tools = s.request("tools/list", json!({}))["result"]["tools"].clone();
    let schema = |name: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["outputSchema"]
            .clone()
    };
    let calls = [
        ("prime", json!({})),
        ("ready", json!({})),
        ("list", json!({"open": true})),
        ("show", json!({"id": a})),
        ("deps", json!({"id": a})),
        ("deps", json!({"graph": true})),
        ("check_messages", json!({})),
        ("count_todos", json!({})),
        ("add", json!({"kind": "work_item", "title": "third"})),
        ("update", json!({"id": a, "priority": 1})),
        ("update", json!({"id": a})),
        ("claim", json!({"id": a})),
        ("claim", json!({"id": a, "lease": "2h"})),
        ("release", json!({"id": a})),
        ("claim", json!({})),
        ("discuss", json!({"id": b})),
        ("discuss", json!({"id": b, "message": "reply"})),
        (
            "discuss",
            json!({"id": b, "message": "reply", "ack_thread": true}),
        ),
    ];
    let mut names = Vec::new();
    for (name, args) in calls {
        let r = s.call(name, args.clone());
        let out = &r["structuredContent"];
        assert!(out.is_object(), "{name} {args}: {r}");
        if let Err(e) = fits(&schema(name), out) {
            panic!("{name} {args}: {e}\n{r}");
        }
        names.push(name);
    }
    for t in tools.as_array().unwrap() {
        assert!(names.contains(&t["name"].as_str().unwrap()), "{t}");
    }
    s.finish();
}

/// The `error: ...` text of a refused call, and its `_meta` code and argument.
fn refused(s: &mut Session, tool: &str, args: Value) -> (String, String, Option<String>) {
    let r = s.call(tool, args.clone());
    assert_eq!(r["isError"], true, "{tool} {args}: {r}");
    let text = r["content"][0]["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("error: "), "{text}");
    let about = &r["_meta"]["htrac/error"];
    let code = about["code"].as_str().unwrap_or_else(|| panic!("{r}"));
    let argument = about["argument"].as_str().map(str::to_string);
    (text, code.to_string(), argument)
}

/// Each kind of library error the tools can meet is a tool error with its
/// kind's code, and an error about one argument names it as the tool does.
#[test]
fn every_kind_of_refusal_is_a_tool_error_with_its_code_and_argument() {
    let env = Env::new();
    let a = env.add("plain", &[]);
    let b = env.add("other", &[]);
    let frozen = env.add("frozen by the human", &[]);
    env.run(&["freeze", &frozen]).ok();
    let locked = env.add("locked by the human", &[]);
    common::append_raw(
        &env.workspace_ops(&locked),
        &common::op_text(
            "lock",
            "2026-11-24T19:41:13Z",
            "human",
            "amy",
            2,
            "a1a1",
            &["lock: [title]"],
        ),
    );
    let broken = env.add("broken", &[]);
    std::fs::write(env.workspace_ops(&broken), "- op: [unclosed\n").unwrap();
    let mut s = Session::start(&env);
    s.initialize();

    let (text, code, arg) = refused(&mut s, "show", json!({"id": "nosuchitem"}));
    assert_eq!((code.as_str(), arg), ("not_found", None), "{text}");
    // The two items' IDs share their kind's prefix.
    let common_prefix: String = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    let (text, code, _) = refused(&mut s, "show", json!({"id": common_prefix}));
    assert_eq!(code, "ambiguous", "{text}");
    let (text, code, _) = refused(&mut s, "show", json!({"id": broken}));
    assert_eq!(code, "corrupt", "{text}");
    let (text, code, _) = refused(&mut s, "update", json!({"id": a, "priority": 9}));
    assert_eq!(code, "invalid_field", "{text}");

    // Errors about one argument name it as the tool's argument.
    for (tool, args, argument, start) in [
        (
            "update",
            json!({"id": a, "parent": "nosuchitem"}),
            "parent",
            "error: parent nosuchitem: No items match",
        ),
        (
            "update",
            json!({"id": a, "add_blocked_by": ["nosuchitem"]}),
            "add_blocked_by",
            "error: add_blocked_by nosuchitem:",
        ),
        (
            "update",
            json!({"id": a, "title": "  "}),
            "title",
            "error: title must not be empty",
        ),
        (
            "ready",
            json!({"limit": -1}),
            "limit",
            "error: limit must be positive, got -1",
        ),
        (
            "add",
            json!({"kind": "work_item", "title": "t", "fields": {"status": "done"}}),
            "fields",
            "error: fields cannot hold 'status': it is a core attribute",
        ),
        (
            "discuss",
            json!({"id": a, "message": " \n"}),
            "message",
            "error: message must not be empty",
        ),
        (
            "deps",
            json!({"id": a, "graph": true}),
            "graph",
            "error: graph is not taken with id",
        ),
        (
            "deps",
            json!({}),
            "id",
            "error: id is needed (or graph: true",
        ),
    ] {
        let (text, code, arg) = refused(&mut s, tool, args);
        assert_eq!(code, "invalid_field", "{text}");
        assert_eq!(arg.as_deref(), Some(argument), "{text}");
        assert!(text.starts_with(start), "{text}");
        assert!(!text.contains("--"), "no CLI flag: {text}");
    }
    s.finish();

    become_agent(&env);
    let before = env.tree();
    let mut s = Session::start(&env);
    s.initialize();
    let (text, code, _) = refused(&mut s, "update", json!({"id": a, "status": "deleted"}));
    assert_eq!(code, "human_required", "{text}");
    let (text, code, _) = refused(&mut s, "update", json!({"id": locked, "title": "x"}));
    assert_eq!(code, "locked", "{text}");
    let (text, code, _) = refused(&mut s, "update", json!({"id": frozen, "priority": 1}));
    assert_eq!(code, "frozen", "{text}");
    assert_eq!(env.tree(), before, "a refused call changes nothing");
    s.finish();
}
