//! `validate --check-locks` among many committed files: a file that is the
//! same in the working tree, the index and `HEAD` is skipped without git's
//! copies, and every other one is still judged — a change in the working
//! tree only, in the index only, a file git does not know, a same-size
//! rewrite git's stat cache cannot see, a file marked `assume-unchanged`,
//! a tracker under a directory whose name a pathspec would read as a glob,
//! a repository without commits, and no git at all.

use std::path::{Path, PathBuf};

use crate::common::{self, git, Env};

/// An agent's lock op (only a human may lock).
fn agent_lock(nonce: &str) -> String {
    common::op_text(
        "lock",
        "2026-11-24T19:41:13Z",
        "agent",
        "amy_agent",
        9,
        nonce,
        &["lock: [title]"],
    )
}

const NEEDS_HUMAN: &str = "needs human authority";

/// The ERROR lines of a `validate` run.
fn errors(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("ERROR")).collect()
}

/// A tracker with `n` items, all committed; their files.
fn committed(env: &Env, n: usize) -> Vec<PathBuf> {
    let files: Vec<PathBuf> = (0..n)
        .map(|i| env.workspace_ops(&env.add(&format!("item number {i}"), &[])))
        .collect();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "items"]);
    files
}

/// `validate --check-locks` of the whole tracker fails with exactly one
/// error, the agent lock with `nonce` in `file`.
fn one_error(env: &Env, file: &Path, nonce: &str) {
    let r = env.run(&["validate", "--check-locks"]).fails(1);
    let errs = errors(&r.stdout);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(errs.len(), 1, "{}", r.stdout);
    assert!(errs[0].contains(&name), "{}", r.stdout);
    assert!(
        errs[0].contains(&format!("(nonce {nonce}) {NEEDS_HUMAN}")),
        "{}",
        r.stdout
    );
}

