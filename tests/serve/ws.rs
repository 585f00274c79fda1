//! `/ws` against a real server: the handshake's session and Origin checks,
//! a snapshot then deltas (only the changed items) to two clients after
//! CLI writes, commands over the socket, `resume` from the ring buffer,
//! ping, a tier directory created after start being watched, a client
//! that applies every delta ending with what a fresh snapshot has, and a
//! snapshot bigger than the socket holds reaching a client that reads late,
//! and a burst of messages all answered.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common;
use crate::support::{self as serve_support, Login, Server};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

fn connect(s: &Server, login: Option<&Login>, origin: &str, query: &str) -> Result<Ws, u16> {
    let mut rq = format!("ws://{}/ws{query}", s.host)
        .into_client_request()
        .unwrap();
    rq.headers_mut().insert("Origin", origin.parse().unwrap());
    if let Some(l) = login {
        rq.headers_mut().insert("Cookie", l.cookie.parse().unwrap());
    }
    let stream = TcpStream::connect(&s.host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    match tungstenite::client(rq, stream) {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
            Err(r.status().as_u16())
        }
        Err(e) => panic!("handshake: {e}"),
    }
}

/// The next JSON message (skipping control frames).
fn next(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("a message") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(_) => panic!("closed"),
            _ => {}
        }
    }
}

/// The next message of `kind`, skipping others (deltas may interleave).
fn next_of(ws: &mut Ws, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no {kind} message");
        let m = next(ws);
        if m["type"] == kind {
            return m;
        }
    }
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

#[test]
fn the_handshake_needs_a_session_and_the_pages_origin() {
    let s = Server::start();
    assert_eq!(connect(&s, None, &s.url, "").err(), Some(401));
    let l = s.login();
    assert_eq!(
        connect(&s, Some(&l), "http://evil.example", "").err(),
        Some(403)
    );
    let mut ws = connect(&s, Some(&l), &s.url, "").unwrap();
    assert_eq!(next(&mut ws)["type"], "snapshot");
}

#[test]
fn two_clients_get_only_the_changed_items_after_cli_writes() {
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    let old = env.add("already there", &[]);
    let other = env.add("untouched", &[]);
    let s = Server::start_in(env);
    let l = s.login();
    let mut a = connect(&s, Some(&l), &s.url, "").unwrap();
    let mut b = connect(&s, Some(&l), &s.url, "").unwrap();
    let snap_a = next(&mut a);
    let snap_b = next(&mut b);
    assert_eq!(snap_a["type"], "snapshot");
    assert_eq!(snap_a["items"].as_array().unwrap().len(), 2);
    let seq0 = snap_a["seq"].as_u64().unwrap();
    assert_eq!(snap_b["seq"].as_u64().unwrap(), seq0);

    let new = s.env.add("made by the CLI", &[]);
    for ws in [&mut a, &mut b] {
        let d = next_of(ws, "delta");
        assert_eq!(d["seq"].as_u64().unwrap(), seq0 + 1);
        assert_eq!(common::ids(&d["items"]), vec![new.clone()]);
        assert_eq!(d["items"][0]["title"], "made by the CLI");
        assert_eq!(d["removed"], json!([]));
    }
    s.env.run(&["update", &old, "--status", "in_progress"]).ok();
    for ws in [&mut a, &mut b] {
        let d = next_of(ws, "delta");
        assert_eq!(d["seq"].as_u64().unwrap(), seq0 + 2);
        // Only the changed item, as `show --json` has it.
        assert_eq!(common::ids(&d["items"]), vec![old.clone()]);
        let shown = s.env.run(&["show", &old, "--json"]).ok().json();
        assert_eq!(d["items"][0], shown);
        assert!(!d["items"].to_string().contains(&other));
    }

    // A command over the socket: answered to the sender, seen by both as a delta.
    send(
        &mut a,
        json!({"type": "command", "id": "c1", "action": "discuss", "item": new, "message": "hi"}),
    );
    let r = next_of(&mut a, "result");
    assert_eq!(
        (r["id"].as_str(), r["ok"].as_bool()),
        (Some("c1"), Some(true))
    );
    assert_eq!(r["data"]["item"]["discussion"][0]["actor"], "amy");
    let d = next_of(&mut b, "delta");
    assert_eq!(common::ids(&d["items"]), vec![new.clone()]);
    send(
        &mut a,
        json!({"type": "command", "id": 7, "action": "lock", "item": "WI-zzzzz", "fields": ["status"]}),
    );
    let e = next_of(&mut a, "error");
    assert_eq!(
        (e["id"].as_i64(), e["code"].as_str()),
        (Some(7), Some("not_found"))
    );
    send(
        &mut a,
        json!({"type": "command", "id": "c2", "action": "ready"}),
    );
    let r = next_of(&mut a, "result");
    let cli = s.env.run(&["ready", "--json"]).ok().json();
    assert_eq!(r["data"]["items"], cli["ready"]);
    ws_text(&mut a, "not json");
    assert_eq!(next_of(&mut a, "error")["code"], "bad_json");
    send(&mut a, json!({"type": "ping"}));
    next_of(&mut a, "pong");

    // Resume: the deltas after a seq, from the ring buffer; else a snapshot.
    send(&mut b, json!({"type": "resume", "seq": seq0 + 1}));
    let d = next_of(&mut b, "delta");
    assert_eq!(d["seq"].as_u64().unwrap(), seq0 + 2);
    send(&mut b, json!({"type": "resume", "seq": 1}));
    let snap = next_of(&mut b, "snapshot");
    assert_eq!(snap["items"].as_array().unwrap().len(), 3);
    assert_eq!(snap["seq"].as_u64().unwrap(), seq0 + 3);
    // Reconnecting with ?resume= gets just what it missed.
    let mut c = connect(&s, Some(&l), &s.url, &format!("?resume={}", seq0 + 2)).unwrap();
    let d = next(&mut c);
    assert_eq!(
        (d["type"].as_str(), d["seq"].as_u64()),
        (Some("delta"), Some(seq0 + 3))
    );
}

