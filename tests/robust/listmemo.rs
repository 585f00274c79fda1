//! `list`'s kept output (the memo of its text: stdout, stderr and the
//! `:N` stash) is never stale. Each case first proves the memo is in use —
//! the kept output is altered on disk (its checksum made right again) and
//! an unchanged tracker prints the altered text — then makes one change
//! and checks that the next `list` prints exactly what a read without any
//! cache prints: appends by htrac and by plain shell (with the resident
//! watcher running, too), a same-size rewrite with its mtime put back, new,
//! deleted and renamed files, a freeze sentinel, the configuration, a claim
//! taken in another worktree (only the host's claim board shows it) and
//! its lease running out, and other arguments. `:N` stays the last
//! listing's row N when the output comes from the memo.

use std::path::Path;

use crate::common::{self, git, Env, Run};

/// A text `list` with `args` in `dir`, every change trusted at once (no
/// racy window), as session `s2`.
fn list_in(env: &Env, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--no-auto-sync", "list"];
    all.extend_from_slice(args);
    let out = env
        .command(&all)
        .current_dir(dir)
        .env("HTRAC_CACHE_RACY_MS", "0")
        .env("HTRAC_SESSION", "s2")
        .output()
        .unwrap();
    Run::from(out).ok()
}

fn list(env: &Env, args: &[&str]) -> Run {
    list_in(env, env.path(), args)
}

/// The same with no cache at all: the truth.
fn cold_in(env: &Env, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--no-auto-sync", "list"];
    all.extend_from_slice(args);
    let out = env
        .command(&all)
        .current_dir(dir)
        .env("HTRAC_NO_CACHE", "1")
        .env("HTRAC_SESSION", "s2")
        .output()
        .unwrap();
    Run::from(out).ok()
}

fn cold(env: &Env, args: &[&str]) -> Run {
    cold_in(env, env.path(), args)
}

/// Rewrites every kept `list` output so that `from` reads `to` (the same
/// length), its checksum made right again: a `list` that prints `to` took
/// its output from the memo. Returns how many files were altered.
fn alter_kept(env: &Env, from: &str, to: &str) -> usize {
    assert_eq!(from.len(), to.len());
    let mut altered = 0;
    for path in env.cache_files("memo-list") {
        let mut bytes = std::fs::read(&path).unwrap();
        // The file: an 8-byte magic, the body, the body's seal.
        let end = bytes.len() - 8;
        let body = &mut bytes[8..end];
        let mut hit = false;
        let mut at = 0;
        while let Some(i) = body[at..]
            .windows(from.len())
            .position(|w| w == from.as_bytes())
        {
            body[at + i..at + i + from.len()].copy_from_slice(to.as_bytes());
            at += i + from.len();
            hit = true;
        }
        if hit {
            let sum = htrac::cache::memo::seal(&bytes[8..end]);
            bytes[end..].copy_from_slice(&sum.to_le_bytes());
            std::fs::write(&path, &bytes).unwrap();
            altered += 1;
        }
    }
    altered
}

/// Lists with `args` until the output is kept, then proves the next list
/// of the unchanged tracker comes from the memo (its titles altered to
/// upper case). Returns the true output.
#[track_caller]
fn kept_in(env: &Env, dir: &Path, args: &[&str]) -> String {
    let truth = cold_in(env, dir, args).stdout;
    assert_eq!(list_in(env, dir, args).stdout, truth, "{args:?}");
    assert_eq!(list_in(env, dir, args).stdout, truth, "{args:?} again");
    assert!(alter_kept(env, "title ", "TITLE ") > 0, "nothing kept");
    let from_memo = list_in(env, dir, args).stdout;
    assert_eq!(
        from_memo,
        truth.replace("title ", "TITLE "),
        "{args:?}: an unchanged tracker's list did not come from the memo"
    );
    truth
}

#[track_caller]
fn kept(env: &Env, args: &[&str]) -> String {
    kept_in(env, env.path(), args)
}

/// After a change: the next list is exactly the truth (never the altered
/// kept output), and it changed as expected (`changed`).
#[track_caller]
fn seen_in(env: &Env, dir: &Path, args: &[&str], what: &str, before: &str, changed: bool) {
    let after = list_in(env, dir, args);
    let truth = cold_in(env, dir, args);
    assert!(!after.stdout.contains("TITLE "), "{what}: the stale output");
    assert_eq!(
        after.stdout, truth.stdout,
        "{what}: != a read without cache"
    );
    assert_eq!(after.stderr, truth.stderr, "{what}: stderr");
    assert_eq!(after.stdout != before, changed, "{what}: {}", after.stdout);
}

