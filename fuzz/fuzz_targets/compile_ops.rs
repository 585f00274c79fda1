//! `compile` on arbitrary op sequences, built in memory (no YAML).
//!
//! The input bytes drive `arbitrary::Unstructured` to build up to 24 ops:
//! kinds from the known set or random, colliding clocks / timestamps /
//! actors / nonces (odd ones too: empty, malformed, huge years), and bodies
//! with `data`, `set`/`add`/`remove` of random keys and JSON values,
//! `message`, lock names, edit-mode windows (`ttl_seconds`, `cap_max`) and
//! message edits aimed at the nonces in use. Laws checked:
//!
//! 1. `compile` never panics; it fails (`NoCreate`) iff no op is a `create`;
//! 2. the result does not depend on op order (a shuffle compiles equal);
//! 3. duplicated ops count once (the ops plus some copies compile equal,
//!    and `op_count` is the number of distinct ops);
//! 4. `updated_at >= created_at`; `created_at` is the earliest non-empty
//!    `at` of a `create`; locked fields are unique and lower-case.
#![no_main]

use arbitrary::{Result, Unstructured};
use htrac::items::compile::{compile, CompileError};
use htrac::oplog::op::{Op, KNOWN_KINDS};
use htrac::Tier;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const ATS: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:30Z",
    "2026-01-01T00:10:00Z",
    "2026-01-01T01:00:00.500000Z",
    "2026-01-01T00:00:00+02:00",
    "2025-12-31T23:59:59Z",
    "2026-01-01",
    "2022222222226-1-1T0:0",
    "9999-12-31T23:59:59Z",
    "not a time",
    "",
];
const BYS: &[&str] = &["human", "agent", "Human", ""];
const ACTORS: &[&str] = &["alice", "alice_agent", "bob", ""];
const NONCES: &[&str] = &["a1b2", "a1b2", "0042", "2e71", "ffff", "x", ""];
const KEYS: &[&str] = &[
    "status",
    "title",
    "priority",
    "tags",
    "isbefore",
    "before",
    "duplicate_of",
    "not_duplicate_of",
    "fields",
    "kind",
    "parent",
    "pr_ref",
    "description",
    "justification",
];
const WORDS: &[&str] = &["", "a", "b", "done", "core", "Status", "TITLE", "1", "x y"];

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
}

impl Gen<'_, '_> {
    fn pick(&mut self, xs: &[&str]) -> Result<String> {
        Ok(self.u.choose(xs)?.to_string())
    }

    fn text(&mut self) -> Result<String> {
        if self.u.ratio(3u8, 4)? {
            self.pick(WORDS)
        } else {
            let s: &str = self.u.arbitrary()?;
            Ok(s.chars().take(12).collect())
        }
    }

