//! MCP's stdio transport and lifecycle: one JSON-RPC 2.0 message per line
//! in, one response per request out (notifications get none). Protocol
//! versions 2025-06-18, 2025-03-26 and 2024-11-05: the client's when we
//! support it, else ours (the newest). Errors are JSON-RPC errors — -32700
//! parse error, -32600 invalid request, -32601 method not found, -32602
//! invalid params — and no input, however malformed or long, stops the
//! server; end of input does (cleanly).

use std::io::{BufRead, Write};

use serde_json::{json, Map, Value};

use super::{call, tools, Session};

/// Protocol versions we speak, newest (ours) first.
pub const VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

/// The longest message read; a longer line is answered with an error and skipped.
pub const MAX_MESSAGE: usize = 8 << 20;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }
}

fn error_response(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// One server session.
pub struct Server {
    session: Session,
    /// The version agreed at `initialize`.
    version: Option<&'static str>,
}

impl Server {
    pub fn new(session: Session) -> Server {
        Server {
            session,
            version: None,
        }
    }

    /// The agreed protocol version (before `initialize`: ours).
    pub fn version(&self) -> &'static str {
        self.version.unwrap_or(VERSIONS[0])
    }

    /// Answers one line of input: the response line, or `None` when there
    /// is nothing to say (a notification, a response, a blank line).
    pub fn handle_line(&mut self, line: &[u8]) -> Option<String> {
        let Ok(text) = std::str::from_utf8(line) else {
            return Some(reply(error_response(
                Value::Null,
                &RpcError::new(PARSE_ERROR, "parse error: the message is not UTF-8"),
            )));
        };
        if text.trim().is_empty() {
            return None;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return Some(reply(error_response(
                    Value::Null,
                    &RpcError::new(
                        PARSE_ERROR,
                        format!("parse error: {e}; send one JSON-RPC 2.0 object per line"),
                    ),
                )))
            }
        };
        match value {
            Value::Array(batch) => self.batch(batch).map(reply),
            single => self.message(single).map(reply),
        }
    }

    /// A batch: allowed by 2025-03-26 and 2024-11-05, not by 2025-06-18.
    fn batch(&mut self, batch: Vec<Value>) -> Option<Value> {
        if self.version() == VERSIONS[0] {
            return Some(error_response(
                Value::Null,
                &RpcError::new(
                    INVALID_REQUEST,
                    "invalid request: MCP 2025-06-18 has no JSON-RPC batches; send one message per line",
                ),
            ));
        }
        if batch.is_empty() {
            return Some(error_response(
                Value::Null,
                &RpcError::new(INVALID_REQUEST, "invalid request: an empty batch"),
            ));
        }
        let answers: Vec<Value> = batch.into_iter().filter_map(|m| self.message(m)).collect();
        (!answers.is_empty()).then_some(Value::Array(answers))
    }

    /// One message: a request (answered), a notification or a response (not).
    fn message(&mut self, value: Value) -> Option<Value> {
        let invalid = |id: Value, why: &str| {
            Some(error_response(
                id,
                &RpcError::new(INVALID_REQUEST, format!("invalid request: {why}")),
            ))
        };
        let Value::Object(mut m) = value else {
            return invalid(Value::Null, "a message must be a JSON object");
        };
        let id = match m.remove("id") {
            None => None,
            Some(id @ (Value::String(_) | Value::Number(_))) => Some(id),
            Some(_) => return invalid(Value::Null, "'id' must be a string or a number"),
        };
        if m.get("jsonrpc") != Some(&json!("2.0")) {
            return invalid(id.unwrap_or(Value::Null), "'jsonrpc' must be \"2.0\"");
        }
        let method = match m.remove("method") {
            Some(Value::String(s)) => s,
            // A response to a request of ours (we send none): nothing to say.
            None if m.contains_key("result") || m.contains_key("error") => return None,
            None => return invalid(id.unwrap_or(Value::Null), "'method' is missing"),
            Some(_) => return invalid(id.unwrap_or(Value::Null), "'method' must be a string"),
        };
        let params = match m.remove("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p,
            Some(Value::Array(_)) => {
                let e = RpcError::invalid_params(format!(
                    "invalid params: {method} takes its params as an object"
                ));
                return id.map(|id| error_response(id, &e));
            }
            Some(_) => {
                return invalid(
                    id.unwrap_or(Value::Null),
                    "'params' must be an object or an array",
                )
            }
        };
        // A notification: never answered, whatever it is.
        let id = id?;
        Some(match self.request(&method, &params) {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => error_response(id, &e),
        })
    }

    fn request(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, RpcError> {
        match method {
            "initialize" => self.initialize(params),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": tools::list(self.structured())})),
            "tools/call" => {
                let name = match params.get("name") {
                    Some(Value::String(s)) => s.as_str(),
                    _ => {
                        return Err(RpcError::invalid_params(
                            "invalid params: tools/call needs params.name, the tool's name (see tools/list)",
                        ))
                    }
                };
                let empty = Map::new();
                let args = match params.get("arguments") {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(a)) => a,
                    Some(_) => {
                        return Err(RpcError::invalid_params(
                            "invalid params: params.arguments must be an object",
                        ))
                    }
                };
                let structured = self.structured();
                call::call(&self.session, name, args, structured)
            }
            other => Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!(
                    "method not found: '{other}'; this server offers initialize, ping, tools/list and tools/call"
                ),
            )),
        }
    }

    /// Structured tool output (`outputSchema`, `structuredContent`) came with 2025-06-18.
    fn structured(&self) -> bool {
        self.version() >= "2025-06-18"
    }

    fn initialize(&mut self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let Some(Value::String(asked)) = params.get("protocolVersion") else {
            return Err(RpcError::invalid_params(
                "invalid params: initialize needs params.protocolVersion (e.g. \"2025-06-18\")",
            ));
        };
        let version = VERSIONS
            .iter()
            .copied()
            .find(|v| v == asked)
            .unwrap_or(VERSIONS[0]);
        self.version = Some(version);
        // The session briefing, as `htrac prime` prints it.
        let primed = self
            .session
            .open()
            .and_then(|t| crate::prime::gather(&t))
            .map(|p| p.to_text(crate::prime::Audience::Agent));
        let instructions = match primed {
            Ok(text) => text,
            Err(e) => format!(
                "htrac tracks this repository's work items. Start with the 'prime' or 'ready' tool.\n({})",
                call::error_text(&e)
            ),
        };
        Ok(json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {
                "name": "htrac",
                "title": "htrac work tracker",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "instructions": instructions,
        }))
    }
}

