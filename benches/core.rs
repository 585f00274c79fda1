//! Micro-benchmarks of the read path, so regressions show: parsing one
//! typical op file, compiling its ops, loading a 1,000-item tracker cold
//! (parse everything) and warm (through the read cache), and `ready` over
//! the loaded items, and `prime`'s gathering on a 10,000-item tracker with
//! a warm cache (its memo used, and recomputed), and checking one op's
//! SSH signature (signed authority) cold and from the verification cache.
//! Run with `cargo bench --bench core` (`make bench`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use divan::{black_box, Bencher};
use htrac::items::compile::compile;
use htrac::{oplog, Op, Tier, Tracker};

fn main() {
    divan::main();
}

const ITEMS: usize = 1000;

/// A typical item's op log: a create, two updates, two discussion entries.
fn typical_ops(i: usize) -> String {
    let n = |k: usize| format!("{:04x}", (i * 7 + k) % 0xffff);
    let op = |k: usize, body: &str| {
        let nonce = n(k);
        let mut s = String::new();
        for (j, line) in body.lines().enumerate() {
            let line = if j == 0 {
                format!("- {line}")
            } else {
                format!("  {line}")
            };
            s.push_str(&format!("{line}  # {nonce}\n"));
        }
        s
    };
    let head = |k: usize, kind: &str, by: &str| {
        format!(
            "op: {kind}\nat: '2025-0{}-1{}T10:2{}:00Z'\nby: {by}\nactor: {}\nclock: {}\nnonce: {}",
            1 + k % 9,
            k % 10,
            k % 10,
            if by == "human" { "alice" } else { "dev_agent" },
            k + 1,
            n(k)
        )
    };
    let mut s = op(
        0,
        &format!(
            "{}\ndata:\n  kind: work_item\n  title: \"Fix the racy cache invalidation in the reader ({i})\"\n  status: todo_hard\n  priority: {}\n  parent: null\n  tags:\n  - perf\n  - cache\n  isbefore: []\n  duplicate_of: []\n  not_duplicate_of: []\n  pr_ref: null\n  description: \"A file changed twice within one timestamp tick looks unchanged; the reader must not trust such entries. See the notes in the cache module for how ctime helps.\"\n  fields: {{}}",
            head(0, "create", "agent"),
            i % 5
        ),
    );
    s += &op(
        1,
        &format!(
            "{}\nset:\n  priority: {}",
            head(1, "update", "agent"),
            (i + 1) % 5
        ),
    );
    s += &op(
        2,
        &format!(
            "{}\nmessage: \"Started on this; the first attempt keys on size and mtime only.\"",
            head(2, "discuss", "agent")
        ),
    );
    s += &op(
        3,
        &format!(
            "{}\nset: {{}}\nadd:\n  tags:\n  - reader",
            head(3, "update", "human")
        ),
    );
    s += &op(
        4,
        &format!(
            "{}\nmessage: \"Please add ctime too: set_modified can restore an mtime.\"",
            head(4, "discuss", "human")
        ),
    );
    s
}

fn ops_of(text: &str) -> Vec<Op> {
    oplog::parse(Path::new("bench.ops"), text)
        .expect("typical ops parse")
        .ops
        .into_iter()
        .map(|(_, o)| o)
        .collect()
}

/// A tracker with [`ITEMS`] items on disk (kept for the whole run).
fn tracker() -> &'static (tempfile::TempDir, Tracker, PathBuf) {
    static T: std::sync::OnceLock<(tempfile::TempDir, Tracker, PathBuf)> =
        std::sync::OnceLock::new();
    T.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join(".agent");
        htrac::init::init(&root).expect("init");
        let t = Tracker::open(&root).expect("open");
        for i in 0..ITEMS {
            let tier = if i % 7 == 0 {
                Tier::Canonical
            } else {
                Tier::Workspace
            };
            std::fs::write(
                t.item_path(tier, &format!("WI-bench-{i:05}")),
                typical_ops(i),
            )
            .expect("write ops");
        }
        let cache = dir.path().join("cache.bin");
        // Back-date nothing: a zero racy window lets every file be cached.
        htrac::cache::snapshot_at(&t, Some(&cache), Duration::ZERO, true).expect("warm");
        (dir, t, cache)
    })
}

#[divan::bench]
fn parse_one_file(b: Bencher) {
    let text = typical_ops(1);
    b.bench(|| oplog::parse(Path::new("bench.ops"), black_box(&text)).unwrap());
}

#[divan::bench]
fn compile_one_item(b: Bencher) {
    let ops = ops_of(&typical_ops(1));
    b.bench(|| compile("WI-bench", Tier::Workspace, black_box(&ops)).unwrap());
}

#[divan::bench(sample_count = 20)]
fn snapshot_1k_cold(b: Bencher) {
    let (_, t, _) = tracker();
    b.bench(|| {
        let (snap, _) = htrac::cache::snapshot_at(t, None, Duration::ZERO, false).unwrap();
        assert_eq!(snap.items.len(), ITEMS);
        snap
    });
}

