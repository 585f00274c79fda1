//! htrac-serve with hostile clients attached: 64 connections each sending a
//! login body that never finishes (5000 bytes announced, 9 sent) and 200
//! connections that send nothing, all held open; meanwhile a legitimate
//! client times `GET /health`, the page, and a logged-in `GET /api/ready`,
//! each on a new connection. Prints median, p99 and max, with and without
//! the attackers, so the cost of holding them is visible.
//!
//! `cargo bench --features serve --bench serve_slow` (env: `SLOW`, `IDLE`, `REQUESTS`).

mod serve_common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_common::{ms, percentile, Bench};

fn timed(b: &Bench, requests: usize) -> Vec<Duration> {
    let paths = ["/health", "/", "/api/ready"];
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests {
        let path = paths[i % paths.len()];
        let t = Instant::now();
        let (status, _, _) = b.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            b.host, b.cookie
        ));
        times.push(t.elapsed());
        assert_eq!(status, 200, "GET {path}");
    }
    times.sort();
    times
}

fn row(label: &str, t: &[Duration]) {
    println!(
        "| {label:<44} | {:>8} | {:>8} | {:>8} |",
        ms(percentile(t, 0.5)),
        ms(percentile(t, 0.99)),
        ms(*t.last().unwrap())
    );
}

fn main() {
    let full = serve_common::full_run();
    let env_or = serve_common::env_or;
    let slow_n = env_or("SLOW", 64, 8);
    let idle_n = env_or("IDLE", 200, 20);
    let requests = env_or("REQUESTS", 300, 15);
    let b = Bench::start(if full { 200 } else { 5 });
    let quiet = timed(&b, requests);
    let slow: Vec<TcpStream> = (0..slow_n)
        .map(|_| {
            let mut c = TcpStream::connect(&b.host).unwrap();
            write!(
                c,
                "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Length: 5000\r\n\r\n{{\"user\":1",
                b.host, b.url
            )
            .unwrap();
            c
        })
        .collect();
    let idle: Vec<TcpStream> = (0..idle_n)
        .map(|_| TcpStream::connect(&b.host).unwrap())
        .collect();
    // All of them are held for the whole run (their deadline is 10 s; a
    // full run takes less).
    let attacked = timed(&b, requests);
    drop((slow, idle));
    println!();
    println!(
        "htrac-serve with {slow_n} slow-body and {idle_n} idle connections open: {requests} requests (GET /health, /, /api/ready), each on a new connection"
    );
    println!("| measure                                      | median   | p99      | max      |");
    println!("|----------------------------------------------|----------|----------|----------|");
    row("no other clients", &quiet);
    row(
        &format!("{slow_n} slow bodies + {idle_n} idle connections held"),
        &attacked,
    );
    println!("(target: p99 under 100 ms with the connections held)");
}