/// Items by ID.
fn by_id(items: &Value) -> std::collections::BTreeMap<String, Value> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i.clone()))
        .collect()
}

#[test]
fn a_client_applying_every_delta_has_what_a_fresh_snapshot_has() {
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    let a = env.add("first", &[]);
    let b = env.add("second", &["--priority", "3"]);
    let s = Server::start_in(env);
    let l = s.login();
    let mut ws = connect(&s, Some(&l), &s.url, "").unwrap();
    let snap = next_of(&mut ws, "snapshot");
    let mut seq = snap["seq"].as_u64().unwrap();
    let mut mine = by_id(&snap["items"]);
    let apply = |d: &Value, mine: &mut std::collections::BTreeMap<String, Value>| {
        for (id, item) in by_id(&d["items"]) {
            mine.insert(id, item);
        }
        for id in d["removed"].as_array().unwrap() {
            mine.remove(id.as_str().unwrap());
        }
    };
    // Writes of every kind, some in quick succession (one delta may carry several).
    let c = s.env.add("third", &[]);
    let d = s.env.add("fourth", &["--tier", "canonical"]);
    for args in [
        &["update", &a, "--priority", "0", "--title", "first, renamed"][..],
        &["discuss", &b, "a message"],
        &["update", &c, "--status", "in_progress"],
        &["lock", &a, "status"],
        &["stealth", &b],
        &["demote", &d],
        &["update", &b, "--priority", "1"],
        &["freeze", &c],
    ] {
        s.env.run(args).ok();
    }
    // A file gone (as a git checkout can do): a `removed` entry.
    std::fs::remove_file(
        s.env
            .root()
            .join(format!("tracker-workspace/.ops/.{c}.ops")),
    )
    .unwrap();
    let last = s.env.add("the last write", &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mine.contains_key(&last) || mine.contains_key(&c) {
        assert!(Instant::now() < deadline, "the deltas never caught up");
        let d = next_of(&mut ws, "delta");
        assert!(d["seq"].as_u64().unwrap() > seq, "{d}");
        seq = d["seq"].as_u64().unwrap();
        apply(&d, &mut mine);
    }
    // A fresh client's snapshot: the same items, byte for byte once parsed.
    let mut fresh = connect(&s, Some(&l), &s.url, "").unwrap();
    let snap = next_of(&mut fresh, "snapshot");
    while snap["seq"].as_u64().unwrap() > seq {
        let d = next_of(&mut ws, "delta");
        seq = d["seq"].as_u64().unwrap();
        apply(&d, &mut mine);
    }
    assert_eq!(snap["seq"].as_u64().unwrap(), seq);
    assert_eq!(by_id(&snap["items"]), mine);
    assert_eq!(mine.len(), 4, "{:?}", mine.keys());
    // In list order, and each as `show --json` has it.
    let listed: Vec<String> = common::ids(&s.env.run(&["list", "--json"]).ok().json());
    let shown = common::ids(&snap["items"]);
    let open: Vec<&String> = shown.iter().filter(|i| listed.contains(i)).collect();
    let listed: Vec<&String> = listed.iter().filter(|i| shown.contains(i)).collect();
    assert_eq!(open, listed);
    for (id, item) in &mine {
        assert_eq!(
            item,
            &s.env.run(&["show", id, "--json"]).ok().json(),
            "{id}"
        );
    }
}

#[test]
fn a_snapshot_bigger_than_the_socket_reaches_a_client_that_reads_late() {
    use htrac::items::ids::compute_id;
    use htrac::oplog::{emit::emit_op, op::Role};
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    // 40 items of 200 KB: an 8 MB snapshot, more than the server's send
    // buffer (4 MB at most) and this client's small receive buffer hold.
    let dir = env.root().join("tracker-workspace/.ops");
    let text = "Words of a long description. ".repeat(200_000 / 29);
    for i in 0..40 {
        let data = json!({"kind": "work_item", "title": format!("big {i}"),
            "status": "todo_hard", "priority": 2, "parent": null, "tags": [],
            "isbefore": [], "duplicate_of": [], "not_duplicate_of": [],
            "pr_ref": null, "description": text, "fields": {}});
        let id = compute_id("WI", &data, "");
        let op = htrac::Op::new(
            "create",
            "2025-01-01T00:00:00Z",
            Role::Human,
            "amy",
            1,
            "a000",
        )
        .with("data", data);
        std::fs::write(dir.join(format!(".{id}.ops")), emit_op(&op)).unwrap();
    }
    let s = Server::start_in(env);
    let l = s.login();
    let port: u16 = s.host.rsplit(':').next().unwrap().parse().unwrap();
    let fd = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::STREAM,
        None,
    )
    .unwrap();
    rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 16 << 10).unwrap();
    rustix::net::connect(&fd, &std::net::SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rq = format!("ws://{}/ws", s.host).into_client_request().unwrap();
    rq.headers_mut().insert("Origin", s.url.parse().unwrap());
    rq.headers_mut().insert("Cookie", l.cookie.parse().unwrap());
    let (mut slow, _) = tungstenite::client(rq, stream).unwrap();
    // It reads nothing for a while; another client is served meanwhile.
    let mut quick = connect(&s, Some(&l), &s.url, "").unwrap();
    assert_eq!(next(&mut quick)["items"].as_array().unwrap().len(), 40);
    std::thread::sleep(Duration::from_millis(1500));
    let id = s.env.add("meanwhile", &[]);
    let d = next_of(&mut quick, "delta");
    assert_eq!(common::ids(&d["items"]), vec![id.clone()]);
    // Then it reads: the whole snapshot, then the delta it missed.
    let snap = next(&mut slow);
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["items"].as_array().unwrap().len(), 40);
    assert_eq!(snap["items"][0]["description"], text);
    let d = next_of(&mut slow, "delta");
    assert_eq!(common::ids(&d["items"]), vec![id]);
}

