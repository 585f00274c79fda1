//! `htrac count-todos`, `hash-todos` and `guidance` in real repositories:
//! the scope, hard and soft, the exact fingerprint, both guidance
//! documents and where they are written, and failing closed.

use std::path::Path;

use crate::common::{self, Env};
use sha2::{Digest, Sha256};

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn set_config(env: &Env, from: &str, to: &str) {
    let cfg = env.root().join("tracker/config.yaml");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains(from), "config has {from:?}");
    std::fs::write(&cfg, text.replace(from, to)).unwrap();
}

fn count(env: &Env, extra: &[&str]) -> String {
    let mut args = vec!["count-todos"];
    args.extend_from_slice(extra);
    env.run(&args).ok().stdout.trim().to_string()
}

#[test]
fn count_todos_counts_blocking_items_in_scope_hard_and_soft() {
    let env = Env::new();
    assert_eq!(count(&env, &[]), "0");
    let a = env.add("hard", &[]);
    let b = env.add("soft", &["--status", "todo_soft"]);
    env.add("done", &["--status", "done"]);
    env.add("canon", &["--tier", "canonical"]);
    env.add("stealthy", &["--tier", "stealth", "--status", "todo_soft"]);
    // Waiting on another item (isbefore) still counts, unlike `ready`.
    env.add("first", &["--isbefore", &a]);
    assert_eq!(count(&env, &[]), "5");
    assert_eq!(count(&env, &["--hard"]), "3");
    assert_eq!(count(&env, &["--soft"]), "2");
    let v = env.run(&["count-todos", "--json"]).ok();
    assert_eq!(v.stdout, "{\"count\": 5}\n");
    env.run(&["update", &b, "--status", "in_progress"]).ok();
    assert_eq!(count(&env, &["--soft"]), "1");
    // Workspace scope: the canonical item is not counted.
    env.run(&["fork-setup"]).ok();
    assert_eq!(count(&env, &[]), "3");
    assert_eq!(count(&env, &["--hard"]), "2");
}

#[test]
fn hash_todos_is_sha256_of_the_sorted_id_status_title_lines() {
    let env = Env::new();
    assert_eq!(
        env.run(&["hash-todos"]).ok().stdout,
        format!("{}\n", sha256_hex(""))
    );
    let a = env.add("Ünïcödé — title", &["--priority", "0"]);
    let b = env.add("soft one", &["--status", "todo_soft"]);
    let c = env.add("canonical one", &["--tier", "canonical"]);
    env.add("done", &["--status", "done"]);
    let mut lines = vec![
        format!("{a}\ttodo_hard\tÜnïcödé — title\n"),
        format!("{b}\ttodo_soft\tsoft one\n"),
        format!("{c}\ttodo_hard\tcanonical one\n"),
    ];
    lines.sort();
    let expected = sha256_hex(&lines.concat());
    assert_eq!(env.run(&["hash-todos"]).ok().stdout.trim(), expected);
    assert_eq!(
        env.run(&["hash-todos", "--json"]).ok().stdout,
        format!("{{\"hash\": \"{expected}\"}}\n")
    );
    // Priority and discussion do not change it; status and title do.
    env.run(&["update", &a, "--priority", "3"]).ok();
    env.run(&["discuss", &a, "a note"]).ok();
    assert_eq!(env.run(&["hash-todos"]).ok().stdout.trim(), expected);
    env.run(&["update", &b, "--title", "renamed"]).ok();
    assert_ne!(env.run(&["hash-todos"]).ok().stdout.trim(), expected);
    // Workspace scope leaves the canonical line out.
    env.run(&["update", &b, "--title", "soft one"]).ok();
    env.run(&["fork-setup"]).ok();
    lines.retain(|l| !l.starts_with(&c));
    assert_eq!(
        env.run(&["hash-todos"]).ok().stdout.trim(),
        sha256_hex(&lines.concat())
    );
}

/// Runs `guidance` with `XDG_DATA_HOME` pointing at `data`.
fn guidance(env: &Env, data: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["guidance"];
    args.extend_from_slice(extra);
    let out = env
        .command(&args)
        .env("XDG_DATA_HOME", data)
        .output()
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn guidance_writes_the_normal_document_in_the_data_dir() {
    let env = Env::new();
    let data = tempfile::tempdir().unwrap();
    let a = env.add("hard two", &["--priority", "2"]);
    let b = env.add("hard zero", &["--priority", "0"]);
    let s = env.add("soft four", &["--priority", "4", "--status", "todo_soft"]);
    let r = guidance(&env, data.path(), &[]).ok();
    let path = Path::new(r.stdout.trim());
    assert!(path.is_absolute());
    assert!(
        path.starts_with(data.path().join("htrac/guidance")),
        "{path:?}"
    );
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("stop_guidance_") && name.ends_with(".md") && name.len() == 30,
        "{name}"
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("# Stop Hook Guidance — 20"), "{text}");
    assert!(
        text.contains(&format!(
            "## Status\n- Hard TODO Items: 2\n- Soft TODO Items: 1\n\n## Hard TODO Items\n- [{b}] P0 hard zero\n- [{a}] P2 hard two\n\n## Soft TODO Items\n- [{s}] P4 soft four\n\n## Guidance\n"
        )),
        "{text}"
    );
    assert!(!text.contains("Invariant Violations"));
    assert!(text.ends_with("new information comes to light.\n"));
}

