//! Idempotency keys against a real htrac-serve: a write sent twice under one
//! `Idempotency-Key` (one after the other, at the same time, after a
//! restart, or once over the WebSocket and once over REST) is one op and one
//! answer; the same key on another request is refused (422); keys are per
//! user; writes without a key work as before.

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common;
use crate::support::{passwd, Login, Resp, Server};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// A POST as the page sends it, with an `Idempotency-Key`.
fn post_key(s: &Server, l: &Login, path: &str, key: &str, body: &Value) -> Resp {
    let body = body.to_string();
    s.request(
        "POST",
        path,
        &[
            ("Origin", &s.url),
            ("Content-Type", "application/json"),
            ("Cookie", &l.cookie),
            ("X-CSRF-Token", &l.csrf),
            ("Idempotency-Key", key),
        ],
        body.as_bytes(),
    )
}

fn login_as(s: &Server, user: &str, pw: &str) -> Login {
    let r = s.try_login(user, pw).expect(200, None);
    let cookie = r.header("Set-Cookie").unwrap().split(';').next().unwrap();
    Login {
        cookie: cookie.to_string(),
        csrf: r.json()["csrf"].as_str().unwrap().to_string(),
    }
}

/// How many times `text` is in the item's op file.
fn in_ops(s: &Server, id: &str, text: &str) -> usize {
    std::fs::read_to_string(s.env.workspace_ops(id))
        .unwrap()
        .matches(text)
        .count()
}

fn replayed(r: &Resp) -> bool {
    r.header("Idempotent-Replayed") == Some("true")
}

#[test]
fn one_key_sent_twice_is_one_op_and_the_same_answer() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let l = s.login();
    let path = format!("/api/items/{id}/discuss");
    let body = json!({"message": "retried-comment"});
    let first = post_key(&s, &l, &path, "k-1", &body).expect(200, None);
    let again = post_key(&s, &l, &path, "k-1", &body).expect(200, None);
    assert_eq!(first.body, again.body);
    assert!(!replayed(&first) && replayed(&again));
    assert_eq!(in_ops(&s, &id, "retried-comment"), 1);

    let new = json!({"kind": "work_item", "title": "made-once", "tags": ["a", "b"]});
    let a = post_key(&s, &l, "/api/items", "k-add", &new).expect(201, None);
    // The same body with its keys in another order is the same request.
    let reordered = json!({"tags": ["a", "b"], "title": "made-once", "kind": "work_item"});
    let b = post_key(&s, &l, "/api/items", "k-add", &reordered).expect(201, None);
    assert_eq!(a.body, b.body);
    assert!(replayed(&b));
    let all = s.get("/api/items", Some(&l)).expect(200, None).json();
    let made = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["title"] == "made-once")
        .count();
    assert_eq!(made, 1);

    // Without a key a write is applied each time, as before.
    for _ in 0..2 {
        s.post(&path, Some(&l), &json!({"message": "keyless"}))
            .expect(200, None);
    }
    assert_eq!(in_ops(&s, &id, "keyless"), 2);
}

#[test]
fn a_retried_status_change_is_not_applied_again_over_a_later_change() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let l = s.login();
    let path = format!("/api/items/{id}/update");
    let body = json!({"status": "in_progress"});
    let first = post_key(&s, &l, &path, "status-1", &body).expect(200, None);
    s.env.run(&["update", &id, "--status", "todo_hard"]).ok();
    let retry = post_key(&s, &l, &path, "status-1", &body).expect(200, None);
    assert!(replayed(&retry));
    assert_eq!(first.body, retry.body);
    let now = s.env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(
        now["status"], "todo_hard",
        "the retry undid the later change"
    );
}

#[test]
fn repeats_sent_at_the_same_time_apply_once() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let l = s.login();
    let path = format!("/api/items/{id}/discuss");
    let body = json!({"message": "raced-comment"});
    let answers: Vec<Resp> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8)
            .map(|_| sc.spawn(|| post_key(&s, &l, &path, "race", &body)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.body, answers[0].body);
    }
    assert_eq!(answers.iter().filter(|a| !replayed(a)).count(), 1);
    assert_eq!(in_ops(&s, &id, "raced-comment"), 1);
}

#[test]
fn a_key_reused_for_another_request_is_refused_and_writes_nothing() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let other = s.env.add("two", &[]);
    let l = s.login();
    let path = format!("/api/items/{id}/discuss");
    post_key(&s, &l, &path, "k", &json!({"message": "first"})).expect(200, None);
    let before = s.env.tree();
    let r = post_key(&s, &l, &path, "k", &json!({"message": "second"}))
        .expect(422, Some("idempotency_key_reused"));
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("different request"));
    let elsewhere = format!("/api/items/{other}/discuss");
    post_key(&s, &l, &elsewhere, "k", &json!({"message": "first"}))
        .expect(422, Some("idempotency_key_reused"));
    post_key(&s, &l, &path, "a key with spaces", &json!({"message": "x"}))
        .expect(400, Some("bad_idempotency_key"));
    assert!(s.env.tree() == before, "a refused request wrote something");
}

