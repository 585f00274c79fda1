//! A test environment: a real git repository in a temp dir with an
//! initialised tracker, and a way to run the real `htrac` binary in it.

#![allow(dead_code)]

pub mod agent;
pub mod layout;
pub mod mcp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// The `id`s of a JSON array of items (`list --json`, `ready --json`'s `ready`).
pub fn ids(items: &serde_json::Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array of items")
        .iter()
        .map(|v| v["id"].as_str().expect("an id").to_string())
        .collect()
}

/// Asserts that a finished process exited 0 (showing its stderr when not),
/// and returns its stdout as text.
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "dev"]);
    git(dir, &["config", "user.email", "test@example.com"]);
    git(dir, &["config", "user.name", "Test"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "root"]);
}

/// Rewrites `path` in place with `from` replaced by `to` (the same length),
/// then puts its old mtime back: only the ctime shows the change.
pub fn rewrite_keeping_mtime(path: &Path, from: &str, to: &str) {
    let old = std::fs::metadata(path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let new = text.replace(from, to);
    assert_eq!(new.len(), text.len(), "a same-size rewrite");
    std::fs::write(path, new).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), old);
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_htrac")
}

/// Runs `cmd` with `input` on its standard input (a refusal may come
/// before the input is read: a closed pipe is no failure).
pub fn run_with_input(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    to_run(child.wait_with_output().unwrap())
}

fn to_run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Env {
    /// A git repo with `htrac init` done.
    pub fn new() -> Env {
        let env = Env::bare();
        git_init(env.path());
        env.run(&["init"]).ok();
        env
    }

    /// An empty temp dir (no git, no tracker).
    pub fn bare() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn root(&self) -> PathBuf {
        self.path().join(".agent")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.path())
            .env("HTRAC_CACHE_DIR", self.cache.path())
            .env("HTRAC_STATE_DIR", self.cache.path().join("state"))
            .env_remove("XDG_CACHE_HOME");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        to_run(self.command(args).output().expect("htrac runs"))
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        run_with_input(self.command(args), input)
    }

    /// Adds a work item and returns its ID.
    pub fn add(&self, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["add", "--kind", "work_item", "--title", title];
        args.extend_from_slice(extra);
        self.run(&args).ok().stdout.trim().to_string()
    }

    /// The files in this environment's cache directory whose names start
    /// with `prefix` (`items-`: the read cache; `memo-`: kept results).
    pub fn cache_files(&self, prefix: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.cache.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            })
            .collect()
    }

    pub fn ops_path(&self, tier_dir: &str, id: &str) -> PathBuf {
        self.root().join(tier_dir).join(format!(".{id}.ops"))
    }

    pub fn workspace_ops(&self, id: &str) -> PathBuf {
        self.ops_path("tracker-workspace/.ops", id)
    }

    /// Every file under `.agent/` with its bytes, to prove a refused command changed nothing.
    pub fn tree(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root(), &mut out);
        out.sort();
        out
    }
}

/// A prerequisite of the suite is missing: the test fails (it never reports
/// `ok` without running), naming what is missing and how to install it.
/// `make test` checks every prerequisite before it builds (tests/prereqs.sh).
pub fn missing(what: &str, install: &str) -> ! {
    panic!(
        "missing prerequisite: {what}; install it with: {install} \
         (`make test` checks and, as root, installs every prerequisite: tests/prereqs.sh)"
    )
}

/// Returns once the file system's timestamp clock has moved on: a file
/// written from now on gets an mtime/ctime different from any file written
/// before the call. (Waits for that state, measured on a probe file in
/// `dir`, rather than for a guessed tick length.)
pub fn next_timestamp_tick(dir: &Path) {
    let probe = dir.join(".timestamp-tick-probe");
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (
            m.modified().unwrap(),
            std::os::unix::fs::MetadataExt::ctime_nsec(&m),
        )
    };
    std::fs::write(&probe, b"0").unwrap();
    let first = stamp(&probe);
    let start = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(1));
        std::fs::write(&probe, b"1").unwrap();
        if stamp(&probe) != first {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the file system's timestamps did not move in 10 s"
        );
    }
    std::fs::remove_file(&probe).unwrap();
}

/// One op as an op file holds it (every line ending `  # <nonce>`), for
/// ops written behind htrac's back; `body` lines are indented under the op.
pub fn op_text(
    kind: &str,
    at: &str,
    by: &str,
    actor: &str,
    clock: i64,
    nonce: &str,
    body: &[&str],
) -> String {
    let mut lines = vec![
        format!("- op: {kind}"),
        format!("  at: '{at}'"),
        format!("  by: {by}"),
        format!("  actor: {actor}"),
        format!("  clock: {clock}"),
        format!("  nonce: {nonce}"),
    ];
    lines.extend(body.iter().map(|l| format!("  {l}")));
    lines.iter().map(|l| format!("{l}  # {nonce}\n")).collect()
}

/// Appends `text` to the file at `path`, as a hand edit would.
pub fn append_raw(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The name libtest gives the test `test` of the module `module_path`
/// (`module_path!()`, which starts with the test binary's crate name).
pub fn test_name(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{test}"),
        None => test.to_string(),
    }
}

/// For a test whose own process needs a particular environment (a library
/// call made in this process reads `HTRAC_CACHE_DIR`, say): the tests of a
/// binary run on threads of one process, so none may change the environment
/// the others and their child processes see. The test runs again, alone, in
/// a child process of this binary with `envs` set: returns `true` in that
/// child (go on with the test), `false` in the caller once the child passed.
pub fn in_own_process(module_path: &str, test: &str, envs: &[(&str, &Path)]) -> bool {
    const MARK: &str = "HTRAC_TEST_OWN_PROCESS";
    let name = test_name(module_path, test);
    if std::env::var_os(MARK).is_some_and(|v| v == name.as_str()) {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(MARK, &name)
        .envs(envs.iter().copied())
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in its own process:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