#[track_caller]
fn seen(env: &Env, args: &[&str], what: &str, before: &str, changed: bool) {
    seen_in(env, env.path(), args, what, before, changed)
}

fn setup(n: usize) -> (Env, Vec<String>) {
    let env = Env::new();
    let ids = (0..n)
        .map(|i| {
            env.add(
                &format!("title {i}"),
                &["--no-auto-sync", "--priority", &(i % 3).to_string()],
            )
        })
        .collect();
    (env, ids)
}

/// An op setting `title`, appended to the op file at `path` by plain
/// shell (another process, not htrac).
fn shell_append(env: &Env, path: &Path, title: &str) {
    common::next_timestamp_tick(env.path());
    static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(2000);
    let clock = CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let op = common::op_text(
        "update",
        "2026-01-01T00:00:00Z",
        "agent",
        "dev_agent",
        clock as i64,
        &format!("{clock:04x}"),
        &["set:", &format!("  title: \"{title}\"")],
    );
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' \"$1\" >> '{}'", path.display()))
        .arg("sh")
        .arg(op)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn every_change_to_the_items_is_seen() {
    let (env, ids) = setup(5);
    let args: &[&str] = &[];

    let before = kept(&env, args);
    common::next_timestamp_tick(env.path());
    env.run(&["--no-auto-sync", "update", &ids[0], "--status", "done"])
        .ok();
    seen(&env, args, "an append by htrac", &before, true);

    let before = kept(&env, args);
    shell_append(&env, &env.workspace_ops(&ids[1]), "title appended");
    seen(&env, args, "an append by shell", &before, true);

    let before = kept(&env, args);
    common::next_timestamp_tick(env.path());
    common::rewrite_keeping_mtime(&env.workspace_ops(&ids[2]), "title 2", "title Z");
    seen(
        &env,
        args,
        "a same-size rewrite, mtime put back",
        &before,
        true,
    );

    let before = kept(&env, args);
    env.add("title new", &["--no-auto-sync"]);
    seen(&env, args, "a new item", &before, true);

    let before = kept(&env, args);
    std::fs::rename(env.workspace_ops(&ids[3]), env.workspace_ops("WI-renamed")).unwrap();
    seen(&env, args, "a renamed file", &before, true);

    let before = kept(&env, args);
    std::fs::remove_file(env.workspace_ops("WI-renamed")).unwrap();
    seen(&env, args, "a deleted file", &before, true);

    // A freeze sentinel alone (the op file untouched) is a change too.
    let before = kept(&env, args);
    std::fs::write(
        env.root()
            .join(format!("tracker-workspace/.ops/.{}.frozen", ids[4])),
        "",
    )
    .unwrap();
    seen(&env, args, "a freeze sentinel", &before, false);

    // The configuration: another blocking status changes nothing a list
    // shows, and still the output is made again.
    let before = kept(&env, args);
    let config = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let changed = text.replace(
        "blocking_statuses: [todo_hard, todo_soft]",
        "blocking_statuses: [todo_soft]",
    );
    assert_ne!(changed, text);
    std::fs::write(&config, changed).unwrap();
    seen(&env, args, "the configuration", &before, false);

    // A damaged memo is a miss, never an error or a wrong list.
    let before = kept(&env, args);
    for f in env.cache_files("memo-list") {
        let mut bytes = std::fs::read(&f).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&f, bytes).unwrap();
    }
    seen(&env, args, "a damaged memo", &before, false);
}

