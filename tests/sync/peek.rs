//! Lamport clocks through the peek cache: other branches' copies of an item
//! are remembered by commit, so a write whose refs have not moved starts no
//! git process; any ref that moves (a commit on another branch, on HEAD, a
//! new branch) is seen at the next write, and a higher clock there wins.
//! Counted with a `git` on PATH that logs each run before running the real
//! one.

use std::path::{Path, PathBuf};

use crate::common::{self, Env};

/// A `git` wrapper logging its arguments to `log` before running git.
fn wrapper(dir: &Path) -> (PathBuf, PathBuf) {
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    assert!(!real.is_empty(), "git on PATH");
    let bin = dir.join("wrap-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("git.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{real}' \"$@\"\n",
        log.display()
    );
    let git = bin.join("git");
    std::fs::write(&git, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

struct Counted<'a> {
    env: &'a Env,
    path: String,
    log: PathBuf,
}

impl<'a> Counted<'a> {
    /// htrac in `env` with the logging `git` first on its PATH.
    fn new(env: &'a Env) -> Counted<'a> {
        let (bin, log) = wrapper(env.cache.path());
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        Counted { env, path, log }
    }

    /// Runs htrac (in `dir`) and returns how many `git cat-file` it started.
    fn run_in(&self, dir: &Path, args: &[&str]) -> usize {
        let before = self.cat_files();
        let out = self
            .env
            .command(args)
            .current_dir(dir)
            .env("PATH", &self.path)
            .output()
            .unwrap();
        common::succeeded(&out);
        self.cat_files() - before
    }

    fn run(&self, args: &[&str]) -> usize {
        self.run_in(self.env.path(), args)
    }

    /// Every git run logged so far.
    fn all(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .count()
    }

    fn cat_files(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("cat-file"))
            .count()
    }
}

fn last_clock(env: &Env, id: &str) -> i64 {
    last_clock_at(&env.workspace_ops(id))
}

/// The clock of the last op in the op file `path`.
fn last_clock_at(path: &Path) -> i64 {
    let text = std::fs::read_to_string(path).unwrap();
    let last = text.rsplit("- op: ").next().unwrap();
    htrac::tracker::clock::max_clock(last.as_bytes())
}

/// `text` appended to `id`'s file on branch `branch` and committed there,
/// in a linked worktree: the main working tree and HEAD do not move.
fn commit_on(env: &Env, branch: &str, id: &str, text: &str) {
    let wt = env.path().join(format!("wt-{branch}"));
    if !wt.exists() {
        common::git(
            env.path(),
            &["worktree", "add", "-q", wt.to_str().unwrap(), branch],
        );
    }
    let file = wt.join(format!(".agent/tracker-workspace/.ops/.{id}.ops"));
    let mut body = std::fs::read_to_string(&file).unwrap();
    body.push_str(text);
    std::fs::write(&file, body).unwrap();
    common::git(&wt, &["commit", "-q", "-am", "moves on"]);
}

fn op(clock: i64, nonce: &str) -> String {
    format!(
        "- op: update  # {nonce}\n  at: '2030-01-01T00:00:00Z'  # {nonce}\n  by: human  # {nonce}\n  actor: someone  # {nonce}\n  clock: {clock}  # {nonce}\n  nonce: {nonce}  # {nonce}\n  set:  # {nonce}\n    priority: 4  # {nonce}\n"
    )
}

#[test]
fn clocks_follow_moved_refs_and_unmoved_refs_start_no_git() {
    let env = Env::new();
    let id = env.add("clocked", &[]);
    common::git(env.path(), &["add", "-A"]);
    common::git(env.path(), &["commit", "-q", "-m", "item"]);
    common::git(env.path(), &["branch", "main"]);
    let c = Counted::new(&env);

    // First write: git reads the copies (dev and main: one commit).
    assert_eq!(c.run(&["update", &id, "--priority", "1"]), 1);
    assert_eq!(last_clock(&env, &id), 2);
    // Refs unmoved: no git process, the same answer.
    assert_eq!(c.run(&["update", &id, "--priority", "2"]), 0);
    assert_eq!(c.run(&["discuss", &id, "a note"]), 0);
    assert_eq!(last_clock(&env, &id), 4);

    // main moves on with a far higher clock: seen at once.
    commit_on(&env, "main", &id, &op(50, "aa01"));
    assert_eq!(c.run(&["update", &id, "--priority", "3"]), 1);
    assert_eq!(last_clock(&env, &id), 51);
    assert_eq!(c.run(&["update", &id, "--priority", "1"]), 0);
    assert_eq!(last_clock(&env, &id), 52);

    // Packing the refs moves no commit: still answered from the cache.
    common::git(env.path(), &["pack-refs", "--all"]);
    assert_eq!(c.run(&["update", &id, "--priority", "2"]), 0);
    assert_eq!(last_clock(&env, &id), 53);
    // ...and a packed ref that then moves is seen.
    commit_on(&env, "main", &id, &op(90, "aa02"));
    assert_eq!(c.run(&["update", &id, "--priority", "3"]), 1);
    assert_eq!(last_clock(&env, &id), 91);

    // A new local branch with a higher clock counts as soon as it exists.
    common::git(env.path(), &["branch", "side", "main"]);
    commit_on(&env, "side", &id, &op(200, "aa03"));
    assert_eq!(c.run(&["update", &id, "--priority", "0"]), 1);
    assert_eq!(last_clock(&env, &id), 201);

    // HEAD itself moves (a commit on dev): seen, and the clock goes on.
    common::git(env.path(), &["commit", "-q", "-am", "dev moves on"]);
    assert_eq!(c.run(&["update", &id, "--priority", "1"]), 1);
    assert_eq!(last_clock(&env, &id), 202);

    // A new item: its file is on no branch, known from the trees kept.
    let before = c.cat_files();
    let out = env
        .command(&["add", "--kind", "work_item", "--title", "new"])
        .env("PATH", &c.path)
        .output()
        .unwrap();
    let new = common::succeeded(&out).trim().to_string();
    assert_eq!(c.cat_files(), before, "no git for a new item");
    assert_eq!(last_clock(&env, &new), 1);

    // Without the cache (HTRAC_NO_CACHE) git is asked every time, with the
    // same clocks.
    let out = env
        .command(&["update", &id, "--priority", "2"])
        .env("PATH", &c.path)
        .env("HTRAC_NO_CACHE", "1")
        .output()
        .unwrap();
    common::succeeded(&out);
    assert_eq!(c.cat_files(), before + 1);
    assert_eq!(last_clock(&env, &id), 203);
}

#[test]
fn a_branch_moved_back_to_a_commit_seen_before_is_answered_from_it() {
    // The cache is keyed by commit, not by branch: a ref moved back to a
    // commit seen before is answered from that commit's copies.
    let env = Env::new();
    let id = env.add("clocked", &[]);
    common::git(env.path(), &["add", "-A"]);
    common::git(env.path(), &["commit", "-q", "-m", "item"]);
    common::git(env.path(), &["branch", "main"]);
    let old_main = common::git(env.path(), &["rev-parse", "main"]);
    commit_on(&env, "main", &id, &op(40, "bb01"));
    env.run(&["update", &id, "--priority", "1"]).ok();
    assert_eq!(last_clock(&env, &id), 41);
    common::git(
        &env.path().join("wt-main"),
        &["reset", "-q", "--hard", old_main.trim()],
    );
    env.run(&["update", &id, "--priority", "2"]).ok();
    assert_eq!(last_clock(&env, &id), 42, "the local ops still count");
    commit_on(&env, "main", &id, &op(70, "bb02"));
    env.run(&["update", &id, "--priority", "3"]).ok();
    assert_eq!(last_clock(&env, &id), 71);
}

#[test]
fn in_a_linked_worktree_the_other_worktrees_branches_count_too() {
    let env = Env::new();
    let id = env.add("clocked", &[]);
    common::git(env.path(), &["add", "-A"]);
    common::git(env.path(), &["commit", "-q", "-m", "item"]);
    common::git(env.path(), &["branch", "main"]);
    commit_on(&env, "main", &id, &op(10, "cc01"));
    let wt = env.path().join("wt-main");
    let file = wt.join(format!(".agent/tracker-workspace/.ops/.{id}.ops"));
    let c = Counted::new(&env);
    assert_eq!(c.run_in(&wt, &["update", &id, "--priority", "1"]), 1);
    assert_eq!(last_clock_at(&file), 11);
    assert_eq!(c.run_in(&wt, &["update", &id, "--priority", "2"]), 0);
    assert_eq!(last_clock_at(&file), 12);
    // dev (a lamport branch, checked out in the main work tree) moves on.
    let mut body = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    body.push_str(&op(30, "cc02"));
    std::fs::write(env.workspace_ops(&id), body).unwrap();
    common::git(env.path(), &["commit", "-q", "-am", "dev moves on"]);
    assert_eq!(c.run_in(&wt, &["update", &id, "--priority", "3"]), 1);
    assert_eq!(last_clock_at(&file), 31);
    assert_eq!(c.run_in(&wt, &["update", &id, "--priority", "4"]), 0);
    assert_eq!(last_clock_at(&file), 32);
}

/// Auto-sync in a repository without a remote asks git one question (`git
/// remote`) and counts nothing, however many lines are pending; with a
/// remote named in `.git/config` it needs no process to know that.
#[test]
fn auto_sync_without_a_remote_counts_nothing_and_a_configured_remote_needs_no_process() {
    let env = Env::new();
    let (bin, log) = wrapper(env.path());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let id = env.add("pending forever", &[]);
    let write = |p: &str| {
        let before = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count();
        let out = env
            .command(&["update", &id, "--priority", p])
            .env("PATH", &path)
            .env("TRACKER_AUTO_SYNC_THRESHOLD", "1")
            .output()
            .unwrap();
        common::succeeded(&out);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines()
            .skip(before)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let ran = write("1");
    assert!(ran.iter().any(|l| l.ends_with(" remote")), "{ran:?}");
    for counting in ["diff", "ls-files", "symbolic-ref", "rev-parse"] {
        assert!(
            !ran.iter().any(|l| l.contains(counting)),
            "{counting}: {ran:?}"
        );
    }
    // A remote in the repository's config: known without asking git.
    let remote = tempfile::tempdir().unwrap();
    common::git(remote.path(), &["init", "-q", "--bare"]);
    common::git(
        env.path(),
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    let ran = write("2");
    assert!(!ran.iter().any(|l| l.ends_with(" remote")), "{ran:?}");
    assert!(
        ran.iter().any(|l| l.contains("diff")),
        "pending lines are counted: {ran:?}"
    );
}

#[test]
fn a_held_claim_is_checked_against_the_remote_only_when_there_is_one() {
    let env = Env::new();
    let id = env.add("held", &[]);
    common::git(env.path(), &["add", "-A"]);
    common::git(env.path(), &["commit", "-q", "-m", "item"]);
    let c = Counted::new(&env);
    c.run(&["--no-auto-sync", "claim", &id]);
    // prime asks whether a held claim was lost on the remote: with no
    // remote-tracking branch there is nothing to ask, and no git runs at
    // all (not even to find the base branch).
    let before = c.all();
    assert_eq!(c.run(&["--no-auto-sync", "prime"]), 0);
    assert_eq!(c.all(), before, "git ran for prime");
    // Once the remote's branch is fetched, the remote's copy is read.
    let remote = tempfile::tempdir().unwrap();
    common::git(remote.path(), &["init", "-q", "--bare"]);
    common::git(
        env.path(),
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    common::git(env.path(), &["push", "-q", "origin", "HEAD:dev"]);
    common::git(env.path(), &["fetch", "-q", "origin"]);
    assert!(c.run(&["--no-auto-sync", "prime"]) >= 1);
}
