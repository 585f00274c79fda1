//! Who acts is the OS user, not the environment: a real second OS user whose
//! name matches `*_agent` writes `by: agent` and is refused human-only
//! statuses, whatever `USER`/`LOGNAME` say. Needs root (CI runs as root) to
//! create the user; elsewhere the test says why it skipped.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const AGENT: &str = "htrac_ci_agent";

/// Creates the agent user once; `None` (with a reason) when we cannot.
fn agent_user() -> Option<()> {
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("SKIPPED: not root, cannot create the OS user {AGENT}");
        return None;
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

fn as_agent(env: &common::Env, args: &[&str]) -> common::Run {
    let out = Command::new("runuser")
        .args(["-u", AGENT, "--", common::bin()])
        .args(args)
        .current_dir(env.path())
        // Pretending to be root through the environment changes nothing.
        .env("USER", "root")
        .env("LOGNAME", "root")
        .env("HTRAC_CACHE_DIR", env.path().join(".agent-cache"))
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .output()
        .expect("runuser runs");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Makes the repo writable by the agent user (a shared-group setup in real life).
fn open_up(path: &std::path::Path) {
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

#[test]
fn the_os_user_decides_agent_or_human() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let human_item = env.add("set up by the human", &[]);
    open_up(env.path());

    let r = as_agent(
        &env,
        &["add", "--kind", "work_item", "--title", "agent work"],
    )
    .ok();
    let id = r.stdout.trim().to_string();
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert!(text.contains("  by: agent  # "), "{text}");
    assert!(text.contains(&format!("  actor: {AGENT}  # ")), "{text}");

    // Human-only statuses are refused for the agent, and nothing is written.
    let before = env.tree();
    let r = as_agent(&env, &["update", &human_item, "--status", "deleted"]).fails(1);
    assert!(
        r.stderr
            .contains("Status 'deleted' requires human authority"),
        "{}",
        r.stderr
    );
    let r = as_agent(
        &env,
        &[
            "add",
            "--kind",
            "work_item",
            "--title",
            "x",
            "--status",
            "deleted",
        ],
    )
    .fails(1);
    assert!(
        r.stderr.contains("requires human authority"),
        "{}",
        r.stderr
    );
    let r = as_agent(&env, &["discuss", &human_item, "--clear"]).fails(1);
    assert!(r.stderr.contains("human authority"), "{}", r.stderr);
    let r = as_agent(&env, &["init"]).fails(1);
    assert!(
        r.stderr.contains("init requires human authority"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before);

    // The human's message is unread for the agent until it acknowledges it.
    env.run(&["discuss", &human_item, "Please look at this first"])
        .ok();
    let r = as_agent(&env, &["discuss", &human_item, "on it"]).fails(1);
    assert!(
        r.stdout.contains("Please look at this first"),
        "{}",
        r.stdout
    );
    as_agent(&env, &["discuss", &human_item, "on it", "--ack-thread"]).ok();
    // Once the agent has replied, nothing is unread and the gate is open.
    as_agent(&env, &["discuss", &human_item, "done"]).ok();
    let v = env.run(&["show", &human_item, "--json"]).ok().json();
    let bys: Vec<&str> = v["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert_eq!(bys, ["human", "agent", "agent"]);
}