#[test]
fn each_listing_keeps_its_own_and_the_stash_is_the_last_listings() {
    let (env, ids) = setup(6);
    env.run(&["--no-auto-sync", "update", &ids[1], "--status", "todo_soft"])
        .ok();
    let listings: [&[&str]; 4] = [
        &[],
        &["--status", "todo_soft"],
        &["--limit", "2"],
        &["--tier", "workspace"],
    ];
    for args in listings {
        kept(&env, args);
    }
    // Taking turns, each prints its own (from its memo or not) and leaves
    // its own rows for `:N`, even after `ready` stashed others.
    for round in 0..2 {
        for args in listings {
            // The rows as listed (all of them, whatever --limit shows).
            let all: Vec<&str> = args
                .iter()
                .copied()
                .take_while(|a| *a != "--limit")
                .collect();
            let rows: Vec<String> = cold(&env, &all)
                .stdout
                .lines()
                .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
                .collect();
            let truth = cold(&env, args);
            env.run(&["--no-auto-sync", "ready"]).ok();
            let got = list(&env, args);
            assert_eq!(
                got.stdout.replace("TITLE ", "title "),
                truth.stdout,
                "{round} {args:?}"
            );
            let stash = std::fs::read_to_string(&env.cache_files("last_list")[0]).unwrap();
            let stash: Vec<&str> = stash.lines().collect();
            assert_eq!(stash, rows, "{round} {args:?}: the stash");
            let first = env.run(&["--no-auto-sync", "show", ":1"]).ok().stdout;
            assert!(first.contains(&rows[0]), "{args:?}: :1 is {first}");
        }
    }
}

#[test]
fn an_append_by_another_process_is_seen_while_the_watcher_runs() {
    let (env, ids) = setup(4);
    let started = env.run(&["--no-auto-sync", "watch"]).ok();
    assert!(
        started.stdout.contains("watcher started"),
        "{}",
        started.stdout
    );
    struct Stop<'a>(&'a Env);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["watch", "stop"]);
        }
    }
    let _stop = Stop(&env);
    for (n, args) in [&[][..], &["--status", "todo_hard"]].iter().enumerate() {
        let before = kept(&env, args);
        shell_append(
            &env,
            &env.workspace_ops(&ids[n]),
            &format!("title by shell {n}"),
        );
        seen(&env, args, "an append by shell, watched", &before, true);
        let before = kept(&env, args);
        std::fs::remove_file(env.workspace_ops(&ids[2 + n])).unwrap();
        seen(&env, args, "a deletion by shell, watched", &before, true);
    }
    let status = env.run(&["--json", "watch", "status"]).ok().json();
    assert_eq!(status["running"], true, "{status}");
}

/// Only the host's claim board tells another worktree that an item is
/// claimed; its rows show the claim, then, once the lease ran out, not.
#[test]
fn a_claim_in_another_worktree_and_its_lease_running_out_are_seen() {
    let (env, ids) = setup(2);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "items"]);
    let other = env.path().join("wt");
    git(
        env.path(),
        &["worktree", "add", "-q", other.to_str().unwrap()],
    );
    let args: &[&str] = &[];
    let before = kept_in(&env, &other, args);
    let claimed = env
        .command(&[
            "--json",
            "--no-auto-sync",
            "claim",
            &ids[0],
            "--lease",
            "5s",
        ])
        .env("HTRAC_SESSION", "s1")
        .output()
        .unwrap();
    let claimed = Run::from(claimed).ok().json();
    seen_in(&env, &other, args, "a claim on the board", &before, true);
    let held = list_in(&env, &other, args).stdout;
    assert!(held.contains("claimed by s1 until"), "{held}");

    // Kept while the lease runs; the first list after it ends is made
    // again (nothing on disk changed meanwhile).
    let before = kept_in(&env, &other, args);
    let until = htrac::timestamp::parse_utc(claimed["claim"]["until"].as_str().unwrap())
        .expect("a lease end");
    while htrac::claims::now() <= until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    seen_in(&env, &other, args, "the lease ran out", &before, true);
    assert!(!list_in(&env, &other, args).stdout.contains("claimed by"));
}

/// Files changed within the racy window are never kept; with
/// `HTRAC_CACHE_STATS` every list reads (and reports) its items.
#[test]
fn a_racy_listing_is_never_kept_and_cache_stats_still_count_items() {
    let (env, _) = setup(2);
    for _ in 0..2 {
        let r = env
            .command(&["--no-auto-sync", "list"])
            .env("HTRAC_CACHE_RACY_MS", "3600000")
            .output()
            .unwrap();
        assert!(r.status.success());
    }
    assert!(
        env.cache_files("memo-list").is_empty(),
        "a racy listing was kept"
    );
    kept(&env, &[]);
    let r = env
        .command(&["--no-auto-sync", "list"])
        .env("HTRAC_CACHE_RACY_MS", "0")
        .env("HTRAC_CACHE_STATS", "1")
        .output()
        .unwrap();
    let r = Run::from(r).ok();
    assert!(r.stderr.contains("cache: 2 of 2 items"), "{}", r.stderr);
    assert!(!r.stdout.contains("TITLE "), "{}", r.stdout);
}