#[test]
fn many_messages_sent_at_once_are_all_answered_in_order() {
    let s = Server::start();
    let l = s.login();
    let mut ws = connect(&s, Some(&l), &s.url, "").unwrap();
    assert_eq!(next(&mut ws)["type"], "snapshot");
    // More than the server answers in one turn, in one burst.
    for i in 0..100 {
        let m = if i % 2 == 0 {
            json!({"type": "ping"})
        } else {
            json!({"type": "command", "id": i, "action": "show", "item": "WI-zzzzz"})
        };
        ws.write(Message::text(m.to_string())).unwrap();
    }
    ws.flush().unwrap();
    for i in 0..100 {
        let m = next(&mut ws);
        if i % 2 == 0 {
            assert_eq!(m["type"], "pong");
        } else {
            assert_eq!(
                (m["type"].as_str(), m["id"].as_i64()),
                (Some("error"), Some(i))
            );
        }
    }
}

fn ws_text(ws: &mut Ws, t: &str) {
    ws.send(Message::text(t.to_string())).unwrap();
}

#[test]
fn a_tier_directory_created_after_start_is_watched() {
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    std::fs::remove_dir_all(env.root().join("tracker/.ops")).unwrap();
    let s = Server::start_in(env);
    let l = s.login();
    let mut ws = connect(&s, Some(&l), &s.url, "").unwrap();
    next_of(&mut ws, "snapshot");
    let id = s
        .env
        .add("canonical from the start", &["--tier", "canonical"]);
    let d = next_of(&mut ws, "delta");
    assert!(common::ids(&d["items"]).contains(&id), "{d}");
    // Later writes in the new directory are deltas too.
    s.env.run(&["update", &id, "--priority", "0"]).ok();
    let d = next_of(&mut ws, "delta");
    assert_eq!(d["items"][0]["priority"], 0);
}

