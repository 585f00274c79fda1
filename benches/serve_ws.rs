//! Live-update latency of htrac-serve: 50 WebSocket clients connected, one
//! CLI write (`htrac update`), time until every client has the delta.
//! Prints median, p99 and max over the writes, and the CLI's own run time
//! for comparison (the watcher's 50 ms debounce is part of the latency).
//!
//! `cargo bench --features serve --bench serve_ws` (env: `CLIENTS`, `WRITES`).

mod serve_common;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

fn main() {
    let full = serve_common::full_run();
    let env_or = serve_common::env_or;
    let clients = env_or("CLIENTS", 50, 5);
    let writes = env_or("WRITES", 25, 3);
    let b = serve_common::Bench::start(if full { 100 } else { 5 });
    let (host, url, cookie, ids) = (&b.host, &b.url, &b.cookie, &b.ids);
    let cli = |args: &[&str]| b.cli(args);

    // The clients: each reports (write number, arrival time) per delta.
    let (tx, rx) = mpsc::channel::<(u64, Instant)>();
    let mut first_seq = None;
    for _ in 0..clients {
        let mut rq = format!("ws://{host}/ws").into_client_request().unwrap();
        rq.headers_mut().insert("Origin", url.parse().unwrap());
        rq.headers_mut().insert("Cookie", cookie.parse().unwrap());
        let (mut ws, _) = tungstenite::client(rq, TcpStream::connect(host).unwrap()).unwrap();
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
        serve_common::run(&mut cli(&[
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
    drop(b);
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
        serve_common::ms(serve_common::percentile(&latencies, 0.5)),
        serve_common::ms(serve_common::percentile(&latencies, 0.99)),
        serve_common::ms(*latencies.last().unwrap())
    );
    println!(
        "| the CLI process alone                    | {:>8} | {:>8} | {:>8} |",
        serve_common::ms(serve_common::percentile(&cli_times, 0.5)),
        serve_common::ms(serve_common::percentile(&cli_times, 0.99)),
        serve_common::ms(*cli_times.last().unwrap())
    );
    println!("(the watcher waits for 50 ms without file events before it sends a delta)");
}