#[test]
fn keys_belong_to_their_user() {
    let env = common::Env::new();
    passwd(&env, "amy", "secret");
    passwd(&env, "bob", "hunter22");
    let s = Server::start_in(env);
    let id = s.env.add("one", &[]);
    let amy = s.login();
    let bob = login_as(&s, "bob", "hunter22");
    let path = format!("/api/items/{id}/discuss");
    let body = json!({"message": "shared-key-comment"});
    let a = post_key(&s, &amy, &path, "same", &body).expect(200, None);
    let b = post_key(&s, &bob, &path, "same", &body).expect(200, None);
    assert!(!replayed(&a) && !replayed(&b));
    assert_eq!(in_ops(&s, &id, "shared-key-comment"), 2);
    // Bob's key with another body is his own new request, not a reuse of Amy's.
    post_key(&s, &bob, &path, "bobs", &json!({"message": "b2"})).expect(200, None);
    let again = post_key(&s, &amy, &path, "same", &body).expect(200, None);
    assert!(replayed(&again));
    assert_eq!(again.json()["item"], a.json()["item"]);
}

#[test]
fn a_retry_after_a_restart_is_answered_not_applied_and_a_bad_journal_is_survived() {
    let mut s = Server::start();
    let id = s.env.add("one", &[]);
    let l = s.login();
    let path = format!("/api/items/{id}/discuss");
    let body = json!({"message": "before-restart"});
    let first = post_key(&s, &l, &path, "k", &body).expect(200, None);
    assert!(s.stop().success());
    let journal = s.env.root().join("serve/idempotency.jsonl");
    let mode = std::fs::metadata(&journal).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let env = std::mem::replace(&mut s.env, common::Env::bare());
    let mut s = Server::start_in(env);
    let l = s.login();
    let retry = post_key(&s, &l, &path, "k", &body).expect(200, None);
    assert!(replayed(&retry));
    assert_eq!(retry.body, first.body);
    assert_eq!(in_ops(&s, &id, "before-restart"), 1);

    // A journal that is garbage does not stop the server.
    assert!(s.stop().success());
    std::fs::write(&journal, b"\x00\xffnot json\n{\"user\":").unwrap();
    let env = std::mem::replace(&mut s.env, common::Env::bare());
    let s = Server::start_in(env);
    let l = s.login();
    post_key(&s, &l, &path, "k2", &json!({"message": "after"})).expect(200, None);
    assert!(replayed(
        &post_key(&s, &l, &path, "k2", &json!({"message": "after"})).expect(200, None)
    ));
}

type Ws = WebSocket<TcpStream>;

fn connect(s: &Server, l: &Login) -> Ws {
    let mut rq = format!("ws://{}/ws", s.host).into_client_request().unwrap();
    rq.headers_mut().insert("Origin", s.url.parse().unwrap());
    rq.headers_mut().insert("Cookie", l.cookie.parse().unwrap());
    let stream = TcpStream::connect(&s.host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    tungstenite::client(rq, stream).unwrap().0
}

/// The answer to command `id`, skipping snapshots and deltas.
fn answer_to(ws: &mut Ws, id: &str) -> Value {
    loop {
        if let Message::Text(t) = ws.read().expect("a message") {
            let m: Value = serde_json::from_str(t.as_str()).unwrap();
            if m["id"] == id {
                return m;
            }
        }
    }
}

#[test]
fn a_websocket_command_resent_on_a_new_connection_or_over_rest_is_applied_once() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let l = s.login();
    let cmd = json!({"type": "command", "id": "c1", "action": "discuss", "item": id,
                     "message": "ws-comment", "idempotency_key": "ws-k"});
    let mut a = connect(&s, &l);
    a.send(Message::text(cmd.to_string())).unwrap();
    let first = answer_to(&mut a, "c1");
    assert_eq!(first["ok"], true);
    assert!(first.get("replayed").is_none());
    drop(a);
    let mut b = connect(&s, &l);
    b.send(Message::text(cmd.to_string())).unwrap();
    let again = answer_to(&mut b, "c1");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["data"], first["data"]);
    // The same change over REST under the same key is the same request.
    let path = format!("/api/items/{id}/discuss");
    let rest = post_key(&s, &l, &path, "ws-k", &json!({"message": "ws-comment"})).expect(200, None);
    assert!(replayed(&rest));
    assert_eq!(rest.json(), first["data"]);
    // Another body under that key is refused over the socket too.
    let mut other = cmd.clone();
    other["message"] = json!("changed");
    other["id"] = json!("c2");
    b.send(Message::text(other.to_string())).unwrap();
    let e = answer_to(&mut b, "c2");
    assert_eq!(
        (e["type"].as_str(), e["status"].as_u64()),
        (Some("error"), Some(422))
    );
    assert_eq!(e["code"], "idempotency_key_reused");
    assert_eq!(in_ops(&s, &id, "ws-comment"), 1);
    assert_eq!(in_ops(&s, &id, "changed"), 0);
}
