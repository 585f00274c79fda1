//! The read cache is correct by construction: whatever happens to the op
//! files between two commands, a warm read (through the cache) prints
//! exactly what a cold read (`HTRAC_NO_CACHE`) prints, and the cache is
//! really used when nothing changed. The racy-timestamp window is set to 0
//! (`HTRAC_CACHE_RACY_MS=0`) so files are cached at once; each test waits
//! a little before changing a cached file, as the 2 s default would.

use std::path::Path;
use std::time::Duration;

use htrac::items::slim::Slim;

use crate::common::{self, git, Env, Run};

pub(crate) fn run(env: &Env, args: &[&str]) -> Run {
    let out = env
        .command(args)
        .env("HTRAC_CACHE_RACY_MS", "0")
        .env("HTRAC_CACHE_STATS", "1")
        .output()
        .unwrap();
    Run::from(out)
}

fn cold(env: &Env, args: &[&str]) -> Run {
    let out = env
        .command(args)
        .env("HTRAC_NO_CACHE", "1")
        .output()
        .unwrap();
    Run::from(out)
}

/// How many items the last command took from the cache (HTRAC_CACHE_STATS).
pub(crate) fn hits(r: &Run) -> usize {
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("cache: "))
        .unwrap_or_else(|| panic!("no cache stats in stderr:\n{}", r.stderr));
    line["cache: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `list --json` and `ready --json` warm equal cold, byte for byte; returns
/// the warm run's cache hits.
fn assert_warm_equals_cold(env: &Env) -> usize {
    let mut h = 0;
    // The text listings and counts read slim items (their own decoding).
    let text: [&[&str]; 4] = [&["list"], &["ready"], &["count-todos"], &["hash-todos"]];
    for args in [&["--json", "list"][..], &["--json", "ready"]]
        .into_iter()
        .chain(text)
    {
        let warm = run(env, args).ok();
        let c = cold(env, args).ok();
        assert_eq!(warm.stdout, c.stdout, "{args:?}: warm != cold");
        h = hits(&warm);
    }
    h
}

/// Waits past the file system's timestamp tick (as the racy window would).
fn tick(env: &Env) {
    common::next_timestamp_tick(env.path());
}

fn setup(n: usize) -> (Env, Vec<String>) {
    let env = Env::new();
    let ids = (0..n)
        .map(|i| env.add(&format!("item {i}"), &["--no-auto-sync", "--priority", "1"]))
        .collect();
    (env, ids)
}

fn cache_file(env: &Env) -> std::path::PathBuf {
    env.cache_files("items-").pop().expect("a cache file")
}

#[test]
fn second_read_comes_from_the_cache_and_an_append_invalidates_one_item() {
    let (env, ids) = setup(4);
    assert_eq!(assert_warm_equals_cold(&env), 4, "warm reads hit the cache");
    tick(&env);
    run(
        &env,
        &["--no-auto-sync", "update", &ids[1], "--status", "done"],
    )
    .ok();
    let first = run(&env, &["--json", "list"]).ok();
    assert_eq!(hits(&first), 3, "exactly the appended item is re-read");
    assert_eq!(assert_warm_equals_cold(&env), 4);
    let list = run(&env, &["--json", "list"]).ok().json();
    let done = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ids[1].as_str())
        .unwrap();
    assert_eq!(done["status"], "done");
}

/// IDs one of which is a prefix of another, or that share their first
/// eight bytes, sort differently as IDs and as file names (`.WI-q-r.ops` <
/// `.WI-q.ops`): the listing must follow the cache's ID order, or a warm
/// read would miss items it holds.
#[test]
fn ids_that_prefix_each_other_are_all_read_from_the_cache() {
    let (env, ids) = setup(1);
    let text = std::fs::read(env.workspace_ops(&ids[0])).unwrap();
    let names = [
        "WI-q",
        "WI-q-r",
        "WI-qr",
        "WI-q.r",
        "WI-q_r",
        "WI-quuuuuuua",
        "WI-quuuuuuub",
        "WI-quuuuuuu",
    ];
    for id in names {
        std::fs::write(env.workspace_ops(id), &text).unwrap();
    }
    let total = names.len() + 1;
    assert_warm_equals_cold(&env);
    assert_eq!(
        assert_warm_equals_cold(&env),
        total,
        "every item from the cache"
    );
    let t = htrac::Tracker::open(&env.root()).unwrap();
    let listing = htrac::cache::listing::Listing::scan(&t).unwrap();
    let listed: Vec<&str> = listing.files.iter().map(|f| listing.id(f)).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "listed in ID order");
    assert_eq!(listed.len(), total);
}

