//! `htrac validate` run again on a tracker it has judged before: what each
//! file's own checks found is kept (the validation memo), so only the files
//! changed since are read — and the report is always the one a run without
//! the memo gives: every file changed behind htrac's back, every reference
//! to an item gone, other rules, and ops new since `HEAD` are judged anew.

use std::os::unix::fs::PermissionsExt;

use crate::common::{git, Env};
use crate::validate::{
    append, has, locked_item, op, tracker_with_every_problem, validate_with, WS,
};

/// `validate ARGS` with the memo (files changed in the last moment kept
/// too: `HTRAC_CACHE_RACY_MS=0`): exit code, stdout, and how many of how
/// many files came from the memo.
fn warm(env: &Env, args: &[&str]) -> (i32, String, (usize, usize)) {
    let out = env
        .command(args)
        .env("HTRAC_CACHE_RACY_MS", "0")
        .env("HTRAC_CACHE_STATS", "1")
        .output()
        .expect("htrac runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let told = err
        .lines()
        .find_map(|l| l.strip_suffix(" files from the memo"))
        .and_then(|l| l.rsplit_once("validate: "))
        .and_then(|(_, n)| n.split_once(" of "))
        .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()))
        .unwrap_or_else(|| panic!("no memo note: {err}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        told,
    )
}

/// `validate ARGS` with no cache at all: what every run must report.
fn fresh(env: &Env, args: &[&str]) -> (i32, String) {
    let mut c = env.command(args);
    c.env("HTRAC_NO_CACHE", "1");
    let out = c.output().expect("htrac runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `args` twice with the memo: the second run takes `recalled` files
/// from it; both report what a run without it does (returned).
fn twice(env: &Env, args: &[&str], recalled: impl Fn(usize, usize) -> bool) -> (i32, String) {
    let want = fresh(env, args);
    let (code, out, _) = warm(env, args);
    assert_eq!((code, out), want, "{args:?}: the run that fills the memo");
    let (code, out, (n, of)) = warm(env, args);
    assert!(recalled(n, of), "{args:?}: {n} of {of} files from the memo");
    assert_eq!((code, out), want, "{args:?}: the run from the memo");
    want
}

#[test]
fn a_second_run_reports_every_problem_a_fresh_one_does() {
    let env = Env::new();
    tracker_with_every_problem(&env);
    for args in [
        &["validate"][..],
        &["validate", "--check-locks"],
        &["validate", "--strict", "--check-locks"],
    ] {
        let plain = args == ["validate"];
        let (code, out) = twice(&env, args, |n, of| n > 0 && (n == of) == plain);
        assert_eq!(code, 1, "{out}");
        // Problems found in files judged from the memo, and across files.
        for wanted in [
            "isbefore cycle: WI-batch05 -> WI-batch09 -> WI-batch14 -> WI-batch05",
            "WI-batch03 is also in tier canonical",
            "parent: dangling reference 'WI-nope'",
            "duplicate_of: 'WI-batch11' is the item itself",
            "ID prefix 'INV' does not match kind 'work_item'",
            "malformed op",
        ] {
            assert!(has(&out, wanted), "{args:?}: {wanted}:\n{out}");
        }
    }
    // With --check-locks, the files with ops new since HEAD are read every
    // time: their agent ops are judged against git's copies.
    let (_, out, (n, of)) = warm(&env, &["validate", "--check-locks"]);
    assert!(has(&out, "(nonce 0300) needs human authority"), "{out}");
    assert!(n + 7 <= of, "{n} of {of}: the changed files were read");
    // `--similar` and named files never use it.
    let r = env
        .command(&["validate", "--similar"])
        .env("HTRAC_CACHE_STATS", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&r.stderr).contains("from the memo"));
    assert_eq!(
        validate_with(&env, &["validate", "--similar"], None, None),
        fresh(&env, &["validate", "--similar"])
    );
}

#[test]
fn a_file_changed_behind_htracs_back_is_read_again() {
    let env = Env::new();
    let id = env.add("stays fine", &[]);
    let other = env.add("changes", &[]);
    twice(&env, &["validate"], |n, of| n == 2 && of == 2);
    // Appended to by hand (no htrac command ran): a status no rule knows.
    append(
        &env.workspace_ops(&other),
        &op(
            "update",
            "human",
            7,
            "a001",
            &["set:", "  status: nonsense"],
        ),
    );
    let want = fresh(&env, &["validate"]);
    assert!(has(&want.1, "unknown status"), "{}", want.1);
    let (code, out, (n, _)) = warm(&env, &["validate"]);
    assert_eq!((code, out), want);
    assert_eq!(n, 1, "only {id}'s file was judged from the memo");
    // Rewritten in place with the same size and the old mtime restored:
    // the ctime still moves.
    let path = env.workspace_ops(&id);
    let before = std::fs::metadata(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let forged = text.replacen("status: todo_hard", "status: todo_hxrd", 1);
    assert_eq!(forged.len(), text.len());
    std::fs::write(&path, forged).unwrap();
    let mtime = before.modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (code, out, _) = warm(&env, &["validate"]);
    assert_eq!((code, out.clone()), fresh(&env, &["validate"]));
    assert!(has(&out, "todo_hxrd"), "{out}");
}

#[test]
fn references_and_rules_are_judged_as_they_are_now() {
    let env = Env::new();
    let parent = env.add("parent", &[]);
    let child = env.add("child", &["--parent", &parent]);
    twice(&env, &["validate"], |n, _| n == 2);
    // The parent's file is gone: the child's file, unchanged, now points
    // at nothing.
    std::fs::remove_file(env.workspace_ops(&parent)).unwrap();
    let (code, out, (n, of)) = warm(&env, &["validate"]);
    assert_eq!((n, of), (1, 1), "the child's file came from the memo");
    assert_eq!(code, 1);
    assert!(
        has(
            &out,
            &format!("{WS}/.{child}.ops:1: parent: dangling reference '{parent}' (no such item)")
        ),
        "{out}"
    );
    assert_eq!((code, out), fresh(&env, &["validate"]));
    // Other rules: a field the configuration now requires.
    let config = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let backlog = "    description: \"Backlog item\"\n";
    assert!(text.contains(backlog), "{text}");
    let required = "      effort:\n        type: integer\n        required: true\n";
    let text = text.replacen(
        backlog,
        &format!("{backlog}    fields_schema:\n{required}"),
        1,
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&config, text).unwrap();
    let (code, out, (n, _)) = warm(&env, &["validate"]);
    assert_eq!(n, 0, "other rules: nothing from the memo");
    assert_eq!((code, out.clone()), fresh(&env, &["validate"]));
    assert!(
        has(
            &out,
            &format!("{WS}/.{child}.ops: fields.effort: required by kind 'work_item' but missing")
        ),
        "{out}"
    );
}

#[test]
fn check_locks_reads_a_file_again_once_its_head_copy_differs() {
    let env = Env::new();
    let (_, path) = locked_item(&env);
    // An agent's violation, committed past the hook: old, so a warning.
    append(
        &path,
        &op("update", "agent", 6, "b002", &["set:", "  status: done"]),
    );
    git(env.path(), &["commit", "-qam", "violation", "--no-verify"]);
    let args = ["validate", "--check-locks"];
    let (code, out) = twice(&env, &args, |n, of| n == 1 && of == 1);
    assert_eq!(code, 0, "{out}");
    assert!(has(&out, "WARNING:"), "{out}");
    assert!(has(&out, "(nonce b002) has no effect"), "{out}");
    // HEAD moves back: the same bytes now hold an op new since HEAD, which
    // the memo's entry (judged when it was old) must not hide.
    git(env.path(), &["reset", "-q", "--soft", "HEAD~1"]);
    let (code, out, (n, _)) = warm(&env, &args);
    assert_eq!(n, 0, "{out}");
    assert_eq!((code, out.clone()), fresh(&env, &args));
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "ERROR:") && has(&out, "(nonce b002) changes locked field 'status'"),
        "{out}"
    );
}

