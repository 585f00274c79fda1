//! Differential tests of the insight commands against the reference
//! (`htrac` of hypergumbo-tracker 0.11.0): on the same files, `clusters`
//! prints the same bytes (memberships, ranks, rounded similarities),
//! `priority-trend` the same series (CSV, JSON, text), `add` flags the same
//! near-duplicate pairs at the same SimHash distances, and `migrate` makes
//! the same items from the same ledgers — and each tool skips what the
//! other imported.
//!
//! Skips loudly (or fails under `CI=true`) when the reference cannot be
//! installed, as `differential.rs`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::*;
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::{Op, Role};
use serde_json::{json, Value};

/// A small deterministic generator (64-bit LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const TOPICS: [&[&str]; 5] = [
    &[
        "lamport", "clock", "branch", "rebase", "tick", "peek", "ordering",
    ],
    &[
        "tui", "pane", "layout", "terminal", "resize", "focus", "scroll",
    ],
    &[
        "yaml", "emitter", "quote", "scalar", "unicode", "nonce", "comment",
    ],
    &[
        "sync",
        "remote",
        "push",
        "pending",
        "threshold",
        "breaker",
        "branch",
    ],
    &[
        "cache", "stat", "inode", "racy", "mtime", "rebuild", "snapshot",
    ],
];
const COMMON: &[&str] = &[
    "the", "fix", "slow", "when", "after", "breaks", "add", "test", "for", "on", "in", "wrong",
    "item", "file",
];

