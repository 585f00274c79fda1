//! What the htrac-serve benchmarks share: a tracker of N items in a temp
//! git repository, a server started on it with a password login, and the
//! session cookie of that login.

#![allow(dead_code)]

pub mod gen;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Whether this is a full `cargo bench` run (it passes --bench); under
/// `cargo test --all-targets` each benchmark is a quick smoke run.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The number in environment variable `k`, else `full_n` or `smoke_n`.
pub fn env_or(k: &str, full_n: usize, smoke_n: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_run() { full_n } else { smoke_n })
}

/// A running server on a fresh tracker.
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
    pub server: Child,
    pub url: String,
    /// `127.0.0.1:PORT`
    pub host: String,
    /// `htrac_session=…`, for a `Cookie` header.
    pub cookie: String,
    pub ids: Vec<String>,
}

impl Bench {
    /// A command of the `htrac` CLI on this tracker.
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_htrac"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("HTRAC_CACHE_DIR", self.cache.path());
        c
    }

    /// Starts htrac-serve on a tracker of `items` items (added with the CLI), logged in.
    pub fn start(items: usize) -> Bench {
        Bench::start_with(items, false)
    }

    /// Starts htrac-serve on a tracker of `items` items written straight to
    /// op files by [`gen::generate`] (10,000 CLI runs would take minutes).
    pub fn start_generated(items: usize) -> Bench {
        Bench::start_with(items, true)
    }

    fn start_with(items: usize, generated: bool) -> Bench {
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
        // HTRAC_SERVE_BIN: another build of the server (before/after comparisons).
        let serve_bin = std::env::var("HTRAC_SERVE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_htrac-serve").to_string());
        let serve = serve_bin.as_str();
        let mut b = Bench {
            dir,
            cache,
            server: Command::new("true").spawn().unwrap(),
            url: String::new(),
            host: String::new(),
            cookie: String::new(),
            ids: Vec::new(),
        };
        run(&mut b.cli(&["init"]));
        if generated {
            b.ids = gen::generate(&b.dir.path().join(".agent"), items, 23);
            // Committed, as a tracker's files are (git on 10,000 untracked
            // files would slow every CLI write).
            let d = b.dir.path();
            run(Command::new("git").arg("-C").arg(d).args(["add", "-A"]));
            run(Command::new("git").arg("-C").arg(d).args([
                "commit",
                "-q",
                "-m",
                "generated items",
            ]));
        }
        for i in 0..if generated { 0 } else { items } {
            let t = format!("item {i}");
            let id = run(&mut b.cli(&["add", "--kind", "work_item", "--title", &t]));
            b.ids.push(id.trim().to_string());
        }
        let mut pw = Command::new(serve)
            .args(["passwd", "--user", "bench", "--cost", "4"])
            .current_dir(b.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        pw.stdin.take().unwrap().write_all(b"pw\n").unwrap();
        assert!(pw.wait().unwrap().success());
        let _ = b.server.wait();
        b.server = Command::new(serve)
            .args(["--port", "0"])
            .current_dir(b.dir.path())
            .env("HTRAC_CACHE_DIR", b.cache.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(b.server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        b.url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        b.host = b.url.trim_start_matches("http://").to_string();
        // Log in (one raw request; the answer's Set-Cookie is the session).
        let body = r#"{"user":"bench","password":"pw"}"#;
        let (status, headers, _) = b.request(&format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            b.host,
            b.url,
            body.len()
        ));
        assert_eq!(status, 200);
        b.cookie = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap().to_string())
            .unwrap();
        b
    }

    /// Sends one raw request on a new connection; status, headers, body.
    pub fn request(&self, raw: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(&self.host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut headers);
        let n = match r.parse(&resp).unwrap() {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("partial answer"),
        };
        let hs = r
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        (r.code.unwrap(), hs, resp[n..].to_vec())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
