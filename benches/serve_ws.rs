//! Live-update latency of htrac-serve: 50 WebSocket clients connected, one
//! CLI write (`htrac update`), time until every client has the delta.
//! Prints median, p99 and max over the writes, and the CLI's own run time
//! for comparison (the watcher's 50 ms debounce is part of the latency).
//!
//! `cargo bench --features serve --bench serve_ws` (env: `CLIENTS`, `WRITES`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test --all-targets` this is a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let env_or = |k: &str, full_n: usize, smoke_n: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { full_n } else { smoke_n })
    };
    let clients = env_or("CLIENTS", 50, 5);
    let writes = env_or("WRITES", 25, 3);
    let htrac = env!("CARGO_BIN_EXE_htrac");
    let serve = env!("CARGO_BIN_EXE_htrac-serve");
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["init", "-q", "-b", "dev"][..],
        &["config", "user.email", "b@example.com"],
        &["config", "user.name", "B"],
        &["commit", "-q", "--allow-empty", "-m", "root"],
    ] {
        run(Command::new("git").arg("-C").arg(d).args(args));
    }
    let cli = |args: &[&str]| {
        let mut c = Command::new(htrac);
        c.args(args)
            .current_dir(d)
            .env("HTRAC_CACHE_DIR", cache.path());
        c
    };
    run(&mut cli(&["init"]));
    let mut ids = Vec::new();
    for i in 0..if full { 100 } else { 5 } {
        let t = format!("item {i}");
        ids.push(
            run(&mut cli(&["add", "--kind", "work_item", "--title", &t]))
                .trim()
                .to_string(),
        );
    }
    let mut pw = Command::new(serve)
        .args(["passwd", "--user", "bench", "--cost", "4"])
        .current_dir(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    pw.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    assert!(pw.wait().unwrap().success());
    let mut server = Command::new(serve)
        .args(["--port", "0"])
        .current_dir(d)
        .env("HTRAC_CACHE_DIR", cache.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let host = url.trim_start_matches("http://").to_string();

    // Log in (one raw request; the answer's Set-Cookie is the session).
    let body = r#"{"user":"bench","password":"pw"}"#;
    let mut s = TcpStream::connect(&host).unwrap();
    write!(
        s,
        "POST /api/auth/login HTTP/1.1\r\nHost: {host}\r\nOrigin: {url}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut r = httparse::Response::new(&mut headers);
    r.parse(&resp).unwrap();
    assert_eq!(r.code, Some(200));
    let cookie = r
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("set-cookie"))
        .map(|h| {
            String::from_utf8_lossy(h.value)
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
        .unwrap();

    // The clients: each reports (write number, arrival time) per delta.
    let (tx, rx) = mpsc::channel::<(u64, Instant)>();
    let mut first_seq = None;
    for _ in 0..clients {
        let mut rq = format!("ws://{host}/ws").into_client_request().unwrap();
        rq.headers_mut().insert("Origin", url.parse().unwrap());
        rq.headers_mut().insert("Cookie", cookie.parse().unwrap());
        let (mut ws, _) = tungstenite::client(rq, TcpStream::connect(&host).unwrap()).unwrap();
        let snap: serde_json::Value = match ws.read().unwrap() {
            Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
            m => panic!("{m:?}"),
        };
        first_seq.get_or_insert(snap["seq"].as_u64().unwrap());
        let tx = tx.clone();
        std::thread::spawn(move || {
            while let Ok(m) = ws.read() {
                if let Message::Text(t) = m {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "delta"
                        && tx
                            .send((v["seq"].as_u64().unwrap(), Instant::now()))
                            .is_err()
                    {
                        return;
                    }
                }
            }
        });
    }
    let base = first_seq.unwrap();
    let mut latencies = Vec::new();
    let mut cli_times = Vec::new();
    for w in 0..writes {
        let id = &ids[w % ids.len()];
        let prio = (w % 4).to_string();
        let prio = if w % 4 == 2 { "3".to_string() } else { prio };
        let t0 = Instant::now();
        run(&mut cli(&[
            "update",
            id,
            "--priority",
            &prio,
            "--title",
            &format!("title {w}"),
        ]));
        cli_times.push(t0.elapsed());
        let want = base + w as u64 + 1;
        let mut got = 0;
        let mut last = t0;
        while got < clients {
            let (seq, at) = rx.recv_timeout(Duration::from_secs(10)).expect("a delta");
            assert!(seq <= want, "unexpected delta {seq} (waiting for {want})");
            if seq == want {
                got += 1;
                last = last.max(at);
            }
        }
        latencies.push(last - t0);
    }
    let _ = server.kill();
    let _ = server.wait();
    latencies.sort();
    cli_times.sort();
    println!();
    println!(
        "htrac-serve live updates: {clients} WebSocket clients, {writes} CLI writes (htrac update)"
    );
    println!("| measure                                  | median   | p99      | max      |");
    println!("|------------------------------------------|----------|----------|----------|");
    println!(
        "| CLI write → delta at every client        | {:>8} | {:>8} | {:>8} |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap())
    );
    println!(
        "| the CLI process alone                    | {:>8} | {:>8} | {:>8} |",
        ms(percentile(&cli_times, 0.5)),
        ms(percentile(&cli_times, 0.99)),
        ms(*cli_times.last().unwrap())
    );
    println!("(the watcher waits for 50 ms without file events before it sends a delta)");
}
