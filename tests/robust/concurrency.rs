//! Concurrency: many processes appending at once never lose, duplicate or
//! tear an op, to one item or to distinct ones.
//!
//! The 8 × 1,000 runs use real processes — this test binary re-executed as
//! a writer (`HTRAC_ROBUST_WRITER`), each calling the library's append path
//! (open `O_APPEND`, `flock`, one `write`, `fsync`) 1,000 times — because
//! the CLI re-reads the whole item on every write, so 8,000 CLI writes to
//! one item are quadratic and take minutes in a debug build. The CLI path
//! itself is covered by 8 concurrent `htrac batch` processes
//! (`HTRAC_ROBUST_FULL=1` runs them at 8 × 1,000 too).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::common::{self, Env};
use htrac::oplog::op::{Op, Role};
use htrac::oplog::{self, AppendMode};
use serde_json::Value;

const WRITERS: usize = 8;
const PER_WRITER: usize = 1000;

/// Appends run by a re-executed copy of this binary: `path|writer|count`.
#[test]
fn writer_child() {
    let Ok(spec) = std::env::var("HTRAC_ROBUST_WRITER") else {
        return; // an ordinary run: nothing to do
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (paths, w, count): (Vec<PathBuf>, usize, usize) = (
        parts[0].split(',').map(PathBuf::from).collect(),
        parts[1].parse().unwrap(),
        parts[2].parse().unwrap(),
    );
    for i in 0..count {
        let path = &paths[i % paths.len()];
        let mut op = Op::new(
            "discuss",
            "2026-01-01T00:00:00Z",
            Role::Agent,
            &format!("writer{w}"),
            (i + 1) as i64,
            &format!("{:04x}", w * count + i),
        );
        op.body.insert(
            "message".into(),
            Value::String(format!("writer {w} op {i} {}", "x".repeat(i % 300))),
        );
        oplog::append(path, &op, AppendMode::Existing).expect("append");
    }
}

/// Runs `WRITERS` writer processes at once; writer `w` appends to `paths[w]`.
fn run_writers(paths: &[Vec<PathBuf>]) {
    let exe = std::env::current_exe().unwrap();
    let writer = common::test_name(module_path!(), "writer_child");
    let children: Vec<_> = paths
        .iter()
        .enumerate()
        .map(|(w, p)| {
            let list: Vec<String> = p.iter().map(|p| p.display().to_string()).collect();
            Command::new(&exe)
                .args(["--exact", &writer, "--nocapture", "--test-threads=1"])
                .env(
                    "HTRAC_ROBUST_WRITER",
                    format!("{}|{w}|{PER_WRITER}", list.join(",")),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The messages in a file, each with how often it occurs; the file must
/// parse with no torn op.
fn messages(path: &Path) -> BTreeMap<String, usize> {
    let log = oplog::read(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(log.torn.is_empty(), "torn ops: {:?}", log.torn);
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.lines().all(|l| l.contains("  # ")),
        "a line lost its nonce comment"
    );
    let mut out = BTreeMap::new();
    for (_, op) in log.ops {
        if let Some(m) = op.body.get("message").and_then(Value::as_str) {
            *out.entry(m.to_string()).or_insert(0) += 1;
        }
    }
    out
}

fn expected(w: usize, i: usize) -> String {
    format!("writer {w} op {i} {}", "x".repeat(i % 300))
}

fn validate_clean(env: &Env) {
    let r = env.run(&["validate"]);
    assert_eq!(r.code, 0, "validate: {}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("ERROR"), "{}", r.stdout);
}

#[test]
fn eight_processes_append_a_thousand_ops_each_to_one_item() {
    let env = Env::new();
    let id = env.add("hot item", &[]);
    let path = env.workspace_ops(&id);
    let t = Instant::now();
    run_writers(&vec![vec![path.clone()]; WRITERS]);
    eprintln!("8 x {PER_WRITER} appends to one item: {:?}", t.elapsed());
    let seen = messages(&path);
    assert_eq!(seen.len(), WRITERS * PER_WRITER, "ops lost");
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            assert_eq!(seen.get(&expected(w, i)), Some(&1), "writer {w} op {i}");
        }
    }
    // Every file compiles: the CLI reads the item and validate is clean.
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(
        v["discussion"].as_array().unwrap().len(),
        WRITERS * PER_WRITER
    );
    validate_clean(&env);
}

#[test]
fn eight_processes_append_a_thousand_ops_each_to_distinct_items() {
    let env = Env::new();
    let ids: Vec<String> = (0..WRITERS)
        .map(|w| env.add(&format!("item {w}"), &[]))
        .collect();
    let paths: Vec<Vec<PathBuf>> = ids.iter().map(|id| vec![env.workspace_ops(id)]).collect();
    let t = Instant::now();
    run_writers(&paths);
    eprintln!("8 x {PER_WRITER} appends to 8 items: {:?}", t.elapsed());
    for (w, p) in paths.iter().enumerate() {
        let seen = messages(&p[0]);
        assert_eq!(seen.len(), PER_WRITER, "item {w}: ops lost or foreign");
        for i in 0..PER_WRITER {
            assert_eq!(seen.get(&expected(w, i)), Some(&1), "writer {w} op {i}");
        }
    }
    let list = env.run(&["list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), WRITERS);
    validate_clean(&env);
}

/// Lines per `htrac batch` process (full size with `HTRAC_ROBUST_FULL=1`).
fn batch_lines(default: usize) -> usize {
    if std::env::var("HTRAC_ROBUST_FULL").is_ok_and(|v| v == "1") {
        PER_WRITER
    } else {
        default
    }
}

/// Every OS user counts as an agent here (so discussing needs no
/// `--ack-thread` and no unread-message notice grows with the thread).
fn everyone_is_an_agent(env: &Env) {
    let cfg = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("\"*_agent\""), "config has the agent pattern");
    std::fs::write(&cfg, text.replace("\"*_agent\"", "\"*\"")).unwrap();
}

/// Runs one `htrac batch -` per script at once; all must succeed.
fn run_batches(env: &Env, scripts: Vec<String>) -> Vec<String> {
    let children: Vec<_> = scripts
        .into_iter()
        .map(|script| {
            let mut c = env
                .command(&["batch", "-", "--no-auto-sync", "--json"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = c.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || {
                use std::io::Write;
                stdin.write_all(script.as_bytes()).unwrap();
            });
            (c, feeder)
        })
        .collect();
    children
        .into_iter()
        .map(|(c, feeder)| {
            let out = c.wait_with_output().unwrap();
            feeder.join().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "batch failed: {}\n{}",
                stdout.chars().take(2000).collect::<String>(),
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
        })
        .collect()
}

#[test]
fn eight_cli_batches_discuss_one_item_at_once() {
    let env = Env::new();
    everyone_is_an_agent(&env);
    let id = env.add("hot item", &[]);
    let n = batch_lines(40);
    let scripts: Vec<String> = (0..WRITERS)
        .map(|w| {
            (0..n)
                .map(|i| format!("discuss {id} \"batch {w} line {i}\"\n"))
                .collect()
        })
        .collect();
    let t = Instant::now();
    run_batches(&env, scripts);
    eprintln!("8 batches x {n} discuss lines, one item: {:?}", t.elapsed());
    let seen = messages(&env.workspace_ops(&id));
    assert_eq!(seen.len(), WRITERS * n);
    for w in 0..WRITERS {
        for i in 0..n {
            assert_eq!(seen.get(&format!("batch {w} line {i}")), Some(&1));
        }
    }
    // Nonces stay unique within the file, though chosen by 8 processes.
    let log = oplog::read(&env.workspace_ops(&id)).unwrap();
    let mut nonces: Vec<&str> = log.ops.iter().map(|(_, o)| o.nonce.as_str()).collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), log.ops.len(), "a nonce was reused");
    validate_clean(&env);
}

#[test]
fn eight_cli_batches_add_distinct_items_at_once() {
    let env = Env::new();
    everyone_is_an_agent(&env);
    let n = batch_lines(60);
    let scripts: Vec<String> = (0..WRITERS)
        .map(|w| {
            (0..n)
                .map(|i| format!("add --kind work_item --title \"batch {w} item {i}\"\n"))
                .collect()
        })
        .collect();
    let t = Instant::now();
    run_batches(&env, scripts);
    eprintln!("8 batches x {n} adds: {:?}", t.elapsed());
    let list = env.run(&["list", "--json"]).ok().json();
    let mut titles: BTreeMap<String, usize> = BTreeMap::new();
    for item in list.as_array().unwrap() {
        *titles
            .entry(item["title"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(titles.len(), WRITERS * n, "items lost");
    assert!(titles.values().all(|&c| c == 1), "an item was added twice");
    validate_clean(&env);
}

#[test]
fn concurrent_writers_never_tear_or_lose_an_op() {
    let env = Env::new();
    let id = env.add("hot item", &[]);
    let writers = 8;
    let per_writer = 10;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let dir = env.path().to_path_buf();
            let cache = env.cache.path().to_path_buf();
            let id = id.clone();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    let msg = format!("writer {w} message {i} {}", "x".repeat(2000));
                    let st = std::process::Command::new(common::bin())
                        .args(["discuss", &id, &msg, "--ack-thread"])
                        .current_dir(&dir)
                        .env("HTRAC_CACHE_DIR", &cache)
                        .env("HTRAC_STATE_DIR", cache.join("state"))
                        .output()
                        .unwrap();
                    assert!(
                        st.status.success(),
                        "{}",
                        String::from_utf8_lossy(&st.stderr)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let r = env.run(&["show", &id, "--json"]).ok();
    assert!(!r.stderr.contains("torn"), "{}", r.stderr);
    assert_eq!(
        r.json()["discussion"].as_array().unwrap().len(),
        writers * per_writer
    );
    // Every line still carries its op's nonce.
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    let log = htrac::oplog::parse(std::path::Path::new("x"), &text).unwrap();
    assert_eq!(log.ops.len(), 1 + writers * per_writer);
    assert!(
        text.lines().all(|l| l.contains("  # ")),
        "a line lost its nonce"
    );
}
