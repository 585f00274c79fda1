//! Password logins under attack: a stranger's failures lock a name out of
//! the stranger's own source only (all of loopback is one source), the name
//! itself only backs off, and an unknown name costs the same time as a known
//! one with a wrong password.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::common;
use crate::support::{
    self as serve_support, append_config, passwd, passwd_cost, serve_command, Server,
};

/// A local address that is not loopback (the host's own), for a second
/// source; the server must be bound to all addresses to be reached on it.
fn outside_address() -> IpAddr {
    // The kernel's own list of local addresses (no tool needed): each
    // `|-- ADDR` line followed by `/32 host LOCAL`.
    let trie = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let lines: Vec<&str> = trie.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].trim() == "/32 host LOCAL")
        .filter_map(|w| w[0].trim().strip_prefix("|-- ")?.parse::<IpAddr>().ok())
        .find(|ip| !ip.is_loopback())
        .expect("this test needs a non-loopback IPv4 address on the host (/proc/net/fib_trie)")
}

fn lo(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[test]
fn a_stranger_locks_a_name_out_of_their_own_source_only() {
    let env = common::Env::new();
    append_config(
        &env,
        "\nauth:\n  rate_limit: {base_delay: 0.2, max_failures: 3}\n",
    );
    passwd(&env, "amy", "secret");
    let s = Server::start_with(env, &["--bind", "0.0.0.0", "--allow-remote"]);
    let outside = outside_address();
    let server_lo = lo(1);
    // The stranger guesses from loopback, changing its 127.x address each
    // time (every one counts as the same source), waiting out the backoff.
    let mut locked = false;
    for i in 0..40u8 {
        let r = s.login_from(lo(2 + i), server_lo, "amy", "wrong");
        match r.status {
            401 => {}
            429 if r.json()["code"] == "locked_out" => {
                locked = true;
                break;
            }
            429 => {
                let secs: f64 = r.header("Retry-After").unwrap().parse().unwrap();
                assert!(secs <= 60.0, "a backoff over the shared cap: {secs}");
                std::thread::sleep(Duration::from_millis(250));
            }
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    assert!(locked, "three failures from loopback did not lock the pair");
    // The right password from any loopback address is still refused…
    s.login_from(lo(77), server_lo, "amy", "secret")
        .expect(429, Some("locked_out"));
    let lockouts = std::fs::read_to_string(s.env.root().join("serve/lockouts.json")).unwrap();
    assert!(lockouts.contains("pair:amy@loopback"), "{lockouts}");
    assert!(!lockouts.contains("user:amy"), "the name itself was locked");
    // …but the real user, elsewhere, gets in once the name's short backoff
    // has passed; and so does another name from the stranger's source.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let r = s.login_from(outside, outside, "amy", "secret");
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["code"], "rate_limited");
        assert!(Instant::now() < until, "the real user never got in");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A human clears the pair; the stranger's source may log in again.
    let out = serve_command(&s.env, &["unlock-login", "amy"])
        .output()
        .unwrap();
    assert!(common::succeeded(&out).contains("pair:amy@loopback"));
    s.login_from(lo(3), server_lo, "amy", "secret")
        .expect(200, None);
}

/// The median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

#[test]
fn an_unknown_name_takes_as_long_as_a_wrong_password() {
    let env = common::Env::new();
    // No backoff and no lockout, so every try does the full check.
    append_config(
        &env,
        "\nauth:\n  rate_limit: {base_delay: 0.0, max_failures: 0}\n",
    );
    // A cost high enough that bcrypt, not the HTTP round trip, dominates.
    passwd_cost(&env, "amy", "secret", 8);
    let s = Server::start_in(env);
    let time = |user: &str| {
        let t = Instant::now();
        s.try_login(user, "not-the-password")
            .expect(401, Some("bad_credentials"));
        t.elapsed().as_secs_f64()
    };
    // Warm both paths, then time them in rounds of three tries each,
    // interleaved (alternating which goes first). Noise only ever adds
    // time, so each round's fastest try of each is its best estimate; the
    // median of the rounds' ratios is what a patient attacker would see,
    // and what other tests running beside this one disturb least.
    time("amy");
    time("nobody-here");
    let (mut known, mut unknown, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..15 {
        let (mut k, mut u) = (f64::MAX, f64::MAX);
        for i in 0..3 {
            if (round + i) % 2 == 0 {
                k = k.min(time("amy"));
                u = u.min(time("nobody-here"));
            } else {
                u = u.min(time("nobody-here"));
                k = k.min(time("amy"));
            }
        }
        known.push(k);
        unknown.push(u);
        ratios.push(u / k);
    }
    let ratio = median(&mut ratios);
    let (k, u) = (median(&mut known), median(&mut unknown));
    eprintln!(
        "median: known name {:.1} ms, unknown {:.1} ms; median ratio {ratio:.3}",
        k * 1e3,
        u * 1e3
    );
    assert!(
        (0.9..=1.1).contains(&ratio),
        "an unknown name takes {ratio:.2}× the time of a wrong password \
         (known {:.1} ms, unknown {:.1} ms)",
        k * 1e3,
        u * 1e3
    );
}

#[test]
fn sessions_survive_a_restart_but_not_a_logout_or_a_password_change() {
    let mut s = Server::start();
    let kept = s.login();
    let out = s.login();
    let changed = s.login();
    s.post("/api/auth/logout", Some(&out), &serde_json::json!({}))
        .expect(200, None);
    // On disk: hashes of tokens, never a token; private to the server.
    let file = s.env.root().join("serve/sessions.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let token = |l: &serve_support::Login| l.cookie.split_once('=').unwrap().1.to_string();
    assert!(!text.contains(&token(&kept)), "a raw session token on disk");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "sessions.json is readable by others");

    s.restart(&[]);
    let me = s.get("/api/auth/me", Some(&kept)).expect(200, None);
    assert_eq!(me.json()["user"], "amy");
    assert_eq!(me.json()["csrf"], kept.csrf.as_str());
    // A write with the kept session's CSRF token still goes through.
    s.post(
        "/api/items",
        Some(&kept),
        &serde_json::json!({"kind": "work_item", "title": "after a restart"}),
    )
    .expect(201, None);
    s.get("/api/auth/me", Some(&out))
        .expect(401, Some("unauthenticated"));

    // The password changes while the server is down: every session ends.
    s.stop();
    passwd(&s.env, "amy", "new secret");
    s.restart_stopped(&[]);
    s.get("/api/auth/me", Some(&changed))
        .expect(401, Some("unauthenticated"));
    s.get("/api/auth/me", Some(&kept))
        .expect(401, Some("unauthenticated"));
    s.try_login("amy", "new secret").expect(200, None);
}