#[divan::bench(sample_count = 20)]
fn snapshot_1k_warm(b: Bencher) {
    let (_, t, cache) = tracker();
    b.bench(|| {
        let (snap, _) = htrac::cache::snapshot_at(t, Some(cache), Duration::ZERO, false).unwrap();
        assert_eq!(snap.cache_hits, ITEMS);
        snap
    });
}

#[divan::bench]
fn ready_1k(b: Bencher) {
    let (_, t, cache) = tracker();
    let (snap, _) = htrac::cache::snapshot_at(t, Some(cache), Duration::ZERO, false).unwrap();
    b.bench(|| htrac::items::ready::ready(black_box(&snap.items), &t.config).len());
}

/// A tracker of 10,000 typical items whose read cache (in its own cache
/// directory, every file old enough to be trusted) is warm.
fn tracker_10k() -> &'static (tempfile::TempDir, Tracker) {
    static T: std::sync::OnceLock<(tempfile::TempDir, Tracker)> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        // SAFETY: set once, before any other thread of the benchmark reads them.
        unsafe {
            std::env::set_var("HTRAC_CACHE_DIR", dir.path().join("cache"));
            std::env::set_var("HTRAC_CACHE_RACY_MS", "0");
        }
        let root = dir.path().join(".agent");
        htrac::init::init(&root).expect("init");
        let t = Tracker::open(&root).expect("open");
        for i in 0..10_000 {
            std::fs::write(
                t.item_path(Tier::Workspace, &format!("WI-bench-{i:05}")),
                typical_ops(i),
            )
            .expect("write ops");
        }
        t.snapshot_summary().expect("warm the cache");
        (dir, t)
    })
}

/// `htrac prime`'s gathering when nothing changed since the last one: the
/// listing is compared with the briefing's memo; the goal is under 20 ms.
#[divan::bench(sample_count = 20)]
fn prime_10k_warm(b: Bencher) {
    let (_, t) = tracker_10k();
    htrac::prime::gather(t).unwrap();
    b.bench(|| {
        let p = htrac::prime::gather(t).unwrap();
        assert_eq!(p.ready_total, 10_000);
        p
    });
}

/// `prime` with its memo removed first (as after any write): a summary
/// read through the warm cache, then ready, unread, locked.
#[divan::bench(sample_count = 20)]
fn prime_10k_recomputed(b: Bencher) {
    let (dir, t) = tracker_10k();
    let cache = dir.path().join("cache");
    b.with_inputs(|| {
        for e in std::fs::read_dir(&cache).expect("cache dir").flatten() {
            if e.file_name().to_string_lossy().starts_with("memo-") {
                std::fs::remove_file(e.path()).expect("remove memo");
            }
        }
    })
    .bench_values(|()| {
        let p = htrac::prime::gather(t).unwrap();
        assert_eq!(p.ready_total, 10_000);
        p
    });
}

/// The summary read alone on the same tracker: what `prime` adds to it is
/// the difference.
#[divan::bench(sample_count = 20)]
fn snapshot_summary_10k_warm(b: Bencher) {
    let (_, t) = tracker_10k();
    b.bench(|| {
        let snap = t.snapshot_summary().unwrap();
        assert_eq!(snap.cache_hits, 10_000);
        snap
    });
}

/// A signed human op (ssh-keygen ed25519 key), and the authority settings
/// that verify it.
fn signed_op() -> &'static (tempfile::TempDir, htrac::config::Authority, Op) {
    static S: std::sync::OnceLock<(tempfile::TempDir, htrac::config::Authority, Op)> =
        std::sync::OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("key");
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen");
        assert!(made.success());
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        let allowed = dir.path().join("allowed_signers");
        std::fs::write(&allowed, format!("alice {public}")).expect("allowed_signers");
        let mut op = ops_of(&typical_ops(1)).remove(0);
        op.by = "human".into();
        op.actor = "alice".into();
        let msg = htrac::governance::signing::message("WI-bench", &op);
        let sig = htrac::governance::signing::sign::sign_bytes(&key, &msg).expect("sign");
        op.body.insert("sig".into(), sig.into());
        let authority = htrac::config::Authority {
            signing: htrac::config::SigningMode::Required,
            allowed_signers: Some(allowed),
            ..Default::default()
        };
        (dir, authority, op)
    })
}

fn verifier() -> htrac::governance::signing::Verifier {
    let (dir, authority, _) = signed_op();
    htrac::governance::signing::Verifier::load(authority, &dir.path().join(".agent"), &[])
        .expect("signing on")
}

/// One op's signature checked with nothing remembered: the canonical
/// message, the allowed_signers match and the ed25519 verification.
#[divan::bench]
fn verify_signature_cold(b: Bencher) {
    let (_, _, op) = signed_op();
    b.with_inputs(verifier)
        .bench_refs(|v| v.check("WI-bench", black_box(op)).unwrap());
}

/// The same check once the pair is in the verification cache.
#[divan::bench]
fn verify_signature_cached(b: Bencher) {
    let (_, _, op) = signed_op();
    let v = verifier();
    v.check("WI-bench", op).unwrap();
    b.bench(|| v.check("WI-bench", black_box(op)).unwrap());
}
