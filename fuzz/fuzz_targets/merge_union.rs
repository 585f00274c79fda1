//! The union-merge law, driven by a structured generator.
//!
//! The input bytes drive `arbitrary::Unstructured` to build one `create` op
//! and 2–4 replicas, each appending its own ops (update set/add/remove on
//! tags/status/priority/title/fields, discuss, discuss_summarize,
//! discuss_clear, lock/unlock) with Lamport-style clocks that collide across
//! replicas. Every op is emitted with `emit_op`; the blocks are concatenated
//! in two different orders, the second with some blocks duplicated (as git's
//! `merge=union` and cherry-picks produce), and both files must compile to
//! equal items. Nonces are unique per distinct op.
//!
//! Also checked: each merged file parses with no torn blocks and one op per
//! block, and compiling the file equals compiling the in-memory ops (so a
//! lossy emit/parse round trip shows up here too).
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use arbitrary::{Result, Unstructured};
use htrac::items::compile::compile;
use htrac::oplog;
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::{Op, Role};
use htrac::{Item, Tier};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

/// Strings that stress the emitter's quoting decisions.
const TRICKY: &[&str] = &[
    "",
    " ",
    "plain text",
    "yes",
    "no",
    "true",
    "False",
    "null",
    "~",
    "1383",
    "2e71",
    "95e1",
    "0x1f",
    "0o17",
    "017",
    "1_000",
    ".5",
    "-.inf",
    ".nan",
    ".5e3",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "2001-12-14 21:59:43.10 -5",
    "- item",
    "-",
    "a: b",
    "a:b",
    ":a",
    "? x",
    "?",
    "#x",
    "x #y",
    "x#y",
    "'single'",
    "it's",
    "\"double\"",
    "back\\slash",
    "multi\nline",
    "trailing\n",
    "\nleading",
    "tab\there",
    "cr\rlf",
    "\r\n",
    "nul\0byte",
    "bell\u{7}",
    "é日本😀",
    "nel\u{85}x",
    "ls\u{2028}x",
    "ps\u{2029}x",
    "nbsp\u{a0}",
    "ideo\u{3000}",
    "\u{feff}bom",
    "trailing space ",
    " leading space",
    "---",
    "...",
    "--- x",
    "[a, b]",
    "{a: 1}",
    "a, b",
    "*alias",
    "&anchor",
    "!tag",
    "!!str x",
    "|",
    ">",
    "%YAML",
    "@at",
    "`tick`",
    "<<",
    "=",
    "a  # b",
    "  # 0000",
];

const STATUSES: &[&str] = &[
    "todo_hard",
    "todo_soft",
    "in_progress",
    "done",
    "wont_do",
    "holding",
];
const KINDS: &[&str] = &["work_item", "invariant", "meta_invariant", "bug"];
const ACTORS: &[&str] = &["alice", "alice_agent", "bob", "bob_agent", "migration", ""];
const ATS: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:01:00Z",
    "2026-01-01T00:02:00Z",
    "2026-01-02T00:00:00Z",
    "2025-12-31T23:59:59Z",
    "",
];
const FIELD_KEYS: &[&str] = &[
    "statement",
    "root_cause",
    "fix",
    "a",
    "1",
    "yes",
    "x y",
    "key: v",
    "#k",
    "- k",
    "",
    "null",
];
const LOCK_NAMES: &[&str] = &[
    "status",
    "Status",
    "title",
    "TITLE",
    "tags",
    "priority",
    "fields",
    "before",
    "isbefore",
    "discussion",
    "description",
];

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    n: u32,
    nonces: HashSet<String>,
}

impl Gen<'_, '_> {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> Result<T> {
        Ok(*self.u.choose(xs)?)
    }

    fn text(&mut self) -> Result<String> {
        Ok(match self.u.int_in_range(0u8..=3)? {
            0 | 1 => self.pick(TRICKY)?.to_string(),
            2 => {
                // Two tricky pieces glued together.
                let a = self.pick(TRICKY)?;
                let b = self.pick(TRICKY)?;
                format!("{a}{b}")
            }
            _ => {
                let s: &str = self.u.arbitrary()?;
                s.chars().take(40).collect()
            }
        })
    }

