//! A real `htrac-serve` for tests: a temp git repo with a tracker, a user
//! `amy` (password `secret`, bcrypt cost 4 so tests stay fast), the server
//! on a free loopback port, and a small HTTP/1.1 client that can send
//! exactly the headers a test needs (wrong Origin, no Host, huge bodies).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::Env;

pub fn serve_bin() -> &'static str {
    env!("CARGO_BIN_EXE_htrac-serve")
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status (and, for errors, the JSON code).
    pub fn expect(self, status: u16, code: Option<&str>) -> Resp {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if let Some(c) = code {
            assert_eq!(
                self.json()["code"],
                c,
                "{}",
                String::from_utf8_lossy(&self.body)
            );
        }
        self
    }
}

/// A logged-in browser: the cookie and CSRF token.
#[derive(Clone)]
pub struct Login {
    pub cookie: String,
    pub csrf: String,
}

pub struct Server {
    pub env: Env,
    pub child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub host: String,
}

/// Makes the human's read-only config writable and appends `text`.
pub fn append_config(env: &Env, text: &str) {
    let path = env.root().join("tracker/config.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut s = std::fs::read_to_string(&path).unwrap();
    s.push_str(text);
    std::fs::write(&path, s).unwrap();
}

/// Sets a password for `user` through `htrac-serve passwd` (stdin).
pub fn passwd(env: &Env, user: &str, pw: &str) {
    passwd_cost(env, user, pw, 4)
}

/// [`passwd`] with a bcrypt cost of `cost`.
pub fn passwd_cost(env: &Env, user: &str, pw: &str, cost: u32) {
    let cost = cost.to_string();
    let mut child = Command::new(serve_bin())
        .args(["passwd", "--user", user, "--cost", &cost])
        .current_dir(env.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{pw}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "passwd failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn serve_command(env: &Env, args: &[&str]) -> Command {
    let mut c = Command::new(serve_bin());
    c.args(args)
        .current_dir(env.path())
        .env("HTRAC_CACHE_DIR", env.cache.path())
        .env("HTRAC_STATE_DIR", env.cache.path().join("state"))
        .env_remove("XDG_CACHE_HOME");
    c
}

impl Server {
    /// A tracker with user amy/secret and a server running on it.
    pub fn start() -> Server {
        let env = Env::new();
        passwd(&env, "amy", "secret");
        Server::start_in(env)
    }

    /// Starts the server in the foreground on a free port of `env`'s tracker.
    pub fn start_in(env: Env) -> Server {
        Server::start_with(env, &[])
    }

    /// The server started with `args` besides `--port 0` (e.g. a bind
    /// address and `--allow-remote`).
    pub fn start_with(env: Env, args: &[&str]) -> Server {
        let (child, url, host) = spawn(&env, args);
        Server {
            env,
            child: Some(child),
            url,
            host,
        }
    }

    /// Stops the server (SIGTERM) and starts it again on the same repo,
    /// with `args` as in [`Server::start_with`].
    pub fn restart(&mut self, args: &[&str]) {
        let status = self.stop();
        assert!(status.success(), "the server exited with {status}");
        self.restart_stopped(args);
    }

    /// Starts a server that [`Server::stop`] stopped again on the same repo.
    pub fn restart_stopped(&mut self, args: &[&str]) {
        assert!(self.child.is_none(), "the server is still running");
        let (child, url, host) = spawn(&self.env, args);
        self.child = Some(child);
        self.url = url;
        self.host = host;
    }

    /// Sends one request (`Connection: close`) and reads the answer.
    pub fn raw(&self, head: &str, body: &[u8]) -> Resp {
        let s = TcpStream::connect(&self.host).unwrap();
        exchange(s, head, body)
    }

    /// [`Server::raw`] from the local address `from` to the server's port
    /// on `to` (so a test can be several clients: 127.0.0.2, the host's own
    /// non-loopback address, …).
    pub fn raw_from(
        &self,
        from: std::net::IpAddr,
        to: std::net::IpAddr,
        head: &str,
        body: &[u8],
    ) -> Resp {
        use rustix::net::{AddressFamily, SocketType};
        let port: u16 = self.host.rsplit(':').next().unwrap().parse().unwrap();
        let family = if from.is_ipv4() {
            AddressFamily::INET
        } else {
            AddressFamily::INET6
        };
        let fd = rustix::net::socket(family, SocketType::STREAM, None).unwrap();
        rustix::net::bind(&fd, &std::net::SocketAddr::new(from, 0)).unwrap();
        rustix::net::connect(&fd, &std::net::SocketAddr::new(to, port)).unwrap();
        exchange(TcpStream::from(fd), head, body)
    }

    /// A password login sent from `from` to the server's address `to`.
    pub fn login_from(
        &self,
        from: std::net::IpAddr,
        to: std::net::IpAddr,
        user: &str,
        pw: &str,
    ) -> Resp {
        let body = serde_json::json!({"user": user, "password": pw}).to_string();
        let head = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.url,
            body.len()
        );
        self.raw_from(from, to, &head, body.as_bytes())
    }
}

/// Starts `htrac-serve --port 0 ARGS` in `env`; returns it with its URL
/// and host:port, read from the line it prints once listening.
fn spawn(env: &Env, args: &[&str]) -> (Child, String, String) {
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    let mut child = serve_command(env, &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let host = url.trim_start_matches("http://").to_string();
    (child, url, host)
}

/// Sends one request on `s` and reads the whole answer.
fn exchange(mut s: TcpStream, head: &str, body: &[u8]) -> Resp {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    let n = match r.parse(&buf).unwrap() {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => {
            panic!("partial response: {}", String::from_utf8_lossy(&buf))
        }
    };
    Resp {
        status: r.code.unwrap(),
        headers: r
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: buf[n..].to_vec(),
    }
}

impl Server {
    /// A request with the right Host, plus `headers`.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.raw(&head, body)
    }

    pub fn get(&self, path: &str, login: Option<&Login>) -> Resp {
        match login {
            Some(l) => self.request("GET", path, &[("Cookie", &l.cookie)], b""),
            None => self.request("GET", path, &[], b""),
        }
    }

    /// A POST as the page sends it: Origin, cookie, CSRF token.
    pub fn post(&self, path: &str, login: Option<&Login>, body: &serde_json::Value) -> Resp {
        let body = body.to_string();
        let mut h: Vec<(&str, &str)> =
            vec![("Origin", &self.url), ("Content-Type", "application/json")];
        if let Some(l) = login {
            h.push(("Cookie", &l.cookie));
            h.push(("X-CSRF-Token", &l.csrf));
        }
        self.request("POST", path, &h, body.as_bytes())
    }

    pub fn try_login(&self, user: &str, pw: &str) -> Resp {
        self.post(
            "/api/auth/login",
            None,
            &serde_json::json!({"user": user, "password": pw}),
        )
    }

    pub fn login(&self) -> Login {
        let r = self.try_login("amy", "secret").expect(200, None);
        let set = r
            .header("Set-Cookie")
            .expect("a session cookie")
            .to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        Login {
            cookie,
            csrf: r.json()["csrf"].as_str().unwrap().to_string(),
        }
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