fn sentence(rng: &mut Rng, topic: &[&str], words: usize) -> String {
    (0..words)
        .map(|_| {
            if rng.below(3) == 0 {
                rng.pick(COMMON)
            } else {
                rng.pick(topic)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn batch(ctx: &Ctx, repo: &Repo, lines: &[String]) {
    let path = repo.dir.join("batch.txt");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    ctx.ok(Ours, repo, false, &["batch", path.to_str().unwrap()]);
    fs::remove_file(&path).unwrap();
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// About 90 items over five topics with descriptions that mention item IDs
/// and ADRs, string fields, discussions, resolved and deleted items.
fn cluster_repo(ctx: &Ctx) -> Repo {
    let repo = ctx.repo("clusters", Ours);
    let mut rng = Rng(20261124);
    let mut adds = Vec::new();
    for n in 0..90 {
        let topic = TOPICS[rng.below(TOPICS.len())];
        let words = 4 + rng.below(4);
        let title = format!("{} {n}", sentence(&mut rng, topic, words));
        let mut line = format!(
            "add --kind work_item --title {} --priority {}",
            quote(&title),
            rng.below(5)
        );
        if rng.below(2) == 0 {
            let desc = format!(
                "{}. See WI-babab-dodod-fufuf and ADR-00{}{} before {}.",
                sentence(&mut rng, topic, 8),
                rng.below(10),
                rng.below(10),
                sentence(&mut rng, topic, 3)
            );
            line.push_str(&format!(" --description {}", quote(&desc)));
        }
        if rng.below(4) == 0 {
            line.push_str(&format!(
                " --field area={}",
                quote(&sentence(&mut rng, topic, 2))
            ));
        }
        adds.push(line);
    }
    batch(ctx, &repo, &adds);
    let list = ctx.json(Ours, &repo, &["list"]);
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut more = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        match n % 9 {
            0 => more.push(format!("update {id} --status done")),
            3 => more.push(format!(
                "discuss {id} {}",
                quote(&sentence(&mut rng, TOPICS[n % 5], 6))
            )),
            _ => {}
        }
    }
    more.push(format!("update {} --status deleted", ids[1]));
    more.push(format!("update {} --status wont_do", ids[2]));
    batch(ctx, &repo, &more);
    repo
}

#[test]
fn clusters_match_the_reference_byte_for_byte() {
    let Some(ctx) = Ctx::new() else { return };
    let repo = cluster_repo(&ctx);
    let mut nonempty = 0;
    for flags in [
        &[][..],
        &["--k", "4", "--shared", "2"],
        &["--k", "8", "--shared", "3", "--min-size", "3"],
        &["--all", "--k", "5", "--shared", "2"],
        &[
            "--status",
            "todo_hard,done",
            "--k",
            "3",
            "--shared",
            "1",
            "--limit",
            "4",
        ],
    ] {
        let mut args = vec!["clusters"];
        args.extend_from_slice(flags);
        for json in [true, false] {
            let ours = ctx.ok(Ours, &repo, json, &args);
            let theirs = ctx.ok(Theirs, &repo, json, &args);
            assert_text_eq(
                &format!("clusters {flags:?} (json: {json})"),
                ("reference", &theirs),
                ("ours", &ours),
            );
            if json {
                let v: Value = serde_json::from_str(&ours).unwrap();
                nonempty += usize::from(!v["clusters"].as_array().unwrap().is_empty());
            }
        }
    }
    assert!(nonempty >= 3, "the generated tracker should form clusters");
}

// ---------------------------------------------------------------------------
// priority-trend
// ---------------------------------------------------------------------------

fn write_ops(dir: &Path, prefix: &str, ops: &[Op]) -> String {
    let data = ops
        .iter()
        .find(|o| o.kind == "create")
        .and_then(|o| o.body.get("data"))
        .cloned()
        .unwrap_or_else(|| json!({"title": "no create"}));
    let id = htrac::items::ids::compute_id(prefix, &data, "");
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join(format!(".{id}.ops")),
        ops.iter().map(emit_op).collect::<String>(),
    )
    .unwrap();
    id
}

fn data(title: &str, status: &str, priority: i64) -> Value {
    json!({"kind": "work_item", "title": title, "status": status, "priority": priority,
        "parent": null, "tags": [], "isbefore": [], "duplicate_of": [], "not_duplicate_of": [],
        "pr_ref": null, "description": "", "fields": {}})
}

fn at(day: i64, sec: i64) -> String {
    htrac::timestamp::format_utc(day * 86400 + sec)
}

/// Sixty items over two months: creations, priority changes, resolutions,
/// reopenings, deletions, an update stamped before its create, an op with
/// an unreadable `at`, and one item copied into two tiers.
fn trend_repo(ctx: &Ctx) -> Repo {
    let repo = ctx.repo("trend", Ours);
    let ws = repo.dir.join(".agent/tracker-workspace/.ops");
    let canon = repo.dir.join(".agent/tracker/.ops");
    let mut rng = Rng(7);
    let start = htrac::insight::trend::parse_day("2026-03-01").unwrap();
    let statuses = [
        "done",
        "todo_soft",
        "wont_do",
        "in_progress",
        "deleted",
        "todo_hard",
    ];
    for n in 0..60 {
        let mut day = start + rng.below(45) as i64;
        let first = if rng.below(8) == 0 {
            "done"
        } else {
            "todo_hard"
        };
        let mut ops = vec![Op::new(
            "create",
            &at(day, rng.below(86400) as i64),
            Role::Agent,
            "a_agent",
            1,
            &format!("{:04x}", n),
        )
        .with(
            "data",
            data(&format!("item {n}"), first, rng.below(5) as i64),
        )];
        for k in 0..rng.below(5) {
            day += rng.below(9) as i64;
            let set = if rng.below(2) == 0 {
                json!({"status": statuses[rng.below(statuses.len())]})
            } else {
                json!({"priority": rng.below(5)})
            };
            let when = match rng.below(12) {
                0 => at(day - 20, 0),
                1 => "not a time".to_string(),
                _ => at(day, rng.below(86400) as i64),
            };
            ops.push(
                Op::new(
                    "update",
                    &when,
                    Role::Human,
                    "amy",
                    k as i64 + 2,
                    &format!("{:02x}{:02x}", n, k),
                )
                .with("set", set)
                .with("add", json!({}))
                .with("remove", json!({})),
            );
        }
        let id = write_ops(&ws, "WI", &ops);
        if n == 7 {
            // The same item in canonical too, with one more op there.
            let mut more = ops.clone();
            more.push(
                Op::new("update", &at(day + 3, 0), Role::Human, "amy", 9, "ffee")
                    .with("set", json!({"priority": 0})),
            );
            let text: String = more.iter().map(emit_op).collect();
            fs::create_dir_all(&canon).unwrap();
            fs::write(canon.join(format!(".{id}.ops")), text).unwrap();
        }
    }
    repo
}

#[test]
fn priority_trend_matches_the_reference() {
    let Some(ctx) = Ctx::new() else { return };
    let repo = trend_repo(&ctx);
    for flags in [
        &["--csv"][..],
        &["--csv", "--since", "2026-03-10", "--until", "2026-03-20"],
        &["--csv", "--since", "2026-06-01"],
        &["--csv", "--until", "2026-02-01"],
    ] {
        let mut args = vec!["priority-trend"];
        args.extend_from_slice(flags);
        assert_text_eq(
            &format!("priority-trend {flags:?}"),
            ("reference", &ctx.ok(Theirs, &repo, false, &args)),
            ("ours", &ctx.ok(Ours, &repo, false, &args)),
        );
    }
    let theirs = ctx.json(Theirs, &repo, &["priority-trend"]);
    let ours = ctx.json(Ours, &repo, &["priority-trend"]);
    assert_json_eq("priority-trend --json", (Theirs, &theirs), (Ours, &ours));
    assert!(ours["points"].as_array().unwrap().len() > 40);
    // Text mode: the same summary line (each tool writes its own chart).
    let ours = ctx.ok(Ours, &repo, false, &["priority-trend", "--out", "ours.svg"]);
    let theirs = ctx.ok(
        Theirs,
        &repo,
        false,
        &["priority-trend", "--out", "theirs.svg"],
    );
    assert_eq!(
        ours.replace("ours.svg", "X"),
        theirs.replace("theirs.svg", "X")
    );
}

// ---------------------------------------------------------------------------
// near-duplicates on add
// ---------------------------------------------------------------------------

/// (new, old, distance) of every near-duplicate warning in `stderr`.
fn warned(stderr: &str) -> BTreeSet<(String, String, u32)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (before, rest) = l.split_once(" is similar to existing ")?;
            let new = before.rsplit(' ').next()?;
            let (old, rest) = rest.split_once(" (SimHash distance: ")?;
            let (bits, _) = rest.split_once(" bits)")?;
            Some((new.to_string(), old.to_string(), bits.parse().ok()?))
        })
        .collect()
}

