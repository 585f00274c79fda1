//! Sync test rig: a bare remote in a temp dir, clones of it with the
//! tracker committed, and the real `htrac` binary run in them with its
//! cache, home and state pointed into the temp dir. No network.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self) -> Run {
        assert_ne!(
            self.code, 0,
            "expected a failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

fn to_run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare remote (`dev` holding a root commit and the tracker) and its clones.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub remote: PathBuf,
}

pub struct Clone {
    pub path: PathBuf,
    home: PathBuf,
    /// Extra environment for every htrac run.
    pub env: Vec<(String, String)>,
}

impl Net {
    pub fn new() -> Net {
        Net::on_branch("dev")
    }

    /// A bare remote whose default branch is `branch`, seeded with a tracker.
    pub fn on_branch(branch: &str) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().join("remote.git");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", branch, "remote.git"],
        );
        let net = Net { dir, remote };
        let seed = net.clone_on("seed", branch);
        git(&seed.path, &["commit", "-q", "--allow-empty", "-m", "root"]);
        seed.run(&["init"]).ok();
        git(&seed.path, &["add", "-A"]);
        git(&seed.path, &["commit", "-q", "-m", "tracker"]);
        git(&seed.path, &["push", "-q", "origin", branch]);
        net
    }

    /// A fresh clone with its identity set (tracker included once seeded).
    pub fn clone_named(&self, name: &str) -> Clone {
        self.clone_on(name, "dev")
    }

    /// [`Net::clone_named`], on branch `branch`.
    pub fn clone_on(&self, name: &str, branch: &str) -> Clone {
        let path = self.dir.path().join(name);
        let out = Command::new("git")
            .arg("clone")
            .arg("-q")
            .arg(&self.remote)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        git(
            &path,
            &["config", "user.email", &format!("{name}@example.com")],
        );
        git(&path, &["config", "user.name", name]);
        git(&path, &["config", "commit.gpgsign", "false"]);
        let _ = git(&path, &["checkout", "-q", "-B", branch]);
        let home = self.dir.path().join(format!("{name}-home"));
        std::fs::create_dir_all(&home).unwrap();
        Clone {
            path,
            home,
            env: vec![
                ("TRACKER_AUTO_SYNC_THRESHOLD".into(), "0".into()),
                ("HTRAC_SYNC_BACKOFF_MS".into(), "5".into()),
            ],
        }
    }

    /// `git` in the bare remote.
    pub fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, args)
    }
}

impl Clone {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_htrac"));
        c.args(args)
            .current_dir(&self.path)
            .env("HOME", &self.home)
            .env("HTRAC_CACHE_DIR", self.home.join("cache"))
            .env("XDG_STATE_HOME", self.home.join("state"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HTRAC_FAILPOINT");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        to_run(self.command(args).output().expect("htrac runs"))
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        to_run(c.output().expect("htrac runs"))
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.path, args)
    }

    /// Adds a work item; returns its ID.
    pub fn add(&self, title: &str) -> String {
        let r = self
            .run(&["add", "--kind", "work_item", "--title", title])
            .ok();
        r.stdout.trim().lines().last().unwrap().trim().to_string()
    }

    /// Writes `.agent/tracker/config.yaml`: the tracked template plus `extra`.
    pub fn config(&self, extra: &str) {
        let dir = self.path.join(".agent/tracker");
        let template = std::fs::read_to_string(dir.join("config.yaml.template")).unwrap();
        let path = dir.join("config.yaml");
        if path.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::write(&path, format!("{template}\n{extra}\n")).unwrap();
    }

    /// Every committed-tier op file: (relative path, text).
    pub fn op_files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for d in [".agent/tracker/.ops", ".agent/tracker-workspace/.ops"] {
            let Ok(entries) = std::fs::read_dir(self.path.join(d)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".ops") {
                    out.push((
                        format!("{d}/{name}"),
                        std::fs::read_to_string(e.path()).unwrap(),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// Number of ops (`- op: ` lines) in the committed tiers' working files.
    pub fn op_count(&self) -> usize {
        self.op_files()
            .iter()
            .map(|(_, t)| t.lines().filter(|l| l.starts_with("- op: ")).count())
            .sum()
    }

    /// The nonce of every op in the working files (to spot losses by name).
    pub fn nonces(&self) -> std::collections::BTreeSet<String> {
        let mut s = std::collections::BTreeSet::new();
        for (p, t) in self.op_files() {
            for l in t.lines().filter(|l| l.starts_with("- op: ")) {
                s.insert(format!("{p}#{}", l.rsplit("  # ").next().unwrap()));
            }
        }
        s
    }

    /// `htrac --json list`, sorted by ID, as compact text.
    pub fn state(&self) -> String {
        let v = self.run(&["--json", "list"]).ok().json();
        let mut items = v.as_array().unwrap().clone();
        items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        serde_json::to_string_pretty(&items).unwrap()
    }

    pub fn status(&self) -> serde_json::Value {
        self.run(&["--json", "sync", "--status"]).ok().json()
    }
}

/// Ops in the remote's `dev` tree (committed tiers).
pub fn remote_op_count(net: &Net) -> usize {
    let files = net.remote_git(&["ls-tree", "-r", "--name-only", "dev"]);
    files
        .lines()
        .filter(|f| f.ends_with(".ops") && !f.contains("stealth"))
        .map(|f| {
            net.remote_git(&["show", &format!("dev:{f}")])
                .lines()
                .filter(|l| l.starts_with("- op: "))
                .count()
        })
        .sum()
}

/// A tiny xorshift generator (no new crates).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
