//! Logging in: the password route and the passkey ceremonies' routes,
//! each behind the brute-force limits ([`super::ratelimit`]: a password
//! login counts against its name-and-source pair, which alone can lock,
//! and against the name and the source, which only slow down; passkeys
//! against the credential and the source); a success starts a session and
//! sets its cookie.

use serde_json::{json, Value};

use super::authcfg::AuthConfig;
use super::conn::Request;
use super::http::{read_json, App, Reply};
use super::passkey::PasskeyError;
use super::password;
use super::passwords;
use super::ratelimit::{addr_key, pair_key, user_key, Refusal};
use super::routes::{err, me};
use super::session::sha256_hex;
use crate::governance::actor::Actor;

fn client_addr(rq: &Request) -> String {
    rq.remote.ip().to_string()
}

/// `POST /api/auth/login` `{"user", "password"}`.
pub fn password(app: &App, rq: &Request) -> Reply {
    let body = match read_json(rq) {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(user), Some(pw)) = (field("user"), field("password")) else {
        return err(
            400,
            "invalid_field",
            "send {\"user\": ..., \"password\": ...}",
        );
    };
    // On a human's server a web login acts as a human: an agent's name
    // never logs in, whatever hash is configured for it. (On an agent's
    // server every login has the agent's authority anyway.)
    let patterns = super::passwords::guarded_names(&app.tracker);
    if Actor::for_name(&user, patterns).is_agent() {
        return err(
            403,
            "agent_user",
            format!("'{user}' matches actor_resolution.agent_usernames: web logins are for humans"),
        );
    }
    let addr = client_addr(rq);
    let keys = vec![pair_key(&user, &addr), user_key(&user), addr_key(&addr)];
    if let Err(r) = app.limiter.begin(&keys) {
        return refused(r);
    }
    let logins = AuthConfig::load(&app.tracker.root)
        .and_then(|c| passwords::load(&app.tracker.root, &c.users, patterns).map(|l| (c, l)));
    let cfg = match logins {
        Ok((c, l)) => AuthConfig {
            users: l.users,
            ..c
        },
        Err(e) => {
            app.limiter.abort(&keys);
            return err(500, "internal", e.message);
        }
    };
    if !password::verify(&cfg, &user, &pw) {
        let locked = app.limiter.failure(&keys);
        let msg = if locked.is_empty() {
            "wrong user name or password".to_string()
        } else {
            format!("wrong user name or password; too many failures: password logins as '{user}' from this address are now locked out until a human runs 'htrac-serve unlock-login {user}' (passkey sign-in still works)")
        };
        return err(401, "bad_credentials", msg);
    }
    app.limiter.success(&keys);
    logged_in(app, &user)
}

/// A new session for `user`: the login answer with its cookie. The
/// session is bound to the user's current password hash, so a password
/// change ends it (now, or at the next start if the server was down).
pub fn logged_in(app: &App, user: &str) -> Reply {
    let fingerprint =
        passwords::load_current(&app.tracker.root, passwords::guarded_names(&app.tracker))
            .ok()
            .and_then(|l| l.users.get(user).map(|h| sha256_hex(h)))
            .unwrap_or_default();
    let (token, s) = app.sessions.create(user, &fingerprint);
    Reply::json(200, &me(app, &s)).header("Set-Cookie", app.cookie(Some(&token)))
}

fn refused(r: Refusal) -> Reply {
    match r {
        Refusal::Backoff(secs) => err(
            429,
            "rate_limited",
            format!("too many failed logins: wait {secs} s"),
        )
        .header("Retry-After", secs.to_string()),
        Refusal::Locked(key) => {
            let name = key
                .strip_prefix("pair:")
                .and_then(|r| r.rsplit_once('@'))
                .map_or(key.as_str(), |(n, _)| n);
            err(
                429,
                "locked_out",
                format!("password logins as '{name}' from this address are locked out after repeated failures; sign in with a passkey, or ask a human to run 'htrac-serve unlock-login {name}'"),
            )
            .header("Retry-After", "3600")
        }
    }
}

fn passkey_error(e: &PasskeyError) -> Reply {
    Reply::json(e.status(), &e.to_json())
}

/// `POST /api/auth/passkey/{login,register}/{start,finish}`. Starts keep
/// no server state (the ceremony travels sealed, see
/// `passkey::ceremony`), so `login/start` needs no limit of its own.
pub fn passkey(app: &App, rq: &Request, route: &str) -> Reply {
    let body = match read_json(rq) {
        Ok(b @ Value::Object(_)) => b,
        Ok(_) => return err(400, "bad_json", "the request body must be a JSON object"),
        Err(e) => return Reply::error(&e),
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let addr = addr_key(&client_addr(rq));
    let pk = &app.passkeys;
    match route {
        "login/start" => match pk.start_login() {
            Ok((ceremony, options)) => {
                Reply::json(200, &json!({"ceremony": ceremony, "publicKey": options}))
            }
            Err(e) => passkey_error(&e),
        },
        "register/start" => {
            // Guessing tokens is limited like guessing passwords.
            let keys = vec![addr];
            if let Err(r) = app.limiter.begin(&keys) {
                return refused(r);
            }
            match pk.start_registration(&text("token")) {
                Ok((ceremony, options)) => {
                    app.limiter.success(&keys);
                    Reply::json(200, &json!({"ceremony": ceremony, "publicKey": options}))
                }
                Err(e) => {
                    if e.status() == 401 {
                        app.limiter.failure(&keys);
                    } else {
                        app.limiter.abort(&keys);
                    }
                    passkey_error(&e)
                }
            }
        }
        "register/finish" => {
            let credential = body.get("credential").cloned().unwrap_or(Value::Null);
            match pk.finish_registration_from(rq.remote.ip(), &text("ceremony"), &credential) {
                Ok(user) => Reply::json(200, &json!({"ok": true, "user": user})),
                Err(e) => passkey_error(&e),
            }
        }
        "login/finish" => {
            let credential = body.get("credential").cloned().unwrap_or(Value::Null);
            let mut keys = vec![addr];
            let id = credential
                .get("rawId")
                .or_else(|| credential.get("id"))
                .and_then(Value::as_str);
            if let Some(id) = id {
                keys.push(format!("key:{}", id.chars().take(200).collect::<String>()));
            }
            if let Err(r) = app.limiter.begin(&keys) {
                return refused(r);
            }
            match pk.finish_login_from(rq.remote.ip(), &text("ceremony"), &credential) {
                Ok(user) => {
                    app.limiter.success(&keys);
                    logged_in(app, &user)
                }
                Err(e) => {
                    // Anything the client got wrong counts; server trouble does not.
                    if matches!(e.status(), 400 | 401) {
                        app.limiter.failure(&keys);
                    } else {
                        app.limiter.abort(&keys);
                    }
                    passkey_error(&e)
                }
            }
        }
        other => err(404, "not_found", format!("no passkey route {other}")),
    }
}
