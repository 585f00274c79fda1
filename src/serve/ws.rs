//! WebSocket connections (`GET /ws`): the handshake answer over tiny_http's
//! upgrade, then one thread per client running tungstenite on the
//! connection's socket (non-blocking, polled together with the client's
//! wake-up eventfd): the snapshot first, then every delta, and answers to
//! the client's commands (`command`, `resume`, `ping`).
//!
//! tiny_http hands an upgraded connection back only as one boxed
//! read+write stream, which cannot be polled or read and written from
//! different places. So the client thread works on a duplicate of the
//! socket's descriptor, found by its address pair, and keeps the box alive
//! (dropping it shuts the socket down) until the connection ends.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tungstenite::protocol::{Role, WebSocketConfig};
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

/// The socket of this process connected to `peer` on local port `port`, duplicated.
pub fn find_socket(peer: SocketAddr, port: u16) -> Option<TcpStream> {
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is open (listed just now) and only
        // borrowed: ManuallyDrop keeps the temporary TcpStream from closing it.
        let probe = std::mem::ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        let matches = probe.peer_addr().ok() == Some(peer)
            && probe.local_addr().is_ok_and(|a| a.port() == port);
        if matches {
            // SAFETY: as above; the duplicate is a new descriptor we own.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            return borrowed.try_clone_to_owned().ok().map(TcpStream::from);
        }
    }
    None
}

/// What a client connection needs.
pub struct Conn {
    pub stream: TcpStream,
    /// tiny_http's side of the connection, kept until the end.
    pub keep: Box<dyn tiny_http::ReadWrite + Send>,
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
pub fn run(conn: Conn) {
    let Ok(stream) = conn.stream.try_clone() else {
        return;
    };
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, Some(config));
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
    drop(ws);
    drop(conn.keep);
}
