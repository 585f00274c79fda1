//! Differential tests of what each write puts on disk, against the
//! reference (see `differential.rs` for how it is installed and run): the
//! same IDs, byte-identical ops, IDs from `add`'s inputs, an empty note
//! writing nothing, the Lamport clock across unmerged branches, and batch
//! files meaning the same.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::PathBuf;

use crate::harness::*;
use serde_json::Value;

// ---------------------------------------------------------------------------
// (c) IDs
// ---------------------------------------------------------------------------

#[test]
fn ids_agree() {
    let Some(ctx) = Ctx::new() else { return };
    let wi = |name: &'static str, title: &'static str| {
        add(name, &["--kind", "work_item", "--title", title])
    };
    let steps = vec![
        wi("ascii", "first item"),
        wi("accents", "Crème brûlée — déjà vu, naïve façade"),
        wi("cjk", "漢字とかな、한국어 텍스트"),
        wi("emoji", "ship it 🚀🔥 (astral: 𝄞)"),
        wi("rtl", "שלום עולם / مرحبا بالعالم"),
        wi("combining", "e\u{301} vs \u{e9}, a\u{30a}, Z\u{335}\u{321}"),
        wi("quotes", "say \"hi\" it's 'fine' `ok`"),
        wi("backslash", "C:\\path\\to\\file \\n not a newline"),
        wi("newline", "two\nlines\tand a tab"),
        wi("padded", "  leading and trailing spaces  "),
        wi("control", "bell\u{7} and del\u{7f} and nbsp\u{a0}"),
        wi("yamlish", "- not: a list # nor a comment: {x: [1]}"),
        add(
            "inv",
            &[
                "--kind",
                "invariant",
                "--title",
                "invariant with fields",
                "--field",
                "statement=ünïcödé statement",
                "--field",
                "root_cause=because \"reasons\"",
            ],
        ),
        add(
            "meta",
            &[
                "--kind",
                "work_item",
                "--title",
                "everything",
                "--status",
                "todo_soft",
                "--priority",
                "0",
                "--parent",
                "{ascii}",
                "--tag",
                "zeta",
                "--tag",
                "alpha",
                "--isbefore",
                "{cjk}",
                "--isbefore",
                "{emoji}",
                "--pr-ref",
                "PR#7",
                "--description",
                "multi\nline ✓",
                "--field",
                "z=last",
                "--field",
                "a=first",
                "--field",
                "eq=x=y",
                "--field",
                "empty=",
            ],
        ),
        add(
            "p4",
            &[
                "--kind",
                "work_item",
                "--title",
                "first item",
                "--priority",
                "4",
            ],
        ),
        add(
            "done",
            &[
                "--kind",
                "work_item",
                "--title",
                "first item",
                "--status",
                "done",
            ],
        ),
        add(
            "inv2",
            &[
                "--kind",
                "invariant",
                "--title",
                "first item",
                "--field",
                "statement=",
                "--field",
                "root_cause=",
            ],
        ),
    ];
    let mut per_tool = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("ids-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(&ctx, tool, &repo, &mut ids, &steps);
        per_tool.push(ids);
    }
    let (theirs, ours) = (&per_tool[0], &per_tool[1]);
    for (name, id) in theirs {
        assert_eq!(Some(id), ours.get(name), "ID of {{{name}}}");
    }
    assert_eq!(theirs.len(), steps.len());
    let distinct: BTreeSet<_> = theirs.values().collect();
    assert_eq!(distinct.len(), steps.len(), "IDs are not all distinct");
    assert!(theirs["inv"].starts_with("INV-") && theirs["meta"].starts_with("WI-"));
}

// ---------------------------------------------------------------------------
// (d) the op text is the same, byte for byte
// ---------------------------------------------------------------------------