#[test]
fn many_clean_files_and_one_appended_in_the_working_tree() {
    let env = Env::new();
    let files = committed(&env, 40);
    env.run(&["validate", "--check-locks"]).ok();
    common::append_raw(&files[17], &agent_lock("a001"));
    one_error(&env, &files[17], "a001");
    // Staged, it is judged the same way; committed, it is old.
    git(env.path(), &["add", "-A"]);
    one_error(&env, &files[17], "a001");
    git(env.path(), &["commit", "-qm", "with --no-verify"]);
    let r = env.run(&["validate", "--check-locks"]).ok();
    assert!(
        r.stdout.contains("(nonce a001) has no effect"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_change_staged_then_undone_in_the_working_tree_is_judged() {
    let env = Env::new();
    let files = committed(&env, 12);
    let head = std::fs::read(&files[5]).unwrap();
    common::append_raw(&files[5], &agent_lock("b001"));
    git(env.path(), &["add", "-A"]);
    std::fs::write(&files[5], &head).unwrap();
    let r = env.run(&["validate", "--check-locks"]).fails(1);
    let errs = errors(&r.stdout);
    assert_eq!(errs.len(), 1, "{}", r.stdout);
    assert!(errs[0].contains("staged copy line"), "{}", r.stdout);
    assert!(errs[0].contains("(nonce b001)"), "{}", r.stdout);
}

#[test]
fn a_file_git_does_not_know_has_only_new_ops() {
    let env = Env::new();
    committed(&env, 12);
    let id = env.add("brand new", &[]);
    let file = env.workspace_ops(&id);
    common::append_raw(&file, &agent_lock("c001"));
    one_error(&env, &file, "c001");
}

#[test]
fn a_same_size_rewrite_that_git_stat_cache_cannot_see_is_judged() {
    let env = Env::new();
    // Git compares only sizes and mtimes here: a same-size rewrite with its
    // mtime put back looks unchanged to `git status`.
    git(env.path(), &["config", "core.trustctime", "false"]);
    git(env.path(), &["config", "core.checkStat", "minimal"]);
    let files = committed(&env, 12);
    let human_lock = agent_lock("d001").replace("by: agent", "by: human");
    common::append_raw(&files[3], &human_lock);
    git(env.path(), &["commit", "-qam", "a human's lock"]);
    env.run(&["validate", "--check-locks"]).ok();
    // The file's mtime put an hour back, then the index written again with
    // its stat data refreshed: the entry is older than the index, so not
    // racy (git would otherwise compare its contents).
    let touched = std::process::Command::new("touch")
        .args(["-m", "-d", "1 hour ago"])
        .arg(&files[3])
        .status()
        .unwrap();
    assert!(touched.success());
    git(env.path(), &["read-tree", "HEAD"]);
    git(env.path(), &["update-index", "-q", "--refresh"]);
    common::rewrite_keeping_mtime(&files[3], "by: human  # d001", "by: agent  # d001");
    assert_eq!(
        git(env.path(), &["status", "--porcelain", "--", ".agent"]),
        "",
        "git's stat cache sees no change"
    );
    // The rewritten op is not HEAD's: new, and now an agent's lock.
    one_error(&env, &files[3], "d001");
}

#[test]
fn a_file_marked_assume_unchanged_is_still_read() {
    let env = Env::new();
    let files = committed(&env, 12);
    let rel = files[8].strip_prefix(env.path()).unwrap().to_str().unwrap();
    git(env.path(), &["update-index", "--assume-unchanged", rel]);
    common::append_raw(&files[8], &agent_lock("e001"));
    one_error(&env, &files[8], "e001");
}

#[test]
fn a_tracker_under_a_directory_named_like_a_glob() {
    let env = Env::bare();
    common::git_init(env.path());
    let sub = env.path().join("we ird [a]* dïr");
    std::fs::create_dir(&sub).unwrap();
    let run = |args: &[&str]| {
        let mut c = env.command(args);
        c.current_dir(&sub);
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(run(&["init"]).0, Some(0));
    let ids: Vec<String> = (0..6)
        .map(|i| {
            let (code, out) = run(&["add", "--kind", "work_item", "--title", &format!("odd {i}")]);
            assert_eq!(code, Some(0));
            out.trim().to_string()
        })
        .collect();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "items"]);
    assert_eq!(
        run(&["validate", "--check-locks"]),
        (Some(0), "validation passed\n".into())
    );
    let file = sub
        .join(".agent/tracker-workspace/.ops")
        .join(format!(".{}.ops", ids[2]));
    common::append_raw(&file, &agent_lock("f001"));
    let (code, out) = run(&["validate", "--check-locks"]);
    assert_eq!(code, Some(1), "{out}");
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{out}");
    assert!(
        errs[0].contains(&ids[2]) && errs[0].contains(NEEDS_HUMAN),
        "{out}"
    );
}

#[test]
fn a_repository_without_commits_has_only_new_ops() {
    let env = Env::bare();
    git(env.path(), &["init", "-q", "-b", "dev"]);
    env.run(&["init"]).ok();
    let id = env.add("first", &[]);
    let file = env.workspace_ops(&id);
    git(env.path(), &["add", "-A"]);
    common::append_raw(&file, &agent_lock("g001"));
    one_error(&env, &file, "g001");
}

#[test]
fn without_git_every_op_is_judged_as_new_with_a_warning() {
    let env = Env::new();
    let files = committed(&env, 4);
    common::append_raw(&files[1], &agent_lock("h001"));
    git(env.path(), &["commit", "-qam", "an old violation"]);
    let mut c = env.command(&["validate", "--check-locks"]);
    c.env("PATH", "/nonexistent");
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("cannot read git's copies")
            && stdout.contains("every op was judged as new"),
        "{stdout}"
    );
    let errs = errors(&stdout);
    assert_eq!(errs.len(), 1, "{stdout}");
    assert!(errs[0].contains("(nonce h001)"), "{stdout}");
}
