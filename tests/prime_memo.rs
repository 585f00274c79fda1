//! `htrac prime` keeps its briefing under the exact listing of the op files
//! (and the configuration and actor) it came from: a second `prime` with
//! nothing changed uses it, and after any change — an append, an in-place
//! rewrite that restores the mtime, a freeze sentinel, a configuration
//! edit, a new item in another tier, a damaged memo — the briefing is the
//! one a read without any cache gives.

mod common;

use common::Env;

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
