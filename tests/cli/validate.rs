//! `htrac validate`, as a pre-commit hook and a person meet it, in real git
//! repositories: every problem reported with file, line and key; exit codes;
//! references against the whole tracker; `--check-locks` judging only the
//! ops that are new since HEAD.

use std::path::Path;

use crate::common::{self, git, Env};

pub(crate) const WS: &str = ".agent/tracker-workspace/.ops";

/// One op as writers lay it out: every line ends with `  # <nonce>`.
pub(crate) fn op(kind: &str, by: &str, clock: i64, nonce: &str, body: &[&str]) -> String {
    let actor = if by == "agent" { "amy_agent" } else { "amy" };
    common::op_text(kind, "2026-11-24T19:41:13Z", by, actor, clock, nonce, body)
}

/// A create op of a work item with extra `data` lines.
pub(crate) fn create(nonce: &str, title: &str, extra: &[&str]) -> String {
    let t = format!("  title: \"{title}\"");
    let mut body = vec![
        "data:",
        "  kind: work_item",
        &t,
        "  status: todo_hard",
        "  priority: 2",
    ];
    body.extend_from_slice(extra);
    op("create", "human", 1, nonce, &body)
}

pub(crate) fn append(path: &Path, text: &str) {
    common::append_raw(path, text);
}

pub(crate) fn write(env: &Env, rel: &str, text: &str) -> std::path::PathBuf {
    let p = env.path().join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// The line number (1-based) of the first line of `path` containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", path.display()))
        + 1
}

fn rel(env: &Env, p: &Path) -> String {
    p.strip_prefix(env.path().canonicalize().unwrap())
        .or_else(|_| p.strip_prefix(env.path()))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

pub(crate) fn has(lines: &str, wanted: &str) -> bool {
    lines.lines().any(|l| l.contains(wanted))
}

#[test]
fn a_clean_tracker_passes_in_text_and_json() {
    let env = Env::new();
    let a = env.add("alpha", &["--tag", "core"]);
    env.add("beta", &["--parent", &a, "--isbefore", &a]);
    let r = env.run(&["validate"]).ok();
    assert_eq!(r.stdout, "validation passed\n");
    let r = env
        .run(&["validate", "--json", "--check-locks", "--strict"])
        .ok();
    assert_eq!(r.stdout, "{\"errors\": [], \"warnings\": []}\n");
}

#[test]
fn every_bad_op_is_reported_with_file_line_and_key() {
    let env = Env::new();
    let id = env.add("victim", &[]);
    let path = env.workspace_ops(&id);
    append(
        &path,
        &op("update", "agent", 2, "a001", &["set:", "  status: bogus"]),
    );
    append(&path, &op("frobnicate", "agent", 3, "a002", &[]));
    append(
        &path,
        &op("update", "agent", 4, "a003", &["set:", "  priority: 9"]),
    );
    append(&path, "- op: update  # a004\n  at: [unclosed  # a004\n");
    append(
        &path,
        &op("update", "robot", 5, "a005", &["set:", "  title: \"x\""]),
    );
    append(
        &path,
        &op("update", "agent", 6, "a006", &["set:", "  title: \"y\""])
            .replace("2026-11-24T19:41:13Z", "yesterday"),
    );
    let file = format!("{WS}/.{id}.ops");
    let r = env.run(&["validate"]).fails(1);
    let out = &r.stdout;
    for (nonce, wanted) in [
        ("a001", "set.status: unknown status \"bogus\""),
        ("a002", "unknown op kind 'frobnicate'"),
        (
            "a003",
            "set.priority: priority must be an integer 0-4, got 9",
        ),
        ("a004", "malformed op: malformed YAML"),
        ("a005", "by: must be 'agent' or 'human', got 'robot'"),
        ("a006", "at: invalid timestamp 'yesterday'"),
    ] {
        let line = if nonce == "a004" {
            line_of(&path, "# a004")
        } else {
            line_of(&path, &format!("nonce: {nonce}")) - 5
        };
        let expect = format!("ERROR: {file}:{line}: {wanted}");
        assert!(has(out, &expect), "missing {expect:?} in\n{out}");
    }
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ERROR: ")).count(),
        6,
        "{out}"
    );
    assert!(!has(out, "validation passed"));
    // The JSON has the same messages, without the prefixes.
    let v = env.run(&["validate", "--json"]).fails(1).json();
    assert_eq!(v["errors"].as_array().unwrap().len(), 6);
    assert!(v["errors"][0].as_str().unwrap().starts_with(&file));
}