#[test]
fn near_duplicate_warnings_match_the_reference() {
    let Some(ctx) = Ctx::new() else { return };
    let mut rng = Rng(99);
    let base = [
        "Fix the cache invalidation bug in the reader",
        "Lamport clock skips a tick after rebase on dev",
        "TUI layout wraps the detail pane badly on resize",
    ];
    let mut steps: Vec<Vec<String>> = Vec::new();
    for n in 0..24 {
        let mut words: Vec<&str> = base[n % 3].split(' ').collect();
        // Drop, swap or add a word or two: some stay within 8 bits, some not.
        for _ in 0..rng.below(3) {
            match rng.below(3) {
                0 if words.len() > 3 => {
                    let i = rng.below(words.len());
                    words.remove(i);
                }
                1 => {
                    let i = rng.below(words.len());
                    words[i] = rng.pick(COMMON);
                }
                _ => words.push(rng.pick(&["now", "again", "please", "v2", "later"])),
            }
        }
        let mut args = vec![
            "add".to_string(),
            "--kind".into(),
            "work_item".into(),
            "--title".into(),
            format!("{} {}", words.join(" "), if n % 5 == 0 { "" } else { "x" })
                .trim()
                .to_string(),
            "--priority".into(),
            (n % 5).to_string(),
        ];
        if n % 4 == 0 {
            args.extend([
                "--description".into(),
                format!("Seen in run {n} of the nightly job"),
            ]);
        }
        if n % 6 == 0 {
            args.extend(["--field".into(), "area=reader cache".into()]);
        }
        steps.push(args);
    }
    let mut all: [BTreeSet<(String, String, u32)>; 2] = Default::default();
    for (k, tool) in [Ours, Theirs].into_iter().enumerate() {
        let repo = ctx.repo(&format!("dupes-{}", tool.name()), Ours);
        for args in &steps {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = ctx.run(tool, &repo, false, &args);
            assert!(out.status.success(), "{}", show_output(&out));
            all[k].extend(warned(&String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert_eq!(
        all[0], all[1],
        "ours (left) and the reference (right) flag different pairs"
    );
    assert!(
        all[0].len() >= 5,
        "the titles should give several near-duplicates: {:?}",
        all[0]
    );
    assert!(
        all[0].iter().any(|(_, _, d)| *d > 0),
        "some pairs are near, not equal"
    );
}

// ---------------------------------------------------------------------------
// migrate
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrate")
        .join(name)
}

fn allow_meta(repo: &Repo) {
    for name in ["config.yaml", "config.yaml.template"] {
        let path = repo.dir.join(".agent/tracker").join(name);
        if !path.exists() {
            continue;
        }
        let mut perms = fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
        fs::set_permissions(&path, perms).unwrap();
        let text = fs::read_to_string(&path).unwrap().replacen(
            "kinds:\n",
            "kinds:\n  meta_invariant:\n    prefix: META\n    fields_schema:\n      statement:\n        type: text\n        required: true\n",
            1,
        );
        fs::write(&path, text).unwrap();
    }
}

fn migrate_args() -> Vec<String> {
    vec![
        "migrate".into(),
        "--ledger".into(),
        fixture("invariant-ledger.md").to_str().unwrap().into(),
        "--work-items".into(),
        fixture("work_items.md").to_str().unwrap().into(),
    ]
}

/// What an item is, without who wrote it or when.
fn content(ctx: &Ctx, tool: Tool, repo: &Repo, id: &str) -> Value {
    let v = ctx.json(tool, repo, &["show", id]);
    let keys = [
        "id",
        "kind",
        "title",
        "status",
        "priority",
        "parent",
        "tags",
        "pr_ref",
        "description",
        "fields",
        "tier",
    ];
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), v[*k].clone()))
            .collect(),
    )
}

