//! One rule, every front end: the same change made through the command
//! line, htrac-serve's API (in process, as its routes call it) and the MCP
//! server (a spawned `htrac mcp`) has the same effects — auto-sync runs
//! after the write and pushes it, the tag catalog's `last_used` is stamped,
//! the stealth rule refuses a link into stealth, and an agent's refusals
//! (human-only status, locked field) come back with the same kind and
//! message. htrac-tui's side of these rules is in `bin/htrac-tui/tests_rules.rs`.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::synchelp::{self, remote_op_count, Net};
use htrac::serve::api;
use htrac::Tracker;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Front {
    Cli,
    Api,
    Mcp,
}

const FRONTS: [Front; 3] = [Front::Cli, Front::Api, Front::Mcp];

/// A clone whose tracker auto-syncs after every write (threshold 1, from
/// its config: the API runs in this process, where no environment says so).
fn clone_syncing(net: &Net, name: &str, agents: bool) -> synchelp::Clone {
    let mut c = net.clone_named(name);
    c.env.retain(|(k, _)| k != "TRACKER_AUTO_SYNC_THRESHOLD");
    config(&c, agents);
    c
}

/// Rewrites the clone's config: auto-sync at 1 pending line and, with
/// `agents`, the OS user the tests run as an agent.
fn config(c: &synchelp::Clone, agents: bool) {
    let dir = c.path.join(".agent/tracker");
    let mut text = std::fs::read_to_string(dir.join("config.yaml.template")).unwrap();
    if agents {
        assert!(text.contains("- \"*_agent\""));
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        let me = String::from_utf8(out.stdout).unwrap();
        text = text.replace(
            "- \"*_agent\"",
            &format!("- \"*_agent\"\n    - \"{}\"", me.trim()),
        );
    }
    let path = dir.join("config.yaml");
    if path.exists() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&path, format!("{text}\nsync:\n  threshold: 1\n")).unwrap();
}

/// What a front end answered: success, the message of a refusal, and the
/// refusal's kind where the front end states one (exit code, HTTP code).
#[derive(Debug)]
struct Answer {
    ok: bool,
    message: String,
    kind: Option<String>,
}