#[test]
fn what_readers_would_skip_or_reject_is_an_error() {
    let env = Env::new();
    // No create op: the item cannot be compiled.
    let p = write(
        &env,
        &format!("{WS}/.WI-nocreate.ops"),
        &op("update", "agent", 2, "b001", &["set:", "  status: done"]),
    );
    // An op whose last line lost its nonce comment is skipped as torn.
    let id = env.add("torn", &[]);
    let torn = env.workspace_ops(&id);
    let text = op("discuss", "agent", 2, "b002", &["message: \"hi\""]);
    append(
        &torn,
        &text.replace("message: \"hi\"  # b002", "message: \"hi\""),
    );
    append(
        &torn,
        &op("discuss", "agent", 3, "b003", &["message: \"after\""]),
    );
    // A last op without its final newline is skipped as torn too.
    let id2 = env.add("no newline", &[]);
    let nl = env.workspace_ops(&id2);
    append(
        &nl,
        op("discuss", "agent", 2, "b004", &["message: \"x\""]).trim_end(),
    );
    let r = env.run(&["validate"]).fails(1);
    let out = &r.stdout;
    assert!(
        has(
            out,
            &format!(
                "ERROR: {}: no create op",
                rel(&env, &p.canonicalize().unwrap())
            )
        ),
        "{out}"
    );
    let last = line_of(&torn, "message: \"hi\"");
    assert!(
        has(
            out,
            &format!(".{id}.ops:{last}: the op's last line lacks the comment '  # b002'")
        ),
        "{out}"
    );
    let end = std::fs::read_to_string(&nl).unwrap().lines().count();
    assert!(
        has(
            out,
            &format!(".{id2}.ops:{end}: the file does not end with a newline")
        ),
        "{out}"
    );
}

#[test]
fn format_problems_are_warnings_and_strict_makes_them_errors() {
    let env = Env::new();
    let id = env.add("format", &[]);
    let path = env.workspace_ops(&id);
    let text = op("update", "agent", 2, "c001", &["set:", "  title: \"t\""]);
    // The comment of one inner line dropped; one with another op's nonce.
    let text = text
        .replace("  by: agent  # c001", "  by: agent")
        .replace("  clock: 2  # c001", "  clock: 2  # ffff");
    append(&path, &text);
    let by = line_of(&path, "  by: agent");
    let r = env.run(&["validate"]).ok();
    let file = format!("{WS}/.{id}.ops");
    assert!(
        has(
            &r.stdout,
            &format!(
                "WARNING: {file}:{by}: missing nonce comment (expected '  # c001') on line {by}"
            )
        ),
        "{}",
        r.stdout
    );
    assert!(
        has(
            &r.stdout,
            &format!(
                "WARNING: {file}:{}: nonce comment '# ffff' does not match",
                by + 2
            )
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("validation passed\n"));
    let r = env.run(&["validate", "--strict"]).fails(1);
    assert!(has(&r.stdout, "ERROR: ") && has(&r.stdout, "missing nonce comment"));
    assert!(!has(&r.stdout, "WARNING: ") && !has(&r.stdout, "validation passed"));
}

#[test]
fn references_tiers_prefixes_and_cycles() {
    let env = Env::new();
    let a = env.add("a", &[]);
    let b = env.add("b", &["--isbefore", &a]);
    let s = env.add("secret", &["--tier", "stealth"]);
    // a isbefore b closes a cycle; a's parent is missing; a points into stealth.
    append(
        &env.workspace_ops(&a),
        &op(
            "update",
            "human",
            5,
            "d001",
            &[
                "set:",
                "  parent: WI-nope",
                "add:",
                &format!("  isbefore: [{b}]"),
                &format!("  duplicate_of: [{s}]"),
            ],
        ),
    );
    let ops_line = line_of(&env.workspace_ops(&a), "nonce: d001") - 5;
    // The same ID in the canonical tier; an INV- file holding a work item.
    let canon = env.root().join("tracker/.ops").join(format!(".{b}.ops"));
    std::fs::copy(env.workspace_ops(&b), &canon).unwrap();
    write(
        &env,
        &format!("{WS}/.INV-wrong.ops"),
        &create("d002", "wrong", &[]),
    );
    let r = env.run(&["validate"]).fails(1);
    let out = &r.stdout;
    let fa = format!("{WS}/.{a}.ops");
    assert!(
        has(
            out,
            &format!("ERROR: {fa}:{ops_line}: parent: dangling reference 'WI-nope' (no such item)")
        ),
        "{out}"
    );
    assert!(
        has(
            out,
            &format!("ERROR: {fa}:{ops_line}: duplicate_of: '{s}' is a stealth item")
        ),
        "{out}"
    );
    let (first, second) = if a < b { (&a, &b) } else { (&b, &a) };
    assert!(
        has(
            out,
            &format!("isbefore cycle: {first} -> {second} -> {first}")
        ),
        "{out}"
    );
    assert_eq!(out.matches("isbefore cycle").count(), 1, "{out}");
    assert!(has(out, &format!("{b} is also in tier workspace")), "{out}");
    assert!(has(out, &format!("{b} is also in tier canonical")), "{out}");
    assert!(
        has(
            out,
            "INV-wrong.ops:1: ID prefix 'INV' does not match kind 'work_item' (prefix 'WI')"
        ),
        "{out}"
    );

    // Named files: only those are checked, but against the whole tracker.
    std::fs::remove_file(&canon).unwrap();
    let rel_b = format!("{WS}/.{b}.ops");
    // b is in the cycle too, but nothing else is wrong with it.
    let r = env.run(&["validate", &rel_b]).fails(1);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        has(
            &r.stdout,
            &format!("ERROR: {rel_b}:1: isbefore cycle: {first} -> {second} -> {first}")
        ),
        "{}",
        r.stdout
    );
    let r = env.run(&["validate", &fa]).fails(1);
    assert!(
        has(&r.stdout, "dangling reference 'WI-nope'"),
        "{}",
        r.stdout
    );
    assert!(has(&r.stdout, "isbefore cycle"), "{}", r.stdout);
    assert!(!has(&r.stdout, "INV-wrong"), "{}", r.stdout);
    // A stealth item may point anywhere local.
    append(
        &env.ops_path("tracker-workspace/stealth", &s),
        &op(
            "update",
            "human",
            5,
            "d003",
            &["set:", &format!("  parent: {a}")],
        ),
    );
    let rel_s = format!(".agent/tracker-workspace/stealth/.{s}.ops");
    let r = env.run(&["validate", &rel_s]).ok();
    assert_eq!(r.stdout, "validation passed\n");
    let r = env.run(&["validate", "nope.ops", &rel_s]).fails(1);
    assert_eq!(r.stdout, "ERROR: nope.ops: file not found\n");
}

