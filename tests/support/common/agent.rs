//! A real second OS user, `htrac_ci_agent` (matches `*_agent`), for tests
//! of what an agent may not do. Creating it needs root (CI runs as root);
//! elsewhere the tests say loudly that they skipped.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::{bin, Env, Run};

pub const AGENT: &str = "htrac_ci_agent";

/// Creates the agent user once; `None` (with a reason) when we cannot.
pub fn agent_user() -> Option<()> {
    if rustix::process::getuid().as_raw() != 0 {
        super::missing(
            &format!("root, to create the OS user {AGENT}"),
            "sudo make test",
        );
    }
    let exists = Command::new("id")
        .arg(AGENT)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let st = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", AGENT])
            .status()
            .expect("useradd runs");
        // Another test binary may have created it meanwhile.
        if !st.success() && !Command::new("id").arg(AGENT).status().unwrap().success() {
            panic!("useradd {AGENT} failed");
        }
    }
    Some(())
}

pub fn as_agent(env: &Env, args: &[&str]) -> Run {
    as_agent_with(env, args, true)
}

/// [`as_agent`]; with `trust_repo` false, git is not told to trust the
/// human-owned repository (no `safe.directory`).
pub fn as_agent_with(env: &Env, args: &[&str], trust_repo: bool) -> Run {
    let out = Command::new("runuser")
        .args(["-u", AGENT, "--", bin()])
        .args(args)
        .current_dir(env.path())
        // Pretending to be root through the environment changes nothing.
        .env("USER", "root")
        .env("LOGNAME", "root")
        .env("HTRAC_CACHE_DIR", env.path().join(".agent-cache"))
        .env("GIT_CONFIG_COUNT", if trust_repo { "1" } else { "0" })
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .env("HOME", "/nonexistent")
        .env("HTRAC_STATE_DIR", env.path().join(".agent-state"))
        .output()
        .expect("runuser runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Makes the repo writable by the agent user (a shared-group setup in real life).
pub fn open_up(path: &std::path::Path) {
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = if meta.is_dir() { 0o777 } else { 0o666 };
        if !p.ends_with("config.yaml") {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
}
