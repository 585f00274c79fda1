//! htrac-serve's HTTP side against a real server: every route with and
//! without a session, writes through the library (checked with the CLI),
//! JSON errors for bad input, body cap, Origin/CSRF/Host checks, cookie
//! flags, security headers, brute-force backoff and lockout, and an agent
//! OS user's server giving web users only agent authority.

use crate::common;
use crate::support::{append_config, passwd, serve_command, Server};
use serde_json::json;

#[test]
fn public_routes_and_everything_else_needs_a_session() {
    let s = Server::start();
    let id = s.env.add("one", &[]);
    let r = s.get("/health", None).expect(200, None);
    assert_eq!(r.json()["status"], "ok");
    let page = s.get("/", None).expect(200, None);
    assert!(page
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(page.header("Referrer-Policy"), Some("no-referrer"));
    let m = s.get("/api/auth/methods", None).expect(200, None).json();
    assert_eq!(m, json!({"password": true, "passkey": false}));
    for path in [
        "/api/items",
        "/api/ready",
        "/api/config",
        "/api/priority-trend",
        "/api/priority-trend.svg",
        "/api/auth/me",
        &format!("/api/items/{id}"),
    ] {
        s.get(path, None).expect(401, Some("unauthenticated"));
    }
    for path in [
        "/api/items".to_string(),
        "/api/auth/logout".to_string(),
        format!("/api/items/{id}/update"),
        format!("/api/items/{id}/discuss"),
        format!("/api/items/{id}/lock"),
        format!("/api/items/{id}/unlock"),
        format!("/api/items/{id}/freeze"),
        format!("/api/items/{id}/unfreeze"),
        format!("/api/items/{id}/move"),
    ] {
        s.post(&path, None, &json!({"status": "done"}))
            .expect(401, Some("unauthenticated"));
    }
    // Nothing was written by any of them.
    assert_eq!(
        s.env.run(&["show", &id, "--json"]).ok().json()["status"],
        "todo_hard"
    );
    // No file system path from the URL.
    for p in [
        "/../Cargo.toml",
        "/frontend/index.html",
        "/%2e%2e/Cargo.toml",
        "/index.html/..",
    ] {
        s.get(p, None).expect(404, Some("not_found"));
    }
}

#[test]
fn logged_in_user_reads_and_writes_as_a_human_named_after_the_login() {
    let s = Server::start();
    let blocker = s.env.add("blocker", &["--priority", "1"]);
    let r = s.try_login("amy", "secret").expect(200, None);
    let cookie = r.header("Set-Cookie").unwrap().to_string();
    assert!(cookie.starts_with("htrac_session="));
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "loopback: no Secure flag: {cookie}"
    );
    let l = s.login();
    let me = s.get("/api/auth/me", Some(&l)).expect(200, None).json();
    assert_eq!(me["user"], "amy");
    assert_eq!(me["human"], true);
    // The priority trend: the CLI's series, and the chart it draws.
    let trend = s
        .get("/api/priority-trend", Some(&l))
        .expect(200, None)
        .json();
    let cli = s.env.run(&["--json", "priority-trend"]).ok().json();
    assert_eq!(trend["points"], cli["points"]);
    assert!(!trend["points"].as_array().unwrap().is_empty());
    let chart = s.get("/api/priority-trend.svg", Some(&l)).expect(200, None);
    assert!(chart
        .header("Content-Type")
        .unwrap()
        .starts_with("image/svg+xml"));
    let out = s.env.dir.path().join("trend.svg");
    s.env
        .run(&["priority-trend", "--out", out.to_str().unwrap()])
        .ok();
    assert_eq!(chart.body, std::fs::read(&out).unwrap());
    let cfg = s.get("/api/config", Some(&l)).expect(200, None).json();
    assert!(cfg["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "todo_hard"));
    let wi = cfg["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "work_item")
        .expect("work_item in kinds");
    assert_eq!(wi["prefix"], "WI");
    assert_eq!(wi["default_status"], "todo_hard");

    // Create: 201, the CLI's item shape, written by human 'amy'.
    let r = s
        .post(
            "/api/items",
            Some(&l),
            &json!({"kind": "work_item", "title": "from the web", "priority": 3,
                    "tags": ["web_ui"], "before": [blocker.clone()], "description": "d"}),
        )
        .expect(201, None)
        .json();
    let id = r["id"].as_str().unwrap().to_string();
    let cli = s.env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(r["item"], cli);
    let log = s.env.run(&["log", &id]).ok().stdout;
    assert!(
        log.contains("by: human") && log.contains("actor: amy"),
        "{log}"
    );

    // Reads match the CLI.
    let got = s
        .get(&format!("/api/items/{}", &id[..12]), Some(&l))
        .expect(200, None)
        .json();
    assert_eq!(got, cli);
    let ready = s.get("/api/ready", Some(&l)).expect(200, None).json();
    let cli_ready = s.env.run(&["ready", "--json"]).ok().json();
    assert_eq!(ready["items"], cli_ready["ready"]);
    let list = s
        .get("/api/items?tag=web_ui", Some(&l))
        .expect(200, None)
        .json();
    assert_eq!(common::ids(&list["items"]), vec![id.clone()]);
    let list = s
        .get("/api/items?q=BLOCK", Some(&l))
        .expect(200, None)
        .json();
    assert_eq!(common::ids(&list["items"]), vec![blocker.clone()]);
    let list = s
        .get("/api/items?status=done,wont_do", Some(&l))
        .expect(200, None)
        .json();
    assert!(list["items"].as_array().unwrap().is_empty());
    s.get("/api/items?tier=nowhere", Some(&l))
        .expect(400, Some("invalid_field"));

    // Update, discuss, lock, freeze, move: each through the library.
    let u = s
        .post(
            &format!("/api/items/{id}/update"),
            Some(&l),
            &json!({"status": "in_progress", "add_tags": ["extra"], "remove_before": [blocker]}),
        )
        .expect(200, None)
        .json();
    assert_eq!(u["item"]["status"], "in_progress");
    assert_eq!(u["item"]["tags"], json!(["web_ui", "extra"]));
    assert_eq!(u["item"]["isbefore"], json!([]));
    let d = s
        .post(
            &format!("/api/items/{id}/discuss"),
            Some(&l),
            &json!({"message": "hello"}),
        )
        .expect(200, None)
        .json();
    let entry = &d["item"]["discussion"][0];
    assert_eq!(
        (entry["by"].as_str(), entry["actor"].as_str()),
        (Some("human"), Some("amy"))
    );
    let k = s
        .post(
            &format!("/api/items/{id}/lock"),
            Some(&l),
            &json!({"fields": ["Status"]}),
        )
        .expect(200, None)
        .json();
    assert_eq!(k["item"]["locked_fields"], json!(["status"]));
    s.post(
        &format!("/api/items/{id}/unlock"),
        Some(&l),
        &json!({"fields": ["status"]}),
    )
    .expect(200, None);
    let f = s
        .post(&format!("/api/items/{id}/freeze"), Some(&l), &json!({}))
        .expect(200, None);
    assert_eq!(f.json()["item"]["frozen"], true);
    s.post(&format!("/api/items/{id}/freeze"), Some(&l), &json!({}))
        .expect(409, Some("conflict"));
    s.post(&format!("/api/items/{id}/unfreeze"), Some(&l), &json!({}))
        .expect(200, None);
    let mv = s
        .post(
            &format!("/api/items/{id}/move"),
            Some(&l),
            &json!({"to": "promote"}),
        )
        .expect(200, None)
        .json();
    assert_eq!(mv["item"]["tier"], "canonical");
    s.post(
        &format!("/api/items/{id}/move"),
        Some(&l),
        &json!({"to": "stealth"}),
    )
    .expect(409, Some("conflict"));
    assert_eq!(
        s.env.run(&["show", &id, "--json"]).ok().json()["tier"],
        "canonical"
    );

    // Logout ends the session and clears the cookie.
    let out = s
        .post("/api/auth/logout", Some(&l), &json!({}))
        .expect(200, None);
    assert!(out.header("Set-Cookie").unwrap().contains("Max-Age=0"));
    s.get("/api/items", Some(&l))
        .expect(401, Some("unauthenticated"));
}

#[test]
fn bad_input_gets_json_errors_never_a_bare_500() {
    let s = Server::start();
    let a = s.env.add("alpha", &[]);
    s.env.add("beta", &[]);
    let l = s.login();
    let h = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![("Origin", s.url.clone()), ("Cookie", l.cookie.clone())];
        v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let send = |path: &str, body: &[u8]| {
        let hs = h(&[]);
        let hs: Vec<(&str, &str)> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.request("POST", path, &hs, body)
    };
    send("/api/items", b"{not json").expect(400, Some("bad_json"));
    send("/api/items", b"[1, 2]").expect(400, Some("bad_json"));
    send(&format!("/api/items/{a}/update"), b"\"text\"").expect(400, Some("bad_json"));
    let big = vec![b' '; (1 << 20) + 10];
    send("/api/items", &big).expect(413, Some("too_large"));
    s.post("/api/items", Some(&l), &json!({"kind": "work_item"}))
        .expect(400, Some("invalid_field"));
    s.post(
        "/api/items",
        Some(&l),
        &json!({"kind": "nope", "title": "x"}),
    )
    .expect(400, Some("invalid_field"));
    s.post(
        "/api/items",
        Some(&l),
        &json!({"kind": "work_item", "title": "x", "priority": 9}),
    )
    .expect(400, Some("invalid_field"));
    s.post(
        "/api/items",
        Some(&l),
        &json!({"kind": "work_item", "title": "x", "colour": "red"}),
    )
    .expect(400, Some("invalid_field"));
    s.post(
        "/api/items",
        Some(&l),
        &json!({"kind": "work_item", "title": 5}),
    )
    .expect(400, Some("invalid_field"));
    s.post(
        &format!("/api/items/{a}/update"),
        Some(&l),
        &json!({"status": "bogus"}),
    )
    .expect(400, Some("invalid_field"));
    s.post(&format!("/api/items/{a}/update"), Some(&l), &json!({}))
        .expect(400, Some("invalid_field"));
    s.post(
        &format!("/api/items/{a}/update"),
        Some(&l),
        &json!({"parent": "zzzzz"}),
    )
    .expect(400, Some("invalid_field"));
    // The stealth-link rule is the library's: the web is refused as the
    // CLI is, and nothing is written.
    let hidden = s.env.add("hidden", &[]);
    s.env.run(&["stealth", &hidden]).ok();
    let before = s.env.tree();
    let r = s
        .post(
            &format!("/api/items/{a}/update"),
            Some(&l),
            &json!({"add_before": [hidden]}),
        )
        .expect(400, Some("invalid_field"));
    let msg = r.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(
        msg.contains("points at a stealth item") && !msg.contains("--"),
        "{msg}"
    );
    assert_eq!(s.env.tree(), before);
    s.post(
        &format!("/api/items/{a}/discuss"),
        Some(&l),
        &json!({"message": ""}),
    )
    .expect(400, Some("invalid_field"));
    s.post(
        &format!("/api/items/{a}/move"),
        Some(&l),
        &json!({"to": "sideways"}),
    )
    .expect(400, Some("invalid_field"));
    s.get("/api/items/WI-zzzzz", Some(&l))
        .expect(404, Some("not_found"));
    s.get("/api/items/WI", Some(&l))
        .expect(409, Some("ambiguous"));
    s.post(
        "/api/items/WI-zzzzz/update",
        Some(&l),
        &json!({"status": "done"}),
    )
    .expect(404, Some("not_found"));
    s.get("/api/nothing", Some(&l))
        .expect(404, Some("not_found"));
    s.request("DELETE", "/api/items", &[("Cookie", &l.cookie)], b"")
        .expect(405, Some("method_not_allowed"));
    // The item is as it was.
    assert_eq!(
        s.env.run(&["show", &a, "--json"]).ok().json()["status"],
        "todo_hard"
    );
}

#[test]
fn origin_csrf_and_host_are_checked() {
    let s = Server::start();
    let l = s.login();
    let body = json!({"kind": "work_item", "title": "x"}).to_string();
    let post = |hs: &[(&str, &str)]| s.request("POST", "/api/items", hs, body.as_bytes());
    // Cross-site: refused even with a valid session and token.
    post(&[
        ("Origin", "http://evil.example"),
        ("Cookie", &l.cookie),
        ("X-CSRF-Token", &l.csrf),
    ])
    .expect(403, Some("forbidden_origin"));
    // No Origin: the CSRF token must match.
    post(&[("Cookie", &l.cookie)]).expect(403, Some("forbidden_origin"));
    post(&[("Cookie", &l.cookie), ("X-CSRF-Token", "0000")]).expect(403, Some("forbidden_origin"));
    post(&[("Cookie", &l.cookie), ("X-CSRF-Token", &l.csrf)]).expect(201, None);
    let other = json!({"kind": "work_item", "title": "y"}).to_string();
    s.request(
        "POST",
        "/api/items",
        &[("Origin", &s.url), ("Cookie", &l.cookie)],
        other.as_bytes(),
    )
    .expect(201, None);
    // Login needs the page's Origin.
    let login = json!({"user": "amy", "password": "secret"}).to_string();
    s.request("POST", "/api/auth/login", &[], login.as_bytes())
        .expect(403, Some("forbidden_origin"));
    s.request(
        "POST",
        "/api/auth/login",
        &[("Origin", "http://localhost:1")],
        login.as_bytes(),
    )
    .expect(403, Some("forbidden_origin"));
    // DNS rebinding: a foreign Host name is refused on every route.
    let head = "GET /health HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n";
    s.raw(head, b"").expect(400, Some("bad_host"));
    let head = format!(
        "GET /api/items HTTP/1.1\r\nHost: attacker.test\r\nCookie: {}\r\nConnection: close\r\n\r\n",
        l.cookie
    );
    s.raw(&head, b"").expect(400, Some("bad_host"));
}

#[test]
fn failed_logins_back_off_then_lock_out_until_a_human_clears_it() {
    let env = common::Env::new();
    append_config(
        &env,
        "\nauth:\n  rate_limit: {base_delay: 1.0, max_failures: 3}\n",
    );
    passwd(&env, "amy", "secret");
    let s = Server::start_in(env);
    s.try_login("amy", "wrong")
        .expect(401, Some("bad_credentials"));
    let r = s
        .try_login("amy", "secret")
        .expect(429, Some("rate_limited"));
    assert_eq!(r.header("Retry-After"), Some("1"));
    // Past the first failure's backoff (1 s: generous, so the 429s never
    // depend on how fast this machine answers).
    std::thread::sleep(std::time::Duration::from_millis(1050));
    s.try_login("amy", "wrong")
        .expect(401, Some("bad_credentials"));
    // Second failure: 2 s.
    s.try_login("amy", "wrong")
        .expect(429, Some("rate_limited"));
    std::thread::sleep(std::time::Duration::from_millis(2050));
    s.try_login("amy", "wrong")
        .expect(401, Some("bad_credentials"));
    // Third failure: this name is locked out from this source (all of
    // loopback), even with the right password, for good.
    s.try_login("amy", "secret").expect(429, Some("locked_out"));
    let lockouts = s.env.root().join("serve/lockouts.json");
    assert!(std::fs::read_to_string(&lockouts)
        .unwrap()
        .contains("pair:amy@loopback"));
    assert_eq!(
        std::fs::read_to_string(s.env.root().join("serve/.gitignore")).unwrap(),
        "*\n"
    );
    let out = serve_command(&s.env, &["unlock-login", "amy"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Cleared: what is left is the name's and the source's backoff (4 s
    // after the third failure), then the right password gets in.
    let r = s
        .try_login("amy", "secret")
        .expect(429, Some("rate_limited"));
    let wait: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!(wait <= 4, "{wait}");
    std::thread::sleep(std::time::Duration::from_secs(wait));
    s.try_login("amy", "secret").expect(200, None);
    let out = serve_command(&s.env, &["unlock-login", "--all"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "nothing is locked out any more");
}

#[test]
fn an_agent_users_server_gives_web_users_agent_authority() {
    let env = common::Env::new();
    passwd(&env, "amy", "secret");
    // Every OS user name now counts as an agent, this one included.
    let path = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("- \"*_agent\"", "- \"*\"");
    append_config(&env, "");
    std::fs::write(&path, text).unwrap();
    let id = env.add("agent item", &[]);
    let s = Server::start_in(env);
    let l = s.login();
    assert_eq!(
        s.get("/api/auth/me", Some(&l)).expect(200, None).json()["human"],
        false
    );
    s.post(
        &format!("/api/items/{id}/lock"),
        Some(&l),
        &json!({"fields": ["status"]}),
    )
    .expect(403, Some("human_required"));
    s.post(&format!("/api/items/{id}/freeze"), Some(&l), &json!({}))
        .expect(403, Some("human_required"));
    s.post(
        &format!("/api/items/{id}/update"),
        Some(&l),
        &json!({"status": "in_progress"}),
    )
    .expect(200, None);
    let log = s.env.run(&["log", &id]).ok().stdout;
    assert!(
        log.contains("by: agent") && !log.contains("actor: amy"),
        "{log}"
    );
    // passwd is a human's command.
    let out = serve_command(&s.env, &["passwd", "--user", "eve", "--cost", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("human authority"));
}

/// Web logins act as humans: an agent's name gets no password (`passwd`
/// refuses it) and never logs in, even with a hash already in the config.
/// Hashes live in `.agent/serve/passwords.json` (0600, in the 0700
/// directory), not the world-readable config.yaml: hashes still there log
/// in until the next `passwd`, which moves them.
#[test]
fn passwords_are_private_and_never_for_an_agents_name() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let env = common::Env::new();
    let cfg_path = env.root().join("tracker/config.yaml");
    let before = std::fs::read(&cfg_path).unwrap();
    let mut child = serve_command(&env, &["passwd", "--user", "amy_agent", "--cost", "4"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"secret\n");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("agent_usernames"), "{err}");
    assert_eq!(std::fs::read(&cfg_path).unwrap(), before);
    assert!(!env.root().join("serve/passwords.json").exists());

    // Hashes from before: in the config, one of them an agent's name.
    let hash = htrac::serve::password::hash("secret", 4).unwrap();
    append_config(
        &env,
        &format!(
            "\nauth:\n  users:\n    amy_agent:\n      password_hash: '{hash}'\n    bob:\n      password_hash: '{hash}'\n"
        ),
    );
    let s = Server::start_in(env);
    s.try_login("amy_agent", "secret")
        .expect(403, Some("agent_user"));
    s.try_login("bob", "secret").expect(200, None);

    // The next passwd moves bob's hash out of the config, drops the agent's.
    let out = serve_command(&s.env, &["passwd", "--user", "amy", "--cost", "4"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"secret\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("passwords.json") && said.contains("bob"),
        "{said}"
    );
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    assert!(!cfg.contains("$2"), "hashes left in config.yaml:\n{cfg}");
    // The backup holding them is private too, never where git sees it.
    assert!(!s.env.root().join("tracker/config.yaml.bak").exists());
    let bak = s.env.root().join("serve/config.yaml.bak");
    assert!(std::fs::read_to_string(&bak).unwrap().contains("$2"));
    let status = common::git(
        s.env.path(),
        &["status", "--porcelain", "--untracked-files=all"],
    );
    assert!(
        !status.contains("serve/") && !status.contains(".bak"),
        "{status}"
    );
    let file = s.env.root().join("serve/passwords.json");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&s.env.root().join("serve")), 0o700);
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        stored.contains("\"amy\"") && stored.contains("\"bob\""),
        "{stored}"
    );
    assert!(!stored.contains("amy_agent"), "{stored}");
    s.try_login("amy", "secret").expect(200, None);
    s.try_login("bob", "secret").expect(200, None);
    s.try_login("amy_agent", "secret")
        .expect(403, Some("agent_user"));
}
