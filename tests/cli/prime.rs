//! `htrac prime` (text and `--json`) and `htrac-hook session-start` on a
//! fixture tracker: unread human messages, items in progress, locked and
//! frozen items, the ready list, and the stop hook installed or not.
//!
//! `htrac prime` keeps its briefing under the exact listing of the op files
//! (and the configuration and actor) it came from: a second `prime` with
//! nothing changed uses it, and after any change — an append, an in-place
//! rewrite that restores the mtime, a freeze sentinel, a configuration
//! edit, a new item in another tier, a damaged memo — the briefing is the
//! one a read without any cache gives.

use std::process::{Command, Stdio};

use crate::common::{self, ids, Env};
use serde_json::{json, Value};

struct Fixture {
    env: Env,
    /// Ready, P1.
    plain: String,
    /// Ready, P0, with an unread human message.
    asked: String,
    /// In progress.
    started: String,
    /// Status and title locked.
    locked: String,
    /// Frozen.
    frozen: String,
    /// Done, with a lock (resolved: not listed as locked).
    finished: String,
}

fn fixture() -> Fixture {
    let env = Env::new();
    let plain = env.add("plain work", &["--priority", "1"]);
    let asked = env.add("a question for you", &["--priority", "0"]);
    env.run(&["discuss", &asked, "why is this slow?"]).ok();
    let started = env.add("half done", &["--status", "in_progress"]);
    let locked = env.add("locked work", &["--priority", "3"]);
    env.run(&["lock", &locked, "status", "title"]).ok();
    let frozen = env.add("frozen work", &["--priority", "4"]);
    env.run(&["freeze", &frozen]).ok();
    let finished = env.add("finished", &["--status", "done"]);
    env.run(&["lock", &finished, "priority"]).ok();
    Fixture {
        env,
        plain,
        asked,
        started,
        locked,
        frozen,
        finished,
    }
}

fn briefs(v: &Value) -> Vec<String> {
    ids(v)
}

fn hook(env: &Env, input: &str, cwd: &std::path::Path) -> common::Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_htrac-hook"))
        .arg("session-start")
        .current_dir(cwd)
        .env("HTRAC_CACHE_DIR", env.cache.path())
        .env("HTRAC_STATE_DIR", env.cache.path().join("state"))
        .env_remove("CLAUDE_PROJECT_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn prime_json_reports_the_tracker_state() {
    let f = fixture();
    let env = &f.env;
    let v = env.run(&["--json", "prime"]).ok().json();
    let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    assert_eq!(v["actor"], json!({"name": me.trim(), "role": "human"}));
    assert_eq!(v["workflow"][0]["step"], "ready");
    assert!(v["workflow"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["command"].as_str().unwrap().starts_with("htrac --json ")));

    assert_eq!(
        v["unread_messages"],
        json!([{"id": f.asked, "title": "a question for you", "status": "todo_hard", "priority": 0, "unread_count": 1}])
    );
    assert_eq!(v["unread_total"], 1);
    assert_eq!(briefs(&v["in_progress"]), vec![f.started.as_str()]);
    assert_eq!(v["in_progress"][0]["status"], "in_progress");

    // The ready list is `ready`'s, cut at five.
    let ready = env.run(&["--json", "ready"]).ok().json();
    let all = ids(&ready["ready"]);
    assert_eq!(v["ready_total"], all.len());
    assert_eq!(briefs(&v["ready"]), all[..all.len().min(5)].to_vec());
    assert_eq!(briefs(&v["ready"])[..2], [f.asked.clone(), f.plain.clone()]);

    // Open items a human restricted; the done one is not listed.
    assert_eq!(
        v["locked"],
        json!([
            {"id": f.locked, "title": "locked work", "status": "todo_hard", "priority": 3, "locked_fields": ["status", "title"], "frozen": false},
            {"id": f.frozen, "title": "frozen work", "status": "todo_hard", "priority": 4, "locked_fields": [], "frozen": true},
        ])
    );
    assert!(!v.to_string().contains(&f.finished));
    assert_eq!(v["human_only_statuses"], json!(["deleted"]));
    let count = env.run(&["--json", "count-todos"]).ok().json()["count"].clone();
    assert_eq!(v["blocking_count"], count);
    assert_eq!(v["stop_hook"], json!({"active": false, "path": null}));

    // Installing the Claude Code stop hook shows.
    let claude = env.path().join(".claude");
    std::fs::create_dir_all(&claude).unwrap();
    std::fs::write(
        claude.join("settings.json"),
        r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "htrac-hook stop"}]}]}}"#,
    )
    .unwrap();
    let v = env.run(&["--json", "prime"]).ok().json();
    assert_eq!(v["stop_hook"]["active"], true);
    assert!(v["stop_hook"]["path"]
        .as_str()
        .unwrap()
        .ends_with(".claude/settings.json"));
}