#[test]
fn same_size_rewrite_with_the_old_mtime_is_seen() {
    let (env, ids) = setup(2);
    assert_warm_equals_cold(&env);
    tick(&env);
    common::rewrite_keeping_mtime(&env.workspace_ops(&ids[0]), "item 0", "ITEM 0");
    assert_eq!(assert_warm_equals_cold(&env), 2);
    let show = run(&env, &["--json", "list"]).ok().stdout;
    assert!(show.contains("ITEM 0"), "{show}");
}

#[test]
fn git_checkout_of_an_older_revision_is_seen() {
    let (env, ids) = setup(3);
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-qm", "three items"]);
    tick(&env);
    run(
        &env,
        &["--no-auto-sync", "update", &ids[0], "--title", "renamed"],
    )
    .ok();
    run(&env, &["--no-auto-sync", "discuss", &ids[2], "a note"]).ok();
    assert_warm_equals_cold(&env);
    tick(&env);
    git(env.path(), &["checkout", "HEAD", "--", ".agent"]);
    assert_warm_equals_cold(&env);
    let list = run(&env, &["--json", "list"]).ok().stdout;
    assert!(
        !list.contains("renamed") && !list.contains("a note"),
        "{list}"
    );
}

#[test]
fn an_item_moved_between_tiers_is_seen() {
    let (env, ids) = setup(3);
    assert_warm_equals_cold(&env);
    tick(&env);
    run(&env, &["--no-auto-sync", "stealth", &ids[1]]).ok();
    assert_warm_equals_cold(&env);
    let list = run(&env, &["--json", "list"]).ok().json();
    let moved = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ids[1].as_str())
        .unwrap();
    assert_eq!(moved["tier"], "stealth");
    // A file copied (not moved) into a second tier: both copies are read.
    tick(&env);
    let src = env.workspace_ops(&ids[2]);
    std::fs::copy(&src, env.ops_path("tracker/.ops", &ids[2])).unwrap();
    assert_warm_equals_cold(&env);
    let list = run(&env, &["--json", "list"]).ok().stdout;
    assert!(list.contains("\"cross_tier_conflict\": true"), "{list}");
}

