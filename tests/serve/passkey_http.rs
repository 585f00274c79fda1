//! Passkeys over HTTP against a real server: `htrac-serve register-key`
//! prints a one-time link, the page's register and login ceremonies go
//! through `/api/auth/passkey/*` (verified by webauthn-rs), a login sets
//! the session cookie, and a tampered assertion, a reused token or a
//! foreign Origin are refused.

use crate::common;
use crate::passkey::authenticator::{Alg, Client, SoftKey};
use crate::support::{self as serve_support, serve_command, Server};
use serde_json::json;

#[test]
fn register_then_log_in_with_a_passkey_over_http() {
    let env = common::Env::new();
    serve_support::append_config(
        &env,
        "\nauth:\n  rate_limit: {base_delay: 1.0, max_failures: 10}\n",
    );
    serve_support::passwd(&env, "amy", "secret");
    let s = Server::start_in(env);
    let out = serve_command(&s.env, &["register-key", "--user", "amy"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = text
        .split_whitespace()
        .find(|w| w.contains("#register="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    assert!(
        link.starts_with(&format!("{}/", s.url)),
        "{link} is not on {}",
        s.url
    );
    let token = link.split("#register=").nth(1).unwrap();
    assert_eq!(
        s.get("/api/auth/methods", None).expect(200, None).json()["passkey"],
        false
    );

    // Registration, as the page does it.
    let start = s
        .post(
            "/api/auth/passkey/register/start",
            None,
            &json!({"token": token}),
        )
        .expect(200, None)
        .json();
    let mut key = SoftKey::new(Alg::Es256);
    let cred = key.register(&start["publicKey"], &Client::at(&s.url));
    let fin = s
        .post(
            "/api/auth/passkey/register/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": cred}),
        )
        .expect(200, None)
        .json();
    assert_eq!(fin, json!({"ok": true, "user": "amy"}));
    assert_eq!(
        s.get("/api/auth/methods", None).expect(200, None).json()["passkey"],
        true
    );
    // The token worked once; a failed token counts against the address.
    s.post(
        "/api/auth/passkey/register/start",
        None,
        &json!({"token": token}),
    )
    .expect(401, Some("expired_token"));
    s.post(
        "/api/auth/passkey/register/start",
        None,
        &json!({"token": "guess"}),
    )
    .expect(429, Some("rate_limited"));
    // Past the first failure's backoff (1 s; generous, so that the 429s
    // above and below never depend on how fast this machine is).
    std::thread::sleep(std::time::Duration::from_millis(1050));

    // A tampered assertion is refused and starts no session.
    let start = s
        .post("/api/auth/passkey/login/start", None, &json!({}))
        .expect(200, None)
        .json();
    let mut a = key.assertion(&start["publicKey"], &Client::at(&s.url));
    a.signature[10] ^= 1;
    let r = s
        .post(
            "/api/auth/passkey/login/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": a.to_json()}),
        )
        .expect(401, Some("verification_failed"));
    assert!(r.header("Set-Cookie").is_none());

    // The backoff of that second failure (2 s) applies to this address and key.
    s.post("/api/auth/passkey/login/start", None, &json!({}))
        .expect(200, None);
    let start = s
        .post("/api/auth/passkey/login/start", None, &json!({}))
        .expect(200, None)
        .json();
    let cred = key.login(&start["publicKey"], &s.url);
    let body = json!({"ceremony": start["ceremony"], "credential": cred});
    s.post("/api/auth/passkey/login/finish", None, &body)
        .expect(429, Some("rate_limited"));
    std::thread::sleep(std::time::Duration::from_millis(2050));
    let ok = s
        .post("/api/auth/passkey/login/finish", None, &body)
        .expect(200, None);
    let cookie = ok
        .header("Set-Cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = s
        .request("GET", "/api/auth/me", &[("Cookie", &cookie)], b"")
        .expect(200, None)
        .json();
    assert_eq!(me["user"], "amy");

    // Ceremonies come only from the page's origin.
    s.request(
        "POST",
        "/api/auth/passkey/login/start",
        &[("Origin", "http://evil.example")],
        b"{}",
    )
    .expect(403, Some("forbidden_origin"));
}

/// The one-time registration token `htrac-serve register-key` prints for `user`.
fn register_token(s: &Server, user: &str) -> String {
    let out = serve_command(&s.env, &["register-key", "--user", user])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("#register="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    link.split("#register=").nth(1).unwrap().to_string()
}

/// Registers a new ES256 key for `user` through the HTTP routes.
fn register_over_http(s: &Server, user: &str) -> SoftKey {
    let token = register_token(s, user);
    let start = s
        .post(
            "/api/auth/passkey/register/start",
            None,
            &json!({"token": token}),
        )
        .expect(200, None)
        .json();
    let key = SoftKey::new(Alg::Es256);
    let cred = key.register(&start["publicKey"], &Client::at(&s.url));
    let fin = s
        .post(
            "/api/auth/passkey/register/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": cred}),
        )
        .expect(200, None)
        .json();
    assert_eq!(fin["user"], user);
    key
}

