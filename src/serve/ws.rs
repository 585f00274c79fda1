//! WebSocket connections (`GET /ws`): after the handshake answer, the
//! connection's thread runs tungstenite on its socket (non-blocking, polled
//! together with the client's wake-up eventfd): the snapshot first, then
//! every delta, and answers to the client's commands (`command`, `resume`,
//! `ping`). The socket closes within half a second of its session ending
//! (logout, expiry, a password change) or the server stopping.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::api;
use super::idempotency::{self, Keys};
use super::live::Live;
use super::session::Sessions;
use crate::tracker::Tracker;

/// Largest message a client may send.
pub const MAX_MESSAGE: usize = 1 << 20;

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
            None => one(conn.live.snapshot()),
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
    let mut ws = WebSocket::from_partially_read(stream, early, Role::Server, Some(config));
    let Ok((client, first)) = conn.live.subscribe(conn.resume) else {
        return;
    };
    let mut outgoing: Vec<Arc<str>> = first;
    let mut want_write;
    'conn: loop {
        for m in outgoing.drain(..) {
            if ws.write(Message::text(m.to_string())).is_err() {
                break 'conn;
            }
        }
        match ws.flush() {
            Ok(()) => want_write = false,
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                want_write = true
            }
            Err(_) => break,
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
        let mut sock_flags = rustix::event::PollFlags::IN;
        if want_write {
            sock_flags |= rustix::event::PollFlags::OUT;
        }
        let (sock_ready, wake_ready) = {
            let sock_fd = ws.get_ref().as_fd();
            let mut fds = [
                rustix::event::PollFd::new(&sock_fd, sock_flags),
                rustix::event::PollFd::new(&client.wake, rustix::event::PollFlags::IN),
            ];
            let ts = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 500_000_000,
            };
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(_) => (!fds[0].revents().is_empty(), !fds[1].revents().is_empty()),
                Err(rustix::io::Errno::INTR) => (false, false),
                Err(_) => break,
            }
        };
        if wake_ready {
            let (snapshot_needed, msgs) = client.drain();
            if snapshot_needed {
                outgoing.push(Arc::from(conn.live.snapshot()));
            } else {
                outgoing.extend(msgs);
            }
        }
        if sock_ready {
            loop {
                match ws.read() {
                    Ok(Message::Text(t)) => outgoing.extend(answer(&conn, t.as_str())),
                    Ok(Message::Binary(_)) => {
                        let e = api::ApiError::new(400, "bad_request", "send JSON text messages");
                        outgoing.push(Arc::from(error_msg(&Value::Null, &e)));
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