#[test]
fn a_closed_edit_mode_window_changes_the_tier_s_items() {
    let (env, ids) = setup(2);
    run(&env, &["--no-auto-sync", "discuss", &ids[0], "delete me"]).ok();
    let nonce = run(&env, &["--json", "show", &ids[0]]).ok().json()["discussion"][0]["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    run(&env, &["--no-auto-sync", "edit-mode", "on"]).ok();
    run(
        &env,
        &[
            "--no-auto-sync",
            "delete-msg",
            &ids[0],
            &nonce,
            "--reason",
            "test",
        ],
    )
    .ok();
    assert_warm_equals_cold(&env);
    let list = run(&env, &["--json", "list"]).ok().stdout;
    assert!(!list.contains("delete me"), "tombstoned: {list}");
    // Without the window's log the deletion is no longer authorised.
    tick(&env);
    let log = env
        .root()
        .join("tracker-workspace/.edit-mode/edit-mode.ops");
    std::fs::remove_file(&log).unwrap();
    let warm = run(&env, &["--json", "list"]).ok();
    assert_eq!(
        hits(&warm),
        0,
        "the tier's entries are keyed by its edit-mode ops"
    );
    assert_warm_equals_cold(&env);
    let list = run(&env, &["--json", "list"]).ok().stdout;
    assert!(list.contains("delete me"), "restored: {list}");
}

#[test]
fn a_corrupt_or_truncated_cache_is_rebuilt_silently() {
    let (env, _) = setup(3);
    assert_warm_equals_cold(&env);
    let path = cache_file(&env);
    let good = std::fs::read(&path).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x20;
    let cases: Vec<Vec<u8>> = vec![
        b"garbage, not a cache".to_vec(),
        Vec::new(),
        good[..good.len() - 1].to_vec(),
        good[..good.len() / 3].to_vec(),
        flipped,
        [good.clone(), b"x".to_vec()].concat(),
    ];
    for bytes in cases {
        std::fs::write(&path, &bytes).unwrap();
        let warm = run(&env, &["--json", "list"]).ok();
        assert_eq!(hits(&warm), 0, "a damaged cache is not used");
        assert!(
            !warm.stderr.lines().any(|l| !l.starts_with("cache: ")),
            "silent: {}",
            warm.stderr
        );
        assert_eq!(warm.stdout, cold(&env, &["--json", "list"]).ok().stdout);
        assert_eq!(assert_warm_equals_cold(&env), 3, "and rebuilt");
    }
}

/// The cache file keeps every item's summary apart from its heavy part,
/// each section with its checksum: a damaged heavy section leaves slim
/// reads (text `list`, `ready`) their summaries; a whole read rebuilds.
#[test]
fn a_damaged_heavy_section_spares_slim_reads_and_is_rebuilt_by_a_whole_one() {
    let (env, ids) = setup(3);
    run(
        &env,
        &["--no-auto-sync", "discuss", &ids[0], "a long human message"],
    )
    .ok();
    assert_warm_equals_cold(&env);
    let path = cache_file(&env);
    let good = std::fs::read(&path).unwrap();
    // The last byte is the heavy section's checksum.
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    std::fs::write(&path, &bad).unwrap();
    for args in [&["list"][..], &["ready"]] {
        let warm = run(&env, args).ok();
        assert_eq!(hits(&warm), 3, "{args:?}: the summaries are sound");
        assert_eq!(warm.stdout, cold(&env, args).ok().stdout);
    }
    assert!(run(&env, &["ready"]).ok().stdout.contains("(1 unread)"));
    let whole = run(&env, &["--json", "list"]).ok();
    assert_eq!(hits(&whole), 0, "a whole read does not use it");
    assert_eq!(std::fs::read(&path).unwrap(), good, "and rebuilt");
}

/// Appends and moves between tiers after the cache was written: a slim
/// read (`ready`, `list`) finds the stale entries, reads those files, and
/// writes the cache back whole, so the next read takes every item from it.
#[test]
fn a_slim_read_of_a_stale_cache_equals_a_cold_one_and_refreshes_it() {
    let (env, ids) = setup(4);
    assert_warm_equals_cold(&env);
    tick(&env);
    run(
        &env,
        &["--no-auto-sync", "update", &ids[0], "--status", "done"],
    )
    .ok();
    run(&env, &["--no-auto-sync", "stealth", &ids[1]]).ok();
    run(
        &env,
        &["--no-auto-sync", "discuss", &ids[2], "are you there?"],
    )
    .ok();
    for args in [
        &["ready"][..],
        &["list"],
        &["list", "--status", "todo_hard"],
    ] {
        let warm = run(&env, args).ok();
        assert_eq!(warm.stdout, cold(&env, args).ok().stdout, "{args:?}");
    }
    assert_eq!(hits(&run(&env, &["ready"]).ok()), 4, "refreshed");
    assert_eq!(assert_warm_equals_cold(&env), 4);
}

#[test]
fn a_read_only_cache_dir_never_fails_a_command() {
    let (env, ids) = setup(2);
    let ro = env.cache.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    let writable = std::fs::File::create(ro.join("probe")).is_ok();
    for args in [
        &["--json", "list"][..],
        &["ready"],
        &["show", &ids[0]],
        &["count-todos"],
    ] {
        let out = env
            .command(args)
            .env("HTRAC_CACHE_DIR", &ro)
            .env("HTRAC_CACHE_RACY_MS", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            cold(&env, args).stdout,
            "{args:?}"
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if !writable {
        // (root can write anyway; then there is nothing more to check)
        let r = env
            .command(&["cache-rebuild"])
            .env("HTRAC_CACHE_DIR", &ro)
            .output()
            .unwrap();
        assert_eq!(
            r.status.code(),
            Some(2),
            "an explicit rebuild reports the failure"
        );
    }
}

#[test]
fn cache_rebuild_reports_and_rebuilds() {
    let (env, _) = setup(3);
    let r = run(&env, &["cache-rebuild"]).ok();
    assert_eq!(r.stdout, "cache rebuilt\n");
    let r = run(&env, &["--json", "cache-rebuild"]).ok();
    assert_eq!(r.json(), serde_json::json!({"ok": true, "items": 3}));
    std::fs::write(cache_file(&env), b"junk").unwrap();
    run(&env, &["cache-rebuild"]).ok();
    assert_eq!(assert_warm_equals_cold(&env), 3);
}

#[test]
fn broken_and_torn_files_are_never_cached_and_always_reported() {
    let (env, ids) = setup(3);
    assert_eq!(assert_warm_equals_cold(&env), 3);
    tick(&env);
    let broken = env.workspace_ops(&ids[0]);
    std::fs::write(&broken, "- op: update\n  this is: [not closed\n").unwrap();
    let torn = env.workspace_ops(&ids[1]);
    let mut text = std::fs::read_to_string(&torn).unwrap();
    text.push_str("- op: update  # abcd\n  at: '2026-01-01T00:00:00Z'");
    std::fs::write(&torn, text).unwrap();
    for _ in 0..2 {
        let warm = run(&env, &["list"]).ok();
        let c = cold(&env, &["list"]).ok();
        assert_eq!(warm.stdout, c.stdout);
        assert_eq!(hits(&warm), 1, "only the clean file comes from the cache");
        let warnings: Vec<&str> = warm
            .stderr
            .lines()
            .filter(|l| !l.starts_with("cache: "))
            .collect();
        assert_eq!(warnings.join("\n"), c.stderr.trim_end(), "same warnings");
        assert!(
            warm.stderr.contains(&ids[0]) && warm.stderr.contains("torn"),
            "{}",
            warm.stderr
        );
    }
}

#[test]
fn recently_changed_files_are_not_trusted() {
    let (env, _) = setup(2);
    // With the default 2 s window, files written just now are parsed each time.
    for _ in 0..2 {
        let r = env
            .command(&["list"])
            .env("HTRAC_CACHE_STATS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains("cache: 0 of 2"), "{stderr}");
    }
}

/// Used by the property test: the tracker's JSON list, warm and cold.
fn lists(root: &Path, cache: &Path) -> (String, String, usize) {
    let t = htrac::Tracker::open(root).unwrap();
    // First a slim read, through the cache as the last step left it
    // (stale after most steps): it is the cold read, made slim.
    let stale = htrac::cache::snapshot_slim(&t, Some(cache), Duration::ZERO, None).unwrap();
    let (cold, _) = htrac::cache::snapshot_at(&t, None, Duration::ZERO, false).unwrap();
    let made: Vec<Slim> = cold.items.iter().map(Slim::of).collect();
    assert_eq!(stale.items, made, "slim through a stale cache == cold");
    let (warm, _) = htrac::cache::snapshot_at(&t, Some(cache), Duration::ZERO, false).unwrap();
    let (cold, _) = htrac::cache::snapshot_at(&t, None, Duration::ZERO, false).unwrap();
    let json = |s: htrac::tracker::load::Snapshot| {
        let v: Vec<_> = s.items.iter().map(|i| i.to_json(true, true)).collect();
        (serde_json::to_string(&v).unwrap(), s.broken.len())
    };
    let hits = warm.cache_hits;
    // A slim read (through the same cache, current after the warm read)
    // is the cold read, made slim.
    let slim = htrac::cache::snapshot_slim(&t, Some(cache), Duration::ZERO, None).unwrap();
    let made: Vec<Slim> = cold.items.iter().map(Slim::of).collect();
    assert_eq!(slim.items, made, "slim == cold made slim");
    assert_eq!(slim.cache_hits, hits);
    // A summary read (through the same cache) is the cold read, stripped.
    let (summary, _) =
        htrac::cache::snapshot_with(&t, Some(cache), Duration::ZERO, false, true, None).unwrap();
    let mut stripped = cold.items.clone();
    stripped.iter_mut().for_each(htrac::cache::strip);
    assert_eq!(summary.items, stripped, "summary == stripped cold");
    let (w, wb) = json(warm);
    let (c, cb) = json(cold);
    assert_eq!(wb, cb);
    (w, c, hits)
}

mod prop {
    use super::*;
    use htrac::tracker::create::NewItem;
    use htrac::Tracker;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Add,
        Append(usize),
        Rewrite(usize),
        Delete(usize),
        Move(usize),
        Read,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Add),
            (0usize..8).prop_map(Step::Append),
            (0usize..8).prop_map(Step::Rewrite),
            (0usize..8).prop_map(Step::Delete),
            (0usize..8).prop_map(Step::Move),
            Just(Step::Read),
        ]
    }

    proptest! {
        #![proptest_config(crate::proptest_config(24))]
        #[test]
        fn random_changes_leave_warm_equal_to_cold(steps in proptest::collection::vec(step(), 1..14)) {
            let dir = tempfile::tempdir().unwrap();
            let cache = dir.path().join("cache.bin");
            let root = dir.path().join(".agent");
            htrac::init::init(&root).unwrap();
            let t = Tracker::open(&root).unwrap();
            let mut n = 0;
            for s in steps {
                let files = t.files().unwrap();
                let pick = |i: usize| files.get(i % files.len().max(1)).cloned();
                match s {
                    Step::Add => {
                        n += 1;
                        t.add(&NewItem::new("work_item", &format!("item {n}"))).unwrap();
                    }
                    Step::Append(i) => if let Some(f) = pick(i) {
                        let text = std::fs::read_to_string(&f.path).unwrap();
                        let first = text.split_inclusive('\n').take_while(|l| !l.starts_with("  data:")).collect::<String>();
                        let op = first.replace("op: create", "op: update").replace("clock: 1", "clock: 9")
                            + &format!("  set:{}\n    title: changed {n}{}\n", tail(&first), tail(&first));
                        std::fs::OpenOptions::new().append(true).open(&f.path).unwrap()
                            .write_all(op.as_bytes()).unwrap();
                    },
                    Step::Rewrite(i) => if let Some(f) = pick(i) {
                        // Same size, same mtime, other content.
                        let meta = std::fs::metadata(&f.path).unwrap();
                        let text = std::fs::read_to_string(&f.path).unwrap();
                        let new = text.replacen("item", "ITEM", 1);
                        std::fs::write(&f.path, new).unwrap();
                        std::fs::File::options().write(true).open(&f.path).unwrap()
                            .set_modified(meta.modified().unwrap()).unwrap();
                    },
                    Step::Delete(i) => if let Some(f) = pick(i) {
                        std::fs::remove_file(&f.path).unwrap();
                    },
                    Step::Move(i) => if let Some(f) = pick(i) {
                        let to = if f.tier == htrac::Tier::Stealth { htrac::Tier::Canonical } else { htrac::Tier::Stealth };
                        std::fs::rename(&f.path, t.item_path(to, &f.id)).unwrap();
                    },
                    Step::Read => {}
                }
                common::next_timestamp_tick(dir.path());
                let (w, c, _) = lists(&root, &cache);
                prop_assert_eq!(w, c);
            }
            let (_, _, hits) = lists(&root, &cache);
            prop_assert_eq!(hits, t.files().unwrap().len());
        }
    }

    use std::io::Write;

    /// The `  # nonce` tail of an op's first line.
    fn tail(block: &str) -> String {
        let line = block.lines().next().unwrap_or("");
        line.rfind("  #")
            .map(|i| line[i..].to_string())
            .unwrap_or_default()
    }
}

/// [`run`] with the racy window set to `ms`.
fn run_racy(env: &Env, args: &[&str], ms: &str) -> Run {
    let out = env
        .command(args)
        .env("HTRAC_CACHE_RACY_MS", ms)
        .env("HTRAC_CACHE_STATS", "1")
        .output()
        .unwrap();
    Run::from(out)
}

/// The cache file's identity: a rewrite (temp file + rename) changes it.
fn file_identity(path: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.modified().unwrap())
}

