//! `htrac setup` and `htrac fork-setup` against real git repositories: what
//! a first run fixes, that a second run changes no byte, the pre-commit
//! hook it installs, and (as root, with a real second OS user and a shared
//! group) the two-user checks and the agent's refusals.

mod agents_md;
mod configure;
mod first_run;
mod fork_setup;
mod guard;
mod outward;
mod pre_commit;
mod shims;
mod two_users;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, git_init, Env, Run};
use sha2::{Digest, Sha256};

/// A scratch repository whose git global config is a private file, so
/// setup's global fallbacks never touch the machine's.
struct Repo {
    env: Env,
    global: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let env = Env::bare();
        git_init(env.path());
        Repo {
            env,
            global: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.env.path()
    }

    fn root(&self) -> PathBuf {
        self.env.root()
    }

    fn global_config(&self) -> PathBuf {
        self.global.path().join("gitconfig")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.env.command(args);
        c.env("GIT_CONFIG_GLOBAL", self.global_config())
            // htrac is not on PATH here, so hooks and git use this binary's path.
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("htrac runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn setup_json(&self) -> (i32, serde_json::Value) {
        let r = self.run(&["--json", "setup"]);
        let code = r.code;
        (code, r.json())
    }

    fn git_cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", self.global_config())
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .output()
            .unwrap()
    }
}

/// Every path under `dir` with its mode, owner, group and content hash.
fn fingerprint(dir: &Path, extra: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        let content = if meta.is_file() {
            format!("{:x}", Sha256::digest(std::fs::read(p).unwrap()))
        } else {
            String::new()
        };
        out.insert(
            p.to_path_buf(),
            format!("{:o} {}:{} {content}", meta.mode(), meta.uid(), meta.gid()),
        );
        if meta.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    for e in extra {
        walk(e, &mut out);
    }
    out
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn details(c: &serde_json::Value) -> String {
    c["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

const CHECKS: [&str; 27] = [
    "git_repo",
    "directory_structure",
    "gitattributes",
    "gitignore",
    "config_template",
    "config_yaml",
    "config_validation",
    "actor_resolution",
    "config_ownership",
    "config_permissions",
    "home_traversable",
    "group_permissions",
    "shared_repository",
    "ops_writable",
    "textconv",
    "existing_data",
    "tracker_wrapper",
    "agents_md",
    "stop_hook",
    "precommit_hook",
    "journal_hooks",
    "hooks_path",
    "agent_guard",
    "agent_can_write",
    "sync_remote",
    "install_provenance",
    "trust_root",
];

/// Commits `path` (relative) in `repo`; the git output.
fn commit(repo: &Repo, path: &str, msg: &str) -> std::process::Output {
    let out = repo.git_cmd(&["add", "-f", path]);
    assert!(out.status.success());
    repo.git_cmd(&["commit", "-q", "-m", msg])
}

// ---------------------------------------------------------------------------
// Two users: root is the human, a real OS user matching `*_agent` the agent.

const AGENT: &str = "htrac_setup_agent";
const GROUP: &str = "htrac_ci_shared";

fn sh(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Creates the shared group and the agent user (a member) once; `None` when not root.
fn two_users() -> Option<()> {
    if rustix::process::getuid().as_raw() != 0 {
        common::missing(
            &format!("root, to create the OS user {AGENT} and group {GROUP}"),
            "sudo make test",
        );
    }
    if !sh("getent", &["group", GROUP]) && !sh("groupadd", &[GROUP]) {
        assert!(sh("getent", &["group", GROUP]), "groupadd {GROUP} failed");
    }
    if !sh("id", &[AGENT])
        && !sh(
            "useradd",
            &["--create-home", "--shell", "/bin/sh", "-G", GROUP, AGENT],
        )
    {
        assert!(sh("id", &[AGENT]), "useradd {AGENT} failed");
    }
    if !String::from_utf8_lossy(
        &Command::new("id")
            .args(["-nG", AGENT])
            .output()
            .unwrap()
            .stdout,
    )
    .split_whitespace()
    .any(|g| g == GROUP)
    {
        assert!(sh("usermod", &["-aG", GROUP, AGENT]));
    }
    Some(())
}

struct Agent {
    global: PathBuf,
    cache: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn new() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let global = dir.path().join("gitconfig");
        std::fs::write(&global, "").unwrap();
        std::fs::set_permissions(&global, std::fs::Permissions::from_mode(0o666)).unwrap();
        Agent {
            global,
            cache: dir.path().join("cache"),
            _dir: dir,
        }
    }

    fn command(&self, repo: &Repo, args: &[&str]) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", AGENT, "--"])
            .args(args)
            .current_dir(repo.path())
            .env("GIT_CONFIG_GLOBAL", &self.global)
            .env("HTRAC_CACHE_DIR", &self.cache)
            .env("HTRAC_STATE_DIR", self.cache.join("state"))
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        c
    }

    fn run(&self, repo: &Repo, args: &[&str]) -> Run {
        let mut full = vec![common::bin()];
        full.extend_from_slice(args);
        let out = self.command(repo, &full).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
