//! Differential tests of whole sessions against the reference
//! implementation, `htrac` from hypergumbo-tracker 0.11.0 (Python, PyPI);
//! what each write puts on disk is compared in `writes.rs`.
//!
//! The reference is installed once into `<target>/ref-venv` (`make test`
//! does it up front). When that is impossible (no network), each test fails
//! naming the missing prerequisite.
//!
//! Every process runs hermetically: HOME, the XDG directories and both
//! tools' cache directories point into a per-repository temp dir, and
//! `--no-auto-sync` is always passed (before the subcommand, which is the
//! only place the reference accepts global flags).
//!
//! Deliberate differences that are not tested here: we reject priorities
//! outside 0–4, unknown statuses and empty titles (the reference accepts
//! them); our plain `update` line names the resolved item; our stderr has no
//! sync banner.

use crate::harness::*;
use serde_json::Value;

// ---------------------------------------------------------------------------
// (a) the same script gives the same state
// ---------------------------------------------------------------------------

/// Work items, an invariant with its required fields, priorities 0–4,
/// tags, parents, isbefore, blocked-by, custom fields added, replaced and
/// removed, notes, discussions with the unread gate acknowledged, a
/// summary, status changes, and text full of non-ASCII, quotes and newlines.
fn big_script() -> Vec<Step> {
    vec![
        add(
            "a",
            &[
                "--kind",
                "work_item",
                "--title",
                "Ünïcödé title — with \"double\" and 'single' quotes",
                "--priority",
                "1",
                "--tag",
                "alpha",
                "--tag",
                "beta",
                "--description",
                "line one\nline two: «guillemets»\n\ttabbed \\ backslash",
            ],
        ),
        add(
            "b",
            &[
                "--kind",
                "work_item",
                "--title",
                "日本語のタイトル 🚀 and שלום",
                "--priority",
                "0",
                "--parent",
                "{a}",
                "--pr-ref",
                "7",
                "--field",
                "estimate=3",
                "--field",
                "note=x=y",
            ],
        ),
        add(
            "inv",
            &[
                "--kind",
                "invariant",
                "--title",
                "Invariant: ops are never lost",
                "--field",
                "statement=every op survives a union merge",
                "--field",
                "root_cause=lines are unique because of \"# nonce\" comments",
                "--priority",
                "3",
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
                "plain c",
                "--priority",
                "4",
                "--status",
                "todo_soft",
                "--isbefore",
                "{b}",
                "--isbefore",
                "{inv}",
                "--tag",
                "gamma",
            ],
        ),
        add(
            "d",
            &[
                "--kind",
                "work_item",
                "--title",
                "d: tab\there, backslash \\ and e\u{301} combining",
                "--priority",
                "2",
            ],
        ),
        add(
            "e",
            &[
                "--kind",
                "work_item",
                "--title",
                "e in progress",
                "--status",
                "in_progress",
            ],
        ),
        cmd(&[
            "update",
            "{a}",
            "--status",
            "in_progress",
            "--priority",
            "2",
            "--title",
            "renamed «a» — it's \"new\"",
            "--add-tag",
            "gamma",
            "--remove-tag",
            "beta",
            "--add-field",
            "owner=alice",
        ]),
        cmd(&["update", "{a}", "--add-field", "risk=high"]),
        cmd(&["update", "{b}", "--add-blocked-by", "{d}"]),
        cmd(&["update", "{b}", "--remove-field", "note"]),
        cmd(&["update", "{b}", "--field", "estimate=5"]),
        cmd(&["update", "{b}", "--field", "extra=multi\nline \"value\""]),
        cmd(&[
            "update",
            "{c}",
            "--status",
            "todo_hard",
            "--add-isbefore",
            "{e}",
            "--remove-isbefore",
            "{inv}",
            "--note",
            "a note with \"quotes\"\nand a newline",
        ]),
        cmd(&[
            "discuss",
            "{a}",
            "first message — with «guillemets» and 'quotes'",
        ]),
        cmd(&[
            "discuss",
            "{a}",
            "second\nmessage, \"quoted\"",
            "--ack-thread",
        ]),
        cmd(&["discuss", "{a}", "--summarize", "summary: all good ✓"]),
        cmd(&["discuss", "{a}", "after the summary", "--ack-thread"]),
        cmd(&[
            "update",
            "{a}",
            "--note",
            "note on a (after a human message)",
        ]),
        cmd(&["discuss", "{b}", "message on b"]),
        cmd(&["discuss", "{b}", "second on b", "--ack-thread"]),
        cmd(&["discuss", "{b}", "--clear"]),
        cmd(&["discuss", "{b}", "after the clear: b's only message"]),
        cmd(&["update", "{d}", "--status", "done"]),
        cmd(&[
            "update",
            "{inv}",
            "--status",
            "needs_human_review",
            "--parent",
            "{a}",
            "--pr-ref",
            "PR#12",
            "--description",
            "why: \"because\"",
            "--priority",
            "0",
        ]),
        cmd(&[
            "update",
            "{inv}",
            "--add-field",
            "statement=every op survives, always",
        ]),
        cmd(&[
            "update",
            "{e}",
            "--add-duplicate-of",
            "{d}",
            "--add-not-duplicate-of",
            "{c}",
        ]),
        cmd(&[
            "update",
            "{e}",
            "--remove-not-duplicate-of",
            "{c}",
            "--status",
            "wont_do",
        ]),
        cmd(&[
            "update",
            "{b}",
            "--add-blocked-by",
            "{c}",
            "--remove-blocked-by",
            "{d}",
        ]),
        add(
            "f",
            &[
                "--kind",
                "work_item",
                "--title",
                "f: child of b",
                "--parent",
                "{b}",
                "--priority",
                "1",
                "--description",
                "",
            ],
        ),
        cmd(&[
            "update",
            "{f}",
            "--status",
            "todo_soft",
            "--add-tag",
            "alpha",
        ]),
        cmd(&["update", "{f}", "--status", "deleted"]),
        cmd(&["update", "{c}", "--priority", "3", "--title", "c again"]),
        // Human authority and tier moves.
        cmd(&["lock", "{a}", "Status", "TITLE", "fields.estimate"]),
        cmd(&["unlock", "{a}", "title"]),
        cmd(&["freeze", "{b}"]),
        cmd(&["update", "{b}", "--priority", "2"]),
        cmd(&["unfreeze", "{b}"]),
        add(
            "g",
            &["--kind", "work_item", "--title", "g: wanders the tiers"],
        ),
        cmd(&["promote", "{g}"]),
        cmd(&["demote", "{g}"]),
        cmd(&["stealth", "{g}"]),
        cmd(&["unstealth", "{g}"]),
        cmd(&["promote", "{g}"]),
        cmd(&["delete", "{d}"]),
    ]
}