fn ops_script() -> Vec<Step> {
    vec![
        add(
            "x",
            &[
                "--kind",
                "work_item",
                "--title",
                "x: «quoted» \"title\"\nnewline",
            ],
        ),
        add(
            "y",
            &[
                "--kind",
                "work_item",
                "--title",
                "y",
                "--status",
                "todo_soft",
                "--priority",
                "0",
                "--parent",
                "{x}",
                "--tag",
                "one",
                "--tag",
                "two",
                "--isbefore",
                "{x}",
                "--pr-ref",
                "7",
                "--description",
                "d1\nd2 'single' \"double\" \\ back",
                "--field",
                "k=v",
                "--field",
                "n=3",
                "--field",
                "t=true",
                "--field",
                "eq=a=b",
                "--field",
                "empty=",
            ],
        ),
        add(
            "z",
            &[
                "--kind",
                "invariant",
                "--title",
                "z inv",
                "--field",
                "statement=st",
                "--field",
                "root_cause=rc",
                "--pr-ref",
                "a # b",
            ],
        ),
        cmd(&[
            "update",
            "{x}",
            "--status",
            "in_progress",
            "--priority",
            "4",
            "--title",
            "x2 ✓",
            "--parent",
            "{z}",
            "--pr-ref",
            "PR#12",
            "--description",
            "new\ndescription",
            "--add-field",
            "a=1",
            "--add-field",
            "b=two words",
            "--remove-field",
            "gone",
            "--add-tag",
            "t1",
            "--add-tag",
            "t2",
            "--remove-tag",
            "t3",
            "--add-isbefore",
            "{y}",
            "--add-isbefore",
            "{z}",
            "--remove-isbefore",
            "{z}",
            "--add-duplicate-of",
            "{y}",
            "--remove-duplicate-of",
            "{z}",
            "--add-not-duplicate-of",
            "{z}",
            "--remove-not-duplicate-of",
            "{y}",
        ]),
        cmd(&[
            "update",
            "{y}",
            "--field",
            "k=w",
            "--field",
            "m=\"q\"",
            "--note",
            "note: «n»\nline 2",
        ]),
        cmd(&[
            "update",
            "{y}",
            "--add-blocked-by",
            "{z}",
            "--add-blocked-by",
            "{x}",
            "--remove-blocked-by",
            "{x}",
        ]),
        cmd(&["update", "{z}", "--priority", "0"]),
        cmd(&["update", "{z}", "--description", "only a description"]),
        cmd(&["update", "{z}", "--note", "only a note"]),
        cmd(&[
            "discuss",
            "{z}",
            "plain 'message' with \"quotes\" and \\ and ✓",
            "--ack-thread",
        ]),
        cmd(&["discuss", "{z}", "--summarize", "the summary\nin two lines"]),
        cmd(&["discuss", "{z}", "--summarize", ""]),
        cmd(&["discuss", "{x}", "  spaces around  "]),
        cmd(&["discuss", "{x}", "#not a comment: [x] {y}", "--ack-thread"]),
        cmd(&["lock", "{x}", "status", "Discussion", "fields.k"]),
        cmd(&["unlock", "{x}", "STATUS"]),
        cmd(&["promote", "{y}"]),
        cmd(&["demote", "{y}"]),
        add("w", &["--kind", "work_item", "--title", "w: no links"]),
        cmd(&["stealth", "{w}"]),
        cmd(&["unstealth", "{w}"]),
    ]
}

#[test]
fn byte_identical_ops() {
    let Some(ctx) = Ctx::new() else { return };
    let theirs = ctx.repo("ops-theirs", Theirs);
    let ours = ctx.repo("ops-ours", Ours);
    let (mut id_t, mut id_o) = (Ids::new(), Ids::new());
    run_script(&ctx, Theirs, &theirs, &mut id_t, &ops_script());
    run_script(&ctx, Ours, &ours, &mut id_o, &ops_script());
    assert_eq!(id_t, id_o);

    let files = |r: &Repo| -> HashMap<PathBuf, String> {
        op_files(r)
            .into_iter()
            .map(|p| {
                let text = fs::read_to_string(&p).unwrap();
                (p.strip_prefix(&r.dir).unwrap().to_path_buf(), text)
            })
            .collect()
    };
    let (ft, fo) = (files(&theirs), files(&ours));
    let names = |f: &HashMap<PathBuf, String>| f.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&ft), names(&fo), "different op files");
    for (path, text) in &ft {
        assert_text_eq(
            &format!("{} (normalised)", path.display()),
            ("reference", &normalise_ops(text)),
            ("ours", &normalise_ops(&fo[path])),
        );
    }
    check_nonce_comments(&theirs);
    check_nonce_comments(&ours);
    ctx.reference_reserialises(&theirs);
    ctx.reference_reserialises(&ours);
}

