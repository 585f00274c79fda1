//! A real `htrac mcp` stdio session with a spawned server, for the MCP
//! tests: requests and their replies, tool calls, the CLI's `--json` to
//! compare with, and the user running the tests made an agent.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

use super::Env;

pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next: i64,
}

impl Session {
    pub fn start(env: &Env) -> Session {
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

    /// Writes raw bytes (not necessarily UTF-8) to the server.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "the server closed: {line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Sends a raw line and reads the one reply.
    pub fn raw(&mut self, line: &str) -> Value {
        self.send(line);
        self.read()
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let r = self.raw(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        assert_eq!(r["id"], id, "{r}");
        r
    }

    pub fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(r.get("error").is_none(), "{r}");
        r["result"].clone()
    }

    /// A call that must succeed: its text output.
    pub fn ok(&mut self, tool: &str, args: Value) -> (String, Value) {
        let r = self.call(tool, args);
        assert!(r.get("isError").is_none(), "{r}");
        let text = r["content"][0]["text"].as_str().unwrap().to_string();
        (text, r)
    }

    pub fn error_code(&mut self, line: &str) -> i64 {
        let r = self.raw(line);
        r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{r}"))
    }

    pub fn still_serving(&mut self) {
        let r = self.request("ping", json!({}));
        assert_eq!(r["result"], json!({}), "{r}");
    }

    pub fn initialize(&mut self) -> Value {
        let r = self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
        );
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        r
    }

    /// Closes stdin; the server must exit 0.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        assert_eq!(rest, "", "nothing more after the last reply");
        assert!(self.child.wait().unwrap().success());
    }
}

/// The CLI's `--json` output for `args`, trimmed.
pub fn cli(env: &Env, args: &[&str]) -> String {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    env.run(&a).ok().stdout.trim_end().to_string()
}

/// Makes the user running the tests an agent (their name as the only agent pattern).
pub fn become_agent(env: &Env) {
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