#[test]
fn guidance_switches_to_reply_first_when_a_human_is_waiting() {
    let env = Env::new();
    let data = tempfile::tempdir().unwrap();
    let a = env.add("blocking", &["--priority", "1"]);
    let d = env.add("finished", &["--status", "done"]);
    env.add("quiet", &[]);
    env.run(&["discuss", &a, "first"]).ok();
    env.run(&["discuss", &a, "second", "--ack-thread"]).ok();
    env.run(&["discuss", &d, "why?"]).ok();
    let r = guidance(&env, data.path(), &["--json"]).ok();
    let v = r.json();
    let text = std::fs::read_to_string(v["path"].as_str().unwrap()).unwrap();
    assert!(text.starts_with("# REPLY-FIRST CYCLE — "), "{text}");
    assert!(text.contains("**2 unread human message(s) across 2 item(s).**"));
    assert!(text.contains(&format!(
        "## Blocking items with unread messages\n- [{a}] P1 blocking (2 unread)\n"
    )));
    assert!(text.contains(&format!(
        "## Non-blocking items with unread messages\n- [{d}] P2 finished (1 unread)\n"
    )));
    assert!(!text.contains("quiet"), "the TODO list is suppressed");
    assert!(!text.contains("Escalated"), "no LLM escalation");
}

#[test]
fn guidance_dir_flag_then_config_then_default() {
    let env = Env::new();
    let data = tempfile::tempdir().unwrap();
    env.add("x", &[]);
    // The flag, relative to the working directory.
    let r = guidance(&env, data.path(), &["--guidance-dir", "notes/g"]).ok();
    let path = Path::new(r.stdout.trim());
    assert_eq!(
        path.parent().unwrap(),
        env.path().canonicalize().unwrap().join("notes/g")
    );
    // The config's directory, relative to the repository, even from a subdirectory.
    set_config(
        &env,
        "# guidance_dir: /path/to/guidance",
        "guidance_dir: logs/guidance",
    );
    std::fs::create_dir_all(env.path().join("sub")).unwrap();
    let out = env
        .command(&["guidance"])
        .current_dir(env.path().join("sub"))
        .env("XDG_DATA_HOME", data.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        Path::new(path.trim()).parent().unwrap(),
        env.path().canonicalize().unwrap().join("logs/guidance")
    );
    assert_eq!(
        std::fs::read_dir(data.path()).unwrap().count(),
        0,
        "the data dir is untouched"
    );
    // `~/…` is the home directory: the reference's place, when asked for.
    set_config(
        &env,
        "guidance_dir: logs/guidance",
        "guidance_dir: ~/hypergumbo_lab_notebook/guidance_log",
    );
    let home = tempfile::tempdir().unwrap();
    let out = env
        .command(&["guidance"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    let path = crate::common::succeeded(&out);
    assert_eq!(
        Path::new(path.trim()).parent().unwrap(),
        home.path().join("hypergumbo_lab_notebook/guidance_log")
    );
}

#[test]
fn failures_are_reported_and_fail_closed() {
    let env = Env::new();
    env.add("x", &[]);
    let blocker = env.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let r = env
        .run(&["guidance", "--guidance-dir", blocker.to_str().unwrap()])
        .fails(1);
    assert!(
        r.stderr
            .starts_with("error: guidance failed: cannot create"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    // A broken config: no count at all, exit 1.
    set_config(&env, "scope: all", "scope: sideways");
    for cmd in ["count-todos", "hash-todos"] {
        let r = env.run(&[cmd]).fails(1);
        assert_eq!(r.stdout, "", "{cmd} prints no number when it cannot count");
        assert!(r.stderr.contains("stop_hook.scope"), "{}", r.stderr);
    }
}

#[test]
fn an_unreadable_item_is_left_out_with_a_warning() {
    let env = Env::new();
    env.add("fine", &[]);
    let bad = env.add("to be broken", &[]);
    std::fs::write(env.workspace_ops(&bad), "- op: [broken\n").unwrap();
    let r = env.run(&["count-todos"]).ok();
    assert_eq!(r.stdout, "1\n");
    assert!(r.stderr.contains(&bad), "{}", r.stderr);
}
