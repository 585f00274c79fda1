//! HTTP/1.1 connections, the layer under the routes. The listener's loop
//! accepts up to [`Limits::max_connections`] at once, each on its own
//! thread; every request must arrive whole — request line, headers and
//! body — within one deadline, its head within [`Limits::max_head`] bytes
//! and [`Limits::max_headers`] headers (else 431), its body within
//! [`Limits::max_body`] (else 413). Only a request read in full reaches a
//! route, and routes run under a small number of permits, so a slow or
//! hostile client holds nothing but its own thread. Answers are written
//! with a send timeout; an upgraded connection (WebSocket) is handed over
//! as the socket itself. `httparse` parses the head.
//!
//! This replaced tiny_http 0.12, whose header reader grows one buffer
//! without bound (`ClientConnection::read_next_line`), has no deadline of
//! its own, and hands an upgraded connection back only as a boxed stream.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What one connection and its requests may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From a request's first byte to the last byte of its body.
    pub request: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle: Duration,
    /// How long one write of an answer may block on a client that does not read.
    pub write: Duration,
    /// The request line and headers together, in bytes.
    pub max_head: usize,
    /// Headers in one request.
    pub max_headers: usize,
    /// A request body, in bytes.
    pub max_body: usize,
    /// Connections open at once (WebSockets included); more are answered 503.
    pub max_connections: usize,
    /// Requests routed at once; the others wait, already read in full.
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            request: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            write: Duration::from_secs(10),
            max_head: 16 * 1024,
            max_headers: 64,
            max_body: 1 << 20,
            max_connections: 1024,
            workers: 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Other(String),
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Other(m) => m,
        })
    }
}

/// A request read in full.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// The request target as sent: `/path?query`.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub remote: SocketAddr,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        named(&self.headers, name).next()
    }

    /// Every value of header `name` (any case), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        named(&self.headers, name)
    }
}

fn named<'a, 'n>(
    headers: &'a [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An answer, ready to write (the body's length is added on writing).
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a service does with a request.
pub enum Answer {
    Respond(Response),
    /// `101 Switching Protocols` with these headers, then `run` owns the
    /// socket, with whatever the client sent after its request.
    Upgrade {
        headers: Vec<(String, String)>,
        run: Box<dyn FnOnce(TcpStream, Vec<u8>) + Send>,
    },
}

/// The server's side: routing, and the answers the connection layer gives
/// on its own.
pub trait Service: Send + Sync + 'static {
    fn handle(&self, rq: Request) -> Answer;
    /// The answer to a request refused before routing (malformed, too
    /// large, too slow, too many connections).
    fn refuse(&self, status: u16, code: &'static str, message: &str) -> Response;
    /// Whether the server is shutting down (connections then close).
    fn stopping(&self) -> bool;
}

/// Counts a gate's holders and lets at most `n` in at once.
struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Permits {
    fn take(&self) -> PermitGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        PermitGuard(self)
    }
}

struct PermitGuard<'a>(&'a Permits);

impl Drop for PermitGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// The accepting side: call [`Server::accept_for`] in a loop.
pub struct Server<S: Service> {
    listener: TcpListener,
    shared: Arc<Shared<S>>,
}

struct Shared<S> {
    service: S,
    limits: Limits,
    open: AtomicUsize,
    permits: Permits,
}

/// Decrements the open-connection count when the connection ends.
struct Open<S>(Arc<Shared<S>>);