/// `update` of `id` through `front`, with the request as MCP names it.
fn update(front: Front, c: &synchelp::Clone, id: &str, req: Value) -> Answer {
    let req = req.as_object().unwrap().clone();
    match front {
        Front::Cli => {
            let mut args = vec!["update".to_string(), id.to_string()];
            for (k, v) in &req {
                let values: Vec<String> = match v {
                    Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().into()).collect(),
                    Value::String(s) => vec![s.clone()],
                    other => vec![other.to_string()],
                };
                let flag = match k.as_str() {
                    "add_tags" => "--add-tag".to_string(),
                    k => format!("--{}", k.replace('_', "-")),
                };
                for v in values {
                    args.push(flag.clone());
                    args.push(v);
                }
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = c.command(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            let message = stderr
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("")
                .to_string();
            Answer {
                ok: out.status.success(),
                message,
                kind: out.status.code().map(|c| format!("exit {c}")),
            }
        }
        Front::Api => {
            let t = Tracker::open(&c.path.join(".agent")).unwrap();
            // The API's names: isbefore links are `add_before`.
            let mut body = serde_json::Map::new();
            for (k, v) in req {
                body.insert(k.replace("isbefore", "before"), v);
            }
            match api::dispatch(&t, "update", Some(id), &Value::Object(body)) {
                Ok(_) => Answer {
                    ok: true,
                    message: String::new(),
                    kind: None,
                },
                Err(e) => Answer {
                    ok: false,
                    message: e.message,
                    kind: Some(e.code.to_string()),
                },
            }
        }
        Front::Mcp => {
            let mut args = serde_json::Map::new();
            args.insert("id".into(), json!(id));
            args.extend(req);
            let r = mcp_call(c, "update", Value::Object(args));
            let text = r["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let message = text
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("")
                .to_string();
            Answer {
                ok: r.get("isError").is_none(),
                message,
                kind: None,
            }
        }
    }
}

/// One `tools/call` in a fresh `htrac mcp` session.
fn mcp_call(c: &synchelp::Clone, tool: &str, args: Value) -> Value {
    let mut child = c
        .command(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    writeln!(stdin, "{init}").unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, "{call}").unwrap();
    drop(stdin);
    let mut answer = Value::Null;
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["id"] == 2 {
            answer = v["result"].clone();
        }
        line.clear();
    }
    assert!(child.wait().unwrap().success());
    assert!(!answer.is_null(), "no answer to tools/call");
    answer
}

fn last_used(c: &synchelp::Clone, tag: &str) -> Option<String> {
    let catalog = htrac::items::tags::load(&c.path.join(".agent")).unwrap()?;
    catalog.get(tag)?.last_used.clone()
}

#[test]
fn every_front_end_s_write_is_auto_synced_and_stamps_its_tags() {
    for front in FRONTS {
        let net = Net::new();
        let c = clone_syncing(&net, "a", false);
        let id = c.add("item");
        let before = remote_op_count(&net);
        assert_eq!(last_used(&c, "alpha"), None, "{front:?}");
        let a = update(front, &c, &id, json!({"add_tags": ["alpha"]}));
        assert!(a.ok, "{front:?}: {a:?}");
        assert_eq!(
            remote_op_count(&net),
            before + 1,
            "{front:?}: auto-sync pushed the update"
        );
        assert!(
            last_used(&c, "alpha").is_some_and(|t| t.starts_with("20")),
            "{front:?}: the tag's last_used is stamped"
        );
    }
}

#[test]
fn every_front_end_refuses_a_link_into_stealth_naming_the_field() {
    let mut messages = Vec::new();
    for front in FRONTS {
        let net = Net::new();
        let c = clone_syncing(&net, "a", false);
        let id = c.add("item");
        let hidden = c
            .run(&[
                "add",
                "--kind",
                "work_item",
                "--title",
                "hidden",
                "--tier",
                "stealth",
            ])
            .ok()
            .stdout
            .trim()
            .to_string();
        let a = update(front, &c, &id, json!({"parent": hidden}));
        assert!(!a.ok, "{front:?}");
        assert!(
            a.message.contains("points at a stealth item"),
            "{front:?}: {a:?}"
        );
        let named = match front {
            Front::Cli => "--parent ",
            Front::Api => "'parent' ",
            Front::Mcp => "parent ",
        };
        assert!(a.message.starts_with(named), "{front:?}: {a:?}");
        match front {
            Front::Cli => assert_eq!(a.kind.as_deref(), Some("exit 1")),
            Front::Api => assert_eq!(a.kind.as_deref(), Some("invalid_field")),
            Front::Mcp => {}
        }
        let a = update(front, &c, &hidden, json!({"add_blocked_by": [id.clone()]}));
        assert!(!a.ok, "{front:?}: blocked-by into stealth");
        // Nothing was written to either item.
        let log = c.run(&["log", &id]).ok().stdout;
        assert_eq!(log.matches("- op: ").count(), 1, "{front:?}: {log}");
        messages.push(a.message.split_once(' ').map(|(_, m)| m.to_string()));
    }
    assert!(
        messages.windows(2).all(|w| w[0] == w[1]),
        "one rule, one message: {messages:?}"
    );
}

#[test]
fn every_front_end_refuses_an_agent_the_same_way() {
    for front in FRONTS {
        let net = Net::new();
        let c = clone_syncing(&net, "a", false);
        let id = c.add("item");
        // The human's lock, by a name no agent pattern matches (the tests
        // run as one OS user, which from here on is an agent's).
        let ops = c
            .path
            .join(".agent/tracker-workspace/.ops")
            .join(format!(".{id}.ops"));
        let lock: String = [
            "- op: lock",
            "  at: '2026-12-06T00:00:01Z'",
            "  by: human",
            "  actor: amy",
            "  clock: 2",
            "  nonce: ab12",
            "  lock:",
            "  - title",
        ]
        .iter()
        .map(|l| format!("{l}  # ab12\n"))
        .collect();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&ops)
            .unwrap()
            .write_all(lock.as_bytes())
            .unwrap();
        config(&c, true);
        let a = update(front, &c, &id, json!({"status": "deleted"}));
        assert!(!a.ok, "{front:?}");
        assert!(
            a.message.contains("requires human authority"),
            "{front:?}: {a:?}"
        );
        match front {
            Front::Cli => assert_eq!(a.kind.as_deref(), Some("exit 1")),
            Front::Api => assert_eq!(a.kind.as_deref(), Some("human_required")),
            Front::Mcp => {}
        }
        let a = update(front, &c, &id, json!({"title": "renamed"}));
        assert!(!a.ok, "{front:?}");
        assert!(a.message.contains("is locked"), "{front:?}: {a:?}");
        if let Front::Api = front {
            assert_eq!(a.kind.as_deref(), Some("locked"));
        }
        let log = c.run(&["log", &id]).ok().stdout;
        assert_eq!(log.matches("- op: ").count(), 2, "{front:?}: create + lock");
    }
}
