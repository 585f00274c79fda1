//! htrac in linked `git worktree`s of one repository: each worktree finds
//! its own tracker from any subdirectory, reads its own op files, writes
//! journalled ops that `reconcile` restores there, gives clocks above the
//! committed ops of every worktree's branch, and two worktrees writing at
//! once merge back without a conflict.

use std::path::{Path, PathBuf};

use crate::common::{git, Env};

/// A committed tracker with `n` items and one linked worktree (on its own
/// branch `wt`); returns the worktree's path and the items.
fn repo_and_worktree(env: &Env, n: usize) -> (PathBuf, Vec<String>) {
    let ids = (0..n).map(|i| env.add(&format!("item {i}"), &[])).collect();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "tracker"]);
    let wt = env.path().join("wt");
    git(
        env.path(),
        &["worktree", "add", "-q", "-b", "wt", wt.to_str().unwrap()],
    );
    (wt, ids)
}

/// `htrac ARGS` run in `dir`, with `env`'s caches.
fn run_in(env: &Env, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = env.command(args);
    c.current_dir(dir);
    c.output().expect("htrac runs")
}

fn stdout(out: &std::process::Output) -> String {
    crate::common::succeeded(out)
}

#[test]
fn a_linked_worktree_finds_its_own_tracker_and_reads_its_own_files() {
    let env = Env::new();
    let (wt, ids) = repo_and_worktree(&env, 2);
    let sub = wt.join("deep/down");
    std::fs::create_dir_all(&sub).unwrap();
    // From a subdirectory of the worktree: the worktree's tracker.
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&run_in(&env, &sub, &["--json", "list"]))).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    // A write in the worktree lands in the worktree's files only.
    let new = stdout(&run_in(
        &env,
        &wt,
        &["add", "--kind", "work_item", "--title", "only in wt"],
    ));
    assert!(stdout(&run_in(&env, &wt, &["list"])).contains("only in wt"));
    assert!(!stdout(&run_in(&env, env.path(), &["list"])).contains("only in wt"));
    assert!(wt
        .join(".agent/tracker-workspace/.ops")
        .join(format!(".{}.ops", new.trim()))
        .exists());
    // Both read their own cache: an update in the main tree shows there
    // at once and never in the worktree.
    stdout(&run_in(
        &env,
        env.path(),
        &["update", &ids[0], "--title", "renamed in main"],
    ));
    assert!(stdout(&run_in(&env, env.path(), &["list"])).contains("renamed in main"));
    assert!(!stdout(&run_in(&env, &wt, &["list"])).contains("renamed in main"));
}

#[test]
fn reconcile_in_a_worktree_restores_ops_git_dropped_there() {
    let env = Env::new();
    let (wt, ids) = repo_and_worktree(&env, 1);
    stdout(&run_in(
        &env,
        &wt,
        &["update", &ids[0], "--note", "written in the worktree"],
    ));
    git(&wt, &["checkout", "--", "."]);
    assert!(!stdout(&run_in(&env, &wt, &["show", &ids[0]])).contains("written in the worktree"));
    let r = stdout(&run_in(&env, &wt, &["reconcile"]));
    assert!(r.contains("restored 1 op(s)"), "{r}");
    assert!(stdout(&run_in(&env, &wt, &["show", &ids[0]])).contains("written in the worktree"));
    // The main tree's journal was not touched by it.
    assert_eq!(
        stdout(&run_in(&env, env.path(), &["reconcile"])),
        "nothing to restore\n"
    );
}

/// The highest `clock:` in an item's op file in `tree`.
fn top_clock(tree: &Path, id: &str) -> i64 {
    let text = std::fs::read_to_string(
        tree.join(".agent/tracker-workspace/.ops")
            .join(format!(".{id}.ops")),
    )
    .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("  clock: "))
        .filter_map(|c| c.split_whitespace().next()?.parse().ok())
        .max()
        .unwrap()
}

#[test]
fn clocks_count_the_committed_ops_of_every_worktrees_branch() {
    let env = Env::new();
    let (wt, ids) = repo_and_worktree(&env, 1);
    for n in 0..3 {
        stdout(&run_in(
            &env,
            &wt,
            &["update", &ids[0], "--priority", &n.to_string()],
        ));
    }
    git(&wt, &["commit", "-q", "-am", "work in the worktree"]);
    let theirs = top_clock(&wt, &ids[0]);
    stdout(&run_in(
        &env,
        env.path(),
        &["update", &ids[0], "--priority", "4"],
    ));
    assert_eq!(top_clock(env.path(), &ids[0]), theirs + 1);
}

#[test]
fn two_worktrees_writing_at_once_merge_without_a_conflict() {
    let env = Env::new();
    let (wt, ids) = repo_and_worktree(&env, 3);
    let writers: Vec<_> = [env.path().to_path_buf(), wt.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, dir)| {
            let (ids, cmd) = (ids.clone(), env.command(&[]));
            let bin = cmd.get_program().to_owned();
            let envs: Vec<_> = cmd
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
                .collect();
            std::thread::spawn(move || {
                for i in 0..6 {
                    let mut c = std::process::Command::new(&bin);
                    for (k, v) in &envs {
                        match v {
                            Some(v) => c.env(k, v),
                            None => c.env_remove(k),
                        };
                    }
                    let id = &ids[i % ids.len()];
                    let note = format!("writer {w} note {i}");
                    let out = c
                        .args(["update", id, "--note", &note])
                        .current_dir(&dir)
                        .output()
                        .unwrap();
                    crate::common::succeeded(&out);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    git(env.path(), &["commit", "-q", "-am", "main's notes"]);
    git(&wt, &["commit", "-q", "-am", "worktree's notes"]);
    git(env.path(), &["merge", "-q", "--no-edit", "wt"]);
    assert!(stdout(&run_in(&env, env.path(), &["validate"])).contains("validation passed"));
    for id in &ids {
        let show = stdout(&run_in(&env, env.path(), &["--json", "show", id]));
        let v: serde_json::Value = serde_json::from_str(&show).unwrap();
        let notes = v["discussion"].as_array().unwrap().len();
        assert_eq!(notes, 4, "{id}: both writers' notes, once each");
    }
}

#[test]
fn setup_in_a_worktree_installs_the_repositorys_hooks_and_they_guard_its_commits() {
    let env = Env::new();
    let (wt, ids) = repo_and_worktree(&env, 1);
    let out = run_in(&env, &wt, &["setup"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Hooks live in the common git directory, shared by every worktree.
    let hooks = env.path().join(".git/hooks");
    for h in ["pre-commit", "post-checkout", "post-merge"] {
        assert!(
            hooks.join(h).exists(),
            "{h} not installed in {}",
            hooks.display()
        );
    }
    // A torn op log staged in the worktree is refused by its pre-commit hook.
    let file = wt
        .join(".agent/tracker-workspace/.ops")
        .join(format!(".{}.ops", ids[0]));
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("- op: update  # zz\n  at: 'garbage\n");
    std::fs::write(&file, text).unwrap();
    git(&wt, &["add", "-A"]);
    let commit = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "torn"])
        .current_dir(&wt)
        .env("HTRAC_CACHE_DIR", env.cache.path())
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the hook let a torn op log in");
    let err = String::from_utf8_lossy(&commit.stderr);
    assert!(
        err.contains(&ids[0][..8]),
        "the refusal names the file: {err}"
    );
}
