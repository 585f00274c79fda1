//! The web interface's library side (`htrac-serve`), behind the `serve`
//! feature: a blocking HTTP/1.1 server ([`conn`]: a thread per connection,
//! deadlines and size limits on every request, a few routing permits), a REST
//! API over the same library calls as the CLI, live deltas over WebSocket
//! (tungstenite) fed by an inotify watcher, password logins (bcrypt) with
//! server-side sessions, brute-force limits, Origin/CSRF/Host checks, and
//! the embedded web page.
//!
//! Modules by concept: [`conn`] (connections, request limits), [`http`] (server, replies), [`routes`]
//! (routing), [`login`] (password and passkey logins), [`api`] (item actions), [`dispatch`] (an action by name), [`live`] (state, deltas,
//! clients), [`watch`] (inotify), [`ws`] (WebSocket clients), [`session`],
//! [`password`], [`passwords`] (where hashes are kept), [`ratelimit`], [`csrf`], [`authcfg`] (the `auth:` config),
//! [`idempotency`] (keys that make a retried write apply once),
//! [`assets`], [`pidfile`], [`daemon`], [`passkey`] (WebAuthn with
//! webauthn-rs).

pub mod api;
pub mod assets;
pub mod authcfg;
pub mod conn;
pub mod csrf;
pub mod daemon;
pub mod dispatch;
pub mod http;
pub mod idempotency;
pub mod live;
pub mod log;
pub mod login;
pub mod passkey;
pub mod password;
pub mod passwords;
pub mod pidfile;
pub mod ratelimit;
pub mod routes;
pub mod session;
pub mod watch;
pub mod ws;

/// Whether a passkey that can log in is registered.
pub fn passkeys_configured(passkeys: Option<&passkey::Passkeys>) -> bool {
    passkeys.is_some_and(|p| p.has_usable_keys().unwrap_or(false))
}