// ---------------------------------------------------------------------------
// Regressions found by differential testing (fixed; kept as tests).
// ---------------------------------------------------------------------------

/// The reference strips trailing newlines only from `--description-file`
/// and `--description-stdin` (never from `--description`), and reads the
/// file with Python's universal newlines (`\r\n` and `\r` become `\n`).
/// `--pr-ref ''` means "no pr_ref" (null) for the reference. Each
/// difference changes the create data, hence the ID.
#[test]
fn add_inputs_give_reference_ids() {
    let Some(ctx) = Ctx::new() else { return };
    let crlf = ctx.tmp.path().join("crlf.txt");
    fs::write(&crlf, "one\r\ntwo\rthree\n\n").unwrap();
    let crlf = crlf.to_str().unwrap();
    let steps = vec![
        add(
            "inline_trailing_newline",
            &[
                "--kind",
                "work_item",
                "--title",
                "a",
                "--description",
                "a\nb\n",
            ],
        ),
        add(
            "file_crlf",
            &[
                "--kind",
                "work_item",
                "--title",
                "b",
                "--description-file",
                crlf,
            ],
        ),
        add(
            "empty_pr_ref",
            &["--kind", "work_item", "--title", "c", "--pr-ref", ""],
        ),
    ];
    let mut per_tool = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("inputs-{}", tool.name()), tool);
        let mut ids = Ids::new();
        for step in &steps {
            run_script(&ctx, tool, &repo, &mut ids, std::slice::from_ref(step));
        }
        per_tool.push(ids);
    }
    assert_eq!(
        per_tool[0], per_tool[1],
        "IDs: reference (left), ours (right)"
    );
}

/// `update ITEM --note ''`: the reference ignores an empty note (it only
/// writes a discuss op when the note is non-empty); ours appends a
/// `discuss` op with `message: ""`.
#[test]
fn empty_note_writes_nothing() {
    let Some(ctx) = Ctx::new() else { return };
    let steps = vec![
        add("x", &["--kind", "work_item", "--title", "x"]),
        cmd(&["update", "{x}", "--note", ""]),
    ];
    let mut texts = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("note-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(&ctx, tool, &repo, &mut ids, &steps);
        let files = op_files(&repo);
        texts.push(normalise_ops(&fs::read_to_string(&files[0]).unwrap()));
    }
    assert_text_eq(
        "op file after `update --note ''`",
        ("reference", &texts[0]),
        ("ours", &texts[1]),
    );
}

/// The reference's next Lamport clock is 1 + the highest clock in the
/// working tree, on each `lamport_branches` branch, on HEAD **and on every
/// branch not merged into `lamport_branches[0]`** (`git branch --no-merged
/// dev`). Ours skips the unmerged branches, so after work on an unmerged
/// feature branch an op on `dev` gets a lower clock than the reference
/// would give it, and after the merge the two sides fold in another order.
#[test]
fn lamport_clock_sees_unmerged_branches() {
    let Some(ctx) = Ctx::new() else { return };
    let mut texts = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("lamport-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[add("x", &["--kind", "work_item", "--title", "x"])],
        );
        ctx.git(&repo, &["add", "-A"]);
        ctx.git(&repo, &["commit", "-q", "-m", "x"]);
        ctx.git(&repo, &["checkout", "-q", "-b", "feature"]);
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "1"])],
        );
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "0"])],
        );
        ctx.git(&repo, &["commit", "-q", "-a", "-m", "feature"]);
        ctx.git(&repo, &["checkout", "-q", "dev"]);
        // `feature` holds clocks 1..3 and is not merged into dev: the
        // reference writes clock 4 here.
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "3"])],
        );
        let files = op_files(&repo);
        texts.push(normalise_ops(&fs::read_to_string(&files[0]).unwrap()));
    }
    assert_text_eq(
        "op file on dev after an unmerged feature branch",
        ("reference", &texts[0]),
        ("ours", &texts[1]),
    );
}