#[test]
fn same_script_same_state() {
    let Some(ctx) = Ctx::new() else { return };
    let theirs = ctx.repo("theirs", Theirs);
    let ours = ctx.repo("ours", Ours);
    let script = big_script();
    let (mut id_t, mut id_o) = (Ids::new(), Ids::new());
    let out_t = run_script(&ctx, Theirs, &theirs, &mut id_t, &script);
    let out_o = run_script(&ctx, Ours, &ours, &mut id_o, &script);
    assert_eq!(id_t, id_o, "IDs differ");
    for (i, (t, o)) in out_t.iter().zip(&out_o).enumerate() {
        assert_json_eq(
            &format!("--json output of write step {}", i + 1),
            (Theirs, t),
            (Ours, o),
        );
    }
    assert_eq!(item_ids(&theirs), item_ids(&ours), "op file sets differ");

    let st = state(&ctx, Theirs, &theirs, LOOSE);
    let so = state(&ctx, Ours, &ours, LOOSE);
    assert_states_eq("same script", (Theirs, &st), (Ours, &so), false);
    check_orders(&ctx, Theirs, &theirs);
    check_orders(&ctx, Ours, &ours);
    // Something of everything made it through.
    assert_eq!(st.show.len(), 8);
    assert!(!so.ready["ready"].as_array().unwrap().is_empty());
    assert!(so.ready.get("items_with_unread_messages").is_some());
}

// ---------------------------------------------------------------------------
// (b) each tool reads, and extends, what the other wrote
// ---------------------------------------------------------------------------

fn first_writer_script() -> Vec<Step> {
    vec![
        add(
            "p",
            &[
                "--kind",
                "work_item",
                "--title",
                "parent «p»",
                "--priority",
                "1",
                "--tag",
                "core",
            ],
        ),
        add(
            "q",
            &[
                "--kind",
                "work_item",
                "--title",
                "child q: \"quoted\" 💡",
                "--parent",
                "{p}",
                "--isbefore",
                "{p}",
                "--field",
                "size=L",
            ],
        ),
        add(
            "i",
            &[
                "--kind",
                "invariant",
                "--title",
                "invariant ï",
                "--field",
                "statement=s ✓",
                "--field",
                "root_cause=r\nwith a newline",
                "--priority",
                "4",
            ],
        ),
        cmd(&[
            "update",
            "{p}",
            "--status",
            "in_progress",
            "--add-field",
            "owner=zoë",
            "--add-tag",
            "extra",
        ]),
        cmd(&[
            "update",
            "{q}",
            "--add-blocked-by",
            "{i}",
            "--note",
            "blocked on the invariant",
        ]),
        cmd(&["discuss", "{p}", "hello from the first writer\nsecond line"]),
        cmd(&["discuss", "{p}", "and again", "--ack-thread"]),
        cmd(&[
            "discuss",
            "{i}",
            "--summarize",
            "summarised by the first writer",
        ]),
    ]
}

