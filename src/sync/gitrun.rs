//! Running git for the sync engine: captured stdout and stderr, optional
//! stdin and environment, no terminal prompts (a sync must never hang on a
//! password question), and C-locale messages so rejections can be read.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// What one git process did.
#[derive(Debug, Clone)]
pub struct GitOut {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl GitOut {
    /// The first non-empty line of stderr (git's message), or a fallback.
    pub fn message(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
            .collect();
        // `fatal:`/`error:` lines say more than progress chatter.
        lines
            .iter()
            .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
            .or(lines.first())
            .map(|l| l.to_string())
            .unwrap_or_else(|| format!("git exited with {:?}", self.code))
    }
}

/// One git invocation being put together.
pub struct Git<'a> {
    dir: &'a Path,
    args: Vec<&'a OsStr>,
    env: Vec<(&'a str, &'a OsStr)>,
    stdin: Option<&'a [u8]>,
}

/// `git -C dir args...`.
pub fn git<'a>(dir: &'a Path, args: &[&'a str]) -> Git<'a> {
    Git {
        dir,
        args: args.iter().map(|a| OsStr::new(*a)).collect(),
        env: Vec::new(),
        stdin: None,
    }
}

impl<'a> Git<'a> {
    pub fn args<S: AsRef<OsStr> + 'a>(mut self, more: &'a [S]) -> Self {
        self.args.extend(more.iter().map(|s| s.as_ref()));
        self
    }

    pub fn env(mut self, key: &'a str, value: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        self.env.push((key, value.as_ref()));
        self
    }

    pub fn stdin(mut self, bytes: &'a [u8]) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// Runs git; an `Err` only when git cannot be started at all.
    pub fn run(self) -> Result<GitOut> {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(self.dir)
            .args(&self.args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            // Our own git commands must not set off the journal's
            // post-checkout/post-merge restore in the middle of a sync.
            .env("HTRAC_NO_RECONCILE", "1")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::internal(format!("cannot run git: {e}")))?;
        let writer = match (self.stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => {
                let bytes = bytes.to_vec();
                Some(std::thread::spawn(move || {
                    let _ = pipe.write_all(&bytes);
                }))
            }
            _ => None,
        };
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let err_reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut s);
            s
        });
        let mut out = Vec::new();
        let _ = child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_end(&mut out);
        if let Some(w) = writer {
            let _ = w.join();
        }
        let err = err_reader.join().unwrap_or_default();
        let status = child
            .wait()
            .map_err(|e| Error::internal(format!("git did not finish: {e}")))?;
        Ok(GitOut {
            ok: status.success(),
            code: status.code(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        })
    }

    /// Runs git and returns its trimmed stdout; a failure is an internal
    /// error quoting git, prefixed by `what`.
    pub fn ok(self, what: &str) -> Result<String> {
        let out = self.run()?;
        if out.ok {
            Ok(out.stdout.trim_end().to_string())
        } else {
            Err(Error::internal(format!("{what}: {}", out.message())))
        }
    }
}
