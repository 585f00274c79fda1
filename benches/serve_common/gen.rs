//! A tracker of N items written straight to op files (not N runs of the
//! CLI), shaped like benches/compare.py's generator: work items and
//! invariants, 1–8 ops each (updates and discussion), descriptions of
//! 80–900 characters, tags, some parents. Ops are emitted by the library's
//! own `emit_op` and IDs are the content hashes `htrac add` would compute,
//! so the files read exactly like ones the CLI wrote. Deterministic (seeded).

use std::path::Path;

use htrac::items::ids::compute_id;
use htrac::items::tiers::{ops_file_name, Tier};
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::Role;
use htrac::Op;
use serde_json::{json, Map, Value};

/// xorshift64*: enough randomness for test data, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const VERBS: &[&str] = &[
    "Fix",
    "Add",
    "Remove",
    "Refactor",
    "Document",
    "Speed up",
    "Harden",
    "Investigate",
    "Replace",
    "Split",
    "Cache",
    "Validate",
    "Migrate",
    "Simplify",
    "Test",
    "Rename",
];
const ADJ: &[&str] = &[
    "stale",
    "racy",
    "slow",
    "missing",
    "duplicate",
    "flaky",
    "unbounded",
    "legacy",
    "broken",
    "implicit",
    "partial",
    "nested",
    "orphaned",
    "lossy",
    "quadratic",
    "noisy",
];
const NOUNS: &[&str] = &[
    "cache invalidation",
    "lamport clock",
    "ops parser",
    "sync reminder",
    "merge driver",
    "priority sort",
    "tag catalog",
    "discussion thread",
    "stop hook",
    "journal mirror",
    "config loader",
    "ID prefix matching",
    "frozen sentinel",
    "union merge",
    "TUI layout",
    "web socket delta",
    "login endpoint",
    "alias table",
    "status filter",
    "field schema",
];
const WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "when",
    "after",
    "because",
    "item",
    "file",
    "op",
    "clock",
    "branch",
    "merge",
    "cache",
    "read",
    "write",
    "parse",
    "agent",
    "human",
    "status",
    "priority",
    "tag",
    "parent",
    "lock",
    "freeze",
    "tier",
    "workspace",
    "commit",
    "push",
    "rebase",
    "conflict",
    "nonce",
    "YAML",
    "JSON",
    "quote",
    "unicode",
    "path",
    "journal",
    "test",
    "fixture",
    "output",
    "latency",
    "string",
    "sort",
    "filter",
];
const TAGS: &[&str] = &[
    "perf", "bug", "cli", "sync", "docs", "tui", "web", "security", "parser", "cache", "git", "ux",
    "refactor", "tests", "infra", "config", "ci", "api", "locking", "ready",
];
const STATUSES: &[&str] = &["todo_hard", "todo_soft", "in_progress", "done"];

fn paragraph(rng: &mut Rng, lo: usize, hi: usize) -> String {
    let mut out = String::new();
    while out.len() < lo {
        if !out.is_empty() {
            out.push(' ');
        }
        let n = 6 + rng.below(13);
        let words: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
        let mut s = words.join(" ");
        s[..1].make_ascii_uppercase();
        out.push_str(&s);
        out.push('.');
    }
    out.truncate(hi);
    out
}

fn stamp(day: usize, secs: usize) -> String {
    // 2025-01-01 plus `day` days (kept within one year) and `secs` seconds.
    let days_in = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut d, mut m) = (day % 365, 0);
    while d >= days_in[m] {
        d -= days_in[m];
        m += 1;
    }
    format!(
        "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        m + 1,
        d + 1,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Writes `n` items into the workspace tier under `agent` (the `.agent/`
/// directory of an initialised tracker); returns their IDs in creation order.
pub fn generate(agent: &Path, n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed | 1);
    let dir = Tier::Workspace.dir(agent);
    std::fs::create_dir_all(&dir).unwrap();
    let mut ids: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let invariant = rng.chance(0.25);
        let kind = if invariant { "invariant" } else { "work_item" };
        let title = format!(
            "{} {} {} [{i}]",
            rng.pick(VERBS),
            rng.pick(ADJ),
            rng.pick(NOUNS)
        );
        let status = rng.pick(&STATUSES[..2]);
        let mut tags: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(TAGS)).collect();
        tags.sort();
        tags.dedup();
        let parent = if !ids.is_empty() && rng.chance(0.2) {
            json!(ids[rng.below(ids.len())])
        } else {
            Value::Null
        };
        let mut fields = Map::new();
        if invariant {
            fields.insert("statement".into(), json!(paragraph(&mut rng, 40, 200)));
            fields.insert("root_cause".into(), json!(paragraph(&mut rng, 40, 300)));
        }
        let data = json!({
            "kind": kind, "title": title, "status": status,
            "priority": rng.below(5), "parent": parent, "tags": tags,
            "isbefore": [], "duplicate_of": [], "not_duplicate_of": [],
            "pr_ref": null, "description": paragraph(&mut rng, 80, 900),
            "fields": Value::Object(fields),
        });
        let id = compute_id(if invariant { "INV" } else { "WI" }, &data, "");
        let day = i * 365 / n.max(1);
        let actor = |rng: &mut Rng| {
            if rng.chance(0.7) {
                (Role::Agent, "dev_agent")
            } else {
                (Role::Human, "alice")
            }
        };
        let (role, who) = actor(&mut rng);
        let mut text =
            emit_op(&Op::new("create", &stamp(day, i), role, who, 1, "a000").with("data", data));
        for k in 0..rng.below(6) {
            let (role, who) = actor(&mut rng);
            let nonce = format!("b{k:03}");
            let at = stamp(day + 1 + k, i);
            let op = if rng.chance(0.4) {
                Op::new("discuss", &at, role, who, 2 + k as i64, &nonce)
                    .with("message", json!(paragraph(&mut rng, 20, 300)))
            } else {
                let set = match rng.below(3) {
                    0 => json!({"priority": rng.below(5)}),
                    1 => json!({"status": rng.pick(STATUSES)}),
                    _ => json!({"description": paragraph(&mut rng, 80, 900)}),
                };
                Op::new("update", &at, role, who, 2 + k as i64, &nonce).with("set", set)
            };
            text.push_str(&emit_op(&op));
        }
        std::fs::write(dir.join(ops_file_name(&id)), text).unwrap();
        ids.push(id);
    }
    ids
}