    fn tag(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0u8..=5)? {
            0..=2 => json!(self.pick(&["core", "bug", "ui", "yes", "1383", "true", "a b"])?),
            3 => json!(self.text()?),
            4 => json!(self.u.int_in_range(-3i64..=3)?),
            _ => Value::Null,
        })
    }

    fn tags(&mut self) -> Result<Vec<Value>> {
        let n = self.u.int_in_range(0usize..=3)?;
        (0..n).map(|_| self.tag()).collect()
    }

    fn float(&mut self) -> Result<Value> {
        let f = match self.u.int_in_range(0u8..=2)? {
            0 => self.pick(&[
                0.0,
                -0.0,
                0.5,
                1.5,
                1e16,
                1e15,
                1e-5,
                1e100,
                123456789012345680.0,
            ])?,
            1 => f64::from(self.u.int_in_range(-1000i32..=1000)?) / 8.0,
            _ => f64::from_bits(self.u.arbitrary()?),
        };
        Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn scalar(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0u8..=6)? {
            0..=2 => json!(self.text()?),
            3 => json!(self.u.arbitrary::<i64>()?),
            4 => self.float()?,
            5 => json!(self.u.arbitrary::<bool>()?),
            _ => Value::Null,
        })
    }

    fn field_value(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0u8..=5)? {
            0..=3 => self.scalar()?,
            4 => Value::Array(self.tags()?),
            _ => {
                let mut m = Map::new();
                for _ in 0..self.u.int_in_range(0usize..=2)? {
                    let k = self.field_key()?;
                    let v = self.scalar()?;
                    m.insert(k, v);
                }
                Value::Object(m)
            }
        })
    }

    fn field_key(&mut self) -> Result<String> {
        Ok(if self.u.ratio(3u8, 4)? {
            self.pick(FIELD_KEYS)?.to_string()
        } else {
            self.text()?
        })
    }

    fn fields(&mut self, allow_null: bool) -> Result<Map<String, Value>> {
        let mut m = Map::new();
        for _ in 0..self.u.int_in_range(0usize..=3)? {
            let k = self.field_key()?;
            let v = if allow_null && self.u.ratio(1u8, 4)? {
                Value::Null // `set: fields: {k: null}` removes the field
            } else {
                self.field_value()?
            };
            m.insert(k, v);
        }
        Ok(m)
    }

    fn priority(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0u8..=7)? {
            0..=4 => json!(self.u.int_in_range(0i64..=4)?),
            5 => json!(self.u.arbitrary::<i64>()?),
            6 => json!(self.pick(&["high", "1", ""])?),
            _ => self.float()?,
        })
    }

    /// A nonce no other op in this input has. Real nonces are 4 hex digits;
    /// some look like numbers (`8293`, `2e71`) and must survive quoting.
    fn nonce(&mut self) -> Result<String> {
        self.n += 1;
        let n = self.n;
        let candidate = match self.u.int_in_range(0u8..=4)? {
            0 | 1 => format!("{:04x}", n.wrapping_mul(0x9e37) & 0xffff),
            2 => format!("{:04}", n),
            3 => format!("{}e{}", n % 100, n / 100 + 1),
            _ => format!("{n:x}_{}", self.pick(&["a", "b", "x", "0"])?),
        };
        let nonce = if self.nonces.contains(&candidate) {
            format!("u{n:04x}")
        } else {
            candidate
        };
        assert!(
            self.nonces.insert(nonce.clone()),
            "generator: duplicate nonce"
        );
        Ok(nonce)
    }

    fn header(&mut self, kind: &str, clock: i64) -> Result<Op> {
        let human = self.u.arbitrary::<bool>()?;
        let role = if human { Role::Human } else { Role::Agent };
        let actor = self.pick(ACTORS)?;
        let at = self.pick(ATS)?;
        let nonce = self.nonce()?;
        Ok(Op::new(kind, at, role, actor, clock, &nonce))
    }

    fn create(&mut self) -> Result<Op> {
        let clock = self.u.int_in_range(0i64..=2)?;
        let mut data = Map::new();
        data.insert("kind".into(), json!(self.pick(KINDS)?));
        data.insert("title".into(), json!(self.text()?));
        data.insert("status".into(), json!(self.pick(STATUSES)?));
        data.insert("priority".into(), self.priority()?);
        data.insert("parent".into(), Value::Null);
        data.insert("tags".into(), Value::Array(self.tags()?));
        let before_key = if self.u.arbitrary()? {
            "before"
        } else {
            "isbefore"
        };
        data.insert(before_key.into(), json!([]));
        data.insert("duplicate_of".into(), json!([]));
        data.insert("not_duplicate_of".into(), json!([]));
        data.insert("pr_ref".into(), Value::Null);
        data.insert("description".into(), json!(self.text()?));
        data.insert("fields".into(), Value::Object(self.fields(false)?));
        Ok(self
            .header("create", clock)?
            .with("data", Value::Object(data)))
    }

    fn update_set(&mut self) -> Result<Map<String, Value>> {
        let mut set = Map::new();
        if self.u.arbitrary()? {
            set.insert("status".into(), json!(self.pick(STATUSES)?));
        }
        if self.u.arbitrary()? {
            let p = self.priority()?;
            set.insert("priority".into(), p);
        }
        if self.u.arbitrary()? {
            let t = self.text()?;
            set.insert("title".into(), json!(t));
        }
        if self.u.ratio(1u8, 4)? {
            let t = self.tags()?;
            set.insert("tags".into(), Value::Array(t));
        }
        if self.u.arbitrary()? {
            let f = self.fields(true)?;
            set.insert("fields".into(), Value::Object(f));
        }
        Ok(set)
    }

    fn op(&mut self, clock: i64) -> Result<Op> {
        Ok(match self.u.int_in_range(0u8..=9)? {
            0..=2 => {
                let set = self.update_set()?;
                self.header("update", clock)?
                    .with("set", Value::Object(set))
            }
            3 | 4 => {
                // add / remove on set-valued keys, usually with the `set: {}`
                // the reference writes next to them.
                let mut op = self.header("update", clock)?;
                if self.u.ratio(3u8, 4)? {
                    op = op.with("set", json!({}));
                }
                for which in ["add", "remove"] {
                    if self.u.arbitrary()? {
                        let mut m = Map::new();
                        let key = self.pick(&["tags", "tags", "tags", "before", "isbefore"])?;
                        m.insert(key.into(), Value::Array(self.tags()?));
                        op = op.with(which, Value::Object(m));
                    }
                }
                op
            }
            5 => {
                let m = self.text()?;
                self.header("discuss", clock)?.with("message", json!(m))
            }
            6 => {
                let m = self.text()?;
                self.header("discuss_summarize", clock)?
                    .with("message", json!(m))
            }
            7 => self.header("discuss_clear", clock)?,
            _ => {
                let kind = if self.u.arbitrary()? {
                    "lock"
                } else {
                    "unlock"
                };
                let mut names = Vec::new();
                for _ in 0..self.u.int_in_range(1usize..=3)? {
                    names.push(if self.u.ratio(7u8, 8)? {
                        json!(self.pick(LOCK_NAMES)?)
                    } else {
                        json!(self.text()?)
                    });
                }
                self.header(kind, clock)?.with(kind, Value::Array(names))
            }
        })
    }
}

