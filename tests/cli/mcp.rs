//! `htrac mcp` through a real stdio session with a spawned server:
//! initialize, tools/list, every tool (answering exactly what the CLI's
//! `--json` answers), malformed input, unknown methods, invalid params,
//! governance refusals as tool errors — and the server keeps serving after
//! every one of them, then exits 0 at end of input.

use crate::common::mcp::{become_agent, cli, Session};
use crate::common::{self, Env};
use serde_json::{json, Value};

#[test]
fn every_tool_answers_what_the_cli_answers() {
    let env = Env::new();
    let a = env.add("first", &["--priority", "1", "--tag", "ci"]);
    let b = env.add("second", &["--isbefore", &a]);
    env.run(&["discuss", &b, "a human note"]).ok();
    let mut s = Session::start(&env);

    let init = s.initialize();
    let r = &init["result"];
    assert_eq!(r["protocolVersion"], "2025-06-18");
    assert_eq!(r["capabilities"]["tools"], json!({"listChanged": false}));
    assert_eq!(r["serverInfo"]["name"], "htrac");
    // The instructions are the session briefing.
    assert_eq!(r["instructions"], env.run(&["prime"]).ok().stdout);

    let tools = s.request("tools/list", json!({}))["result"]["tools"].clone();
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "prime",
            "ready",
            "list",
            "show",
            "add",
            "update",
            "claim",
            "release",
            "discuss",
            "deps",
            "check_messages",
            "count_todos"
        ]
    );
    for t in tools.as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
        assert!(!t["description"].as_str().unwrap().is_empty());
    }
    let update = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "update")
        .unwrap();
    assert_eq!(update["inputSchema"]["required"], json!(["id"]));
    assert_eq!(
        update["inputSchema"]["properties"]["priority"]["type"],
        "integer"
    );
    assert_eq!(
        update["inputSchema"]["properties"]["add_tags"]["items"]["type"],
        "string"
    );

    // Read tools: the CLI's output, byte for byte, and as structured content.
    let (text, r) = s.ok("ready", json!({"limit": 1}));
    assert_eq!(text, cli(&env, &["ready", "--limit", "1"]));
    assert_eq!(
        r["structuredContent"],
        serde_json::from_str::<Value>(&text).unwrap()
    );
    let (text, r) = s.ok("list", json!({"status": ["todo_hard"], "tag": "ci"}));
    assert_eq!(
        text,
        cli(&env, &["list", "--status", "todo_hard", "--tag", "ci"])
    );
    assert_eq!(r["structuredContent"]["items"][0]["id"], a.as_str());
    let (text, _) = s.ok("show", json!({"id": &a[..6]}));
    assert_eq!(text, cli(&env, &["show", &a]));
    let (text, _) = s.ok("deps", json!({"id": a}));
    assert_eq!(text, cli(&env, &["deps", &a]));
    let (text, r) = s.ok("deps", json!({"graph": true}));
    assert_eq!(text, cli(&env, &["deps", "--graph"]));
    assert!(r["structuredContent"]["nodes"].is_array());
    let (text, r) = s.ok("check_messages", json!({}));
    assert_eq!(text, cli(&env, &["check-messages"]));
    assert_eq!(r["structuredContent"]["items"][0]["id"], b.as_str());
    let (text, r) = s.ok("count_todos", json!({"hard": true}));
    assert_eq!(text, cli(&env, &["count-todos", "--hard"]));
    assert_eq!(r["structuredContent"], json!({"count": 2}));
    let (text, r) = s.ok("prime", json!({}));
    assert_eq!(text, cli(&env, &["prime"]));
    assert_eq!(r["structuredContent"]["ready_total"], 1);

    // Writes: values that look like flags stay values.
    let (_, r) = s.ok(
        "add",
        json!({"kind": "work_item", "title": "--not-a-flag", "priority": 0, "tags": ["mcp", "x"], "fields": {"owner": "-amy"}, "description": "line 1\nline 2"}),
    );
    let c = r["structuredContent"]["id"].as_str().unwrap().to_string();
    let shown: Value = serde_json::from_str(&cli(&env, &["show", &c])).unwrap();
    assert_eq!(shown["title"], "--not-a-flag");
    assert_eq!(shown["priority"], 0);
    assert_eq!(shown["tags"], json!(["mcp", "x"]));
    assert_eq!(shown["fields"], json!({"owner": "-amy"}));
    assert_eq!(shown["description"], "line 1\nline 2");

    let (_, r) = s.ok(
        "update",
        json!({"id": c, "status": "in_progress", "add_tags": ["y"], "remove_tags": ["x"], "add_blocked_by": [a], "note": "on it"}),
    );
    assert_eq!(r["structuredContent"]["ok"], true);
    let fields: Vec<&str> = r["structuredContent"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"status") && fields.contains(&"blocked-by"),
        "{r}"
    );
    let shown: Value = serde_json::from_str(&cli(&env, &["show", &c])).unwrap();
    assert_eq!(shown["status"], "in_progress");
    assert_eq!(shown["tags"], json!(["mcp", "y"]));
    assert_eq!(shown["discussion"][0]["message"], "on it");

    // As the human here, the note above is an unread human message: acknowledged.
    let (text, _) = s.ok(
        "discuss",
        json!({"id": c, "message": "-- progress", "ack_thread": true}),
    );
    assert_eq!(text, r#"{"ok": true}"#);
    let (text, r) = s.ok("discuss", json!({"id": c}));
    assert_eq!(text, cli(&env, &["discuss", &c]));
    assert_eq!(
        r["structuredContent"]["discussion"][1]["message"],
        "-- progress"
    );
    s.finish();
}

