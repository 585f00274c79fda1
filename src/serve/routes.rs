//! Routing one request: the Host check, then public routes (`/health`, the
//! embedded page, login), then everything else behind a session, with the
//! Origin/CSRF check on every POST and on the WebSocket handshake.

use serde_json::{json, Value};

use super::api::{self, ApiError};
use super::conn::{Answer, Method, Request};
use super::http::{read_json, response, session_cookie, App, Reply};
use super::session::Session;
use super::{assets, csrf, idempotency, login, ws};

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
    let origin = rq.header("origin")?;
    let host = rq.header("host").unwrap_or("");
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
        None => rq
            .header("x-csrf-token")
            .is_some_and(|t| csrf::same_secret(t, &s.csrf)),
    }
}

pub(crate) fn me(app: &App, s: &Session) -> Value {
    let human = !super::api::acting_as(&app.tracker, &s.user)
        .actor
        .is_agent();
    json!({"user": s.user, "csrf": s.csrf, "human": human})
}

/// Answers one request.
pub fn handle(app: &App, rq: Request) -> Answer {
    let answer = handle_request(app, rq);
    // What the library had to say while serving it goes to the server's log.
    for w in app
        .tracker
        .take_warnings()
        .into_iter()
        .chain(app.keys.take_warnings())
    {
        super::log::line(w);
    }
    answer
}

fn handle_request(app: &App, rq: Request) -> Answer {
    let Some(host) = rq
        .header("host")
        .filter(|h| app.origins.host_ok(h))
        .map(str::to_string)
    else {
        let r = err(
            400,
            "bad_host",
            "unknown Host header: reach the server by the name it serves",
        );
        return Answer::Respond(response(r, None));
    };
    let respond = |r: Reply| Answer::Respond(response(r, Some(&host)));
    let url = rq.url.clone();
    let (path, query) = split_url(&url);
    let method = rq.method.clone();
    let is_post = method == Method::Post;
    let origin = origin_ok(app, &rq);
    // A cross-site page's POST is refused before anything else looks at it.
    if is_post && origin == Some(false) {
        return respond(forbidden_origin());
    }
    let reply = match (method.clone(), path) {
        (Method::Get, "/health") => Reply::json(
            200,
            &json!({"status": "ok", "pid": std::process::id(),
                    "uptime_seconds": app.started.elapsed().as_secs_f64()}),
        ),
        (Method::Get, "/ws") => return websocket(app, &rq, &query, origin, &host),
        (Method::Post, "/api/auth/login") if origin != Some(true) => forbidden_origin(),
        (Method::Post, "/api/auth/login") => login::password(app, &rq),
        (Method::Post, p) if p.starts_with("/api/auth/passkey/") => {
            if origin != Some(true) {
                forbidden_origin()
            } else {
                login::passkey(app, &rq, &p["/api/auth/passkey/".len()..])
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
                    authed(app, &rq, &method, p, &query, &token, &s)
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
    respond(reply)
}

/// Routes that need a session.
fn authed(
    app: &App,
    rq: &Request,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    token: &str,
    s: &Session,
) -> Reply {
    let t = api::acting_as(&app.tracker, &s.user);
    let segs: Vec<&str> = path.trim_start_matches("/api/").split('/').collect();
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
        (Method::Post, ["items"]) => return write(app, rq, s, &t, path, "add", None),
        (Method::Post, ["items", id, action]) if api::is_write(action) && *action != "add" => {
            return write(app, rq, s, &t, path, action, Some(id))
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

/// A write (`POST /api/items…`): applied once per `Idempotency-Key`, a
/// repeat answered with the first answer (see [`idempotency`]).
fn write(
    app: &App,
    rq: &Request,
    s: &Session,
    t: &crate::tracker::Tracker,
    path: &str,
    action: &str,
    item: Option<&str>,
) -> Reply {
    let key = match rq.header(idempotency::HEADER).map(idempotency::parse_key) {
        Some(Err(e)) => return Reply::error(&e),
        Some(Ok(k)) => Some(k),
        None => None,
    };
    let body = match read_json(rq) {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let fp = idempotency::fingerprint("POST", path, &body);
    let done = app.keys.run(&s.user, key.as_deref(), &fp, || {
        let (answer, wrote) = api::dispatch_noting_writes(t, action, item, &body);
        (answer.into(), wrote)
    });
    match done {
        Ok(o) => {
            let reply = Reply::json(o.answer.status, &o.answer.body);
            if o.replayed {
                reply.header(idempotency::REPLAYED, "true")
            } else {
                reply
            }
        }
        Err(e) if e.status == 409 => Reply::error(&e).header("Retry-After", "1"),
        Err(e) => Reply::error(&e),
    }
}

/// `GET /ws`: checks the session and Origin, then answers the handshake;
/// the connection's thread goes on as the client's WebSocket thread.
fn websocket(
    app: &App,
    rq: &Request,
    query: &[(String, String)],
    origin: Option<bool>,
    host: &str,
) -> Answer {
    let respond = |r: Reply| Answer::Respond(response(r, Some(host)));
    let Some((token, s)) = session(app, rq) else {
        return respond(unauthenticated());
    };
    if origin != Some(true) {
        return respond(forbidden_origin());
    }
    let upgrade = rq
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let version_ok = rq
        .header("sec-websocket-version")
        .is_some_and(|v| v.trim() == "13");
    let key = rq.header("sec-websocket-key").map(str::to_string);
    let (true, true, Some(key)) = (upgrade, version_ok, key) else {
        return respond(
            err(
                400,
                "bad_request",
                "a WebSocket handshake (version 13) is expected here",
            )
            .header("Sec-WebSocket-Version", "13"),
        );
    };
    let resume = query
        .iter()
        .find(|(k, _)| k == "resume")
        .and_then(|(_, v)| v.parse().ok());
    let tracker = api::acting_as(&app.tracker, &s.user);
    let live = app.live.clone();
    let sessions = app.sessions.clone();
    let stop = app.stop.clone();
    let keys = app.keys.clone();
    Answer::Upgrade {
        headers: vec![
            ("Upgrade".into(), "websocket".into()),
            ("Connection".into(), "Upgrade".into()),
            ("Sec-WebSocket-Accept".into(), ws::accept_key(&key)),
        ],
        run: Box::new(move |stream, early| {
            ws::run(ws::Conn {
                stream,
                early,
                tracker,
                live,
                sessions,
                token,
                stop,
                resume,
                user: s.user.clone(),
                keys,
            })
        }),
    }
}
