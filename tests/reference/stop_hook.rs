//! Differential tests of the stop-hook commands against the reference
//! (`htrac` of hypergumbo-tracker 0.11.0): `count-todos` (all, `--hard`,
//! `--soft`, `--json`) and `hash-todos` (plain and `--json`) print the same
//! bytes in both tools, on repositories each tool wrote, in scope `all`,
//! after `fork-setup` (scope `workspace`), and with extra blocking statuses
//! configured. `guidance` writes the same document modulo its timestamp
//! and the name of the command it tells the agent to run (`htrac` here,
//! the reference's project wrapper `scripts/tracker` there).
//!
//! Skips loudly (or fails under `CI=true`) when the reference cannot be
//! installed, as `differential.rs`.
//!
//! Every repository is initialised by our `init`: the reference's writes
//! no `config.yaml`, and its `fork-setup` then writes one with nothing but
//! `stop_hook.scope`, which the reference itself cannot read.

use std::fs;
use std::path::Path;

use crate::harness::*;

/// Items in every tier and many statuses, titles with non-ASCII, a tab
/// and quotes (the fingerprint's lines are tab-separated), discussions
/// that leave unread human messages, an isbefore link and a duplicate
/// (which `count-todos` does not excuse).
fn script() -> Vec<Step> {
    vec![
        add(
            "a",
            &[
                "--kind",
                "work_item",
                "--title",
                "Ünïcödé — «a»",
                "--priority",
                "1",
            ],
        ),
        add(
            "b",
            &[
                "--kind",
                "work_item",
                "--title",
                "b: tab\there and \"quotes\"",
                "--status",
                "todo_soft",
                "--isbefore",
                "{a}",
            ],
        ),
        add(
            "c",
            &[
                "--kind",
                "work_item",
                "--title",
                "canonical hard",
                "--tier",
                "canonical",
                "--priority",
                "0",
            ],
        ),
        add(
            "d",
            &[
                "--kind",
                "work_item",
                "--title",
                "canonical soft",
                "--tier",
                "canonical",
                "--status",
                "todo_soft",
            ],
        ),
        add(
            "e",
            &[
                "--kind",
                "work_item",
                "--title",
                "stealth 日本語",
                "--tier",
                "stealth",
                "--priority",
                "3",
            ],
        ),
        add(
            "f",
            &[
                "--kind",
                "work_item",
                "--title",
                "finished",
                "--status",
                "done",
            ],
        ),
        add(
            "g",
            &[
                "--kind",
                "work_item",
                "--title",
                "in progress",
                "--status",
                "in_progress",
            ],
        ),
        add(
            "h",
            &[
                "--kind",
                "invariant",
                "--title",
                "an invariant",
                "--field",
                "statement=s",
                "--field",
                "root_cause=r",
                "--status",
                "needs_human_review",
            ],
        ),
        cmd(&["update", "{a}", "--add-duplicate-of", "{f}"]),
        cmd(&[
            "update",
            "{b}",
            "--title",
            "b: tab\there and \"quotes\" (renamed)",
        ]),
        cmd(&["update", "{g}", "--status", "todo_hard"]),
        cmd(&["update", "{g}", "--status", "in_progress"]),
    ]
}

/// Everything the two commands print, per invocation.
fn answers(ctx: &Ctx, tool: Tool, repo: &Repo) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (json, args) in [
        (false, &["count-todos"][..]),
        (false, &["count-todos", "--hard"]),
        (false, &["count-todos", "--soft"]),
        (true, &["count-todos"]),
        (true, &["count-todos", "--soft"]),
        (false, &["hash-todos"]),
        (true, &["hash-todos"]),
    ] {
        let label = format!("{}{}", if json { "--json " } else { "" }, args.join(" "));
        out.push((label, ctx.ok(tool, repo, json, args)));
    }
    out
}

/// Both tools answer the same on both repositories; returns the answers.
fn agree(ctx: &Ctx, what: &str, repos: &[&Repo]) -> Vec<(String, String)> {
    let expected = answers(ctx, Theirs, repos[0]);
    for repo in repos {
        for tool in [Theirs, Ours] {
            let got = answers(ctx, tool, repo);
            for ((label, want), (_, have)) in expected.iter().zip(&got) {
                assert_eq!(
                    have,
                    want,
                    "{what}: {} htrac {label} in {} differs from the reference",
                    tool.name(),
                    repo.dir.display()
                );
            }
        }
    }
    expected
}

fn count_of(answers: &[(String, String)], label: &str) -> String {
    answers
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v.trim().to_string())
        .unwrap()
}

/// Adds `status` to `stop_hook.blocking_statuses` (the two tools' fork-setup
/// lay the file out differently, so it is edited as YAML).
fn add_blocking_status(repo: &Repo, status: &str) {
    let cfg = repo.dir.join(".agent/tracker/config.yaml");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    let mut v: serde_json::Value =
        serde_norway::from_str(&fs::read_to_string(&cfg).unwrap()).unwrap();
    let list = v["stop_hook"]["blocking_statuses"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("{}: no stop_hook.blocking_statuses", cfg.display()));
    list.push(status.into());
    assert_eq!(v["stop_hook"]["scope"], "workspace", "fork-setup kept");
    fs::write(&cfg, serde_norway::to_string(&v).unwrap()).unwrap();
}

