//! `validate --similar` and `--deep-similar` side by side with the reference
//! (`htrac` of hypergumbo-tracker 0.11.0) on the same tracker: the same
//! bytes on stdout and stderr and the same exit status, as text and as
//! `--json`, with and without `--strict`. The tracker has near-duplicate
//! pairs in every tier, resolved and deleted ones, pairs already marked
//! `duplicate_of` / `not_duplicate_of` (by either side), titles changed
//! after creation (the compiled text counts, not the created one), custom
//! fields, and titles without a word (fingerprint 0). `--deep-similar` is
//! compared in the case both tools can run here: the reference without its
//! `dedup` extra (which downloads a model at run time), the only case htrac
//! has.

use crate::harness::*;

const DEEP_SKIPPED: &str =
    "deep-similar: skipped (install dedup extras: pip install hypergumbo-tracker[dedup])";

fn script() -> Vec<Step> {
    let wi =
        |name: &'static str, title: &str| add(name, &["--kind", "work_item", "--title", title]);
    vec![
        // A plain pair in the workspace.
        wi(
            "a1",
            "Fix the cache invalidation after rebase on dev branch",
        ),
        wi(
            "a2",
            "Fix the cache invalidation after a rebase on dev branch",
        ),
        // A pair with one side resolved and the other deleted later.
        wi("b1", "Terminal pane resize loses focus"),
        wi("b2", "Terminal pane resize loses the focus"),
        cmd(&["update", "{b1}", "--status", "done"]),
        // Three alike across the tiers; two pairs marked, one by each side.
        wi(
            "c1",
            "YAML emitter quotes unicode scalars twice in comments",
        ),
        wi(
            "c2",
            "YAML emitter quotes unicode scalars twice in the comments",
        ),
        wi(
            "c3",
            "The YAML emitter quotes unicode scalars twice in comments",
        ),
        cmd(&["promote", "{c1}"]),
        cmd(&["stealth", "{c2}"]),
        cmd(&["update", "{c1}", "--add-not-duplicate-of", "{c3}"]),
        cmd(&["update", "{c3}", "--add-duplicate-of", "{c1}"]),
        // Unalike when created, alike once retitled (the same words); and
        // the reverse.
        wi("d1", "Sync breaker trips after pending threshold on push"),
        wi("d2", "Something else entirely about the web login page"),
        cmd(&[
            "update",
            "{d2}",
            "--title",
            "After pending threshold on push: sync breaker trips",
        ]),
        wi(
            "e1",
            "Racy mtime makes the stat cache rebuild every snapshot",
        ),
        wi(
            "e2",
            "Every snapshot: racy mtime makes the stat cache rebuild",
        ),
        cmd(&[
            "update",
            "{e2}",
            "--title",
            "Lamport clock ordering breaks when peeking a rebased branch",
        ]),
        // Custom fields are part of the text.
        add(
            "f1",
            &[
                "--kind",
                "work_item",
                "--title",
                "Scroll position resets on layout change",
                "--field",
                "notes=seen in the tui pane on every resize of the terminal window",
            ],
        ),
        wi("f2", "Scroll position resets on layout change"),
        cmd(&[
            "update",
            "{f2}",
            "--add-field",
            "notes=caused by the yaml emitter quoting nonce comments in batch imports",
        ]),
        // No word in the title: fingerprint 0, near each other.
        wi("g1", "..."),
        wi("g2", "?!"),
        cmd(&["update", "{g2}", "--status", "deleted"]),
        // One alone.
        wi(
            "h1",
            "Nonce comments vanish when the batch importer rewrites files",
        ),
    ]
}