impl<S> Drop for Open<S> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<S: Service> Server<S> {
    pub fn new(listener: TcpListener, service: S, limits: Limits) -> Server<S> {
        let workers = limits.workers.max(1);
        Server {
            listener,
            shared: Arc::new(Shared {
                service,
                limits,
                open: AtomicUsize::new(0),
                permits: Permits {
                    free: Mutex::new(workers),
                    freed: Condvar::new(),
                },
            }),
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn service(&self) -> &S {
        &self.shared.service
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Waits up to `wait` for a connection and starts its thread.
    pub fn accept_for(&self, wait: Duration) {
        let fd = self.listener.as_fd();
        let mut fds = [rustix::event::PollFd::new(
            &fd,
            rustix::event::PollFlags::IN,
        )];
        let ts = rustix::event::Timespec::try_from(wait).ok();
        match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
        let (stream, remote) = match self.listener.accept() {
            Ok(c) => c,
            Err(_) => return,
        };
        let shared = self.shared.clone();
        let n = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
        let open = Open(shared.clone());
        if n > shared.limits.max_connections {
            let r = shared
                .service
                .refuse(503, "busy", "too many connections: try again shortly");
            // One attempt that cannot block the accepting thread.
            let _ = stream.set_nonblocking(true);
            let _ = (&stream).write_all(&encode(&r, false, false));
            drop(open);
            return;
        }
        // If no thread can be started, the closure — with the socket and
        // the count — is dropped with the error: the connection closes.
        let _ = std::thread::Builder::new()
            .name("htrac-serve-conn".into())
            .spawn(move || {
                let _open = open;
                connection(&shared, stream, remote);
            });
    }
}

/// What reading a request gave.
enum Read1 {
    Request(Request, bool),
    /// The client closed or went quiet between requests: close silently.
    Gone,
    /// A request the layer refuses: answer and close.
    Refuse(u16, &'static str, String),
}

fn connection<S: Service>(shared: &Shared<S>, mut stream: TcpStream, remote: SocketAddr) {
    let limits = &shared.limits;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(limits.write));
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let (rq, keep_alive) = match read_request(shared, &mut stream, &mut buf, remote) {
            Read1::Request(rq, keep) => (rq, keep),
            Read1::Gone => return,
            Read1::Refuse(status, code, msg) => {
                let r = shared.service.refuse(status, code, &msg);
                let _ = stream.write_all(&encode(&r, false, false));
                linger_close(&mut stream);
                return;
            }
        };
        let head_only = rq.method == Method::Head;
        let answer = {
            let _permit = shared.permits.take();
            shared.service.handle(rq)
        };
        match answer {
            Answer::Respond(r) => {
                let keep = keep_alive && !shared.service.stopping();
                if stream.write_all(&encode(&r, keep, head_only)).is_err() || !keep {
                    return;
                }
            }
            Answer::Upgrade { headers, run } => {
                let r = Response {
                    status: 101,
                    headers,
                    body: Vec::new(),
                };
                if stream.write_all(&encode(&r, true, true)).is_err() {
                    return;
                }
                let _ = stream.set_read_timeout(None);
                let _ = stream.set_write_timeout(None);
                run(stream, std::mem::take(&mut buf));
                return;
            }
        }
    }
}

/// After refusing a request whose rest may still be arriving: stop
/// sending, read briefly what is in flight (so the answer is not lost to
/// a reset), and close.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + Duration::from_millis(200);
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while drained < (256 << 10) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Reads into `buf` until `done(buf)` or the deadline; `false` on EOF,
/// deadline or error. Reads at most `cap - buf.len()` more bytes.
fn fill<S: Service>(
    shared: &Shared<S>,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    cap: usize,
) -> Result<usize, Fill> {
    let mut chunk = [0u8; 8192];
    loop {
        if shared.service.stopping() {
            return Err(Fill::Stopped);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Fill::TimedOut);
        }
        // Wake at least twice a second to notice a shutdown.
        let wait = (deadline - now).min(Duration::from_millis(500));
        if stream.set_read_timeout(Some(wait)).is_err() {
            return Err(Fill::Closed);
        }
        let room = cap.saturating_sub(buf.len()).clamp(1, chunk.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) => return Err(Fill::Closed),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(Fill::Closed),
        }
    }
}

enum Fill {
    Closed,
    TimedOut,
    Stopped,
}

