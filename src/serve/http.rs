//! The HTTP server: binding (loopback unless `--allow-remote` with a login
//! configured), the pid-file lock, the connection layer ([`super::conn`])
//! with its limits, the watcher, and a clean shutdown on SIGTERM/SIGINT.
//! Also the pieces every answer shares: JSON replies with security
//! headers, cookies, and JSON request bodies.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::ApiError;
use super::authcfg::AuthConfig;
use super::conn::{Answer, Limits, Request, Response, Server, Service};
use super::csrf::Origins;
use super::daemon::{self, Notifier};
use super::live::Live;
use super::pidfile::PidLock;
use super::ratelimit::Limiter;
use super::session::Sessions;
use crate::error::{Error, Result};
use crate::tracker::Tracker;

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
    /// Passkey ceremonies and the key store.
    pub passkeys: super::passkey::Passkeys,
    /// The writes' idempotency keys.
    pub keys: Arc<super::idempotency::Keys>,
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

/// The session token from the `Cookie` header.
pub fn session_cookie(rq: &Request) -> Option<String> {
    rq.headers_named("cookie")
        .flat_map(|v| v.split(';'))
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

/// The request's JSON body (empty is `{}`); the connection layer has
/// already refused one over its size limit.
pub fn read_json(rq: &Request) -> std::result::Result<Value, ApiError> {
    if rq.body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&rq.body).map_err(|e| {
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

/// The answer `reply`, with the security headers (the WebSocket source in
/// the CSP names `host` when the request's Host was checked).
pub fn response(reply: Reply, host: Option<&str>) -> Response {
    let mut headers = security_headers(host);
    headers.push(("Content-Type".into(), reply.content_type.into()));
    headers.extend(reply.headers);
    Response {
        status: reply.status,
        headers,
        body: reply.body,
    }
}

/// Ends the sessions of a user whose password changed or was removed (by
/// `htrac-serve passwd` in another process, or an edit of the config), so
/// their WebSockets close too. Checked twice a second.
struct PasswordWatch {
    hashes: Option<std::collections::BTreeMap<String, String>>,
    next: Instant,
}

impl PasswordWatch {
    fn new(app: &App) -> PasswordWatch {
        PasswordWatch {
            hashes: Self::load(app),
            next: Instant::now(),
        }
    }

    fn load(app: &App) -> Option<std::collections::BTreeMap<String, String>> {
        super::passwords::load_current(
            &app.tracker.root,
            super::passwords::guarded_names(&app.tracker),
        )
        .ok()
        .map(|l| l.users)
    }

    fn check(&mut self, app: &App) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + Duration::from_millis(500);
        let Some(now) = Self::load(app) else {
            return; // unreadable just now (mid-write): keep the old view
        };
        if let Some(before) = &self.hashes {
            for (user, hash) in before {
                if now.get(user) != Some(hash) {
                    let n = app.sessions.remove_user(user);
                    if n > 0 {
                        super::log::line(format_args!(
                            "the password of '{user}' changed: {n} session(s) ended"
                        ));
                    }
                }
            }
        }
        self.hashes = Some(now);
    }
}

/// The server as the connection layer sees it.
struct Web(Arc<App>);

impl Service for Web {
    fn handle(&self, rq: Request) -> Answer {
        super::routes::handle(&self.0, rq)
    }

    fn refuse(&self, status: u16, code: &'static str, message: &str) -> Response {
        response(Reply::error(&ApiError::new(status, code, message)), None)
    }

    fn stopping(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst)
    }
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
    let listener = match TcpListener::bind(SocketAddr::new(opts.bind, opts.port)) {
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
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(opts.port);
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
            super::log::warn(w);
        }
        super::password::prepare(&logins.users);
        if !loopback && logins.users.is_empty() && !super::passkeys_configured(Some(&passkeys)) {
            return Err(Error::user(
                "--allow-remote needs a login method: no password or passkey is configured",
            )
            .with_hint("set a password with 'htrac-serve passwd' first"));
        }
        lock.write(std::process::id(), &url)?;
        let (sessions, warnings) = Sessions::open(
            Duration::from_secs(auth.idle_secs),
            Duration::from_secs(auth.absolute_secs),
            super::session::sessions_path(&tracker.root),
            |user| {
                logins
                    .users
                    .get(user)
                    .map(|h| super::session::sha256_hex(h))
                    .unwrap_or_default()
            },
        );
        for w in &warnings {
            super::log::warn(w);
        }
        Ok((passkeys, sessions, Arc::new(Live::new(&tracker)?)))
    })();
    let (passkeys, sessions, live) = match ready {
        Ok(r) => r,
        Err(e) => {
            drop(listener);
            lock.release();
            return Err(e);
        }
    };
    let (keys, key_warnings) =
        super::idempotency::Keys::open(&super::ratelimit::state_dir(&tracker.root));
    for w in key_warnings {
        super::log::warn(w);
    }
    let pid = std::process::id();
    daemon::install_signal_handlers();
    let stop = Arc::new(AtomicBool::new(false));
    let app = Arc::new(App {
        origins: Origins::new(opts.bind, port, &auth.allowed_hosts),
        sessions: Arc::new(sessions),
        limiter: Limiter::new(&tracker.root, auth.base_delay_secs, auth.max_failures),
        live: live.clone(),
        stop: stop.clone(),
        secure_cookie: !loopback,
        port,
        started: Instant::now(),
        passkeys,
        keys: Arc::new(keys),
        tracker: tracker.clone(),
    });
    let watcher = super::watch::spawn(tracker.clone(), live.clone(), stop.clone());
    let server = Server::new(listener, Web(app.clone()), Limits::default());
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
    let mut passwords = PasswordWatch::new(&app);
    while !daemon::shutdown_requested() {
        server.accept_for(Duration::from_millis(100));
        passwords.check(&app);
    }
    super::log::line("shutting down");
    stop.store(true, Ordering::SeqCst);
    live.wake_all();
    // Connections notice the stop within half a second; WebSockets send a close.
    let until = Instant::now() + Duration::from_secs(3);
    while server.open_connections() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = watcher.join();
    drop(server);
    lock.release();
    Ok(())
}