fn second_writer_script() -> Vec<Step> {
    vec![
        cmd(&[
            "update",
            "{p}",
            "--status",
            "done",
            "--remove-tag",
            "core",
            "--remove-field",
            "owner",
        ]),
        cmd(&[
            "discuss",
            "{p}",
            "reply from the second writer: «ok»",
            "--ack-thread",
        ]),
        cmd(&[
            "update",
            "{q}",
            "--priority",
            "0",
            "--title",
            "q renamed by the second writer",
            "--remove-isbefore",
            "{p}",
        ]),
        cmd(&[
            "update",
            "{i}",
            "--status",
            "todo_soft",
            "--add-field",
            "statement=s2",
            "--remove-blocked-by",
            "{q}",
        ]),
        cmd(&["discuss", "{i}", "after the summary", "--ack-thread"]),
        add(
            "r",
            &[
                "--kind",
                "work_item",
                "--title",
                "r added by the second writer",
                "--isbefore",
                "{q}",
                "--priority",
                "3",
            ],
        ),
        cmd(&[
            "update",
            "{r}",
            "--add-blocked-by",
            "{p}",
            "--note",
            "r's note",
        ]),
    ]
}

/// Run by the reference only: ours has no lock/unlock/freeze/promote yet.
fn reference_only_script() -> Vec<Step> {
    vec![
        cmd(&["lock", "{q}", "Status", "title"]),
        cmd(&["unlock", "{q}", "title"]),
        cmd(&["freeze", "{i}"]),
        cmd(&["promote", "{p}"]),
    ]
}

fn read_and_extend(ctx: &Ctx, first: Tool, second: Tool) {
    let what = format!("{} writes, {} reads", first.name(), second.name());
    let repo = ctx.repo(&format!("{}-first", first.name()), first);
    let mut ids = Ids::new();
    run_script(ctx, first, &repo, &mut ids, &first_writer_script());

    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(&what, (first, &s1), (second, &s2), true);
    check_op_files(ctx, &repo);

    // Ops only the reference can write (lock, unlock, freeze, tier moves):
    // whichever tool comes next must read them.
    run_script(ctx, Theirs, &repo, &mut ids, &reference_only_script());
    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(
        &format!("{what}, after lock/freeze/promote"),
        (first, &s1),
        (second, &s2),
        true,
    );
    assert_eq!(
        s2.show[&ids["q"]]["locked_fields"],
        serde_json::json!(["status"])
    );
    assert_eq!(s2.show[&ids["i"]]["frozen"], Value::Bool(true));
    assert_eq!(s2.show[&ids["p"]]["tier"], "canonical");

    run_script(ctx, second, &repo, &mut ids, &second_writer_script());
    let what = format!("{} extends what {} wrote", second.name(), first.name());
    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(&what, (second, &s2), (first, &s1), true);
    check_orders(ctx, first, &repo);
    check_op_files(ctx, &repo);
    assert_eq!(s1.show.len(), 4);
    ctx.ok(Theirs, &repo, false, &["validate"]);

    // The human-readable views of one repo agree too.
    for args in [vec!["list"], vec!["ready"]]
        .into_iter()
        .chain(ids.values().map(|id| vec!["show", id.as_str()]))
        .chain(ids.values().map(|id| vec!["discuss", id.as_str()]))
    {
        // Ours names itself in `ready`'s hint lines where the reference
        // names its `scripts/tracker` wrapper (which we do not install).
        let theirs = ctx
            .ok(Theirs, &repo, false, &args)
            .replace(" scripts/tracker ", " htrac ");
        assert_text_eq(
            &format!("{what}: plain {args:?}"),
            ("reference", &theirs),
            ("ours", &ctx.ok(Ours, &repo, false, &args)),
        );
    }
}

#[test]
fn each_reads_and_extends_the_other() {
    let Some(ctx) = Ctx::new() else { return };
    read_and_extend(&ctx, Theirs, Ours);
    read_and_extend(&ctx, Ours, Theirs);
}