    fn value(&mut self, depth: u8) -> Result<Value> {
        let top = if depth == 0 { 5 } else { 7 };
        Ok(match self.u.int_in_range(0u8..=top)? {
            0 => Value::Null,
            1 => json!(self.u.arbitrary::<bool>()?),
            2 => json!(self.u.int_in_range(-2i64..=5)?),
            3 => {
                let f = f64::from_bits(self.u.arbitrary()?);
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            4 => json!(self.u.arbitrary::<i64>()?),
            5 => json!(self.text()?),
            6 => {
                let n = self.u.int_in_range(0usize..=3)?;
                Value::Array(
                    (0..n)
                        .map(|_| self.value(depth - 1))
                        .collect::<Result<_>>()?,
                )
            }
            _ => Value::Object(self.map(depth - 1)?),
        })
    }

    fn key(&mut self) -> Result<String> {
        if self.u.ratio(7u8, 8)? {
            self.pick(KEYS)
        } else {
            self.text()
        }
    }

    fn map(&mut self, depth: u8) -> Result<Map<String, Value>> {
        let mut m = Map::new();
        for _ in 0..self.u.int_in_range(0usize..=3)? {
            let k = self.key()?;
            let v = self.value(depth)?;
            m.insert(k, v);
        }
        Ok(m)
    }

    fn op(&mut self) -> Result<Op> {
        let kind = if self.u.ratio(15u8, 16)? {
            self.u.choose(KNOWN_KINDS)?.to_string()
        } else {
            self.text()?
        };
        let clock = if self.u.ratio(15u8, 16)? {
            self.u.int_in_range(0i64..=4)?
        } else {
            self.u.arbitrary()?
        };
        let mut op = Op {
            at: self.pick(ATS)?,
            by: self.pick(BYS)?,
            actor: self.pick(ACTORS)?,
            clock,
            nonce: self.pick(NONCES)?,
            body: Map::new(),
            kind,
        };
        let b = &mut op.body;
        match op.kind.as_str() {
            "create" => {
                b.insert("data".into(), Value::Object(self.map(2)?));
            }
            "update" => {
                for which in ["set", "add", "remove"] {
                    if self.u.arbitrary()? {
                        b.insert(which.into(), Value::Object(self.map(2)?));
                    }
                }
            }
            "discuss" | "discuss_summarize" => {
                b.insert("message".into(), json!(self.text()?));
            }
            "lock" | "unlock" => {
                let n = self.u.int_in_range(0usize..=3)?;
                let mut names = Vec::new();
                for _ in 0..n {
                    names.push(if self.u.ratio(7u8, 8)? {
                        json!(self.key()?)
                    } else {
                        self.value(0)?
                    });
                }
                b.insert(op.kind.clone(), Value::Array(names));
            }
            "edit-mode-on" => {
                for k in ["ttl_seconds", "cap_max"] {
                    let v = match self.u.int_in_range(0u8..=3)? {
                        0 => continue,
                        1 => json!(self.u.int_in_range(-1i64..=3600)?),
                        2 => json!(self.u.arbitrary::<i64>()?),
                        _ => self.value(0)?,
                    };
                    b.insert(k.into(), v);
                }
            }
            "delete-msg" | "undelete-msg" | "edit-msg-text" => {
                b.insert("target_nonce".into(), json!(self.pick(NONCES)?));
                b.insert("new_text".into(), json!(self.text()?));
            }
            _ => {
                if self.u.arbitrary()? {
                    *b = self.map(1)?;
                }
            }
        }
        Ok(op)
    }
}

fn compiled(ops: &[Op]) -> Result<htrac::Item, CompileError> {
    compile("WI-fuzz", Tier::Workspace, ops)
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut g = Gen { u };
    let n = g.u.int_in_range(0usize..=24)?;
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    for _ in 0..n {
        // Often an exact copy of an earlier op (a union-merge duplicate).
        if !ops.is_empty() && g.u.ratio(1u8, 8)? {
            let i = g.u.choose_index(ops.len())?;
            ops.push(ops[i].clone());
        } else {
            ops.push(g.op()?);
        }
    }

    let result = compiled(&ops);
    let has_create = ops.iter().any(|o| o.kind == "create");
    let item = match result {
        Err(CompileError::NoCreate) => {
            assert!(!has_create, "FINDING: NoCreate with a create op: {ops:#?}");
            return Ok(());
        }
        Ok(item) => item,
    };
    assert!(has_create, "FINDING: compiled without a create op");

    // Law 4: simple invariants of the result.
    let mut distinct: Vec<&Op> = Vec::new();
    for op in &ops {
        if !distinct.contains(&op) {
            distinct.push(op);
        }
    }
    assert_eq!(
        item.op_count,
        distinct.len(),
        "FINDING: op_count is not the number of distinct ops: {ops:#?}"
    );
    assert!(
        item.updated_at >= item.created_at,
        "FINDING: updated_at < created_at: {item:#?}"
    );
    let earliest = ops
        .iter()
        .filter(|o| o.kind == "create" && !o.at.is_empty())
        .map(|o| o.at.as_str())
        .min()
        .unwrap_or("");
    assert_eq!(
        item.created_at, earliest,
        "FINDING: created_at is not the earliest create: {ops:#?}"
    );
    for (i, f) in item.locked_fields.iter().enumerate() {
        assert!(
            !item.locked_fields[..i].contains(f) && *f == f.to_lowercase(),
            "FINDING: locked fields {:?}",
            item.locked_fields
        );
    }

    // Law 2: any order compiles the same.
    let mut shuffled = ops.clone();
    for i in (1..shuffled.len()).rev() {
        let j = g.u.int_in_range(0..=i)?;
        shuffled.swap(i, j);
    }
    let again = compiled(&shuffled).expect("has a create op");
    assert_eq!(
        item, again,
        "FINDING: op order changes the result\n--- ops ---\n{ops:#?}\n--- shuffled ---\n{shuffled:#?}"
    );

    // Law 3: duplicates (anywhere) count once.
    let mut dup = shuffled;
    for _ in 0..g.u.int_in_range(1usize..=4)? {
        let i = g.u.choose_index(ops.len())?;
        let pos = g.u.int_in_range(0..=dup.len())?;
        dup.insert(pos, ops[i].clone());
    }
    let with_dups = compiled(&dup).expect("has a create op");
    assert_eq!(
        item, with_dups,
        "FINDING: duplicated ops change the result\n--- ops ---\n{ops:#?}\n--- with duplicates ---\n{dup:#?}"
    );
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