#[test]
fn logout_ends_the_sockets_commands() {
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    let id = env.add("x", &[]);
    let s = Server::start_in(env);
    let l = s.login();
    let mut ws = connect(&s, Some(&l), &s.url, "").unwrap();
    next_of(&mut ws, "snapshot");
    s.post("/api/auth/logout", Some(&l), &json!({}))
        .expect(200, None);
    send(
        &mut ws,
        json!({"type": "command", "id": "c", "action": "update", "item": id, "status": "done"}),
    );
    assert_eq!(next_of(&mut ws, "error")["code"], "unauthenticated");
    assert_eq!(
        s.env.run(&["show", &id, "--json"]).ok().json()["status"],
        "todo_hard"
    );
}

/// Reads until the server closes the socket; the close frame's code.
fn closed_by_server(ws: &mut Ws, within: Duration) -> Option<u16> {
    let deadline = Instant::now() + within;
    ws.get_mut().set_read_timeout(Some(within)).unwrap();
    loop {
        assert!(
            Instant::now() < deadline,
            "the socket was still open after {within:?}"
        );
        match ws.read() {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return None
            }
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the socket was still open after {within:?}")
            }
            Err(e) => panic!("reading the socket: {e}"),
        }
    }
}

#[test]
fn logout_and_a_password_change_close_the_sessions_websockets() {
    let s = Server::start();
    let gone = s.login();
    let stays = s.login();
    let mut ws = connect(&s, Some(&gone), &s.url, "").unwrap();
    next_of(&mut ws, "snapshot");
    let mut other = connect(&s, Some(&stays), &s.url, "").unwrap();
    next_of(&mut other, "snapshot");
    s.post("/api/auth/logout", Some(&gone), &json!({}))
        .expect(200, None);
    let t = Instant::now();
    // 1008: policy violation, the session has ended. (Before, the socket
    // stayed open and kept receiving deltas.)
    assert_eq!(
        closed_by_server(&mut ws, Duration::from_secs(3)),
        Some(1008)
    );
    eprintln!("closed {:?} after logout", t.elapsed());
    // The other session's socket is untouched.
    other
        .send(Message::text(json!({"type": "ping"}).to_string()))
        .unwrap();
    assert_eq!(next_of(&mut other, "pong")["type"], "pong");

    // A password change (from another process) ends every session of that user.
    serve_support::passwd(&s.env, "amy", "another secret");
    let t = Instant::now();
    assert_eq!(
        closed_by_server(&mut other, Duration::from_secs(4)),
        Some(1008)
    );
    eprintln!("closed {:?} after the password change", t.elapsed());
    s.get("/api/auth/me", Some(&stays))
        .expect(401, Some("unauthenticated"));
    assert_eq!(
        s.try_login("amy", "another secret").status,
        200,
        "the new password works"
    );
}

#[test]
fn an_idle_session_that_expires_closes_its_websocket() {
    let env = common::Env::new();
    serve_support::passwd(&env, "amy", "secret");
    // 0.02 minutes: the session expires after a second without requests.
    serve_support::append_config(&env, "auth:\n  session_ttl_minutes: 0.02\n");
    let s = Server::start_in(env);
    let login = s.login();
    let mut ws = connect(&s, Some(&login), &s.url, "").unwrap();
    next_of(&mut ws, "snapshot");
    assert_eq!(
        closed_by_server(&mut ws, Duration::from_secs(5)),
        Some(1008)
    );
    s.get("/api/auth/me", Some(&login))
        .expect(401, Some("unauthenticated"));
}