fn compile_file(what: &str, text: &str, blocks: usize) -> Item {
    let log = match oplog::parse(Path::new("merged.ops"), text) {
        Ok(log) => log,
        Err(e) => panic!("FINDING: {what}: emitted file does not parse: {e}\n{text}"),
    };
    assert!(
        log.torn.is_empty(),
        "FINDING: {what}: torn blocks in an emitted file: {:?}\n{text}",
        log.torn
    );
    assert_eq!(
        log.ops.len(),
        blocks,
        "FINDING: {what}: block count != op count\n{text}"
    );
    let ops: Vec<Op> = log.ops.into_iter().map(|(_, op)| op).collect();
    compile("WI-fuzz", Tier::Workspace, &ops).expect("has a create op")
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut g = Gen {
        u,
        n: 0,
        nonces: HashSet::new(),
    };
    let create = g.create()?;
    let replicas_n = g.u.int_in_range(2usize..=4)?;
    let mut replicas: Vec<Vec<Op>> = Vec::new();
    for _ in 0..replicas_n {
        let mut clock = create.clock;
        let mut ops = Vec::new();
        for _ in 0..g.u.int_in_range(0usize..=6)? {
            // Lamport-ish: usually +1, sometimes equal or a jump; collides
            // across replicas on purpose.
            clock += g.u.int_in_range(0i64..=2)?;
            ops.push(g.op(clock)?);
        }
        replicas.push(ops);
    }

    let all: Vec<&Op> = std::iter::once(&create)
        .chain(replicas.iter().flatten())
        .collect();
    let emitted: Vec<String> = all.iter().map(|op| emit_op(op)).collect();

    // Order 1: create, then the replicas in their natural order.
    let file_a: String = emitted.concat();

    // Order 2: create, then the replicas' blocks either replica by replica
    // in a shuffled replica order (what `merge=union` does), or fully
    // interleaved; then some blocks (any of them, the create too) duplicated
    // at arbitrary positions.
    let mut starts = vec![1usize];
    for r in &replicas {
        starts.push(starts.last().unwrap() + r.len());
    }
    let mut order_b: Vec<usize> = Vec::new();
    if g.u.arbitrary()? {
        let mut rs: Vec<usize> = (0..replicas_n).collect();
        for i in (1..rs.len()).rev() {
            let j = g.u.int_in_range(0..=i)?;
            rs.swap(i, j);
        }
        for r in rs {
            order_b.extend(starts[r]..starts[r + 1]);
        }
    } else {
        order_b.extend(1..emitted.len());
        for i in (1..order_b.len()).rev() {
            let j = g.u.int_in_range(0..=i)?;
            order_b.swap(i, j);
        }
    }
    order_b.insert(0, 0);
    for _ in 0..g.u.int_in_range(0usize..=4)? {
        let which = g.u.int_in_range(0..=emitted.len() - 1)?;
        let pos = g.u.int_in_range(0..=order_b.len())?;
        order_b.insert(pos, which);
    }
    let file_b: String = order_b.iter().map(|&i| emitted[i].as_str()).collect();

    let item_a = compile_file("order 1", &file_a, emitted.len());
    let item_b = compile_file("order 2", &file_b, order_b.len());
    assert_eq!(
        item_a, item_b,
        "FINDING: two union-merge orders compile differently\n\
         --- order 1 ---\n{file_a}--- order 2 ---\n{file_b}"
    );

    // The file must compile like the ops it was written from (a lossy
    // emit/parse round trip would show here).
    let owned: Vec<Op> = all.iter().map(|&op| op.clone()).collect();
    let item_mem = compile("WI-fuzz", Tier::Workspace, &owned).expect("has a create op");
    assert_eq!(
        item_a, item_mem,
        "FINDING: compiling the emitted file differs from compiling the ops\n{file_a}"
    );
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