/// Attack 3 of issue 19: unauthenticated `login/start`s used to fill the
/// ceremony table (256), refusing every passkey sign-in and registration
/// for five minutes. Starts now keep no server state at all.
#[test]
fn a_flood_of_login_starts_locks_nobody_out() {
    let env = common::Env::new();
    serve_support::append_config(
        &env,
        "\nauth:\n  rate_limit: {base_delay: 0, max_failures: 10}\n",
    );
    let s = Server::start_in(env);
    // One key exists, so that every start below is a real ceremony.
    let mut amy = register_over_http(&s, "amy");

    let mut last = serde_json::Value::Null;
    for _ in 0..2000 {
        last = s
            .post("/api/auth/passkey/login/start", None, &json!({}))
            .expect(200, None)
            .json();
    }
    // The flood's ceremonies are real ones: the last still finishes.
    let cred = amy.login(&last["publicKey"], &s.url);
    s.post(
        "/api/auth/passkey/login/finish",
        None,
        &json!({"ceremony": last["ceremony"], "credential": cred}),
    )
    .expect(200, None);

    // A new user registers a passkey and signs in with it.
    let mut bob = register_over_http(&s, "bob");
    let start = s
        .post("/api/auth/passkey/login/start", None, &json!({}))
        .expect(200, None)
        .json();
    let body = json!({
        "ceremony": start["ceremony"],
        "credential": bob.login(&start["publicKey"], &s.url),
    });
    let ok = s
        .post("/api/auth/passkey/login/finish", None, &body)
        .expect(200, None);
    let cookie = ok
        .header("Set-Cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = s
        .request("GET", "/api/auth/me", &[("Cookie", &cookie)], b"")
        .expect(200, None)
        .json();
    assert_eq!(me["user"], "bob");

    // The same finish again (a captured request replayed) is refused.
    let r = s
        .post("/api/auth/passkey/login/finish", None, &body)
        .expect(400, Some("unknown_ceremony"));
    assert!(r.header("Set-Cookie").is_none());

    // A sealed ceremony with one character changed is refused, whichever part.
    let start = s
        .post("/api/auth/passkey/login/start", None, &json!({}))
        .expect(200, None)
        .json();
    let token = start["ceremony"].as_str().unwrap();
    let cred = bob.login(&start["publicKey"], &s.url);
    for at in [5, token.len() - 5] {
        let mut bytes = token.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        s.post(
            "/api/auth/passkey/login/finish",
            None,
            &json!({"ceremony": tampered, "credential": cred}),
        )
        .expect(400, Some("unknown_ceremony"));
    }
    // Untouched, the same ceremony still finishes: the tampered ones did not use it up.
    s.post(
        "/api/auth/passkey/login/finish",
        None,
        &json!({"ceremony": token, "credential": cred}),
    )
    .expect(200, None);
}