fn read_request<S: Service>(
    shared: &Shared<S>,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    remote: SocketAddr,
) -> Read1 {
    let limits = &shared.limits;
    // Between requests: wait (idle) for the first byte.
    if buf.is_empty() {
        let idle_until = Instant::now() + limits.idle;
        if fill(shared, stream, buf, idle_until, limits.max_head + 1).is_err() {
            return Read1::Gone;
        }
    }
    let deadline = Instant::now() + limits.request;
    let too_slow = || {
        Read1::Refuse(
            408,
            "request_timeout",
            format!(
                "the request did not arrive within {} s",
                limits.request.as_secs()
            ),
        )
    };
    let head_too_large = |what: &str| {
        Read1::Refuse(
            431,
            "headers_too_large",
            format!(
                "{what}: at most {} headers of {} bytes in all",
                limits.max_headers, limits.max_head
            ),
        )
    };
    // The head.
    let (head_len, method, url, minor, headers) = loop {
        let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
        let mut parsed = httparse::Request::new(&mut slots);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(n)) if n <= limits.max_head => {
                let method = match parsed.method.unwrap_or("") {
                    "GET" => Method::Get,
                    "HEAD" => Method::Head,
                    "POST" => Method::Post,
                    m => Method::Other(m.to_string()),
                };
                let headers = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).trim().to_string(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (
                    n,
                    method,
                    parsed.path.unwrap_or("/").to_string(),
                    parsed.version.unwrap_or(1),
                    headers,
                );
            }
            Ok(httparse::Status::Complete(_)) => {
                return head_too_large("the request head is too large")
            }
            Ok(httparse::Status::Partial) if buf.len() > limits.max_head => {
                return head_too_large("the request head is too large")
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return head_too_large("too many headers"),
            Err(e) => return Read1::Refuse(400, "bad_request", format!("malformed request: {e}")),
        }
        match fill(shared, stream, buf, deadline, limits.max_head + 1) {
            Ok(_) => {}
            Err(Fill::TimedOut) => return too_slow(),
            Err(_) => return Read1::Gone,
        }
    };
    let rq_header = |name: &'static str| named(&headers, name);
    if rq_header("transfer-encoding").next().is_some() {
        return Read1::Refuse(
            411,
            "length_required",
            "chunked request bodies are not accepted: send Content-Length".into(),
        );
    }
    let lengths: Vec<&str> = rq_header("content-length").collect();
    let length = match lengths.as_slice() {
        [] => 0,
        [one, rest @ ..] if rest.iter().all(|r| r == one) => match one.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return Read1::Refuse(400, "bad_request", format!("bad Content-Length: {one}"))
            }
        },
        _ => {
            return Read1::Refuse(
                400,
                "bad_request",
                "conflicting Content-Length headers".into(),
            )
        }
    };
    if length > limits.max_body {
        return Read1::Refuse(
            413,
            "too_large",
            format!("the request body is over {} bytes", limits.max_body),
        );
    }
    let keep_alive = {
        let conn: Vec<String> = rq_header("connection")
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if minor == 0 {
            conn.iter().any(|t| t == "keep-alive")
        } else {
            !conn.iter().any(|t| t == "close")
        }
    };
    let expects_continue = rq_header("expect").any(|v| v.eq_ignore_ascii_case("100-continue"));
    // The body.
    buf.drain(..head_len);
    if buf.len() < length
        && expects_continue
        && minor == 1
        && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
    {
        return Read1::Gone;
    }
    while buf.len() < length {
        match fill(shared, stream, buf, deadline, length) {
            Ok(_) => {}
            Err(Fill::TimedOut) => return too_slow(),
            Err(_) => return Read1::Gone,
        }
    }
    let rest = buf.split_off(length);
    let body = std::mem::replace(buf, rest);
    Read1::Request(
        Request {
            method,
            url,
            headers,
            body,
            remote,
        },
        keep_alive,
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        423 => "Locked",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The bytes of an answer. Header values with line breaks are dropped.
fn encode(r: &Response, keep_alive: bool, head_only: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + r.body.len());
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status)).as_bytes());
    for (k, v) in &r.headers {
        let clean = |s: &str| !s.bytes().any(|b| b == b'\r' || b == b'\n');
        if clean(k) && clean(v) {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    if r.status != 101 {
        out.extend_from_slice(format!("Content-Length: {}\r\n", r.body.len()).as_bytes());
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&r.body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    struct Echo {
        stop: AtomicBool,
    }

    impl Service for Echo {
        fn handle(&self, rq: Request) -> Answer {
            Answer::Respond(Response {
                status: 200,
                headers: vec![("X-Url".into(), rq.url.clone())],
                body: rq.body,
            })
        }
        fn refuse(&self, status: u16, code: &'static str, message: &str) -> Response {
            Response {
                status,
                headers: vec![],
                body: format!("{code}: {message}").into_bytes(),
            }
        }
        fn stopping(&self) -> bool {
            self.stop.load(Ordering::SeqCst)
        }
    }

    fn start(limits: Limits) -> (SocketAddr, Arc<Server<Echo>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Arc::new(Server::new(
            l,
            Echo {
                stop: AtomicBool::new(false),
            },
            limits,
        ));
        let addr = server.local_addr().unwrap();
        let s = server.clone();
        std::thread::spawn(move || loop {
            s.accept_for(Duration::from_millis(50));
        });
        (addr, server)
    }

    fn exchange(addr: SocketAddr, bytes: &[u8]) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(bytes).unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn answers_pipelined_requests_on_one_connection() {
        let (addr, _s) = start(Limits::default());
        let out = exchange(
            addr,
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
        assert!(out.contains("X-Url: /a") && out.contains("abc") && out.contains("X-Url: /b"));
        assert!(out.ends_with("Connection: close\r\n\r\n"), "{out}");
    }

    #[test]
    fn refuses_oversized_heads_and_bodies() {
        let (addr, _s) = start(Limits::default());
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert!(exchange(addr, big.as_bytes()).starts_with("HTTP/1.1 431 "));
        let many: String = (0..65).map(|i| format!("X{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(exchange(addr, many.as_bytes()).starts_with("HTTP/1.1 431 "));
        let out = exchange(addr, b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
        let out = exchange(
            addr,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 411 "), "{out}");
        let out = exchange(
            addr,
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        let out = exchange(addr, b"\x01\x02 nonsense\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    }

    #[test]
    fn a_slow_body_gets_408_at_the_deadline_while_others_are_answered() {
        let limits = Limits {
            request: Duration::from_secs(3),
            workers: 1,
            ..Limits::default()
        };
        let (addr, _s) = start(limits);
        let mut slow: Vec<TcpStream> = (0..4)
            .map(|_| {
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(b"POST /slow HTTP/1.1\r\nContent-Length: 5000\r\n\r\n123456789")
                    .unwrap();
                c
            })
            .collect();
        let t = Instant::now();
        let out = exchange(addr, b"GET /quick HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(out.contains("X-Url: /quick"), "{out}");
        assert!(
            t.elapsed() < Duration::from_millis(600),
            "{:?}",
            t.elapsed()
        );
        for c in &mut slow {
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
            assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408 "));
        }
    }

    #[test]
    fn a_head_dribbled_byte_by_byte_still_meets_the_deadline() {
        let limits = Limits {
            request: Duration::from_millis(500),
            ..Limits::default()
        };
        let (addr, _s) = start(limits);
        let mut c = TcpStream::connect(addr).unwrap();
        let t = Instant::now();
        // Each byte comes well within any per-read timeout; the whole head never does.
        for b in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle().take(40) {
            if c.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        match c.read_to_end(&mut out) {
            Ok(_) => {
                let out = String::from_utf8_lossy(&out);
                assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
            }
            // The server closed while bytes were still coming: a reset.
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    }

    #[test]
    fn connections_over_the_cap_get_503() {
        let limits = Limits {
            max_connections: 2,
            ..Limits::default()
        };
        let (addr, s) = start(limits);
        let _a = TcpStream::connect(addr).unwrap();
        let _b = TcpStream::connect(addr).unwrap();
        while s.open_connections() < 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = exchange(addr, b"GET / HTTP/1.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 503 "), "{out}");
        drop(_a);
        // The count goes down when a connection ends.
        while s.open_connections() > 1 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = exchange(addr, b"GET /again HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(out.contains("X-Url: /again"), "{out}");
    }
}
