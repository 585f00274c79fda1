//! The read cache's record encoding: a compact, length-prefixed binary form
//! of a compiled [`Item`] (and of the JSON values inside it) that we own,
//! in two parts — its summary (what listings read, [`Enc::summary`]) and
//! the rest ([`Enc::heavy`]) — which the cache file keeps apart, and
//! decoded into an [`Item`] or straight into a [`Slim`] one ([`Dec::slim`]).
//! Little-endian integers, strings as a `u32` length plus UTF-8 bytes.
//! Decoding never panics: any truncation or invalid byte yields `None`, and
//! the caller treats the whole cache as missing.

use serde_json::{Map, Number, Value};

use crate::items::item::{Entry, Item};
#[cfg(test)]
use crate::items::slim::Slim;
use crate::items::tiers::Tier;

mod slim;

/// Appends encoded values to a byte buffer.
pub struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// Bytes after a `u64` length (read back by [`Dec::bytes`]).
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn strs(&mut self, v: &[String]) {
        self.u32(v.len() as u32);
        for s in v {
            self.str(s);
        }
    }

    fn values(&mut self, v: &[Value]) {
        self.u32(v.len() as u32);
        for x in v {
            self.value(x);
        }
    }

    fn map(&mut self, m: &Map<String, Value>) {
        self.u32(m.len() as u32);
        for (k, v) in m {
            self.str(k);
            self.value(v);
        }
    }

    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.u8(0),
            Value::Bool(false) => self.u8(1),
            Value::Bool(true) => self.u8(2),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    self.u8(3);
                    self.u64(i as u64);
                } else if let Some(u) = n.as_u64() {
                    self.u8(4);
                    self.u64(u);
                } else {
                    self.u8(5);
                    self.u64(n.as_f64().unwrap_or(0.0).to_bits());
                }
            }
            Value::String(s) => {
                self.u8(6);
                self.str(s);
            }
            Value::Array(a) => {
                self.u8(7);
                self.values(a);
            }
            Value::Object(m) => {
                self.u8(8);
                self.map(m);
            }
        }
    }

    /// An item's summary part, without its ID and tier (the record holds
    /// those) and without `frozen` / `cross_tier_conflict` (computed at
    /// read time): everything listings read — all but the long texts, the
    /// custom fields but a claim's, and the read part of the discussion;
    /// of the unread tail (trailing human entries), who wrote each entry
    /// when. [`Enc::heavy`] writes the rest, which the cache file keeps
    /// apart, so a summary read never reads it.
    pub fn summary(&mut self, it: &Item) {
        // First what a slim item keeps, its texts in one block as a slim
        // item holds them: their count, where each ends, then the bytes.
        let tags = it.tags.iter().filter_map(Value::as_str);
        let texts: Vec<&str> = [&it.kind, &it.title, &it.status, &it.created_at]
            .into_iter()
            .map(String::as_str)
            .chain(tags)
            .collect();
        self.u32(texts.len() as u32);
        let mut end = 0;
        for t in &texts {
            end += t.len();
            self.u32(end as u32);
        }
        texts
            .iter()
            .for_each(|t| self.0.extend_from_slice(t.as_bytes()));
        self.value(&it.priority);
        self.values(&it.isbefore);
        self.values(&it.duplicate_of);
        self.strs(&it.locked_fields);
        self.map(&summary_fields(&it.fields));
        let unread = it.unread_human();
        self.u32(unread.len() as u32);
        // Then the rest, which a slim read skips in one step.
        let at = self.0.len();
        self.u32(0);
        match &it.parent {
            None => self.u8(0),
            Some(p) => {
                self.u8(1);
                self.str(p);
            }
        }
        self.values(&it.tags);
        self.values(&it.not_duplicate_of);
        self.value(&it.pr_ref);
        self.str(&it.updated_at);
        self.u64(it.op_count as u64);
        for list in [&it.rejected_ops, &it.unverified_ops] {
            self.u32(list.len() as u32);
            for r in list {
                for s in [&r.kind, &r.by, &r.actor, &r.at, &r.nonce, &r.reason] {
                    self.str(s);
                }
                self.u64(r.clock as u64);
            }
        }
        for e in unread {
            self.str(&e.by);
            self.str(&e.actor);
            self.str(&e.at);
            self.u8(u8::from(e.is_summary) | (u8::from(e.is_tombstoned) << 1));
            self.str(&e.nonce);
        }
        let len = (self.0.len() - at - 4) as u32;
        self.0[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// What [`Enc::summary`] leaves out: the description, the custom
    /// fields, the read entries of the discussion, and the unread tail's
    /// message bodies and edit histories.
    pub fn heavy(&mut self, it: &Item) {
        self.str(&it.description);
        self.map(&it.fields);
        let tail = it.unread_human();
        let (read, unread) = it.discussion.split_at(it.discussion.len() - tail.len());
        self.u32(read.len() as u32);
        read.iter().for_each(|e| self.entry(e));
        for e in unread {
            self.str(&e.message);
            self.strs(&e.edit_history);
        }
    }

    fn entry(&mut self, e: &Entry) {
        self.str(&e.by);
        self.str(&e.actor);
        self.str(&e.at);
        self.str(&e.message);
        self.u8(u8::from(e.is_summary) | (u8::from(e.is_tombstoned) << 1));
        self.str(&e.nonce);
        self.strs(&e.edit_history);
    }
}

/// Reads values back from a byte slice.
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Nesting deeper than this is corrupt (our own encoder mirrors YAML data,
/// which the parser already bounds).
const MAX_DEPTH: u32 = 128;

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// Bytes after a `u64` length.
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }

    pub fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }

    /// A count of following elements, each at least one byte long (so a
    /// corrupt count cannot make us allocate more than the record holds).
    fn count(&mut self) -> Option<usize> {
        let n = self.u32()? as usize;
        (n <= self.buf.len() - self.pos).then_some(n)
    }

    fn rejected(&mut self) -> Option<Vec<crate::governance::policy::Rejected>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(crate::governance::policy::Rejected {
                kind: self.string()?,
                by: self.string()?,
                actor: self.string()?,
                at: self.string()?,
                nonce: self.string()?,
                reason: self.string()?,
                clock: self.u64()? as i64,
            });
        }
        Some(out)
    }

    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.string()?);
        }
        Some(out)
    }

    fn values(&mut self, depth: u32) -> Option<Vec<Value>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.value_at(depth)?);
        }
        Some(out)
    }

    fn map(&mut self, depth: u32) -> Option<Map<String, Value>> {
        let n = self.count()?;
        let mut m = Map::with_capacity(n);
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value_at(depth)?;
            m.insert(k, v);
        }
        Some(m)
    }

    pub fn value(&mut self) -> Option<Value> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: u32) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match self.u8()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Number(Number::from(self.u64()? as i64)),
            4 => Value::Number(Number::from(self.u64()?)),
            5 => Value::Number(Number::from_f64(f64::from_bits(self.u64()?))?),
            6 => Value::String(self.string()?),
            7 => Value::Array(self.values(depth + 1)?),
            8 => Value::Object(self.map(depth + 1)?),
            _ => return None,
        })
    }

    /// The block of texts [`Enc::summary`] writes first: where each text
    /// ends (at least four, in order) and their bytes (UTF-8 unchecked).
    fn texts(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let (ends, text) = self.texts_unordered()?;
        let mut last = 0;
        for e in ends.chunks_exact(4) {
            let e = u32::from_le_bytes(e.try_into().expect("4 bytes"));
            if e < last {
                return None;
            }
            last = e;
        }
        Some((ends, text))
    }

    /// [`Dec::texts`] without checking that the ends are in order (the
    /// caller does): the bytes run to the last end.
    fn texts_unordered(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let n = self.u32()? as usize;
        if n < 4 {
            return None;
        }
        let ends = self.take(n.checked_mul(4)?)?;
        let last = end_at(ends, n - 1);
        Some((ends, self.take(last)?))
    }

    /// A string's bytes (its UTF-8 unchecked).
    pub fn raw(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// Skips a string (checking its bounds, not its UTF-8).
    fn skip_str(&mut self) -> Option<()> {
        let n = self.u32()? as usize;
        self.take(n).map(|_| ())
    }

    /// One whole discussion entry.
    fn entry(&mut self) -> Option<Entry> {
        let by = self.string()?;
        let actor = self.string()?;
        let at = self.string()?;
        let message = self.string()?;
        let flags = self.u8()?;
        Some(Entry {
            by,
            actor,
            at,
            message,
            is_summary: flags & 1 != 0,
            nonce: self.string()?,
            is_tombstoned: flags & 2 != 0,
            edit_history: self.strs()?,
        })
    }

    /// The item [`Enc::summary`] wrote, as [`strip`] leaves an item; `id`
    /// and `tier` come from the record. [`Dec::heavy`] makes it whole.
    pub fn item(&mut self, id: String, tier: Tier) -> Option<Item> {
        let (ends, text) = self.texts()?;
        let part = |i: usize| -> Option<String> {
            let start = if i == 0 { 0 } else { end_at(ends, i - 1) };
            let bytes = text.get(start..end_at(ends, i))?;
            std::str::from_utf8(bytes).ok().map(str::to_string)
        };
        let (kind, title, status, created_at) = (part(0)?, part(1)?, part(2)?, part(3)?);
        let priority = self.value()?;
        let isbefore = self.values(0)?;
        let duplicate_of = self.values(0)?;
        let locked_fields = self.strs()?;
        let fields = self.map(0)?;
        let n = self.count()?;
        let rest = self.u32()? as usize;
        let end = self.pos.checked_add(rest)?;
        let parent = match self.u8()? {
            0 => None,
            1 => Some(self.string()?),
            _ => return None,
        };
        let tags = self.values(0)?;
        let not_duplicate_of = self.values(0)?;
        let pr_ref = self.value()?;
        let updated_at = self.string()?;
        let op_count = usize::try_from(self.u64()?).ok()?;
        let rejected_ops = self.rejected()?;
        let unverified_ops = self.rejected()?;
        let mut discussion = Vec::with_capacity(n);
        for _ in 0..n {
            let by = self.string()?;
            if by != "human" {
                return None;
            }
            let actor = self.string()?;
            let at = self.string()?;
            let flags = self.u8()?;
            discussion.push(Entry {
                by,
                actor,
                at,
                message: String::new(),
                is_summary: flags & 1 != 0,
                nonce: self.string()?,
                is_tombstoned: flags & 2 != 0,
                edit_history: Vec::new(),
            });
        }
        if self.pos != end {
            return None;
        }
        Some(Item {
            id,
            kind,
            title,
            status,
            priority,
            parent,
            tags,
            isbefore,
            duplicate_of,
            not_duplicate_of,
            pr_ref,
            description: String::new(),
            fields,
            locked_fields,
            discussion,
            created_at,
            updated_at,
            tier,
            frozen: false,
            cross_tier_conflict: false,
            op_count,
            rejected_ops,
            unverified_ops,
        })
    }

    /// Makes the summary `item` [`Dec::item`] read whole again with what
    /// [`Enc::heavy`] wrote.
    pub fn heavy(&mut self, item: &mut Item) -> Option<()> {
        item.description = self.string()?;
        item.fields = self.map(0)?;
        let n = self.count()?;
        let mut read = Vec::with_capacity(n + item.discussion.len());
        for _ in 0..n {
            read.push(self.entry()?);
        }
        if read.last().is_some_and(Entry::is_human) {
            return None;
        }
        for e in &mut item.discussion {
            e.message = self.string()?;
            e.edit_history = self.strs()?;
        }
        read.append(&mut item.discussion);
        item.discussion = read;
        Some(())
    }
}