#[test]
fn prime_text_names_what_matters() {
    let f = fixture();
    let text = f.env.run(&["prime"]).ok().stdout;
    let section = |title: &str| -> String {
        text.split("\n\n")
            .find(|s| s.starts_with(title))
            .unwrap_or_else(|| panic!("no section {title}:\n{text}"))
            .to_string()
    };
    assert!(text.starts_with("# htrac: this repository's work tracker\n"));
    assert!(text.contains("  claim     htrac --json claim\n"));
    let unread = section("Unread human messages");
    assert!(
        unread.contains(&format!(
            "  {}  P0  [todo_hard]  a question for you  (1 unread)",
            f.asked
        )),
        "{unread}"
    );
    assert!(unread.contains("--ack-thread"), "{unread}");
    assert!(section("In progress (1)").contains(&f.started));
    let ready = section("Ready (");
    assert!(ready.contains(&format!("  {}  P1  [todo_hard]  plain work", f.plain)));
    assert!(!ready.contains(&f.started));
    let locked = section("Locked by a human");
    assert!(locked.contains(&format!(
        "  {}  locked work  (locked: status, title)",
        f.locked
    )));
    assert!(locked.contains(&format!(
        "  {}  frozen work  (frozen: no agent writes at all)",
        f.frozen
    )));
    assert!(!locked.contains(&f.finished));
    assert!(text.contains("Only a human may set status: deleted.\n"));
    assert!(
        text.contains("Stop hook: not installed. 4 blocking item(s) remain"),
        "{text}"
    );
    // Few hundred words at most.
    assert!(text.split_whitespace().count() < 400, "{text}");

    // A stop script that calls the tracker counts as an installed hook.
    let hooks = f.env.root().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("stop.sh"), "#!/bin/sh\nexec htrac-hook check\n").unwrap();
    let text = f.env.run(&["prime"]).ok().stdout;
    assert!(text.contains("Stop hook: active ("), "{text}");
    assert!(text.contains("You cannot stop while blocking items remain (4 now)."));
}

#[test]
fn an_empty_tracker_says_nothing_is_ready() {
    let env = Env::new();
    let text = env.run(&["prime"]).ok().stdout;
    assert!(
        text.contains("Ready (0) — best first:\n  (nothing ready)\n"),
        "{text}"
    );
    assert!(!text.contains("Unread"));
    assert!(!text.contains("Locked"));
    let v = env.run(&["--json", "prime"]).ok().json();
    assert_eq!(v["ready"], json!([]));
    assert_eq!(v["blocking_count"], 0);
}