/// Runs `args` with both tools on `repo`; both must print the same bytes
/// and exit alike. Returns the reference's stdout. (The reference's stderr
/// reminder after every successful command, `[tracker] Auto-sync is
/// AUTOMATIC ...`, is one htrac never prints, for any command: it is left
/// out of the comparison.)
fn same(ctx: &Ctx, repo: &Repo, json: bool, args: &[&str]) -> String {
    let theirs = ctx.run(Theirs, repo, json, args);
    let ours = ctx.run(Ours, repo, json, args);
    let what = format!("{}validate {args:?}", if json { "--json " } else { "" });
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout),
        "{what}: stdout differs\nours:\n{}\nreference:\n{}",
        show_output(&ours),
        show_output(&theirs)
    );
    let their_err: String = String::from_utf8_lossy(&theirs.stderr)
        .lines()
        .filter(|l| !l.starts_with("[tracker] Auto-sync is AUTOMATIC"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        their_err,
        "{what}: stderr differs"
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{what}: exit status"
    );
    String::from_utf8(theirs.stdout).unwrap()
}

#[test]
fn validate_similar_and_deep_similar_print_what_the_reference_prints() {
    let Some(ctx) = Ctx::new() else { return };
    let repo = ctx.repo("similar", Theirs);
    let mut ids = Ids::new();
    // Ours writes the items; the reference writes the last marks too, so
    // both tools' files are read.
    let steps = script();
    run_script(&ctx, Ours, &repo, &mut ids, &steps);
    let id = |n: &str| ids[n].clone();
    ctx.ok(
        Theirs,
        &repo,
        false,
        &["update", &id("a2"), "--add-not-duplicate-of", &id("h1")],
    );

    let text = same(&ctx, &repo, false, &["validate", "--similar"]);
    // What the tracker was made to show (so the comparison is not vacuous).
    let pair = |a: &str, b: &str| {
        let (x, y) = if id(a) < id(b) {
            (id(a), id(b))
        } else {
            (id(b), id(a))
        };
        format!("near-duplicate: {x} and {y} (SimHash distance: ")
    };
    for (a, b) in [
        ("a1", "a2"),
        ("b1", "b2"),
        ("c2", "c3"),
        ("d1", "d2"),
        ("g1", "g2"),
    ] {
        assert!(text.contains(&pair(a, b)), "{a}/{b} not reported:\n{text}");
    }
    for (a, b) in [("c1", "c2"), ("c1", "c3"), ("e1", "e2"), ("f1", "f2")] {
        assert!(!text.contains(&pair(a, b)), "{a}/{b} reported:\n{text}");
    }
    assert!(text.ends_with("validation passed\n"), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("near-duplicate"))
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "pairs in ID order");

    for json in [false, true] {
        same(&ctx, &repo, json, &["validate", "--similar"]);
        same(
            &ctx,
            &repo,
            json,
            &["validate", "--similar", "--deep-similar"],
        );
        let strict = same(&ctx, &repo, json, &["validate", "--similar", "--strict"]);
        assert!(!strict.contains("WARNING") && !strict.contains("validation passed"));
        let deep = same(&ctx, &repo, json, &["validate", "--deep-similar"]);
        assert!(deep.contains(DEEP_SKIPPED), "{deep}");
        assert!(!deep.contains("near-duplicate"));
        same(
            &ctx,
            &repo,
            json,
            &["validate", "--deep-similar", "--strict"],
        );
    }
    // Files named: no cross-item checks, so no similarity report.
    let file = format!(".agent/tracker-workspace/.ops/.{}.ops", id("a1"));
    let named = same(
        &ctx,
        &repo,
        false,
        &["validate", "--similar", "--deep-similar", &file],
    );
    assert_eq!(named, "validation passed\n");

    // Marking the remaining pairs leaves nothing to report.
    let report = ctx.json(Ours, &repo, &["validate", "--similar"]);
    for w in report["warnings"].as_array().unwrap() {
        let w = w.as_str().unwrap();
        let rest = w.strip_prefix("near-duplicate: ").unwrap();
        let (a, rest) = rest.split_once(" and ").unwrap();
        let (b, _) = rest.split_once(' ').unwrap();
        // From the stealth side: a committed item may not name a stealth one.
        let (a, b) = if b == id("c2") { (b, a) } else { (a, b) };
        ctx.ok(
            Ours,
            &repo,
            false,
            &["update", a, "--add-not-duplicate-of", b],
        );
    }
    let clean = same(&ctx, &repo, false, &["validate", "--similar", "--strict"]);
    assert_eq!(clean, "validation passed\n");
}
