//! The HTTP server: binding (loopback unless `--allow-remote` with a login
//! configured), the pid-file lock, a small pool of worker threads taking
//! requests from tiny_http, the watcher, and a clean shutdown on
//! SIGTERM/SIGINT. Also the pieces every answer shares: JSON replies with
//! security headers, cookies, and bounded request bodies.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tiny_http::{Header, Request, Response};

use super::api::ApiError;
use super::authcfg::AuthConfig;
use super::csrf::Origins;
use super::daemon::{self, Notifier};
use super::live::Live;
use super::pidfile::PidLock;
use super::ratelimit::Limiter;
use super::session::Sessions;
use crate::error::{Error, Result};
use crate::tracker::Tracker;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Worker threads answering HTTP requests (WebSocket clients have their own).
pub const WORKERS: usize = 4;
pub const COOKIE: &str = "htrac_session";

/// How the server is started.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    pub port: u16,
    pub allow_remote: bool,
}

/// Everything a request handler needs.
pub struct App {
    pub tracker: Tracker,
    pub origins: Origins,
    pub sessions: Arc<Sessions>,
    pub limiter: Limiter,
    pub live: Arc<Live>,
    pub stop: Arc<AtomicBool>,
    /// Cookies get `Secure` unless the server is bound to loopback.
    pub secure_cookie: bool,
    pub port: u16,
    pub started: Instant,
    /// WebSocket client threads, joined at shutdown.
    pub ws_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Passkey ceremonies and the key store.
    pub passkeys: super::passkey::Passkeys,
}

/// A finished answer.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(v).expect("JSON"),
            headers: vec![("Cache-Control".into(), "no-store".into())],
        }
    }

    pub fn error(e: &ApiError) -> Reply {
        Reply::json(e.status, &e.to_json())
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request header's value.
pub fn header<'a>(rq: &'a Request, name: &str) -> Option<&'a str> {
    rq.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The session token from the `Cookie` header.
