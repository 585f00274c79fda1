//! htrac-serve under slow and greedy clients: a request must arrive whole
//! within its deadline, heads are capped, and neither stalls anyone else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::Server;

/// Opens a login request whose body never finishes (5000 bytes announced, 9 sent).
fn slow_login(s: &Server) -> TcpStream {
    let mut c = TcpStream::connect(&s.host).unwrap();
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"user\":1",
        s.host, s.url
    );
    c.write_all(head.as_bytes()).unwrap();
    c
}

fn read_all(c: &mut TcpStream, timeout: Duration) -> String {
    c.set_read_timeout(Some(timeout)).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

#[test]
fn slow_bodies_and_idle_connections_do_not_stall_other_requests() {
    let s = Server::start();
    // More slow bodies than there are routing permits, and idle connections.
    let mut slow: Vec<TcpStream> = (0..16).map(|_| slow_login(&s)).collect();
    let _idle: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(&s.host).unwrap())
        .collect();
    let started = Instant::now();
    // Before, four slow bodies held every worker: these timed out.
    for _ in 0..5 {
        let r = s.get("/health", None);
        assert_eq!(r.status, 200);
    }
    let login = s.login();
    s.get("/api/items", Some(&login)).expect(200, None);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answered only after {:?}",
        started.elapsed()
    );
    // Each slow body is refused at its deadline (10 s from its first byte).
    for c in &mut slow {
        let out = read_all(c, Duration::from_secs(20));
        assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
        assert!(out.contains("request_timeout"), "{out}");
    }
    // Nothing of them reached the login limiter: amy still logs in.
    s.login();
}

#[test]
fn oversized_heads_are_refused_with_431_without_growing_the_server() {
    let s = Server::start();
    let pid = s.child.as_ref().unwrap().id();
    // One header of 16 MiB: before, it was read whole and answered 200.
    let mut c = TcpStream::connect(&s.host).unwrap();
    let head = format!("GET /health HTTP/1.1\r\nHost: {}\r\nX-Big: ", s.host);
    c.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..16 {
        if c.write_all(&chunk).is_err() {
            break; // the server answered and closed
        }
    }
    let out = read_all(&mut c, Duration::from_secs(10));
    assert!(
        out.is_empty() || out.starts_with("HTTP/1.1 431 "),
        "{}",
        &out[..out.len().min(300)]
    );
    // Four connections streaming 64 MiB of header each.
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let host = s.host.clone();
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(&host).unwrap();
                c.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ =
                    c.write_all(format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: ").as_bytes());
                let chunk = vec![b'b'; 1 << 20];
                let mut sent = 0;
                while sent < 64 && c.write_all(&chunk).is_ok() {
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    for t in senders {
        let sent = t.join().unwrap();
        assert!(sent < 64, "the server read a 64 MiB header");
    }
    // Too many headers.
    let many: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    let r = s.raw(
        &format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{many}\r\n",
            s.host
        ),
        b"",
    );
    assert_eq!(r.status, 431);
    assert_eq!(r.json()["code"], "headers_too_large");
    // The peak resident size stayed small (before: 1.14 GB).
    let peak = rss_kib(pid, "VmHWM:");
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    s.get("/health", None).expect(200, None);
}

#[test]
fn a_body_announced_over_the_cap_is_refused_before_it_is_sent() {
    let s = Server::start();
    let login = s.login();
    let head = format!(
        "POST /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nCookie: {}\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        s.host, s.url, login.cookie
    );
    let r = s.raw(&head, b"");
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["code"], "too_large");
    let head = format!(
        "POST /api/items HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nCookie: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        s.host, s.url, login.cookie
    );
    assert_eq!(s.raw(&head, b"").status, 411);
}
