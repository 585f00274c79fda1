//! `htrac textconv` as git's diff driver: `git log -p` and `git diff` show
//! an item's compiled state changing, history that does not compile shows a
//! marker instead of breaking the diff, and the rendering is the reference's.

use std::path::Path;

use crate::common::{bin, git, Env};

/// Wires git to `htrac textconv` for `*.ops` files, as `htrac setup` does.
fn wire(env: &Env) {
    git(
        env.path(),
        &[
            "config",
            "diff.tracker.textconv",
            &format!("{} textconv", bin()),
        ],
    );
    std::fs::write(env.path().join(".gitattributes"), "*.ops diff=tracker\n").unwrap();
}

/// Runs git, returning (exit code, stdout, stderr).
fn git_run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn git_log_and_diff_show_the_compiled_change() {
    let env = Env::new();
    wire(&env);
    let id = env.add("tracked", &["--tag", "core"]);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "add"]);
    env.run(&[
        "update",
        &id,
        "--status",
        "in_progress",
        "--add-field",
        "owner=amy",
    ])
    .ok();
    // Uncommitted: git diff renders both sides.
    let (code, diff, err) = git_run(env.path(), &["diff"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        diff.contains("-  status: todo_hard  priority: P2  tags: [core]"),
        "{diff}"
    );
    assert!(
        diff.contains("+  status: in_progress  priority: P2  tags: [core]"),
        "{diff}"
    );
    assert!(diff.contains("+  fields.owner: amy"), "{diff}");
    assert!(diff.contains("-  ops: 1  updated: "), "{diff}");
    assert!(diff.contains("+  ops: 2  updated: "), "{diff}");
    // The raw YAML is not what is shown.
    assert!(!diff.contains("- op: update"), "{diff}");
    git(env.path(), &["commit", "-qam", "start"]);
    env.run(&["discuss", &id, "on it"]).ok();
    git(env.path(), &["commit", "-qam", "talk"]);
    let (code, log, err) = git_run(env.path(), &["log", "-p", "--", ".agent/tracker-workspace"]);
    assert_eq!((code, err.as_str()), (0, ""));
    // Newest first: the discussion, the status change, the creation.
    let talk = log
        .find("+  discussion: 1 entries")
        .expect("discussion change");
    let start = log.find("+  status: in_progress").expect("status change");
    let created = log.find(&format!("+{id}  tracked")).expect("creation");
    assert!(talk < start && start < created, "{log}");
    assert!(log.contains("-  discussion: 0 entries"), "{log}");
    assert!(log.contains("-  status: todo_hard"), "{log}");
}

#[test]
fn history_that_does_not_compile_shows_a_marker_and_the_diff_goes_on() {
    let env = Env::new();
    wire(&env);
    // A file holding only an update, as history before a tier move does.
    let dir = env.root().join("tracker-workspace/.ops");
    let path = dir.join(".WI-moved.ops");
    let update = "- op: update  # abcd\n  at: '2026-01-01T00:00:00Z'  # abcd\n  by: human  # abcd\n  actor: amy  # abcd\n  clock: 2  # abcd\n  nonce: abcd  # abcd\n  set:  # abcd\n    status: done  # abcd\n";
    std::fs::write(&path, update).unwrap();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "half"]);
    let (code, log, err) = git_run(env.path(), &["log", "-p", "-1"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        log.contains(
            "+# WI-moved: op log not compilable at this revision — op log has no create op"
        ),
        "{log}"
    );
    let r = env
        .run(&["textconv", ".agent/tracker-workspace/.ops/.WI-moved.ops"])
        .ok();
    assert_eq!(r.stderr, "");
    assert_eq!(
        r.stdout,
        "# WI-moved: op log not compilable at this revision — op log has no create op\n"
    );
}

#[test]
fn renders_every_line_of_the_reference_layout() {
    let env = Env::bare();
    // No tracker and no git: textconv needs neither.
    let nonce_lines = |n: &str, lines: &[&str]| -> String {
        lines.iter().map(|l| format!("{l}  # {n}\n")).collect()
    };
    let mut text = nonce_lines(
        "0b9d",
        &[
            "- op: create",
            "  at: '2026-11-24T19:41:13Z'",
            "  by: human",
            "  actor: amy",
            "  clock: 1",
            "  nonce: 0b9d",
            "  data:",
            "    kind: work_item",
            "    title: \"first item\"",
            "    status: todo_hard",
            "    priority: 1",
            "    parent: WI-parent",
            "    tags: [core, ui]",
            "    isbefore: [WI-b, WI-c]",
            "    pr_ref: 42",
            "    fields: {n: 3, names: [a, b], note: \"it's\"}",
        ],
    );
    text += &nonce_lines(
        "51c2",
        &[
            "- op: lock",
            "  at: '2026-11-24T19:42:00Z'",
            "  by: human",
            "  actor: amy",
            "  clock: 2",
            "  nonce: 51c2",
            "  lock: [title, priority]",
        ],
    );
    text += &nonce_lines(
        "77aa",
        &[
            "- op: discuss",
            "  at: '2026-11-24T19:43:00Z'",
            "  by: agent",
            "  actor: amy_agent",
            "  clock: 3",
            "  nonce: 77aa",
            "  message: \"hello\"",
        ],
    );
    std::fs::write(env.path().join(".WI-first.ops"), &text).unwrap();
    // git hands the driver a temporary copy; the ID comes from its name.
    let tmp = env.path().join("git-blob-Ab12Cd");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(tmp.join(".WI-first.ops"), &text).unwrap();
    std::fs::write(env.path().join("Xy12Zz_.WI-first.ops"), &text).unwrap();
    let expected = "\
WI-first  first item
  status: todo_hard  priority: P1  tags: [core, ui]
  parent: WI-parent  isbefore: [WI-b, WI-c]  pr_ref: 42
  fields.n: 3
  fields.names: ['a', 'b']
  fields.note: it's
  discussion: 1 entries
  locked: [priority, title]
  ops: 3  updated: 2026-11-24T19:43:00Z
";
    for f in [
        ".WI-first.ops",
        "git-blob-Ab12Cd/.WI-first.ops",
        "Xy12Zz_.WI-first.ops",
    ] {
        let r = env.run(&["textconv", f]).ok();
        assert_eq!(r.stdout, expected, "{f}");
        assert_eq!(r.stderr, "");
    }
    let r = env.run(&["textconv", "missing.ops"]).fails(1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("file not found: missing.ops"),
        "{}",
        r.stderr
    );
}

/// A FIFO (or a directory) is refused at once: reading one would hang git
/// diff for ever (a FIFO with no writer) or fail obscurely.
#[test]
fn anything_but_a_regular_file_is_refused_without_hanging() {
    let env = Env::bare();
    let fifo = env.path().join(".WI-x.ops");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::create_dir(env.path().join("dir.ops")).unwrap();
    for (name, kind) in [(".WI-x.ops", "FIFO"), ("dir.ops", "directory")] {
        let mut child = env
            .command(&["textconv", name])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("textconv on a {kind} did not finish within 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(1), "{kind}: {stderr}");
        assert!(
            stderr.contains("not a regular file") && stderr.contains(kind),
            "{kind}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{kind}");
    }
}