#[test]
fn required_custom_fields_are_judged_on_the_compiled_item() {
    let env = Env::new();
    let body = [
        "data:",
        "  kind: invariant",
        "  title: \"inv\"",
        "  status: todo_hard",
        "  priority: 1",
        "  fields: {statement: \"s\", root_cause: \"r\", stetement: \"typo\"}",
    ];
    let p = write(
        &env,
        &format!("{WS}/.INV-fields.ops"),
        &op("create", "human", 1, "e001", &body),
    );
    let r = env.run(&["validate"]).ok();
    assert!(has(&r.stdout, "WARNING: .agent/tracker-workspace/.ops/.INV-fields.ops:1: fields.stetement: not in the fields_schema of kind 'invariant' (did you mean 'statement'?)"), "{}", r.stdout);
    // A later op removes a required field: the item as it stands is judged.
    append(
        &p,
        &op(
            "update",
            "human",
            2,
            "e002",
            &["set:", "  fields: {root_cause: null}"],
        ),
    );
    let r = env.run(&["validate", "--json"]).fails(1).json();
    assert_eq!(
        r["errors"],
        serde_json::json!([".agent/tracker-workspace/.ops/.INV-fields.ops: fields.root_cause: required by kind 'invariant' but missing"])
    );
}

/// A committed item with a human's lock on `status`; returns (id, path).
pub(crate) fn locked_item(env: &Env) -> (String, std::path::PathBuf) {
    let id = env.add("guarded", &[]);
    let path = env.workspace_ops(&id);
    append(&path, &op("lock", "human", 5, "f001", &["lock: [status]"]));
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "lock"]);
    (id, path)
}

