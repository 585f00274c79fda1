//! htrac-serve as a process: `--background`, `--status`, `--stop` and the
//! flock-held pid file (a stale file naming a live, foreign process is
//! never signalled), a second server refused, remote binding rules, a
//! clean exit on SIGTERM, and `htrac serve` handing over to htrac-serve.

use std::process::{Command, Stdio};

use crate::common;
use crate::support::{passwd, serve_command, Server};

fn run(env: &common::Env, args: &[&str]) -> common::Run {
    let out = serve_command(env, args).output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn background_status_stop_and_the_pid_file() {
    let env = common::Env::new();
    let st = run(&env, &["--status", "--json"]).ok().json();
    assert_eq!(st, serde_json::json!({"running": false}));
    let started = run(&env, &["--background", "--port", "0"]).ok();
    assert!(
        started.stdout.contains("started in the background"),
        "{}",
        started.stdout
    );
    let st = run(&env, &["--status", "--json"]).ok().json();
    assert_eq!(st["running"], true, "{st}");
    let pid = st["pid"].as_u64().unwrap() as u32;
    assert!(alive(pid));
    let pidfile = env.root().join("htrac-serve.pid");
    assert!(std::fs::read_to_string(&pidfile)
        .unwrap()
        .starts_with(&format!("{pid}\n")));
    // The server answers at the URL it reported.
    let url = st["url"].as_str().unwrap().to_string();
    let host = url.trim_start_matches("http://");
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    use std::io::{Read, Write};
    write!(
        sock,
        "GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    sock.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // A second server on the same tracker is refused.
    let again = run(&env, &["--port", "0"]).fails(1);
    assert!(again.stderr.contains("already running"), "{}", again.stderr);
    // The log file went under .agent/serve/.
    assert!(env.root().join("serve/htrac-serve.log").exists());
    let stopped = run(&env, &["--stop"]).ok();
    assert!(
        stopped.stdout.contains(&format!("pid {pid}")),
        "{}",
        stopped.stdout
    );
    assert!(!alive(pid));
    assert!(!pidfile.exists());
    assert_eq!(
        run(&env, &["--status", "--json"]).ok().json()["running"],
        false
    );
    assert!(run(&env, &["--stop"]).ok().stdout.contains("not running"));
}

#[test]
fn a_stale_pid_file_is_never_acted_on() {
    let env = common::Env::new();
    // A live process that is not a server, named by a pid file nobody holds.
    let mut bystander = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = bystander.id();
    let pidfile = env.root().join("htrac-serve.pid");
    std::fs::write(&pidfile, format!("{pid}\nhttp://127.0.0.1:9\n")).unwrap();
    let st = run(&env, &["--status", "--json"]).ok().json();
    assert_eq!(st, serde_json::json!({"running": false, "stale_pid": pid}));
    let out = run(&env, &["--stop"]).ok();
    assert!(out.stdout.contains("stale"), "{}", out.stdout);
    assert!(alive(pid), "the bystander was signalled");
    assert!(!pidfile.exists());
    // And a new server starts over a stale file.
    std::fs::write(&pidfile, format!("{pid}\n")).unwrap();
    let s = Server::start_in(env);
    let text = std::fs::read_to_string(&pidfile).unwrap();
    assert!(!text.starts_with(&format!("{pid}\n")), "{text}");
    bystander.kill().unwrap();
    bystander.wait().unwrap();
    drop(s);
}

#[test]
fn sigterm_shuts_down_cleanly_and_removes_the_pid_file() {
    let env = common::Env::new();
    passwd(&env, "amy", "secret");
    let mut s = Server::start_in(env);
    let l = s.login();
    // An open WebSocket must not keep the server from exiting.
    let rq =
        tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{}/ws", s.host))
            .map(|mut r| {
                r.headers_mut().insert("Origin", s.url.parse().unwrap());
                r.headers_mut().insert("Cookie", l.cookie.parse().unwrap());
                r
            })
            .unwrap();
    let (_ws, _) = tungstenite::client(rq, std::net::TcpStream::connect(&s.host).unwrap()).unwrap();
    let status = s.stop();
    assert!(status.success(), "{status:?}");
    assert!(!s.env.root().join("htrac-serve.pid").exists());
}

#[test]
fn remote_binding_needs_the_flag_and_a_login_method() {
    let env = common::Env::new();
    let r = run(&env, &["--bind", "0.0.0.0", "--port", "0"]).fails(1);
    assert!(r.stderr.contains("--allow-remote"), "{}", r.stderr);
    let r = run(
        &env,
        &["--bind", "0.0.0.0", "--port", "0", "--allow-remote"],
    )
    .fails(1);
    assert!(r.stderr.contains("no password or passkey"), "{}", r.stderr);
    assert!(!env.root().join("htrac-serve.pid").exists());
    passwd(&env, "amy", "secret");
    let mut child = serve_command(
        &env,
        &["--bind", "0.0.0.0", "--port", "0", "--allow-remote"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.contains("listening on"), "{line}");
    let stop = run(&env, &["--stop"]).ok();
    assert!(stop.stdout.contains("stopped"));
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WARNING") && err.contains("other machines"),
        "{err}"
    );
}

#[test]
fn htrac_serve_runs_htrac_serve() {
    let env = common::Env::new();
    let r = env.run(&["serve", "--status"]).ok();
    assert!(
        r.stdout.contains("htrac-serve is not running"),
        "{}",
        r.stdout
    );
    let r = env.run(&["serve", "--bogus"]).fails(1);
    assert!(r.stderr.contains("bogus"), "{}", r.stderr);
    // htrac's global flags may come first, as for every other command.
    let r = env.run(&["--json", "serve", "--status"]).ok();
    assert_eq!(r.json()["running"], false);
    let elsewhere = tempfile::tempdir().unwrap();
    let root = env.root();
    let mut c = env.command(&[
        "--tracker-root",
        root.to_str().unwrap(),
        "serve",
        "--status",
    ]);
    let out = c.current_dir(elsewhere.path()).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("htrac-serve is not running"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