#[test]
fn session_start_wraps_the_briefing_for_the_harness() {
    let f = fixture();
    let env = &f.env;
    let text = env.run(&["prime"]).ok().stdout;
    let dir = env.path().to_str().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();

    // Claude Code SessionStart: JSON with the briefing as additional context.
    let event = json!({"session_id": "s", "hook_event_name": "SessionStart", "source": "startup", "cwd": dir});
    let r = hook(env, &event.to_string(), elsewhere.path()).ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v,
        json!({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}})
    );
    assert_eq!(r.stdout.lines().count(), 1);

    // After a compaction it says so first.
    let event = json!({"hook_event_name": "SessionStart", "source": "compact", "cwd": dir});
    let r = hook(env, &event.to_string(), elsewhere.path()).ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let ctx = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(ctx.starts_with("Your context was just compacted"));
    assert!(ctx.ends_with(&text));

    // PreCompact, no event at all, or a malformed one: the plain text.
    let event = json!({"hook_event_name": "PreCompact", "trigger": "auto", "cwd": dir});
    assert_eq!(
        hook(env, &event.to_string(), elsewhere.path()).ok().stdout,
        text
    );
    assert_eq!(hook(env, "", env.path()).ok().stdout, text);
    let r = hook(env, "{not json", env.path()).ok();
    assert_eq!(r.stdout, text);
    assert!(r.stderr.contains("not valid JSON"), "{}", r.stderr);

    // No tracker: nothing on stdout, still exit 0.
    let event = json!({"hook_event_name": "SessionStart", "cwd": elsewhere.path()});
    let r = hook(env, &event.to_string(), elsewhere.path()).ok();
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("no .agent/ directory"), "{}", r.stderr);
}