/// The same batch file (written for the reference: shell quoting, comments,
/// a line that fails) leaves the same state in both tools, and both report
/// the same per-line outcome.
#[test]
fn batch_files_mean_the_same() {
    let Some(ctx) = Ctx::new() else { return };
    let theirs = ctx.repo("batch-theirs", Theirs);
    let ours = ctx.repo("batch-ours", Ours);
    let text = "# a planning batch\n\
        add --kind work_item --title \"Parse the 'config' file\" --priority 1 --tag core\n\
        add --kind work_item --title 'Write docs: \"all\" of them' --description \"line1\\nline2\"\n\
        \n\
        add --kind invariant --title \"No op lost\" --field statement=\"ops only grow\" --field root_cause=union\n\
        update WI-doesnotexist --status done\n\
        show WI-x\n";
    let mut outcomes = Vec::new();
    for (tool, repo) in [(Theirs, &theirs), (Ours, &ours)] {
        std::fs::write(repo.dir.join("plan.htrac"), text).unwrap();
        let out = ctx.run(tool, repo, true, &["batch", "plan.htrac"]);
        assert_eq!(out.status.code(), Some(1), "{}", show_output(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let summary: Vec<(i64, bool)> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["line"].as_i64().unwrap(), r["ok"].as_bool().unwrap()))
            .collect();
        outcomes.push((v["total"].clone(), v["succeeded"].clone(), summary));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[1].1, 3, "three lines succeeded");
    assert_eq!(item_ids(&theirs), item_ids(&ours));
    assert_eq!(item_ids(&ours).len(), 3);
    let st = state(&ctx, Theirs, &theirs, LOOSE);
    let so = state(&ctx, Ours, &ours, LOOSE);
    // Two repos, two clocks: items made within one second tie on
    // created_at in one repo and not in the other, so each order is held
    // to the sort rule and the contents are compared by ID.
    assert_states_eq("batch", (Theirs, &st), (Ours, &so), false);
}

// ---------------------------------------------------------------------------
// Claims are ordinary ops the reference reads
// ---------------------------------------------------------------------------

#[test]
fn the_reference_reads_claims_and_releases() {
    let Some(ctx) = Ctx::new() else { return };
    let repo = ctx.repo("claims", Ours);
    let mut ids = Ids::new();
    let steps = vec![
        add(
            "a",
            &["--kind", "work_item", "--title", "first", "--priority", "1"],
        ),
        add(
            "b",
            &[
                "--kind",
                "work_item",
                "--title",
                "second",
                "--status",
                "todo_soft",
            ],
        ),
        cmd(&["claim"]),
        cmd(&["claim", "{b}", "--lease", "2h"]),
    ];
    run_script(&ctx, Ours, &repo, &mut ids, &steps);
    let ours = state(&ctx, Ours, &repo, STRICT);
    let theirs = state(&ctx, Theirs, &repo, STRICT);
    assert_states_eq("after two claims", (Ours, &ours), (Theirs, &theirs), true);
    for (name, from) in [("a", "todo_hard"), ("b", "todo_soft")] {
        let item = &theirs.show[&ids[name]];
        assert_eq!(item["status"], "in_progress", "{item}");
        assert_eq!(item["fields"]["claim_from"], from, "{item}");
        assert!(item["fields"]["claimed_by"].is_string(), "{item}");
    }
    ctx.ok(Theirs, &repo, false, &["validate"]);
    // Released by ours, read by the reference; then the reference writes on.
    run_script(&ctx, Ours, &repo, &mut ids, &[cmd(&["release", "{b}"])]);
    run_script(
        &ctx,
        Theirs,
        &repo,
        &mut ids,
        &[cmd(&["update", "{a}", "--status", "done"])],
    );
    let ours = state(&ctx, Ours, &repo, STRICT);
    let theirs = state(&ctx, Theirs, &repo, STRICT);
    assert_states_eq(
        "after release and done",
        (Ours, &ours),
        (Theirs, &theirs),
        true,
    );
    assert_eq!(theirs.show[&ids["b"]]["status"], "todo_soft");
    assert!(theirs.show[&ids["b"]]["fields"].get("claimed_by").is_none());
    assert_eq!(ours.show[&ids["a"]]["status"], "done");
}