#[test]
fn check_locks_flags_new_agent_ops_as_errors_and_old_violations_as_warnings() {
    let env = Env::new();
    let (id, path) = locked_item(&env);
    let rel_path = format!("{WS}/.{id}.ops");
    // An agent's old violation, already committed (say with --no-verify):
    // it has no effect, and validate keeps reporting it — a warning, an
    // error with --strict.
    append(
        &path,
        &op(
            "update",
            "agent",
            6,
            "f002",
            &["set:", "  status: in_progress"],
        ),
    );
    git(env.path(), &["commit", "-qam", "old violation"]);
    let r = env.run(&["validate", "--check-locks", &rel_path]).ok();
    let old = format!("WARNING: {rel_path}:{}: agent op 'update' by amy_agent (nonce f002) has no effect: changes locked field 'status'", line_of(&path, "nonce: f002") - 5);
    assert!(has(&r.stdout, &old), "{}", r.stdout);
    let r = env
        .run(&["validate", "--check-locks", "--strict", &rel_path])
        .fails(1);
    assert!(has(&r.stdout, "(nonce f002) has no effect"), "{}", r.stdout);
    let shown = env.run(&["--json", "show", &id]).ok().json();
    assert_eq!(shown["status"], "todo_hard", "the violation had no effect");
    // New: a locked field (even back-dated before the lock), human powers.
    append(
        &path,
        &op(
            "update",
            "agent",
            2,
            "f003",
            &["set:", "  status: done", "  title: \"ok\""],
        ),
    );
    append(
        &path,
        &op("update", "agent", 8, "f004", &["set:", "  status: deleted"]),
    );
    append(
        &path,
        &op("unlock", "agent", 9, "f005", &["unlock: [status]"]),
    );
    append(
        &path,
        &op("discuss", "agent", 10, "f006", &["message: \"fine\""]),
    );
    git(env.path(), &["add", "-A"]);
    let r = env.run(&["validate", "--check-locks", &rel_path]).fails(1);
    let out = &r.stdout;
    let at = |n: &str| line_of(&path, &format!("nonce: {n}")) - 5;
    assert!(has(out, &format!("ERROR: {rel_path}:{}: agent op 'update' by amy_agent (nonce f003) changes locked field 'status'", at("f003"))), "{out}");
    assert!(has(out, &format!("{rel_path}:{}: agent op 'update' by amy_agent (nonce f004) sets status 'deleted', which only a human may set", at("f004"))), "{out}");
    assert!(
        has(
            out,
            &format!(
                "{rel_path}:{}: agent op 'unlock' by amy_agent (nonce f005) needs human authority",
                at("f005")
            )
        ),
        "{out}"
    );
    // The old violation stays a warning; the agent's message on an open
    // discussion is fine.
    assert!(has(out, &old), "{out}");
    assert!(!has(out, "f006"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ERROR")).count(),
        4,
        "{out}"
    );
    // Without the flag, the same ops are well-formed.
    env.run(&["validate", &rel_path]).ok();
}

#[test]
fn check_locks_honours_a_new_human_unlock_and_sees_rewritten_history() {
    let env = Env::new();
    let (id, path) = locked_item(&env);
    let rel_path = format!("{WS}/.{id}.ops");
    append(
        &path,
        &op("unlock", "human", 6, "9001", &["unlock: [status]"]),
    );
    append(
        &path,
        &op(
            "update",
            "agent",
            7,
            "9002",
            &["set:", "  status: in_progress"],
        ),
    );
    git(env.path(), &["add", "-A"]);
    env.run(&["validate", "--check-locks", &rel_path]).ok();
    // Dropping the committed lock op from the staged copy is caught.
    git(env.path(), &["reset", "-q", "--hard"]);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.ends_with("# f001"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, kept).unwrap();
    append(
        &path,
        &op(
            "update",
            "agent",
            7,
            "9003",
            &["set:", "  status: in_progress"],
        ),
    );
    git(env.path(), &["add", "-A"]);
    let r = env.run(&["validate", "--check-locks", &rel_path]).fails(1);
    assert!(has(&r.stdout, "the 'lock' op at line"), "{}", r.stdout);
    assert!(
        has(
            &r.stdout,
            "missing from the staged copy: op logs are append-only"
        ),
        "{}",
        r.stdout
    );
    assert!(
        has(&r.stdout, "(nonce 9003) changes locked field 'status'"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_locks_judges_the_staged_copy_and_untracked_files() {
    let env = Env::new();
    let (id, path) = locked_item(&env);
    let rel_path = format!("{WS}/.{id}.ops");
    append(
        &path,
        &op("update", "agent", 6, "8001", &["set:", "  status: done"]),
    );
    git(env.path(), &["add", "-A"]);
    // The working tree goes back to HEAD's copy; the staged violation is still judged.
    std::fs::write(
        &path,
        git(env.path(), &["show", &format!("HEAD:{rel_path}")]),
    )
    .unwrap();
    let r = env.run(&["validate", "--check-locks", &rel_path]).fails(1);
    assert!(
        has(&r.stdout, &format!("{rel_path}: staged copy line")),
        "{}",
        r.stdout
    );
    assert!(
        has(&r.stdout, "(nonce 8001) changes locked field 'status'"),
        "{}",
        r.stdout
    );
    // A stealth file is not in git: every op is new.
    let s = env.add("secret", &["--tier", "stealth"]);
    let sp = env.ops_path("tracker-workspace/stealth", &s);
    append(&sp, &op("lock", "agent", 2, "8002", &["lock: [title]"]));
    let r = env
        .run(&[
            "validate",
            "--check-locks",
            &format!(".agent/tracker-workspace/stealth/.{s}.ops"),
        ])
        .fails(1);
    assert!(
        has(
            &r.stdout,
            "agent op 'lock' by amy_agent (nonce 8002) needs human authority"
        ),
        "{}",
        r.stdout
    );
    // An op claiming to be a human's, written under an agent's user name.
    let forged = op("update", "human", 3, "8003", &["set:", "  title: \"t\""]);
    append(&sp, &forged.replace("actor: amy", "actor: bob_agent"));
    let r = env
        .run(&[
            "validate",
            "--check-locks",
            &format!(".agent/tracker-workspace/stealth/.{s}.ops"),
        ])
        .fails(1);
    let wanted = "op 'update' (nonce 8003) claims 'by: human' but its actor 'bob_agent' matches actor_resolution.agent_usernames";
    assert!(has(&r.stdout, wanted), "{}", r.stdout);
}

/// Runs `validate ARGS` with `HTRAC_VALIDATE_BATCH` (files validated at a
/// time; `None`: the default), else with the binary `bin`.
pub(crate) fn validate_with(
    env: &Env,
    args: &[&str],
    batch: Option<&str>,
    bin: Option<&str>,
) -> (i32, String) {
    let mut c = env.command(args);
    if let Some(b) = bin {
        let mut other = std::process::Command::new(b);
        other.args(c.get_args()).current_dir(env.path());
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => other.env(k, v),
                None => other.env_remove(k),
            };
        }
        c = other;
    }
    if let Some(n) = batch {
        c.env("HTRAC_VALIDATE_BATCH", n);
    }
    let out = c.output().expect("htrac runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A tracker with problems of every kind across files (see
/// [`batched_validation_reports_exactly_what_a_whole_run_does`]), some of
/// them in ops new since HEAD.
pub(crate) fn tracker_with_every_problem(env: &Env) {
    let id = |n: usize| format!("WI-batch{n:02}");
    let file = |n: usize| format!("{WS}/.{}.ops", id(n));
    for n in 0..24 {
        let title = format!(
            "Item {n} of the batch test: fix the parser for case {}",
            n % 5
        );
        let mut extra: Vec<String> = Vec::new();
        // Cycles through two and three files; a dangling parent; a self
        // reference; a reference into stealth.
        match n {
            1 => extra.push(format!("  isbefore: [{}]", id(2))),
            2 => extra.push(format!("  isbefore: [{}]", id(1))),
            5 => extra.push(format!("  isbefore: [{}]", id(9))),
            9 => extra.push(format!("  isbefore: [{}]", id(14))),
            14 => extra.push(format!("  isbefore: [{}]", id(5))),
            7 => extra.push("  parent: WI-nope".into()),
            11 => extra.push(format!("  duplicate_of: [{}]", id(11))),
            12 => extra.push("  duplicate_of: [WI-hidden]".into()),
            _ => {}
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        write(
            env,
            &file(n),
            &create(&format!("{:04x}", 0x100 + n), &title, &extra),
        );
    }
    write(
        env,
        ".agent/tracker-workspace/stealth/.WI-hidden.ops",
        &create("0200", "hidden", &[]),
    );
    // The same ID in the canonical tier; an INV- file holding a work item.
    std::fs::copy(
        env.path().join(file(3)),
        env.root().join(format!("tracker/.ops/.{}.ops", id(3))),
    )
    .unwrap();
    write(
        env,
        &format!("{WS}/.INV-batch.ops"),
        &create("0201", "wrong", &[]),
    );
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "items"]);
    // New since HEAD: an agent's lock and human-only status, an op forged
    // as a human's, a malformed op, a line without its nonce comment, and
    // an isbefore closing one more cycle (written later, in another file).
    append(
        &env.path().join(file(4)),
        &op("lock", "agent", 2, "0300", &["lock: [title]"]),
    );
    append(
        &env.path().join(file(6)),
        &op("update", "agent", 2, "0301", &["set:", "  status: deleted"]),
    );
    append(
        &env.path().join(file(8)),
        &op("update", "human", 2, "0302", &["set:", "  priority: 1"])
            .replace("actor: amy", "actor: bob_agent"),
    );
    append(
        &env.path().join(file(10)),
        "- op: update  # 0303\n  at: {bad  # 0303\n",
    );
    append(
        &env.path().join(file(13)),
        &op("update", "agent", 2, "0304", &["set:", "  title: \"x\""]).replacen(
            "  # 0304\n",
            "\n",
            1,
        ),
    );
    append(
        &env.path().join(file(20)),
        &op(
            "update",
            "human",
            2,
            "0305",
            &["add:", &format!("  isbefore: [{}]", id(21))],
        ),
    );
    append(
        &env.path().join(file(21)),
        &op(
            "update",
            "human",
            2,
            "0306",
            &["add:", &format!("  isbefore: [{}]", id(20))],
        ),
    );
}

/// Files are validated a batch at a time and only what the checks across
/// files need is kept: the report — every error and warning, in order — is
/// the same whatever the batch size, on a tracker with problems of every
/// kind across files (cycles through several files, an ID in two tiers,
/// dangling and self references, a wrong ID prefix, agent ops new since
/// HEAD, malformed ops, near-duplicates). With `HTRAC_VALIDATE_REFERENCE`
/// naming another htrac binary (one built before validation streamed), its
/// reports must be the same too.
#[test]
fn batched_validation_reports_exactly_what_a_whole_run_does() {
    let env = Env::new();
    // Enough more items (committed with the others) that the files are
    // checked on more than one thread where there are cores (from 128
    // files), while batches are gathered in order on one.
    for n in 0..150 {
        let title = format!("plain item {n} on its own");
        write(
            &env,
            &format!("{WS}/.WI-plain{n:03}.ops"),
            &create(&format!("{:04x}", 0x400 + n), &title, &[]),
        );
    }
    tracker_with_every_problem(&env);
    let reference = std::env::var("HTRAC_VALIDATE_REFERENCE").ok();
    for args in [
        &["validate"][..],
        &["validate", "--check-locks"],
        &["validate", "--similar"],
        &["validate", "--strict", "--check-locks"],
    ] {
        let whole = validate_with(&env, args, Some("100000"), None);
        assert_eq!(whole.0, 1, "{args:?}: {}", whole.1);
        for batch in [None, Some("1"), Some("3"), Some("40")] {
            assert_eq!(
                validate_with(&env, args, batch, None),
                whole,
                "{args:?} in batches of {batch:?}"
            );
        }
        if let Some(bin) = &reference {
            assert_eq!(
                validate_with(&env, args, None, Some(bin)),
                whole,
                "{args:?}: the reference build"
            );
        }
    }
    // Every kind of problem is there.
    let (_, out) = validate_with(&env, &["validate", "--check-locks"], Some("1"), None);
    for wanted in [
        "isbefore cycle: WI-batch01 -> WI-batch02 -> WI-batch01",
        "isbefore cycle: WI-batch05 -> WI-batch09 -> WI-batch14 -> WI-batch05",
        "isbefore cycle: WI-batch20 -> WI-batch21 -> WI-batch20",
        "WI-batch03 is also in tier workspace",
        "WI-batch03 is also in tier canonical",
        "parent: dangling reference 'WI-nope'",
        "duplicate_of: 'WI-batch11' is the item itself",
        "duplicate_of: 'WI-hidden' is a stealth item",
        "ID prefix 'INV' does not match kind 'work_item'",
        "agent op 'lock' by amy_agent (nonce 0300) needs human authority",
        "(nonce 0301) sets status 'deleted'",
        "claims 'by: human' but its actor 'bob_agent'",
        "malformed op",
        "missing nonce comment",
    ] {
        assert!(has(&out, wanted), "{wanted}:\n{out}");
    }
}