#[test]
fn a_damaged_memo_is_ignored() {
    let env = Env::new();
    env.add("one", &[]);
    let two = env.add("two", &[]);
    append(
        &env.workspace_ops(&two),
        &op(
            "update",
            "human",
            7,
            "c001",
            &["set:", "  status: nonsense"],
        ),
    );
    twice(&env, &["validate"], |n, _| n == 2);
    let memo = std::fs::read_dir(env.cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("validate-"))
        .expect("a memo file");
    let mut bytes = std::fs::read(&memo).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&memo, &bytes).unwrap();
    let (code, out, (n, _)) = warm(&env, &["validate"]);
    assert_eq!(n, 0);
    assert_eq!((code, out), fresh(&env, &["validate"]));
    // Cut short: the same.
    std::fs::write(&memo, &bytes[..mid]).unwrap();
    let (_, _, (n, _)) = warm(&env, &["validate"]);
    assert_eq!(n, 0);
    // Whole again (that run rewrote it), but writable by others: another
    // user could have written it, so it is not believed either.
    assert_eq!(warm(&env, &["validate"]).2 .0, 2);
    std::fs::set_permissions(&memo, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, out, (n, _)) = warm(&env, &["validate"]);
    assert_eq!(n, 0, "a memo others may write was used");
    assert_eq!((code, out), fresh(&env, &["validate"]));
    // Rewritten as this user's own.
    let mode = std::fs::metadata(&memo).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(warm(&env, &["validate"]).2 .0, 2);
}
