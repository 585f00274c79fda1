//! WebSocket connections (`GET /ws`): after the handshake answer, the
//! connection's thread runs tungstenite on its socket (non-blocking, polled
//! together with the client's wake-up eventfd): the snapshot first, then
//! every delta, and answers to the client's commands (`command`, `resume`,
//! `ping`). The socket closes within half a second of its session ending
//! (logout, expiry, a password change) or the server stopping.
//!
//! Messages are shared bytes (a snapshot is built once for every client)
//! sent in fragments of at most [`FRAGMENT`] bytes, each only once the
//! socket has taken the one before: a client that reads slowly is sent
//! nothing more meanwhile (its deltas wait in its outbox, which turns into
//! a fresh snapshot when full) and is closed after [`STALL`] without
//! taking a byte. Its own messages are answered [`ANSWERS_PER_TURN`] at a
//! time and not read at all while the socket is full, so one that sends
//! without reading is held back by TCP rather than by the server's memory.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

use super::api;
use super::idempotency::{self, Keys};
use super::live::Live;
use super::session::Sessions;
use crate::tracker::Tracker;

/// Largest message a client may send.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Largest frame sent: a longer message goes in fragments.
pub const FRAGMENT: usize = 256 << 10;
/// How long a client may leave the socket full, taking nothing, before it is closed.
pub const STALL: Duration = Duration::from_secs(10);
/// Client messages answered before the answers are sent (the rest are read
/// after, so a client that sends without reading meets a full socket).
pub const ANSWERS_PER_TURN: usize = 32;

/// The `Sec-WebSocket-Accept` value for a client's key.
pub fn accept_key(key: &str) -> String {
    tungstenite::handshake::derive_accept_key(key.trim().as_bytes())
}

/// What a client connection needs.
pub struct Conn {
    pub stream: TcpStream,
    /// What the client sent after its handshake, before it was answered.
    pub early: Vec<u8>,
    pub tracker: Tracker,
    pub live: Arc<Live>,
    pub sessions: Arc<Sessions>,
    pub token: String,
    pub stop: Arc<AtomicBool>,
    /// `?resume=N` from the URL.
    pub resume: Option<u64>,
    /// The logged-in user (whose idempotency keys its commands use).
    pub user: String,
    pub keys: Arc<Keys>,
}

fn error_msg(id: &Value, e: &api::ApiError) -> String {
    let mut m = e.to_json();
    m["type"] = json!("error");
    m["id"] = id.clone();
    m["status"] = json!(e.status);
    m.to_string()
}

/// Answers one text message from the client.
fn answer(conn: &Conn, text: &str) -> Vec<std::sync::Arc<str>> {
    let one = |s: String| vec![Arc::<str>::from(s)];
    let msg: Value = match serde_json::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let e = api::ApiError::new(400, "bad_json", "a message must be a JSON object");
            return one(error_msg(&Value::Null, &e));
        }
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    match msg.get("type").and_then(Value::as_str) {
        Some("ping") => one(json!({"type": "pong"}).to_string()),
        Some("resume") => match msg.get("seq").and_then(Value::as_u64) {
            Some(seq) => conn.live.resume(seq),
            None => vec![conn.live.snapshot()],
        },
        Some("command") => {
            if conn.sessions.touch(&conn.token).is_none() {
                let e = api::ApiError::new(
                    401,
                    "unauthenticated",
                    "the session has ended; log in again",
                );
                return one(error_msg(&id, &e));
            }
            one(command(conn, &id, &msg))
        }
        other => {
            let e = api::ApiError::new(
                400,
                "bad_request",
                format!(
                    "unknown message type {}",
                    other
                        .map(|s| format!("'{s}'"))
                        .unwrap_or_else(|| "(none)".into())
                ),
            );
            one(error_msg(&id, &e))
        }
    }
}

/// Runs a `command`: a write with an `idempotency_key` is applied once,
/// a repeat answered with the first answer (marked `"replayed": true`).
fn command(conn: &Conn, id: &Value, msg: &Value) -> String {
    let action = msg.get("action").and_then(Value::as_str).unwrap_or("");
    let item = msg.get("item").and_then(Value::as_str).map(str::to_string);
    let key = match msg.get(idempotency::FIELD) {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => match idempotency::parse_key(k) {
            Ok(k) => Some(k),
            Err(e) => return error_msg(id, &e),
        },
        Some(_) => {
            let e = api::ApiError::new(
                400,
                "bad_idempotency_key",
                "'idempotency_key' must be a string",
            );
            return error_msg(id, &e);
        }
    };
    let mut body = msg.as_object().cloned().unwrap_or_default();
    for k in ["type", "id", "action", "item", idempotency::FIELD] {
        body.remove(k);
    }
    let body = Value::Object(body);
    // The REST request it stands for: the same key means the same change
    // whichever way it came.
    let path = match &item {
        _ if action == "add" => "/api/items".to_string(),
        Some(i) => format!("/api/items/{i}/{action}"),
        None => format!("/api/items/-/{action}"),
    };
    let fp = idempotency::fingerprint("POST", &path, &body);
    let key = key.filter(|_| api::is_write(action));
    let done = conn.keys.run(&conn.user, key.as_deref(), &fp, || {
        let (answer, wrote) =
            api::dispatch_noting_writes(&conn.tracker, action, item.as_deref(), &body);
        (answer.into(), wrote)
    });
    for w in conn.keys.take_warnings() {
        super::log::line(w);
    }
    match done {
        Ok(o) if o.answer.status < 400 => {
            let mut m = json!({"type": "result", "id": id, "ok": true,
                               "status": o.answer.status, "data": o.answer.body});
            if o.replayed {
                m["replayed"] = json!(true);
            }
            m.to_string()
        }
        Ok(o) => {
            let mut m = o.answer.body;
            m["type"] = json!("error");
            m["id"] = id.clone();
            m["status"] = json!(o.answer.status);
            if o.replayed {
                m["replayed"] = json!(true);
            }
            m.to_string()
        }
        Err(e) => error_msg(id, &e),
    }
}

