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
            let action = msg.get("action").and_then(Value::as_str).unwrap_or("");
            let item = msg.get("item").and_then(Value::as_str).map(str::to_string);
            let mut body = msg.as_object().cloned().unwrap_or_default();
            for k in ["type", "id", "action", "item"] {
                body.remove(k);
            }
            match api::dispatch(&conn.tracker, action, item.as_deref(), &Value::Object(body)) {
                Ok((status, data)) => one(
                    json!({"type": "result", "id": id, "ok": true, "status": status, "data": data})
                        .to_string(),
                ),
                Err(e) => one(error_msg(&id, &e)),
            }
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
