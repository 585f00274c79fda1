//! Routing one request: the Host check, then public routes (`/health`, the
//! embedded page, login), then everything else behind a session, with the
//! Origin/CSRF check on every POST and on the WebSocket handshake.

use serde_json::{json, Value};
use tiny_http::{Method, Request, Response};

use super::api::{self, ApiError};
use super::http::{header, read_json, respond, session_cookie, App, Reply};
use super::session::Session;
use super::{assets, csrf, login, ws};

pub(crate) fn err(status: u16, code: &'static str, msg: impl Into<String>) -> Reply {
    Reply::error(&ApiError::new(status, code, msg))
}

fn unauthenticated() -> Reply {
    err(
        401,
        "unauthenticated",
        "log in first (POST /api/auth/login)",
    )
}

fn forbidden_origin() -> Reply {
    err(
        403,
        "forbidden_origin",
        "this request must come from the tracker's own page (Origin or X-CSRF-Token missing or wrong)",
    )
}

/// Splits `/path?query` into the path and decoded query pairs.
fn split_url(url: &str) -> (&str, Vec<(String, String)>) {
    match url.split_once('?') {
        Some((p, q)) => (
            p,
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ),
        None => (url, Vec::new()),
    }
}

/// Whether the request's `Origin` is this server's own.
fn origin_ok(app: &App, rq: &Request) -> Option<bool> {
    let origin = header(rq, "origin")?;
    let host = header(rq, "host").unwrap_or("");
    Some(app.origins.origin_ok(origin, host))
}

/// The request's live session.
fn session(app: &App, rq: &Request) -> Option<(String, Session)> {
    let token = session_cookie(rq)?;
    let s = app.sessions.touch(&token)?;
    Some((token, s))
}

/// A POST with a session must carry a matching Origin or the CSRF token.
fn csrf_ok(rq: &Request, s: &Session, origin: Option<bool>) -> bool {
    match origin {
        Some(ok) => ok,
        None => header(rq, "x-csrf-token").is_some_and(|t| csrf::same_secret(t, &s.csrf)),
    }
}

pub(crate) fn me(app: &App, s: &Session) -> Value {
    let human = !super::api::acting_as(&app.tracker, &s.user)
        .actor
        .is_agent();
    json!({"user": s.user, "csrf": s.csrf, "human": human})
}

/// Answers one request (on a worker thread).
pub fn handle(app: &App, rq: Request) {
    handle_request(app, rq);
    // What the library had to say while serving it goes to the server's log.
    for w in app.tracker.take_warnings() {
        eprintln!("htrac-serve: {w}");
    }
}

fn handle_request(app: &App, mut rq: Request) {
    let host_ok = header(&rq, "host").is_some_and(|h| app.origins.host_ok(h));
    if !host_ok {
        let r = err(
            400,
            "bad_host",
            "unknown Host header: reach the server by the name it serves",
        );
        return respond(rq, r, false);
    }
    let url = rq.url().to_string();
    let (path, query) = split_url(&url);
    let method = rq.method().clone();
    let is_post = method == Method::Post;
    let origin = origin_ok(app, &rq);
    // A cross-site page's POST is refused before anything else looks at it.
    if is_post && origin == Some(false) {
        return respond(rq, forbidden_origin(), true);
    }
    let reply = match (method.clone(), path) {
        (Method::Get, "/health") => Reply::json(
            200,
            &json!({"status": "ok", "pid": std::process::id(),
                    "uptime_seconds": app.started.elapsed().as_secs_f64()}),
        ),
        (Method::Get, "/ws") => return websocket(app, rq, &query, origin),
        (Method::Post, "/api/auth/login") if origin != Some(true) => forbidden_origin(),
        (Method::Post, "/api/auth/login") => login::password(app, &mut rq),
        (Method::Post, p) if p.starts_with("/api/auth/passkey/") => {
            if origin != Some(true) {
                forbidden_origin()
            } else {
                login::passkey(app, &mut rq, &p["/api/auth/passkey/".len()..])
            }
        }
        (Method::Get, "/api/auth/methods") => {
            let password = super::passwords::load_current(
                &app.tracker.root,
                super::passwords::guarded_names(&app.tracker),
            )
            .is_ok_and(|l| !l.users.is_empty());
            Reply::json(
                200,
                &json!({"password": password,
                        "passkey": super::passkeys_configured(Some(&app.passkeys))}),
            )
        }
        (_, p) if p.starts_with("/api/") => match session(app, &rq) {
            None => unauthenticated(),
            Some((token, s)) => {
                if is_post && !csrf_ok(&rq, &s, origin) {
                    forbidden_origin()
                } else {
                    authed(app, &mut rq, &method, p, &query, &token, &s)
                }
            }
        },
        (Method::Get | Method::Head, p) => match assets::find(p) {
            Some(a) => Reply {
                status: 200,
                content_type: a.content_type,
                body: assets::body(a).into_owned(),
                headers: vec![("Cache-Control".into(), "no-cache".into())],
            },
            None => err(404, "not_found", format!("no such page: {p}")),
        },
        _ => err(
            405,
            "method_not_allowed",
            format!("{method} is not allowed here"),
        ),
    };
    respond(rq, reply, true);
}