/// `prime --json` with these environment variables: (stdout, stderr).
fn prime_with(env: &Env, vars: &[(&str, &str)]) -> (String, String) {
    let mut cmd = env.command(&["--json", "prime"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("htrac runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// `prime --json` with every change trusted at once (no racy window) and
/// the cache's notes on stderr: (stdout, whether the memo was used).
fn prime(env: &Env) -> (String, bool) {
    let (out, err) = prime_with(
        env,
        &[("HTRAC_CACHE_RACY_MS", "0"), ("HTRAC_CACHE_STATS", "1")],
    );
    (out, err.contains("prime from the memo"))
}

/// `prime --json` with no cache at all: the truth to compare with.
fn prime_uncached(env: &Env) -> String {
    prime_with(env, &[("HTRAC_NO_CACHE", "1")]).0
}

/// After a change: the next `prime` is recomputed and right, and the one
/// after it comes from the memo and says the same.
fn assert_seen(env: &Env, what: &str, before: &str) -> String {
    let (after, from_memo) = prime(env);
    assert!(!from_memo, "{what}: the stale briefing was used");
    assert_ne!(after, before, "{what}: the briefing did not change");
    assert_eq!(
        after,
        prime_uncached(env),
        "{what}: differs from an uncached read"
    );
    let (again, from_memo) = prime(env);
    assert!(
        from_memo,
        "{what}: an unchanged tracker did not use the memo"
    );
    assert_eq!(again, after, "{what}");
    after
}

fn memo_files(env: &Env) -> Vec<std::path::PathBuf> {
    env.cache_files("memo-prime-")
}

#[test]
fn an_unchanged_tracker_uses_the_memo_and_every_change_is_seen() {
    let env = Env::new();
    let a = env.add("first piece of work", &["--priority", "1"]);
    let b = env.add("second piece of work", &["--priority", "2"]);

    let (first, from_memo) = prime(&env);
    assert!(!from_memo, "nothing was kept yet");
    assert_eq!(first, prime_uncached(&env));
    let (second, from_memo) = prime(&env);
    assert!(from_memo, "the second prime did not use the memo");
    assert_eq!(second, first);
    assert_eq!(memo_files(&env).len(), 1);

    // An append (a status change).
    env.run(&["update", &a, "--status", "in_progress"]).ok();
    let now = assert_seen(&env, "append", &second);
    assert!(now.contains("first piece of work"));

    // An in-place rewrite of the same size with the old mtime put back:
    // only the ctime shows it.
    common::rewrite_keeping_mtime(&env.workspace_ops(&b), "second piece", "SECOND PIECE");
    let now = assert_seen(&env, "same-size rewrite", &now);
    assert!(now.contains("SECOND PIECE"));

    // A freeze (a sentinel file beside the op files).
    env.run(&["freeze", &b]).ok();
    let now = assert_seen(&env, "freeze", &now);

    // The configuration: fewer blocking statuses change the blocking count.
    let config = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("blocking_statuses: [todo_hard, todo_soft]"));
    std::fs::write(
        &config,
        text.replace(
            "blocking_statuses: [todo_hard, todo_soft]",
            "blocking_statuses: [todo_soft]",
        ),
    )
    .unwrap();
    let now = assert_seen(&env, "configuration", &now);

    // A new item in another tier.
    env.run(&[
        "add",
        "--kind",
        "invariant",
        "--title",
        "a canonical rule",
        "--field",
        "statement=x holds",
        "--field",
        "root_cause=y",
    ])
    .ok();
    let now = assert_seen(&env, "new canonical item", &now);

    // A damaged memo is a miss, never an error or a wrong briefing.
    for f in memo_files(&env) {
        let mut bytes = std::fs::read(&f).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&f, bytes).unwrap();
    }
    let (after, from_memo) = prime(&env);
    assert!(!from_memo, "a damaged memo was used");
    assert_eq!(after, now);
}

#[test]
fn a_file_changed_within_the_racy_window_is_never_kept() {
    let env = Env::new();
    env.add("work", &[]);
    for _ in 0..2 {
        let out = env
            .command(&["prime"])
            .env("HTRAC_CACHE_RACY_MS", "3600000")
            .env("HTRAC_CACHE_STATS", "1")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(!String::from_utf8_lossy(&out.stderr).contains("from the memo"));
    }
    assert!(memo_files(&env).is_empty(), "a racy listing was kept");
}

#[test]
fn prime_for_a_human_speaks_to_the_supervisor() {
    let env = Env::new();
    let review = env.add("Which database?", &["--status", "needs_human_review"]);
    let working = env.add("Port the parser", &[]);
    env.run(&["update", &working, "--status", "in_progress"])
        .ok();
    env.run(&["discuss", &working, "Use the new grammar"]).ok();
    let r = env.run(&["prime", "--for", "human"]).ok();
    let t = &r.stdout;
    assert!(t.contains("You are human"), "{t}");
    let waiting = t.find("Waiting for your decision (1)").expect(t);
    assert!(t[waiting..].contains(&review), "{t}");
    let doing = t.find("What the agents are doing (1)").expect(t);
    assert!(t[doing..].contains("Port the parser"), "{t}");
    assert!(
        t.contains("Your messages no agent has answered yet (1)"),
        "{t}"
    );
    assert!(t.contains("htrac lock ID FIELD"), "{t}");
    // Nothing addressed to an agent.
    for agent_talk in [
        "You cannot stop",
        "finish them before you stop",
        "--ack-thread",
        "Workflow:",
    ] {
        assert!(!t.contains(agent_talk), "{agent_talk}: {t}");
    }
    // Not on a terminal (a harness, even as the human's user): the agent's
    // brief, as the session-start hook gives it.
    let r = env.run(&["prime"]).ok();
    assert!(r.stdout.contains("Workflow:"), "{}", r.stdout);
    assert_eq!(r.stdout, env.run(&["prime", "--for", "agent"]).ok().stdout);
    let r = env.run(&["--json", "prime"]).ok();
    assert_eq!(r.json()["needs_review_total"], 1);
    assert_eq!(r.json()["needs_review"][0]["id"], review.as_str());
    let r = env.run(&["prime", "--for", "boss"]).fails(1);
    assert!(
        r.stderr.contains("--for must be agent or human"),
        "{}",
        r.stderr
    );
}

/// On a terminal (here a pseudo-terminal from util-linux `script`), a
/// human gets the supervisor's view without asking for it.
#[test]
fn a_human_at_a_terminal_gets_the_human_view_by_default() {
    let env = Env::new();
    env.add("Port the parser", &[]);
    let cmd = format!("{} prime", crate::common::bin());
    let r = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env.path())
        .env("HTRAC_CACHE_DIR", env.path().join(".cache"))
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script runs");
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{text}");
    assert!(text.contains("What the agents are doing"), "{text}");
    assert!(!text.contains("Workflow:"), "{text}");
}