#[test]
fn migrate_matches_the_reference_and_each_skips_the_others_items() {
    let Some(ctx) = Ctx::new() else { return };
    let args = migrate_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut results = Vec::new();
    let mut repos = Vec::new();
    for tool in [Ours, Theirs] {
        let repo = ctx.repo(&format!("migrate-{}", tool.name()), Ours);
        allow_meta(&repo);
        let v = ctx.json(tool, &repo, &args);
        results.push(v);
        repos.push(repo);
    }
    let keys = [
        "items_created",
        "items_skipped",
        "items_by_kind",
        "errors",
        "id_map",
        "dry_run",
    ];
    for k in keys {
        assert_eq!(results[0][k], results[1][k], "{k}");
    }
    assert_eq!(results[0]["items_created"], 13);
    for id in results[0]["id_map"].as_object().unwrap().values() {
        let id = id.as_str().unwrap();
        assert_json_eq(
            &format!("migrated item {id}"),
            (Theirs, &content(&ctx, Theirs, &repos[1], id)),
            (Ours, &content(&ctx, Ours, &repos[0], id)),
        );
    }
    // Each tool, run on the other's import, creates nothing.
    for (tool, repo) in [(Theirs, &repos[0]), (Ours, &repos[1])] {
        let v = ctx.json(tool, repo, &args);
        assert_eq!(
            v["items_created"],
            0,
            "{} on the other's import",
            tool.name()
        );
        assert_eq!(v["items_skipped"], 14);
        assert_eq!(v["id_map"], results[0]["id_map"]);
    }
}