fn reply(v: Value) -> String {
    // serde_json escapes every control character: a reply is one line.
    serde_json::to_string(&v).unwrap_or_else(|_| {
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error: cannot encode the reply"}}"#.to_string()
    })
}

/// How one read ended.
enum Line {
    Eof,
    Read,
    /// Longer than [`MAX_MESSAGE`]: the rest of it was skipped.
    TooLong,
}

/// Reads one `\n`-terminated line into `buf` (without the `\n` or a `\r`
/// before it), never holding more than `max` bytes.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(Line::Eof);
    }
    if too_long {
        return Ok(Line::TooLong);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Line::Read)
}

/// Serves one session: reads messages from `input` until it ends, writes
/// each answer as one line to `output`, then calls `between` (where the
/// front end does what follows a request, e.g. start the watcher: see
/// [`crate::watch::auto`]). Returns when the input ends (or the output
/// cannot be written).
pub fn serve(
    session: Session,
    mut input: impl BufRead,
    mut output: impl Write,
    mut between: impl FnMut(),
) -> std::io::Result<()> {
    let mut server = Server::new(session);
    let mut buf = Vec::new();
    loop {
        let answer = match read_line(&mut input, &mut buf, MAX_MESSAGE)? {
            Line::Eof => return Ok(()),
            Line::TooLong => Some(reply(error_response(
                Value::Null,
                &RpcError::new(
                    INVALID_REQUEST,
                    format!(
                        "invalid request: a message longer than {MAX_MESSAGE} bytes was skipped"
                    ),
                ),
            ))),
            Line::Read => server.handle_line(&buf),
        };
        if let Some(line) = answer {
            output.write_all(line.as_bytes())?;
            output.write_all(b"\n")?;
            output.flush()?;
        }
        between();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session whose tracker does not exist (these tests call no tool).
    fn nowhere() -> Server {
        Server::new(Session {
            cwd: "/".into(),
            tracker_root: Some("/nonexistent/htrac/.agent".into()),
            auto_sync: false,
        })
    }

    fn ask(s: &mut Server, line: &str) -> Option<Value> {
        s.handle_line(line.as_bytes())
            .map(|l| serde_json::from_str(&l).unwrap())
    }

    #[test]
    fn negotiates_the_version() {
        for (asked, got) in [
            ("2025-06-18", "2025-06-18"),
            ("2025-03-26", "2025-03-26"),
            ("2024-11-05", "2024-11-05"),
            ("1999-01-01", "2025-06-18"),
        ] {
            let mut s = nowhere();
            let r = ask(
                &mut s,
                &format!(r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{asked}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#),
            )
            .unwrap();
            assert_eq!(r["result"]["protocolVersion"], got);
            // Without a tracker the instructions say so.
            let text = r["result"]["instructions"].as_str().unwrap();
            assert!(text.contains("error: tracker root"), "{text}");
        }
    }

    #[test]
    fn errors_and_silence() {
        let mut s = nowhere();
        assert_eq!(ask(&mut s, "{").unwrap()["error"]["code"], PARSE_ERROR);
        assert_eq!(ask(&mut s, "3").unwrap()["error"]["code"], INVALID_REQUEST);
        assert_eq!(
            ask(&mut s, r#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#).unwrap()["id"],
            4
        );
        assert_eq!(
            ask(&mut s, r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap()["error"]["code"],
            INVALID_REQUEST
        );
        assert_eq!(
            ask(&mut s, r#"{"jsonrpc":"2.0","id":5,"method":"nope"}"#).unwrap()["error"]["code"],
            METHOD_NOT_FOUND
        );
        assert_eq!(
            ask(
                &mut s,
                r#"{"jsonrpc":"2.0","id":6,"method":"ping","params":[1]}"#
            )
            .unwrap()["error"]["code"],
            INVALID_PARAMS
        );
        assert_eq!(ask(&mut s, r#"{"jsonrpc":"2.0","method":"nope"}"#), None);
        assert_eq!(ask(&mut s, r#"{"jsonrpc":"2.0","id":7,"result":{}}"#), None);
        assert_eq!(ask(&mut s, "   "), None);
        assert_eq!(
            s.handle_line(b"\xff").map(|l| l.contains("-32700")),
            Some(true)
        );
        // 2025-06-18 has no batches; 2025-03-26 has.
        assert_eq!(
            ask(&mut s, r#"[{"jsonrpc":"2.0","id":8,"method":"ping"}]"#).unwrap()["error"]["code"],
            INVALID_REQUEST
        );
        ask(
            &mut s,
            r#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}"#,
        );
        let r = ask(
            &mut s,
            r#"[{"jsonrpc":"2.0","id":10,"method":"ping"},{"jsonrpc":"2.0","method":"x"}]"#,
        )
        .unwrap();
        assert_eq!(r, json!([{"jsonrpc": "2.0", "id": 10, "result": {}}]));
    }

    #[test]
    fn long_lines_are_skipped_and_reading_goes_on() {
        let input = format!(
            "{}\n{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}}\r\n",
            "x".repeat(100)
        );
        let mut r = std::io::BufReader::with_capacity(7, input.as_bytes());
        let mut buf = Vec::new();
        assert!(matches!(
            read_line(&mut r, &mut buf, 50).unwrap(),
            Line::TooLong
        ));
        assert!(matches!(
            read_line(&mut r, &mut buf, 50).unwrap(),
            Line::Read
        ));
        assert_eq!(buf, br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        assert!(matches!(
            read_line(&mut r, &mut buf, 50).unwrap(),
            Line::Eof
        ));
    }
}