pub fn session_cookie(rq: &Request) -> Option<String> {
    rq.headers()
        .iter()
        .filter(|h| h.field.as_str().as_str().eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value.as_str().split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
}

impl App {
    /// `Set-Cookie` for a new session (or, with `None`, one that clears it).
    pub fn cookie(&self, token: Option<&str>) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        match token {
            Some(t) => format!("{COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/{secure}"),
            None => format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
        }
    }
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes (empty is `{}`).
pub fn read_json(rq: &mut Request) -> std::result::Result<Value, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "too_large",
            format!("the request body is over {MAX_BODY} bytes"),
        )
    };
    if rq.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    rq.as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ApiError::bad(format!("cannot read the request body: {e}")))?;
    if buf.len() > MAX_BODY {
        return Err(too_large());
    }
    if buf.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&buf).map_err(|e| {
        ApiError::new(
            400,
            "bad_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

/// Headers on every answer.
fn security_headers(host: Option<&str>) -> Vec<(String, String)> {
    let ws = host
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    vec![
        (
            "Content-Security-Policy".into(),
            format!(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'{ws}; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                 frame-ancestors 'none'"
            ),
        ),
        ("X-Content-Type-Options".into(), "nosniff".into()),
        ("Referrer-Policy".into(), "no-referrer".into()),
        ("X-Frame-Options".into(), "DENY".into()),
        ("Cross-Origin-Opener-Policy".into(), "same-origin".into()),
        ("Cross-Origin-Resource-Policy".into(), "same-origin".into()),
        ("Server".into(), "htrac-serve".into()),
    ]
}

/// Sends `reply` for `rq`.
pub fn respond(rq: Request, reply: Reply, host_ok: bool) {
    let host = if host_ok {
        header(&rq, "host").map(str::to_string)
    } else {
        None
    };
    let mut resp = Response::from_data(reply.body).with_status_code(reply.status);
    let mut all = security_headers(host.as_deref());
    all.push(("Content-Type".into(), reply.content_type.into()));
    all.extend(reply.headers);
    for (k, v) in all {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            resp.add_header(h);
        }
    }
    let _ = rq.respond(resp);
}

/// Starts the server and runs it until SIGTERM/SIGINT.
pub fn serve(tracker: Tracker, opts: &Options, mut notifier: Notifier) -> Result<()> {
    match start(tracker, opts, &mut notifier) {
        Ok(()) => Ok(()),
        Err(e) => {
            notifier.failed(&e);
            Err(e)
        }
    }
}

fn start(tracker: Tracker, opts: &Options, notifier: &mut Notifier) -> Result<()> {
    let auth = AuthConfig::from_raw(&tracker.config.raw)?;
    let loopback = opts.bind.is_loopback();
    if !loopback && !opts.allow_remote {
        return Err(Error::user(format!(
            "refusing to listen on {}: only loopback addresses are allowed without --allow-remote",
            opts.bind
        ))
        .with_hint("use --bind 127.0.0.1, or add --allow-remote after setting a password"));
    }
    super::ratelimit::ensure_state_dir(&tracker.root)
        .map_err(|e| Error::user(format!("cannot create .agent/serve/: {e}")))?;
    let mut lock = PidLock::acquire(&tracker.root)?;
    let server = match tiny_http::Server::http(SocketAddr::new(opts.bind, opts.port)) {
        Ok(s) => s,
        Err(e) => {
            lock.release();
            return Err(Error::user(format!(
                "cannot listen on {}: {e}",
                SocketAddr::new(opts.bind, opts.port)
            ))
            .with_hint("pick another port with --port, or stop whatever uses this one"));
        }
    };
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(opts.port);
    // Loopback is announced as `localhost`: browsers refuse IP addresses
    // as a passkey's relying party.
    let host = match opts.bind {
        a if a.is_loopback() => "localhost".to_string(),
        a if a.is_unspecified() => "127.0.0.1".to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
        a => a.to_string(),
    };
    let url = format!("http://{host}:{port}");
    let ready = (|| {
        let passkeys = super::passkey::cli::open(&tracker, port)?;
        let logins = super::passwords::load(
            &tracker.root,
            &auth.users,
            super::passwords::guarded_names(&tracker),
        )?;
        for w in &logins.warnings {
            eprintln!("htrac-serve: warning: {w}");
        }
        if !loopback && logins.users.is_empty() && !super::passkeys_configured(Some(&passkeys)) {
            return Err(Error::user(
                "--allow-remote needs a login method: no password or passkey is configured",
            )
            .with_hint("set a password with 'htrac-serve passwd' first"));
        }
        lock.write(std::process::id(), &url)?;
        Ok((passkeys, Arc::new(Live::new(&tracker)?)))
    })();
    let (passkeys, live) = match ready {
        Ok(r) => r,
        Err(e) => {
            drop(server);
            lock.release();
            return Err(e);
        }
    };
    let pid = std::process::id();
    daemon::install_signal_handlers();
    let stop = Arc::new(AtomicBool::new(false));
    let app = Arc::new(App {
        origins: Origins::new(opts.bind, port, &auth.allowed_hosts),
        sessions: Arc::new(Sessions::new(
            Duration::from_secs(auth.idle_secs),
            Duration::from_secs(auth.absolute_secs),
        )),
        limiter: Limiter::new(&tracker.root, auth.base_delay_secs, auth.max_failures),
        live: live.clone(),
        stop: stop.clone(),
        secure_cookie: !loopback,
        port,
        started: Instant::now(),
        ws_threads: Mutex::new(Vec::new()),
        passkeys,
        tracker: tracker.clone(),
    });
    let watcher = super::watch::spawn(tracker.clone(), live.clone(), stop.clone());
    let (tx, rx) = mpsc::channel::<Request>();
    let rx = Arc::new(Mutex::new(rx));
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let rx = rx.clone();
            let app = app.clone();
            std::thread::Builder::new()
                .name(format!("htrac-serve-{i}"))
                .spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match next {
                        Ok(rq) => super::routes::handle(&app, rq),
                        Err(_) => return,
                    }
                })
                .expect("spawn a worker thread")
        })
        .collect();
    if !loopback {
        eprintln!(
            "WARNING: htrac-serve is listening on {} — reachable from other machines. \
             Anyone who can reach it can try to log in; use strong passwords or passkeys, \
             and put TLS in front (cookies are marked Secure).",
            opts.bind
        );
    }
    println!("htrac-serve listening on {url} (pid {pid})");
    notifier.started(pid, &url);
    while !daemon::shutdown_requested() {
        match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(rq)) => {
                if tx.send(rq).is_err() {
                    break;
                }
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("htrac-serve: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    eprintln!("htrac-serve: shutting down");
    stop.store(true, Ordering::SeqCst);
    drop(tx);
    server.unblock();
    live.wake_all();
    for w in workers {
        let _ = w.join();
    }
    let ws: Vec<_> = std::mem::take(&mut *app.ws_threads.lock().unwrap_or_else(|p| p.into_inner()));
    for t in ws {
        let _ = t.join();
    }
    let _ = watcher.join();
    drop(server);
    lock.release();
    Ok(())
}
