//! htrac-serve at scale (issue 23): a tracker of 10,000 generated items.
//!
//! 1. First page: from a logged-in client's TCP connect to the whole
//!    `snapshot` message received over the WebSocket (target ≤ 300 ms),
//!    also just after a write (when the server builds the snapshot anew);
//!    floor: reading every op file once.
//! 2. Live updates: 200 WebSocket clients connected, CLI writes
//!    (`htrac update ID --priority N`, run as a process); latency from the
//!    write (the op file's first inotify event, seen by this program) to
//!    each client receiving the delta (target p99 ≤ 100 ms); floor: an
//!    empty WebSocket round trip (`ping` → `pong`) with the 200 connected.
//!
//! `cargo bench --features serve --bench serve_ws`
//! (env: `ITEMS` 10000, `CLIENTS` 200, `WRITES` 40, `CONNECTS` 20).

mod serve_common;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serve_common::{percentile, Bench};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

fn connect(b: &Bench) -> Ws {
    let mut rq = format!("ws://{}/ws", b.host).into_client_request().unwrap();
    rq.headers_mut().insert("Origin", b.url.parse().unwrap());
    rq.headers_mut().insert("Cookie", b.cookie.parse().unwrap());
    let s = TcpStream::connect(&b.host).unwrap();
    s.set_nodelay(true).unwrap();
    tungstenite::client(rq, s).unwrap().0
}

fn read_text(ws: &mut Ws) -> String {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            m => panic!("{m:?}"),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(label: &str, t: &mut [Duration], target: &str) {
    t.sort();
    println!(
        "| {label:<52} | {:>9} | {:>9} | {:>9} | {target:<12} |",
        ms(percentile(t, 0.5)),
        ms(percentile(t, 0.99)),
        ms(*t.last().unwrap())
    );
}

/// Reads every op file once (what any first page must at least do cold).
fn read_all_ops(b: &Bench) -> Duration {
    let t = Instant::now();
    let mut bytes = 0;
    for tier in htrac::Tier::ALL {
        let Ok(dir) = std::fs::read_dir(tier.dir(&b.dir.path().join(".agent"))) else {
            continue;
        };
        for e in dir.flatten() {
            bytes += std::fs::read(e.path()).map(|v| v.len()).unwrap_or(0);
        }
    }
    assert!(bytes > 0);
    t.elapsed()
}

/// CPU time (user + system) the server process has used so far.
fn server_cpu(b: &Bench) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", b.server.id())).unwrap();
    // Fields after the command name's closing parenthesis; utime, stime are 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    // SAFETY: sysconf only reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_secs_f64((f[0] + f[1]) as f64 / hz as f64)
}

/// Watches the workspace tier; sends the time of each burst's first event.
fn write_clock(b: &Bench) -> mpsc::Receiver<Instant> {
    let mut ino = inotify::Inotify::init().unwrap();
    ino.watches()
        .add(
            htrac::Tier::Workspace.dir(&b.dir.path().join(".agent")),
            inotify::WatchMask::MODIFY | inotify::WatchMask::CLOSE_WRITE,
        )
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(ev) = ino.read_events_blocking(&mut buf) {
            let now = Instant::now();
            if ev.into_iter().count() > 0 && tx.send(now).is_err() {
                return;
            }
        }
    });
    rx
}