/// The commands an agent reads with: slim ones (text `ready`, `list`) and
/// whole ones (`--json list`, `show`).
fn readers(id: &str) -> Vec<Vec<String>> {
    [
        &["ready"][..],
        &["list"],
        &["--json", "list"],
        &["show", id],
        &["--json", "show", id],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// Right after a write, the changed file is within the racy window: it is
/// parsed (the read shows the change) but not cached, and its now stale
/// record is harmless — the cache file is not rewritten for it.
#[test]
fn a_read_right_after_a_write_shows_it_without_rewriting_the_cache() {
    let (env, ids) = setup(4);
    assert_eq!(assert_warm_equals_cold(&env), 4);
    let path = cache_file(&env);
    tick(&env);
    run(
        &env,
        &["--no-auto-sync", "update", &ids[1], "--priority", "3"],
    )
    .ok();
    let before = file_identity(&path);
    for args in readers(&ids[1]) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let warm = run_racy(&env, &args, "3600000").ok();
        assert_eq!(warm.stdout, cold(&env, &args).ok().stdout, "{args:?}");
        assert_eq!(file_identity(&path), before, "{args:?}: cache rewritten");
    }
    let warm = run_racy(&env, &["--json", "list"], "3600000").ok();
    assert_eq!(
        hits(&warm),
        3,
        "the changed item is parsed, the rest cached"
    );
    assert!(warm.stdout.contains("\"priority\": 3"), "{}", warm.stdout);
}

/// Once the changed files leave the racy window, the first snapshot read —
/// slim or whole — writes the cache back (copying the unchanged items' records),
/// and every read after it is fully warm and equals a cold one.
#[test]
fn after_the_racy_window_any_read_refreshes_the_cache_for_all() {
    let (env, ids) = setup(4);
    assert_eq!(assert_warm_equals_cold(&env), 4);
    let path = cache_file(&env);
    // `show` reads one item's file, not the snapshot: it is a follow-up only.
    let firsts: [&[&str]; 3] = [&["ready"], &["list"], &["--json", "list"]];
    for (n, first) in firsts.into_iter().enumerate() {
        tick(&env);
        let p = (n % 4).to_string();
        run(
            &env,
            &["--no-auto-sync", "update", &ids[2], "--priority", &p],
        )
        .ok();
        run(
            &env,
            &[
                "--no-auto-sync",
                "discuss",
                &ids[3],
                &format!("note {n}"),
                "--ack-thread",
            ],
        )
        .ok();
        // Just after the write: parsed, not cached.
        run_racy(&env, &["ready"], "3600000").ok();
        let before = file_identity(&path);
        let r = run(&env, first).ok();
        assert_eq!(r.stdout, cold(&env, first).ok().stdout, "{first:?}");
        assert_ne!(file_identity(&path), before, "{first:?}: not rewritten");
        for args in readers(&ids[2]) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let warm = run(&env, &args).ok();
            assert_eq!(warm.stdout, cold(&env, &args).ok().stdout, "{args:?}");
        }
        assert_eq!(assert_warm_equals_cold(&env), 4, "after {first:?}");
        assert_eq!(hits(&run(&env, &["--json", "list"]).ok()), 4);
    }
}