#[test]
fn malformed_input_and_bad_calls_never_stop_the_server() {
    let env = Env::new();
    let a = env.add("something", &[]);
    let mut s = Session::start(&env);
    s.initialize();

    assert_eq!(s.error_code("{not json"), -32700);
    s.still_serving();
    assert_eq!(s.error_code("[1, 2"), -32700);
    assert_eq!(s.error_code("42"), -32600);
    assert_eq!(s.error_code(r#"{"id": 1, "method": "ping"}"#), -32600);
    assert_eq!(s.error_code(r#"{"jsonrpc": "2.0", "id": 2}"#), -32600);
    assert_eq!(
        s.error_code(r#"{"jsonrpc": "2.0", "id": {}, "method": "ping"}"#),
        -32600
    );
    // No batches in 2025-06-18.
    assert_eq!(
        s.error_code(r#"[{"jsonrpc": "2.0", "id": 3, "method": "ping"}]"#),
        -32600
    );
    s.still_serving();

    let r = s.request("resources/list", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tools/call"));
    // Unknown notifications get no answer: the next line is the ping's.
    s.send(r#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#);
    s.still_serving();

    for (params, needle) in [
        (json!({"arguments": {}}), "params.name"),
        (json!({"name": "fly"}), "unknown tool 'fly'"),
        (json!({"name": "show", "arguments": {}}), "'id' is required"),
        (
            json!({"name": "show", "arguments": []}),
            "must be an object",
        ),
        (
            json!({"name": "ready", "arguments": {"limit": "3"}}),
            "'limit' must be an integer",
        ),
        (
            json!({"name": "update", "arguments": {"id": a, "colour": "red"}}),
            "unknown argument 'colour'",
        ),
        (
            json!({"name": "list", "arguments": {"tier": "moon"}}),
            "one of canonical",
        ),
    ] {
        let r = s.request("tools/call", params);
        assert_eq!(r["error"]["code"], -32602, "{r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{msg}");
    }
    assert_eq!(
        s.error_code(r#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{}}"#),
        -32602
    );
    s.still_serving();

    // What the command refuses is a tool error with its message and hint.
    let r = s.call("show", json!({"id": "nosuchitem"}));
    assert_eq!(r["isError"], true);
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("error: No items match prefix: nosuchitem\nhint: "),
        "{text}"
    );
    let r = s.call("update", json!({"id": a, "priority": 9}));
    assert_eq!(r["isError"], true, "{r}");
    let r = s.call("add", json!({"kind": "no_such_kind", "title": "t"}));
    assert_eq!(r["isError"], true, "{r}");
    s.still_serving();

    // A message longer than the limit is skipped with an error.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":"{}"}}}}"#,
        "a".repeat(htrac::mcp::rpc::MAX_MESSAGE)
    );
    assert_eq!(s.error_code(&huge), -32600);
    s.still_serving();
    // Bytes that are not UTF-8.
    s.send_bytes(b"\xff\xfe\n");
    assert_eq!(s.read()["error"]["code"], -32700);
    s.still_serving();
    s.finish();
}

#[test]
fn an_older_client_gets_its_version_and_no_structured_output() {
    let env = Env::new();
    env.add("x", &[]);
    let mut s = Session::start(&env);
    let r = s.request("initialize", json!({"protocolVersion": "2025-03-26"}));
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    let tools = s.request("tools/list", json!({}))["result"]["tools"].clone();
    assert!(tools[0].get("outputSchema").is_none());
    let (_, r) = s.ok("count_todos", json!({}));
    assert!(r.get("structuredContent").is_none());
    // Batches are part of 2025-03-26.
    let r = s.raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]"#);
    assert_eq!(r, json!([{"jsonrpc": "2.0", "id": 1, "result": {}}]));
    let r = s.request("initialize", json!({"protocolVersion": "2099-01-01"}));
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
    s.finish();
}

#[test]
fn governance_refusals_are_tool_errors_the_agent_can_act_on() {
    let env = Env::new();
    // The human (amy) locked one item and asked on another; the user
    // running the tests then becomes the agent (its own earlier ops would
    // count as the agent's too, so amy's are written as they sit on disk).
    let locked = env.add("locked by the human", &[]);
    let at = "2026-11-24T19:41:13Z";
    common::append_raw(
        &env.workspace_ops(&locked),
        &common::op_text("lock", at, "human", "amy", 2, "a1a1", &["lock: [status]"]),
    );
    let asked = env.add("asked by the human", &[]);
    common::append_raw(
        &env.workspace_ops(&asked),
        &common::op_text(
            "discuss",
            at,
            "human",
            "amy",
            2,
            "b2b2",
            &["message: \"please explain\""],
        ),
    );
    become_agent(&env);
    let mut s = Session::start(&env);
    s.initialize();
    let (_, r) = s.ok("prime", json!({}));
    assert_eq!(r["structuredContent"]["actor"]["role"], "agent");
    assert_eq!(r["structuredContent"]["locked"][0]["id"], locked.as_str());

    let before = env.tree();
    let r = s.call("update", json!({"id": locked, "status": "done"}));
    assert_eq!(r["isError"], true, "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Field 'status'") && text.contains("is locked"),
        "{text}"
    );
    assert!(text.contains("Ask the human to unlock it"), "{text}");
    let r = s.call("update", json!({"id": asked, "status": "deleted"}));
    assert_eq!(r["isError"], true, "{r}");
    assert!(r["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("requires human authority"));
    let r = s.call("discuss", json!({"id": asked, "clear": true}));
    assert_eq!(r["isError"], true, "{r}");
    assert_eq!(env.tree(), before, "a refused call changes nothing");

    // The unread-message gate: refused with the messages, then acknowledged.
    let r = s.call("discuss", json!({"id": asked, "message": "here is why"}));
    assert_eq!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["reason"], "unread_human_messages");
    assert_eq!(
        r["structuredContent"]["unread"][0]["message"],
        "please explain"
    );
    // The notice names the tool's argument, not the CLI flag.
    let notice = r["content"][1]["text"].as_str().unwrap();
    assert!(notice.contains("re-run with ack_thread: true"), "{notice}");
    assert!(!notice.contains("--ack-thread"), "{notice}");
    assert_eq!(env.tree(), before);
    let (_, r) = s.ok(
        "discuss",
        json!({"id": asked, "message": "here is why", "ack_thread": true}),
    );
    assert_eq!(r["structuredContent"], json!({"ok": true}));
    let shown: Value = serde_json::from_str(&cli(&env, &["show", &asked])).unwrap();
    assert_eq!(shown["discussion"][1]["by"], "agent");
    // Unlocked fields are still the agent's to change.
    s.ok("update", json!({"id": locked, "priority": 1}));
    s.finish();
}

/// The library never prints: its warnings travel in results, so an MCP
/// client sees them in the tool result (they used to go to the server's
/// stderr, which no client reads).
#[test]
fn library_warnings_reach_the_tool_result() {
    let env = Env::new();
    let id = env.add("torn later", &[]);
    // A crash mid-append: a torn last op, which readers skip with a warning.
    common::append_raw(&env.workspace_ops(&id), "- op: update  # dead\n  at: '2026");
    let mut s = Session::start(&env);
    s.initialize();
    let (_, r) = s.ok("show", json!({"id": id}));
    let notes = r["content"][1]["text"].as_str().unwrap_or_default();
    assert!(notes.contains("warning:") && notes.contains("torn"), "{r}");
    s.finish();
}

/// A rule lives once, in the library: MCP is refused a link from a synced
/// item into stealth as the CLI is, and nothing is written.
#[test]
fn the_stealth_link_rule_holds_for_mcp_as_for_the_cli() {
    let env = Env::new();
    let hidden = env.add("hidden", &[]);
    env.run(&["stealth", &hidden]).ok();
    let open = env.add("open", &[]);
    let before = env.tree();
    let cli_err = env
        .run(&["update", &open, "--parent", &hidden])
        .fails(1)
        .stderr;
    assert!(cli_err.contains("points at a stealth item"), "{cli_err}");
    let mut s = Session::start(&env);
    s.initialize();
    let r = s.call("update", json!({"id": open, "parent": hidden}));
    assert_eq!(r["isError"], true, "{r}");
    assert!(r.to_string().contains("points at a stealth item"), "{r}");
    assert_eq!(env.tree(), before);
    s.finish();
}
