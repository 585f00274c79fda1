//! Locks on other branches, read through the peek cache (other branches'
//! copies of an item remembered by commit, so that a write whose refs have
//! not moved starts no git process): once the agent's writes have been
//! answered from the cache, a lock a human then commits on another branch
//! still binds it — the moved ref names a commit the cache has not seen.
//! Needs root (CI runs as root) for the agent OS user.

use crate::common;
use crate::common::agent::{agent_user, as_agent, open_up};

#[test]
fn a_lock_set_on_another_branch_after_the_copies_were_remembered_binds() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("locked on main later", &[]);
    let git = |args: &[&str]| common::git(env.path(), args);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "item"]);
    git(&["branch", "main"]);
    open_up(env.path());
    // dev and main name the same commit: the copies are remembered, then
    // used (the agent's cache is its own: .agent-cache).
    as_agent(&env, &["update", &id, "--priority", "1"]).ok();
    as_agent(&env, &["update", &id, "--status", "in_progress"]).ok();
    let peek = env.path().join(".agent-cache/peek");
    let kept = std::fs::read_dir(&peek).map(|d| d.count()).unwrap_or(0);
    assert!(kept > 0, "the agent's peek cache holds the copies");

    // The human locks the status on main (dev's working tree keeps no lock).
    git(&["stash", "-q"]);
    git(&["checkout", "-q", "main"]);
    env.run(&["lock", &id, "status"]).ok();
    git(&["commit", "-q", "-am", "lock on main"]);
    git(&["checkout", "-q", "dev"]);
    git(&["stash", "pop", "-q"]);
    open_up(env.path());
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert!(!text.contains("op: lock"), "{text}");

    let before = env.tree();
    let r = as_agent(&env, &["update", &id, "--status", "done"]).fails(1);
    assert!(r.stderr.contains("Field 'status'"), "{}", r.stderr);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    assert_eq!(env.tree(), before);
    // Asked again (now from the cache): still locked; other fields are free.
    as_agent(&env, &["update", &id, "--status", "done"]).fails(1);
    as_agent(&env, &["update", &id, "--priority", "2"]).ok();

    // Unlocked on main (the ref moves again): the lock no longer binds.
    git(&["stash", "-q"]);
    git(&["checkout", "-q", "main"]);
    env.run(&["unlock", &id, "status"]).ok();
    git(&["commit", "-q", "-am", "unlock on main"]);
    git(&["checkout", "-q", "dev"]);
    git(&["stash", "pop", "-q"]);
    open_up(env.path());
    as_agent(&env, &["update", &id, "--status", "done"]).ok();
}

#[test]
fn a_damaged_or_foreign_peek_cache_is_never_believed() {
    if agent_user().is_none() {
        return;
    }
    let env = common::Env::new();
    let id = env.add("locked on main", &[]);
    let git = |args: &[&str]| common::git(env.path(), args);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "item"]);
    git(&["checkout", "-q", "-b", "main"]);
    env.run(&["lock", &id, "status"]).ok();
    git(&["commit", "-q", "-am", "lock"]);
    git(&["checkout", "-q", "dev"]);
    open_up(env.path());
    as_agent(&env, &["update", &id, "--status", "done"]).fails(1);
    let peek = env.path().join(".agent-cache/peek");
    let files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&peek)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    assert!(!files().is_empty());
    // Garbled kept files (a tree's checksum, a blob's hash no longer
    // match): asked of git again, and the lock on main still binds.
    for f in files() {
        let mut bytes = std::fs::read(&f).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0x55;
        std::fs::write(&f, &bytes).unwrap();
    }
    as_agent(&env, &["update", &id, "--status", "done"]).fails(1);

    // A well-formed tree file saying main has no tier directory at all, as
    // the agent's cache would hold it — but written by another user (root):
    // not read, so the lock still binds.
    let main = git(&["rev-parse", "main"]).trim().to_string();
    let dir = ".agent/tracker-workspace/.ops";
    let mut body = b"HTRACPT\x01".to_vec();
    body.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    body.extend_from_slice(dir.as_bytes());
    body.push(0);
    let sum = htrac::cache::checksum(0, &body);
    body.extend_from_slice(&sum.to_le_bytes());
    let forged = peek.join(format!(
        "t-{main}-{:016x}",
        htrac::cache::checksum(0, dir.as_bytes())
    ));
    assert!(
        forged.exists(),
        "the agent kept main's tree under this name"
    );
    std::fs::remove_file(&forged).unwrap();
    std::fs::write(&forged, &body).unwrap();
    let before = env.tree();
    let r = as_agent(&env, &["update", &id, "--status", "done"]).fails(1);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    assert_eq!(env.tree(), before);
}