/// A slim read that must write the cache back while its heavy section is
/// damaged copies nothing from it: it caches what it parsed, the next
/// reads parse the rest and cache them again — always equal to cold.
#[test]
fn a_write_back_never_copies_a_damaged_heavy_section() {
    let (env, ids) = setup(3);
    assert_warm_equals_cold(&env);
    let path = cache_file(&env);
    let mut bad = std::fs::read(&path).unwrap();
    let at = bad.len() - 20;
    bad[at] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    tick(&env);
    run(
        &env,
        &["--no-auto-sync", "update", &ids[0], "--priority", "3"],
    )
    .ok();
    for args in [&["ready"][..], &["list"], &["ready"]] {
        let warm = run(&env, args).ok();
        assert_eq!(warm.stdout, cold(&env, args).ok().stdout, "{args:?}");
    }
    assert_eq!(assert_warm_equals_cold(&env), 3);
    assert_eq!(hits(&run(&env, &["--json", "list"]).ok()), 3);
}

/// The configuration document is kept in the cache directory under its
/// exact text: an edit to `config.yaml` at the same size with the old
/// mtime put back is read by the very next command.
#[test]
fn an_edit_to_the_config_is_seen_at_once_even_at_the_same_size_and_mtime() {
    let (env, _) = setup(1);
    let config = env.root().join("tracker/config.yaml");
    assert!(config.exists(), "setup wrote a config.yaml");
    run(&env, &["list"]).ok();
    let memo = env.cache_files("config-");
    assert_eq!(memo.len(), 1, "the document is kept after a command");
    let kept = std::fs::read(&memo[0]).unwrap();
    common::rewrite_keeping_mtime(&config, "prefix: WI\n", "prefix: WX\n");
    let id = env.add("after the edit", &["--no-auto-sync"]);
    assert!(id.starts_with("WX-"), "the new prefix is used: {id}");
    assert_ne!(std::fs::read(&memo[0]).unwrap(), kept, "kept afresh");
    // And back: the old text is read again, not the memo of the new one.
    common::rewrite_keeping_mtime(&config, "prefix: WX\n", "prefix: WI\n");
    let id = env.add("after the edit back", &["--no-auto-sync"]);
    assert!(id.starts_with("WI-"), "the old prefix is back: {id}");
    assert_eq!(std::fs::read(&memo[0]).unwrap(), kept);
}