/// The `i`th end in a block of texts' ends ([`Dec::texts`]).
fn end_at(ends: &[u8], i: usize) -> usize {
    u32::from_le_bytes(ends[4 * i..4 * i + 4].try_into().expect("4 bytes")) as usize
}

/// The custom fields a summary keeps: those of a claim ([`crate::claims`]).
fn summary_fields(fields: &Map<String, Value>) -> Map<String, Value> {
    crate::claims::FIELDS
        .iter()
        .filter_map(|k| fields.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// Drops what listings, `ready` and the stop hook's counts never read:
/// the description, custom fields but a claim's, every discussion entry
/// before the unread tail ([`Item::unread_human`]), and the tail's message
/// bodies and edit history (its authors, times and nonces stay).
pub fn strip(item: &mut Item) {
    item.description = String::new();
    // Cheap on an item that is stripped already (one from the cache).
    if item
        .fields
        .keys()
        .any(|k| !crate::claims::FIELDS.contains(&k.as_str()))
    {
        item.fields = summary_fields(&item.fields);
    }
    let tail = item.unread_human().len();
    item.discussion.drain(..item.discussion.len() - tail);
    for e in &mut item.discussion {
        e.message = String::new();
        e.edit_history = Vec::new();
    }
}

/// A fast 64-bit checksum (not cryptographic: it detects torn and garbled
/// cache files, nothing adversarial — the cache is the user's own file).
pub fn checksum(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 32)
}

/// [`checksum`]'s form for large inputs (the cache files): 32-byte blocks
/// in four lanes (four chains of multiplies side by side, not one), folded,
/// then the rest by [`checksum`]. Any one byte changed changes it: each
/// lane's step and the fold are one-to-one in the word taken in.
pub fn checksum_wide(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lanes = [
        seed ^ (bytes.len() as u64).wrapping_mul(K),
        seed ^ 0x243F_6A88_85A3_08D3,
        seed ^ 0x1319_8A2E_0370_7344,
        seed ^ 0xA409_3822_299F_31D0,
    ];
    let mut blocks = bytes.chunks_exact(32);
    for b in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(29);
        }
    }
    let folded = lanes
        .iter()
        .fold(seed, |h, &l| (h ^ l).wrapping_mul(K).rotate_left(29));
    checksum(folded, blocks.remainder())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Item {
        let mut fields = Map::new();
        fields.insert("statement".into(), json!("x ≥ y"));
        fields.insert("n".into(), json!({"a": [1, -2, 3.5, null, true, u64::MAX]}));
        Item {
            id: "WI-a".into(),
            kind: "work_item".into(),
            title: "café".into(),
            status: "todo_hard".into(),
            priority: json!(2),
            parent: Some("WI-b".into()),
            tags: vec![json!("perf"), json!(7)],
            isbefore: vec![json!("WI-c")],
            duplicate_of: vec![],
            not_duplicate_of: vec![json!(null)],
            pr_ref: json!("#12"),
            description: "line\nline".into(),
            fields,
            locked_fields: vec!["title".into()],
            // Read entries (a human one among them), then an unread tail.
            discussion: [
                ("human", "hi"),
                ("agent", "on it"),
                ("human", "and?"),
                ("human", ""),
            ]
            .iter()
            .enumerate()
            .map(|(i, (by, text))| Entry {
                by: (*by).into(),
                actor: "amy".into(),
                at: format!("2026-01-01T00:00:0{i}Z"),
                message: (*text).into(),
                is_summary: i == 1,
                nonce: format!("ab1{i}"),
                is_tombstoned: i == 0,
                edit_history: vec!["old".into(); i],
            })
            .collect(),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-02T00:00:00Z".into(),
            tier: Tier::Stealth,
            frozen: false,
            cross_tier_conflict: false,
            op_count: 3,
            rejected_ops: vec![crate::governance::policy::Rejected {
                kind: "lock".into(),
                by: "human".into(),
                actor: "amy_agent".into(),
                at: "2026-01-01T00:00:09Z".into(),
                clock: 4,
                nonce: "beef".into(),
                reason: "'lock' needs human authority".into(),
            }],
            unverified_ops: vec![crate::governance::policy::Rejected {
                kind: "unlock".into(),
                by: "human".into(),
                actor: "amy".into(),
                at: "2026-01-01T00:00:10Z".into(),
                clock: 5,
                nonce: "cafe".into(),
                reason: "unsigned".into(),
            }],
        }
    }

    #[test]
    fn item_round_trips_and_truncation_is_detected() {
        let item = sample();
        let (mut sum, mut heavy) = (Vec::new(), Vec::new());
        Enc(&mut sum).summary(&item);
        Enc(&mut heavy).heavy(&item);
        let mut stripped = item.clone();
        strip(&mut stripped);
        assert_eq!(stripped.discussion.len(), 2, "the unread tail stays");
        assert_eq!(stripped.unread_human().len(), 2);
        let mut d = Dec::new(&sum);
        let mut got = d.item("WI-a".into(), Tier::Stealth).expect("summary");
        assert!(d.at_end(), "a summary read consumes the whole part");
        assert_eq!(got, stripped);
        let mut d = Dec::new(&heavy);
        d.heavy(&mut got).expect("heavy");
        assert!(d.at_end());
        assert_eq!(got, item);
        let mut d = Dec::new(&sum);
        let slim = d.slim(b"WI-a", Tier::Stealth).expect("slim");
        assert!(d.at_end());
        assert_eq!(slim, Slim::of(&item));
        for cut in 0..sum.len() {
            assert_eq!(
                Dec::new(&sum[..cut]).item("WI-a".into(), Tier::Stealth),
                None
            );
            assert_eq!(Dec::new(&sum[..cut]).slim(b"WI-a", Tier::Stealth), None);
        }
        for cut in 0..heavy.len() {
            let mut part = stripped.clone();
            assert_eq!(Dec::new(&heavy[..cut]).heavy(&mut part), None);
        }
    }

    #[test]
    fn checksum_sees_every_byte() {
        let a = b"0123456789abcdefXYZ".to_vec();
        let base = checksum(1, &a);
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 1;
            assert_ne!(checksum(1, &b), base, "flip at {i}");
        }
        assert_ne!(checksum(1, &a[..18]), base);
        // The wide form, over blocks and a tail.
        let a: Vec<u8> = (0..100u8).collect();
        let base = checksum_wide(1, &a);
        for i in 0..a.len() {
            for bit in [1, 0x80] {
                let mut b = a.clone();
                b[i] ^= bit;
                assert_ne!(checksum_wide(1, &b), base, "flip at {i}");
            }
        }
        assert_ne!(checksum_wide(1, &a[..99]), base);
        assert_ne!(checksum_wide(2, &a), base);
        let mut swapped = a.clone();
        swapped.swap(0, 8);
        assert_ne!(
            checksum_wide(1, &swapped),
            base,
            "words of two lanes swapped"
        );
    }
}