/// Routes that need a session.
fn authed(
    app: &App,
    rq: &mut Request,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    token: &str,
    s: &Session,
) -> Reply {
    let t = api::acting_as(&app.tracker, &s.user);
    let segs: Vec<&str> = path.trim_start_matches("/api/").split('/').collect();
    let post_body = |rq: &mut Request| read_json(rq);
    let result: std::result::Result<(u16, Value), ApiError> = match (method, segs.as_slice()) {
        (Method::Get, ["auth", "me"]) => Ok((200, me(app, s))),
        (Method::Post, ["auth", "logout"]) => {
            app.sessions.remove(token);
            return Reply::json(200, &json!({"ok": true})).header("Set-Cookie", app.cookie(None));
        }
        (Method::Get, ["items"]) => api::list(&t, query).map(|v| (200, v)),
        (Method::Get, ["ready"]) => api::ready(&t).map(|v| (200, v)),
        (Method::Get, ["config"]) => Ok((200, api::config(&t))),
        (Method::Get, ["priority-trend"]) => api::priority_trend(&t).map(|v| (200, v)),
        (Method::Get, ["priority-trend.svg"]) => {
            return match api::priority_trend_svg(&t) {
                Ok(svg) => Reply {
                    status: 200,
                    content_type: "image/svg+xml; charset=utf-8",
                    body: svg.into_bytes(),
                    headers: vec![("Cache-Control".into(), "no-store".into())],
                },
                Err(e) => Reply::error(&e),
            };
        }
        (Method::Get, ["items", id]) => api::show(&t, id).map(|v| (200, v)),
        (Method::Post, ["items"]) => post_body(rq).and_then(|b| api::dispatch(&t, "add", None, &b)),
        (Method::Post, ["items", id, action])
            if matches!(
                *action,
                "update" | "discuss" | "lock" | "unlock" | "freeze" | "unfreeze" | "move"
            ) =>
        {
            post_body(rq).and_then(|b| api::dispatch(&t, action, Some(id), &b))
        }
        (
            _,
            ["auth", "me" | "logout"]
            | ["items" | "ready" | "config" | "priority-trend" | "priority-trend.svg"]
            | ["items", _],
        )
        | (
            _,
            ["items", _, "update" | "discuss" | "lock" | "unlock" | "freeze" | "unfreeze" | "move"],
        ) => Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed on {path}"),
        )),
        _ => Err(ApiError::new(
            404,
            "not_found",
            format!("no API route {method} {path}"),
        )),
    };
    match result {
        Ok((status, v)) => Reply::json(status, &v),
        Err(e) => Reply::error(&e),
    }
}

/// `GET /ws`: checks the session and Origin, answers the handshake, and
/// hands the connection to its own thread.
fn websocket(app: &App, rq: Request, query: &[(String, String)], origin: Option<bool>) {
    let Some((token, s)) = session(app, &rq) else {
        return respond(rq, unauthenticated(), true);
    };
    if origin != Some(true) {
        return respond(rq, forbidden_origin(), true);
    }
    let upgrade = header(&rq, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let version_ok = header(&rq, "sec-websocket-version").is_some_and(|v| v.trim() == "13");
    let key = header(&rq, "sec-websocket-key").map(str::to_string);
    let (true, true, Some(key)) = (upgrade, version_ok, key) else {
        return respond(
            rq,
            err(
                400,
                "bad_request",
                "a WebSocket handshake (version 13) is expected here",
            )
            .header("Sec-WebSocket-Version", "13"),
            true,
        );
    };
    let resume = query
        .iter()
        .find(|(k, _)| k == "resume")
        .and_then(|(_, v)| v.parse().ok());
    let Some(peer) = rq.remote_addr().copied() else {
        return respond(rq, err(400, "bad_request", "no peer address"), true);
    };
    let resp = Response::empty(101).with_header(
        tiny_http::Header::from_bytes(
            &b"Sec-WebSocket-Accept"[..],
            ws::accept_key(&key).as_bytes(),
        )
        .expect("header"),
    );
    let keep = rq.upgrade("websocket", resp);
    let Some(stream) = ws::find_socket(peer, app.port) else {
        eprintln!("htrac-serve: cannot find the socket of the WebSocket client {peer}");
        return;
    };
    let conn = ws::Conn {
        stream,
        keep,
        tracker: api::acting_as(&app.tracker, &s.user),
        live: app.live.clone(),
        sessions: app.sessions.clone(),
        token,
        stop: app.stop.clone(),
        resume,
    };
    let handle = std::thread::Builder::new()
        .name("htrac-serve-ws".into())
        .spawn(move || ws::run(conn));
    if let Ok(h) = handle {
        let mut threads = app.ws_threads.lock().unwrap_or_else(|p| p.into_inner());
        threads.retain(|t| !t.is_finished());
        threads.push(h);
    }
}
