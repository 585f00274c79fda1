//! `htrac mcp` through a real stdio session with a spawned server:
//! initialize, tools/list, every tool (answering exactly what the CLI's
//! `--json` answers), malformed input, unknown methods, invalid params,
//! governance refusals as tool errors — and the server keeps serving after
//! every one of them, then exits 0 at end of input.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::Env;
use serde_json::{json, Value};

struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next: i64,
}

impl Session {
    fn start(env: &Env) -> Session {
        let mut child = env
            .command(&["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Session {
            child,
            stdin,
            stdout,
            next: 100,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "the server closed: {line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Sends a raw line and reads the one reply.
    fn raw(&mut self, line: &str) -> Value {
        self.send(line);
        self.read()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let r = self.raw(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        assert_eq!(r["id"], id, "{r}");
        r
    }

    fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(r.get("error").is_none(), "{r}");
        r["result"].clone()
    }

    /// A call that must succeed: its text output.
    fn ok(&mut self, tool: &str, args: Value) -> (String, Value) {
        let r = self.call(tool, args);
        assert!(r.get("isError").is_none(), "{r}");
        let text = r["content"][0]["text"].as_str().unwrap().to_string();
        (text, r)
    }

    fn error_code(&mut self, line: &str) -> i64 {
        let r = self.raw(line);
        r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{r}"))
    }

    fn still_serving(&mut self) {
        let r = self.request("ping", json!({}));
        assert_eq!(r["result"], json!({}), "{r}");
    }

    fn initialize(&mut self) -> Value {
        let r = self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
        );
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        r
    }

    /// Closes stdin; the server must exit 0.
    fn finish(mut self) {
        drop(self.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        assert_eq!(rest, "", "nothing more after the last reply");
        assert!(self.child.wait().unwrap().success());
    }
}

/// The CLI's `--json` output for `args`, trimmed.
fn cli(env: &Env, args: &[&str]) -> String {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    env.run(&a).ok().stdout.trim_end().to_string()
}

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
    s.stdin.as_mut().unwrap().write_all(b"\xff\xfe\n").unwrap();
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

/// Makes the user running the tests an agent (their name as the only agent pattern).
fn become_agent(env: &Env) {
    let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    let config = env.root().join("tracker/config.yaml");
    let template =
        std::fs::read_to_string(env.root().join("tracker/config.yaml.template")).unwrap();
    let text = template.replace("\"*_agent\"", &format!("\"{}\"", me.trim()));
    assert_ne!(text, template);
    if config.exists() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&config, text).unwrap();
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