#[test]
fn count_and_hash_todos_match_the_reference_in_every_scope() {
    let Some(ctx) = Ctx::new() else { return };
    // Both initialised by us: the reference's `init` writes no config.yaml,
    // and its `fork-setup` then writes one holding only `stop_hook.scope`,
    // which the reference itself refuses ("'statuses' must be a non-empty
    // list"). Our `init` writes the full config both tools read.
    let theirs = ctx.repo("theirs", Ours);
    let ours = ctx.repo("ours", Ours);
    let (mut ids_t, mut ids_o) = (Ids::new(), Ids::new());
    run_script(&ctx, Theirs, &theirs, &mut ids_t, &script());
    run_script(&ctx, Ours, &ours, &mut ids_o, &script());
    assert_eq!(ids_t, ids_o);
    let repos = [&theirs, &ours];

    // Scope all: a, b, c, d, e block (duplicate and isbefore do not excuse).
    let all = agree(&ctx, "scope all", &repos);
    assert_eq!(count_of(&all, "count-todos"), "5");
    assert_eq!(count_of(&all, "count-todos --hard"), "3");
    assert_eq!(
        count_of(&all, "--json count-todos --soft"),
        "{\"count\": 2}"
    );

    // Scope workspace, set by each tool's own fork-setup: c and d drop out.
    ctx.ok(Theirs, &theirs, false, &["fork-setup"]);
    ctx.ok(Ours, &ours, false, &["fork-setup"]);
    let ws = agree(&ctx, "scope workspace", &repos);
    assert_eq!(count_of(&ws, "count-todos"), "3");
    assert_ne!(count_of(&ws, "hash-todos"), count_of(&all, "hash-todos"));

    // More blocking statuses: needs_human_review counts as soft.
    for repo in repos {
        add_blocking_status(repo, "needs_human_review");
    }
    let more = agree(&ctx, "needs_human_review blocking", &repos);
    assert_eq!(count_of(&more, "count-todos"), "4");
    assert_eq!(count_of(&more, "count-todos --soft"), "2");

    // Nothing blocking: the SHA-256 of nothing, in both.
    for (tool, repo, ids) in [(Theirs, &theirs, &ids_t), (Ours, &ours, &ids_o)] {
        for name in ["a", "b", "e", "h"] {
            ctx.ok(
                tool,
                repo,
                false,
                &["update", &ids[name], "--status", "done"],
            );
        }
    }
    let none = agree(&ctx, "nothing blocking", &repos);
    assert_eq!(count_of(&none, "count-todos"), "0");
    assert_eq!(
        count_of(&none, "hash-todos"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// The guidance document with its timestamp (and the command name the
/// reply-first protocol uses) made comparable.
fn normalised_guidance(ctx: &Ctx, tool: Tool, repo: &Repo, dir: &Path) -> String {
    let out = ctx.ok(
        tool,
        repo,
        false,
        &["guidance", "--guidance-dir", dir.to_str().unwrap()],
    );
    let path = Path::new(out.trim());
    assert!(path.is_absolute() && path.starts_with(dir), "{out}");
    let text = fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
    let first = &mut lines[0];
    let cut = first.rfind(" — ").expect("heading has a timestamp");
    first.truncate(cut);
    lines.join("\n").replace("`scripts/tracker ", "`htrac ")
}

#[test]
fn guidance_documents_match_the_reference() {
    let Some(ctx) = Ctx::new() else { return };
    let repo = ctx.repo("guidance", Ours);
    let mut ids = Ids::new();
    run_script(&ctx, Theirs, &repo, &mut ids, &script());
    let dirs = tempfile::tempdir().unwrap();
    let compare = |what: &str, expect_reply_first: bool| {
        let t = normalised_guidance(&ctx, Theirs, &repo, &dirs.path().join(format!("{what}-t")));
        let o = normalised_guidance(&ctx, Ours, &repo, &dirs.path().join(format!("{what}-o")));
        assert_text_eq(what, ("reference", &t), ("ours", &o));
        assert_eq!(
            t.starts_with("# REPLY-FIRST CYCLE"),
            expect_reply_first,
            "{t}"
        );
    };
    compare("normal, scope all", false);
    // A human message on a blocking item and on a finished one.
    ctx.ok(
        Theirs,
        &repo,
        false,
        &["discuss", &ids["a"], "question on a"],
    );
    ctx.ok(
        Theirs,
        &repo,
        false,
        &["discuss", &ids["f"], "why is f done?"],
    );
    compare("reply-first, scope all", true);
    ctx.ok(Theirs, &repo, false, &["fork-setup"]);
    compare("reply-first, scope workspace", true);
}