fn main() {
    let env_or = serve_common::env_or;
    let items = env_or("ITEMS", 10_000, 20);
    let clients = env_or("CLIENTS", 200, 5);
    let writes = env_or("WRITES", 40, 3);
    let connects = env_or("CONNECTS", 20, 3);
    let b = Bench::start_generated(items);

    // 1. The first page.
    let mut floor_read: Vec<Duration> = (0..connects).map(|_| read_all_ops(&b)).collect();
    let mut first_page = Vec::new();
    let mut snapshot_bytes = 0;
    let cpu0 = server_cpu(&b);
    for _ in 0..connects + 1 {
        let t = Instant::now();
        let mut ws = connect(&b);
        let snap = read_text(&mut ws);
        first_page.push(t.elapsed());
        snapshot_bytes = snap.len();
        let v: serde_json::Value = serde_json::from_str(&snap).unwrap();
        assert_eq!(v["type"], "snapshot");
        assert_eq!(v["items"].as_array().unwrap().len(), items);
    }
    let cpu_connect = (server_cpu(&b) - cpu0) / (connects as u32 + 1);
    first_page.remove(0); // the first connect warms the page cache of the client side

    // 2. Live updates: the clients each report (client, seq, arrival).
    let (tx, rx) = mpsc::channel::<(usize, u64, Instant)>();
    let mut base = 0;
    for c in 0..clients {
        let mut ws = connect(&b);
        let v: serde_json::Value = serde_json::from_str(&read_text(&mut ws)).unwrap();
        base = v["seq"].as_u64().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            while let Ok(m) = ws.read() {
                let Message::Text(t) = m else { continue };
                let now = Instant::now();
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "delta" && tx.send((c, v["seq"].as_u64().unwrap(), now)).is_err() {
                    return;
                }
            }
        });
    }
    // The floor: an application-level ping on one more connection.
    let mut probe = connect(&b);
    read_text(&mut probe);
    let mut floor_rtt = Vec::new();
    for _ in 0..connects {
        let t = Instant::now();
        probe.send(Message::text(r#"{"type":"ping"}"#)).unwrap();
        assert!(read_text(&mut probe).contains("pong"));
        floor_rtt.push(t.elapsed());
    }
    let wrote = write_clock(&b);
    let cpu0 = server_cpu(&b);
    let mut per_client = Vec::new();
    let mut every_client = Vec::new();
    let mut from_cli_start = Vec::new();
    let mut cli_times = Vec::new();
    let mut after_write = Vec::new();
    for w in 0..writes {
        let id = &b.ids[(w * 7919) % b.ids.len()];
        let prio = ((w % 4) + 1).to_string();
        while wrote.try_recv().is_ok() {}
        let t0 = Instant::now();
        // Each write differs from the item's state: a title with the write's number.
        serve_common::run(&mut b.cli(&[
            "update",
            id,
            "--priority",
            &prio,
            "--title",
            &format!("title {w}"),
        ]));
        cli_times.push(t0.elapsed());
        let at = wrote
            .recv_timeout(Duration::from_secs(10))
            .expect("the op file changed");
        let want = base + w as u64 + 1;
        let mut got = vec![false; clients];
        let mut n = 0;
        let mut last = at;
        while n < clients {
            let (c, seq, t) = rx.recv_timeout(Duration::from_secs(10)).expect("a delta");
            assert!(seq <= want, "unexpected delta {seq} (waiting for {want})");
            if seq == want && !got[c] {
                got[c] = true;
                n += 1;
                per_client.push(t.saturating_duration_since(at));
                from_cli_start.push(t - t0);
                last = last.max(t);
            }
        }
        every_client.push(last - at);
        // A first page just after a write: the snapshot is built anew.
        let t = Instant::now();
        let mut ws = connect(&b);
        read_text(&mut ws);
        after_write.push(t.elapsed());
        drop(ws);
        // Let the server settle so each write is timed on its own.
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu_write = (server_cpu(&b) - cpu0) / writes as u32;
    drop(b);

    println!();
    println!(
        "htrac-serve, {items} items (snapshot {:.1} MB): first page over {connects} connects; \
         {clients} WebSocket clients × {writes} CLI writes (htrac update)",
        snapshot_bytes as f64 / 1e6
    );
    println!(
        "| measure                                              | median    | p99       | max       | target       |"
    );
    println!(
        "|------------------------------------------------------|-----------|-----------|-----------|--------------|"
    );
    row(
        "first page: connect → snapshot received",
        &mut first_page,
        "≤ 300 ms",
    );
    row(
        "first page just after a write (snapshot rebuilt)",
        &mut after_write,
        "≤ 300 ms",
    );
    row("floor: read every op file", &mut floor_read, "(floor)");
    row(
        &format!("write → delta at a client ({clients} connected)"),
        &mut per_client,
        "p99 ≤ 100 ms",
    );
    row("write → delta at every client", &mut every_client, "");
    row("CLI start → delta at a client", &mut from_cli_start, "");
    row("the CLI process alone", &mut cli_times, "");
    row(
        "floor: empty WebSocket round trip (ping → pong)",
        &mut floor_rtt,
        "(floor)",
    );
    println!(
        "(write = the op file's first inotify event, seen by this program; server CPU: {} per connect, \
         {} per write with its delta to {clients} clients and one fresh connect)",
        ms(cpu_connect),
        ms(cpu_write)
    );
}