/// The client's socket, counting the bytes the kernel took (a stalled
/// client is one whose count stops moving while data waits).
struct Counted {
    stream: TcpStream,
    written: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// A shared message as `Bytes` (no copy).
struct Shared(Arc<str>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Messages waiting for the socket, the first possibly part-sent.
#[derive(Default)]
struct Backlog {
    msgs: VecDeque<Arc<str>>,
    /// Bytes of the first message already sent (as earlier fragments).
    sent: usize,
}

impl Backlog {
    /// Hands tungstenite frames until the backlog is empty or the socket
    /// is full (the last frame is buffered then); `Err` when the socket failed.
    fn pump(&mut self, ws: &mut WebSocket<Counted>) -> Result<(), ()> {
        while let Some(m) = self.msgs.front() {
            let mut end = (self.sent + FRAGMENT).min(m.len());
            while !m.is_char_boundary(end) {
                end -= 1;
            }
            let data = Bytes::from_owner(Shared(m.clone())).slice(self.sent..end);
            let opcode = if self.sent == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let last = end == m.len();
            if last {
                self.msgs.pop_front();
                self.sent = 0;
            } else {
                self.sent = end;
            }
            match ws.write(Message::Frame(Frame::message(data, opcode, last))) {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    return Ok(())
                }
                Err(_) => return Err(()),
            }
        }
        Ok(())
    }
}

/// Runs one client until it closes, the session ends, or the server stops.
pub fn run(mut conn: Conn) {
    let Ok(stream) = conn.stream.try_clone() else {
        return;
    };
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let early = std::mem::take(&mut conn.early);
    let stream = Counted { stream, written: 0 };
    let mut ws = WebSocket::from_partially_read(stream, early, Role::Server, Some(config));
    let Ok((client, first)) = conn.live.subscribe(conn.resume) else {
        return;
    };
    let mut backlog = Backlog {
        msgs: first.into(),
        sent: 0,
    };
    // Whether the socket is full (tungstenite holds unsent bytes).
    let mut want_write;
    // Whether tungstenite may hold client messages not yet answered.
    let mut unread = false;
    let mut taken = (0u64, Instant::now());
    'conn: loop {
        // Send what waits while the socket takes it: what tungstenite
        // holds first, then the next fragments.
        loop {
            match ws.flush() {
                Ok(()) => want_write = false,
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    want_write = true;
                    break;
                }
                Err(_) => break 'conn,
            }
            if backlog.msgs.is_empty() {
                break;
            }
            if backlog.pump(&mut ws).is_err() {
                break 'conn;
            }
        }
        let written = ws.get_ref().written;
        if written != taken.0 || !want_write {
            taken = (written, Instant::now());
        } else if taken.1.elapsed() >= STALL {
            break;
        }
        if conn.stop.load(Ordering::SeqCst) {
            let _ = ws.close(None);
            let _ = ws.flush();
            break;
        }
        if !conn.sessions.is_live(&conn.token) {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Policy,
                reason: "the session has ended; log in again".into(),
            }));
            let _ = ws.flush();
            break;
        }
        // While the socket is full: wait for room only. New deltas stay in
        // the outbox (bounded) and the client's commands unread.
        let busy = want_write;
        let sock_flags = if busy {
            rustix::event::PollFlags::OUT
        } else {
            rustix::event::PollFlags::IN
        };
        let (sock_ready, wake_ready) = {
            let sock_fd = ws.get_ref().stream.as_fd();
            let mut fds = [
                rustix::event::PollFd::new(&sock_fd, sock_flags),
                rustix::event::PollFd::new(&client.wake, rustix::event::PollFlags::IN),
            ];
            let n = if busy { 1 } else { 2 };
            let ts = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: if unread && !busy { 0 } else { 500_000_000 },
            };
            match rustix::event::poll(&mut fds[..n], Some(&ts)) {
                Ok(_) => (
                    !busy && (unread || !fds[0].revents().is_empty()),
                    !busy && !fds[1].revents().is_empty(),
                ),
                Err(rustix::io::Errno::INTR) => (false, false),
                Err(_) => break,
            }
        };
        if wake_ready {
            let (snapshot_needed, msgs) = client.drain();
            if snapshot_needed {
                backlog.msgs.push_back(conn.live.snapshot());
            } else {
                backlog.msgs.extend(msgs);
            }
        }
        if sock_ready {
            unread = false;
            for n in 0.. {
                if n == ANSWERS_PER_TURN {
                    unread = true;
                    break;
                }
                match ws.read() {
                    Ok(Message::Text(t)) => backlog.msgs.extend(answer(&conn, t.as_str())),
                    Ok(Message::Binary(_)) => {
                        let e = api::ApiError::new(400, "bad_request", "send JSON text messages");
                        backlog
                            .msgs
                            .push_back(Arc::from(error_msg(&Value::Null, &e)));
                    }
                    Ok(_) => {} // ping/pong/close frames: tungstenite answers them
                    Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => break 'conn,
                }
            }
        }
    }
    conn.live.unsubscribe(&client);
}
