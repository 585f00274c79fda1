//! A slim item: what the text listings (`list`, `ready`) read of an item and
//! nothing more — its ID, kind, title, status and creation time in one
//! allocation, its priority, string tags, `isbefore` IDs, claim fields and
//! the length of its unread human tail — and [`Listable`], the view of an
//! item those listings (and the queries under them) are written against,
//! which both [`Item`] and [`Slim`] give.
//!
//! A slim read ([`crate::Tracker::snapshot_slim`]) decodes the read cache
//! straight into `Slim`s: about a fifth of an [`Item`]'s memory, and a
//! fraction of its allocations.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::claims::Claim;
use crate::items::item::{value_text, Item};
use crate::items::tiers::Tier;

/// What listings read of an item.
pub trait Listable {
    fn id(&self) -> &str;
    fn kind(&self) -> &str;
    fn title(&self) -> &str;
    fn status(&self) -> &str;
    fn created_at(&self) -> &str;
    fn tier(&self) -> Tier;
    fn priority(&self) -> Cow<'_, Value>;
    /// Priority as a number for sorting (unknown values sort last).
    fn priority_num(&self) -> i64;
    /// The priority when it is an integer (an `i64`).
    fn priority_int(&self) -> Option<i64> {
        self.priority().as_i64()
    }
    fn has_tag(&self, tag: &str) -> bool;
    /// The `isbefore` entries as text ([`value_text`]).
    fn isbefore_ids(&self) -> Vec<String> {
        self.isbefore_texts()
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }
    /// [`Listable::isbefore_ids`], borrowed where they are strings.
    fn isbefore_texts(&self) -> Vec<Cow<'_, str>>;
    /// Marked a duplicate of some item.
    fn is_duplicate(&self) -> bool;
    fn cross_tier_conflict(&self) -> bool;
    fn claim(&self) -> Option<Claim>;
    /// Takes a claim from the host's board: its fields, and the claimed status.
    fn set_claim(&mut self, claim: &Claim);
    /// How many trailing discussion entries are unread human ones.
    fn unread_count(&self) -> usize;

    /// The list/ready sort key: priority, then creation time.
    fn sort_key(&self) -> (i64, &str) {
        (self.priority_num(), self.created_at())
    }
}

impl Listable for Item {
    fn id(&self) -> &str {
        &self.id
    }
    fn kind(&self) -> &str {
        &self.kind
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn tier(&self) -> Tier {
        self.tier
    }
    fn priority(&self) -> Cow<'_, Value> {
        Cow::Borrowed(&self.priority)
    }
    fn priority_num(&self) -> i64 {
        Item::priority_num(self)
    }
    fn has_tag(&self, tag: &str) -> bool {
        Item::has_tag(self, tag)
    }
    fn isbefore_texts(&self) -> Vec<Cow<'_, str>> {
        self.isbefore
            .iter()
            .map(|v| match v {
                Value::String(s) => Cow::Borrowed(s.as_str()),
                other => Cow::Owned(value_text(other)),
            })
            .collect()
    }
    fn is_duplicate(&self) -> bool {
        !self.duplicate_of.is_empty()
    }
    fn cross_tier_conflict(&self) -> bool {
        self.cross_tier_conflict
    }
    fn claim(&self) -> Option<Claim> {
        Claim::of(self)
    }
    fn set_claim(&mut self, claim: &Claim) {
        self.fields.extend(claim.to_fields());
        self.status = crate::claims::CLAIMED_STATUS.to_string();
    }
    fn unread_count(&self) -> usize {
        self.unread_human().len()
    }
}

/// A priority as written: almost always an integer.
#[derive(Debug, Clone, PartialEq)]
pub enum Priority {
    Int(i64),
    Other(Box<Value>),
}

impl Priority {
    pub fn of(v: Value) -> Priority {
        match v.as_i64() {
            Some(i) => Priority::Int(i),
            None => Priority::Other(Box::new(v)),
        }
    }
}

/// What listings read of an item, compactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Slim {
    /// ID, kind, title, status and creation time, then its string tags,
    /// one after the other.
    text: Box<str>,
    /// Where each of the first five texts ends in `text`, then where each
    /// of the first three tags does (the first begins where the creation
    /// time ends)...
    ends: [u32; 8],
    /// ... and the rest of the tags (no allocation for three tags or fewer).
    more_ends: Box<[u32]>,
    tag_count: u32,
    pub priority: Priority,
    pub isbefore: Box<[Box<str>]>,
    /// The claim fields ([`crate::claims::FIELDS`]) it has, if any.
    pub claim_fields: Option<Box<Map<String, Value>>>,
    /// As written (unsorted).
    pub locked_fields: Box<[Box<str>]>,
    pub unread: u32,
    pub tier: Tier,
    pub frozen: bool,
    pub cross_tier_conflict: bool,
    pub duplicate: bool,
}

/// What a slim item holds besides its text.
#[derive(Debug, Clone)]
pub struct Rest {
    pub priority: Priority,
    pub isbefore: Box<[Box<str>]>,
    /// `None` when it has none.
    pub claim_fields: Option<Map<String, Value>>,
    pub locked_fields: Box<[Box<str>]>,
    pub unread: usize,
    pub tier: Tier,
    pub duplicate: bool,
}

impl Slim {
    /// Made of its texts — ID, kind, title, status, creation time, then
    /// its string tags (no other tag can match a tag filter) — as bytes,
    /// checked as UTF-8 once, all together, and the rest; `None` if they
    /// are not UTF-8 (or fewer than five).
    pub fn from_bytes(texts: &[&[u8]], rest: Rest) -> Option<Slim> {
        if texts.len() < 5 {
            return None;
        }
        let mut bytes = Vec::with_capacity(texts.iter().map(|p| p.len()).sum());
        let mut ends = [0u32; 8];
        let mut more_ends = Vec::new();
        for (i, p) in texts.iter().enumerate() {
            bytes.extend_from_slice(p);
            let end = u32::try_from(bytes.len()).ok()?;
            match ends.get_mut(i) {
                Some(e) => *e = end,
                None => more_ends.push(end),
            }
        }
        Slim::assemble(bytes, ends, more_ends, texts.len(), rest)
    }

    /// A slim item from its texts' bytes and where each of its `parts`
    /// texts (ID, kind, title, status, created_at, then tags) ends. `None`
    /// unless they are UTF-8 cut only between characters (then so is each
    /// part).
    fn assemble(
        bytes: Vec<u8>,
        ends: [u32; 8],
        more_ends: Vec<u32>,
        parts: usize,
        rest: Rest,
    ) -> Option<Slim> {
        let text = String::from_utf8(bytes).ok()?;
        if !ends[..parts.min(8)]
            .iter()
            .chain(&more_ends)
            .all(|&e| text.is_char_boundary(e as usize))
        {
            return None;
        }
        Some(Slim {
            text: text.into_boxed_str(),
            ends,
            more_ends: more_ends.into_boxed_slice(),
            tag_count: u32::try_from(parts.checked_sub(5)?).ok()?,
            priority: rest.priority,
            isbefore: rest.isbefore,
            claim_fields: rest.claim_fields.filter(|m| !m.is_empty()).map(Box::new),
            locked_fields: rest.locked_fields,
            unread: rest.unread as u32,
            tier: rest.tier,
            frozen: false,
            cross_tier_conflict: false,
            duplicate: rest.duplicate,
        })
    }

    /// [`Slim::from_bytes`] from the ID and a block of the other texts as
    /// the read cache holds them: their bytes one after the other, and
    /// where each ends in the block (in order, at least four). `None` if
    /// they are not UTF-8 or the ends do not fit.
    pub fn from_block(
        id: &[u8],
        block: &[u8],
        block_ends: impl ExactSizeIterator<Item = u32>,
        rest: Rest,
    ) -> Option<Slim> {
        let count = block_ends.len();
        if count < 4 {
            return None;
        }
        let mut bytes = Vec::with_capacity(id.len() + block.len());
        bytes.extend_from_slice(id);
        bytes.extend_from_slice(block);
        let base = u32::try_from(id.len()).ok()?;
        let mut ends = [0; 8];
        ends[0] = base;
        let mut more_ends = Vec::new();
        let mut last = base;
        for (i, e) in block_ends.enumerate() {
            let end = base.checked_add(e)?;
            if end < last {
                return None;
            }
            last = end;
            match ends.get_mut(i + 1) {
                Some(slot) => *slot = end,
                None => more_ends.push(end),
            }
        }
        if last as usize != bytes.len() {
            return None;
        }
        Slim::assemble(bytes, ends, more_ends, count + 1, rest)
    }

    /// [`Slim::from_bytes`] from strings.
    pub fn new(texts: &[&str], rest: Rest) -> Slim {
        let bytes: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        Slim::from_bytes(&bytes, rest).expect("five or more strings")
    }

    /// The slim form of a (whole or summary) item.
    pub fn of(item: &Item) -> Slim {
        let fields: Map<String, Value> = crate::claims::FIELDS
            .iter()
            .filter_map(|k| item.fields.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        let mut texts = vec![
            item.id.as_str(),
            &item.kind,
            &item.title,
            &item.status,
            &item.created_at,
        ];
        texts.extend(item.tags.iter().filter_map(Value::as_str));
        let mut s = Slim::new(
            &texts,
            Rest {
                priority: Priority::of(item.priority.clone()),
                isbefore: text_list(&item.isbefore),
                claim_fields: Some(fields),
                locked_fields: item
                    .locked_fields
                    .iter()
                    .map(|f| Box::from(f.as_str()))
                    .collect(),
                unread: item.unread_human().len(),
                tier: item.tier,
                duplicate: !item.duplicate_of.is_empty(),
            },
        );
        s.frozen = item.frozen;
        s.cross_tier_conflict = item.cross_tier_conflict;
        s
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Its string tags.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        let n = self.tag_count as usize;
        let ends = self.ends[5..5 + n.min(3)]
            .iter()
            .chain(self.more_ends.iter());
        let starts = self.ends[4..].iter().chain(self.more_ends.iter());
        starts
            .zip(ends)
            .map(|(s, e)| &self.text[*s as usize..*e as usize])
    }
}

/// Sorts `items` by [`Listable::sort_key`], keeping the order of equal
/// ones (as a stable sort does) — faster: each item's key is made once,
/// as integers compared as such: the priority, the creation time's bytes
/// in three big-endian words (zero-padded: the same order as the bytes,
/// a shorter time first on a tie) and the item's place. A creation time
/// longer than 24 bytes (none is) takes the plain stable sort.
pub fn sort_listed<T: Listable>(items: &mut [&T]) {
    const W: usize = 8;
    if items.iter().any(|i| i.created_at().len() > 3 * W) {
        items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        return;
    }
    fn word(b: &[u8], at: usize) -> u64 {
        let mut w = [0u8; W];
        let part = b.get(at..).unwrap_or(&[]);
        let n = part.len().min(W);
        w[..n].copy_from_slice(&part[..n]);
        u64::from_be_bytes(w)
    }
    let mut keyed: Vec<(i64, [u64; 3], u32, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let (p, c) = it.sort_key();
            let c = c.as_bytes();
            let words = [word(c, 0), word(c, W), word(c, 2 * W)];
            (p, words, c.len() as u32, i as u32)
        })
        .collect();
    keyed.sort_unstable();
    let sorted: Vec<&T> = keyed.iter().map(|k| items[k.3 as usize]).collect();
    items.copy_from_slice(&sorted);
}

/// The first `n` of `items` as [`sort_listed`] would order them (so
/// equal ones in `items`' order), without sorting the rest: one pass,
/// keeping the best `n` so far.
pub fn best<'a, T: Listable>(items: impl IntoIterator<Item = &'a T>, n: usize) -> Vec<&'a T> {
    let mut top: Vec<((i64, &str), &T)> = Vec::with_capacity(n + 1);
    for item in items {
        let key = item.sort_key();
        // Most are no better than the last kept: one comparison.
        if top.len() == n && top.last().is_none_or(|(k, _)| *k <= key) {
            continue;
        }
        // After every kept one not greater: equal ones keep their order.
        let at = top.partition_point(|(k, _)| *k <= key);
        top.insert(at, (key, item));
        top.truncate(n);
    }
    top.into_iter().map(|(_, t)| t).collect()
}

/// A list's entries as text ([`value_text`]).
pub fn text_list(values: &[Value]) -> Box<[Box<str>]> {
    values.iter().map(|v| value_text(v).into()).collect()
}

impl Listable for Slim {
    fn id(&self) -> &str {
        self.part(0)
    }
    fn kind(&self) -> &str {
        self.part(1)
    }
    fn title(&self) -> &str {
        self.part(2)
    }
    fn status(&self) -> &str {
        self.part(3)
    }
    fn created_at(&self) -> &str {
        self.part(4)
    }
    fn tier(&self) -> Tier {
        self.tier
    }
    fn priority(&self) -> Cow<'_, Value> {
        match &self.priority {
            Priority::Int(i) => Cow::Owned(Value::from(*i)),
            Priority::Other(v) => Cow::Borrowed(v),
        }
    }
    fn priority_num(&self) -> i64 {
        self.priority_int().unwrap_or(i64::MAX)
    }
    fn priority_int(&self) -> Option<i64> {
        match &self.priority {
            Priority::Int(i) => Some(*i),
            Priority::Other(_) => None,
        }
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags().any(|t| t == tag)
    }
    fn isbefore_texts(&self) -> Vec<Cow<'_, str>> {
        self.isbefore.iter().map(|s| Cow::Borrowed(&**s)).collect()
    }
    fn is_duplicate(&self) -> bool {
        self.duplicate
    }
    fn cross_tier_conflict(&self) -> bool {
        self.cross_tier_conflict
    }
    fn claim(&self) -> Option<Claim> {
        Claim::from_fields(self.claim_fields.as_deref()?)
    }
    fn set_claim(&mut self, claim: &Claim) {
        self.claim_fields
            .get_or_insert_with(Default::default)
            .extend(claim.to_fields());
        let mut texts = vec![
            self.id(),
            self.kind(),
            self.title(),
            crate::claims::CLAIMED_STATUS,
            self.created_at(),
        ];
        texts.extend(self.tags());
        // Rare (a claim on the host's board): owned copies are fine.
        let owned: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
        let bytes: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let rest = Rest {
            priority: self.priority.clone(),
            isbefore: std::mem::take(&mut self.isbefore),
            claim_fields: self.claim_fields.take().map(|m| *m),
            locked_fields: std::mem::take(&mut self.locked_fields),
            unread: self.unread as usize,
            tier: self.tier,
            duplicate: self.duplicate,
        };
        let (frozen, conflict) = (self.frozen, self.cross_tier_conflict);
        *self = Slim::from_bytes(&bytes, rest).expect("texts of a slim item");
        (self.frozen, self.cross_tier_conflict) = (frozen, conflict);
    }
    fn unread_count(&self) -> usize {
        self.unread as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rest(isbefore: &[Value]) -> Rest {
        Rest {
            priority: Priority::of(json!(2)),
            isbefore: text_list(isbefore),
            claim_fields: None,
            locked_fields: Box::new([]),
            unread: 1,
            tier: Tier::Workspace,
            duplicate: false,
        }
    }

    #[test]
    fn parts_round_trip_and_a_claim_sets_the_status() {
        let texts = [
            "WI-a",
            "work_item",
            "café",
            "todo_hard",
            "2026-01-01T00:00:00Z",
        ];
        let mut s = Slim::new(
            &[&texts[..], &["perf", "é"]].concat(),
            rest(&[json!("WI-b"), json!(null)]),
        );
        assert_eq!(
            [s.id(), s.kind(), s.title(), s.status(), s.created_at()],
            texts
        );
        assert_eq!(s.sort_key(), (2, "2026-01-01T00:00:00Z"));
        assert!(s.has_tag("perf") && s.has_tag("é") && !s.has_tag("7"));
        assert_eq!(s.tags().collect::<Vec<_>>(), ["perf", "é"]);
        assert_eq!(s.isbefore_ids(), ["WI-b", "None"]);
        assert!(s.claim().is_none());
        let claim = Claim {
            session: "s1".into(),
            until: 2_000_000_000,
            from: String::new(),
        };
        s.set_claim(&claim);
        assert_eq!(s.status(), crate::claims::CLAIMED_STATUS);
        assert_eq!((s.title(), s.created_at()), ("café", texts[4]));
        assert_eq!(s.tags().collect::<Vec<_>>(), ["perf", "é"]);
        assert_eq!(s.claim().map(|c| c.session), Some("s1".into()));
        assert_eq!(
            Priority::of(json!("high")),
            Priority::Other(Box::new(json!("high")))
        );
        assert_eq!(Slim::new(&texts, rest(&[])).tags().count(), 0);
        // Past three tags, their ends are kept apart.
        let tags = ["a", "bb", "", "dddd", "é"];
        let mut many = Slim::new(&[&texts[..], &tags].concat(), rest(&[]));
        assert_eq!(many.tags().collect::<Vec<_>>(), tags);
        many.set_claim(&claim);
        assert_eq!(many.tags().collect::<Vec<_>>(), tags);
        assert!(many.has_tag("dddd") && many.has_tag("") && !many.has_tag("d"));
        // Texts are checked as UTF-8 together, and cut between characters.
        let made = |t: &[&[u8]]| Slim::from_bytes(t, rest(&[]));
        assert!(made(&[b"WI-a", b"k", "café".as_bytes(), b"s", b"t"]).is_some());
        assert!(made(&[b"WI-a", b"k", b"caf\xc3", b"s", b"t"]).is_none());
        assert!(
            made(&[b"WI-\xc3", b"\xa9", b"t", b"s", b"c"]).is_none(),
            "a character across parts"
        );
        assert!(
            made(&[b"WI-a", b"k", b"t", b"s", b"c", b"\xc3", b"\xa9"]).is_none(),
            "across tags"
        );
        assert!(made(&[b"WI-a", b"k", b"t", b"s"]).is_none());
    }

    #[test]
    fn sort_listed_is_a_stable_sort_by_sort_key() {
        let times = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z\0",
            "",
            "2025",
            "2026-01-01T00:00:01Z",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.123456Z",
        ];
        let items: Vec<Slim> = (0..40)
            .map(|i| {
                let mut r = rest(&[]);
                r.priority = if i % 7 == 3 {
                    Priority::Other(Box::new(json!("x")))
                } else {
                    Priority::Int(i % 3)
                };
                let id = format!("WI-{i}");
                Slim::new(&[&id, "k", "t", "s", times[i as usize % times.len()]], r)
            })
            .collect();
        let mut want: Vec<&Slim> = items.iter().collect();
        want.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut got: Vec<&Slim> = items.iter().collect();
        sort_listed(&mut got);
        let ids = |v: &[&Slim]| v.iter().map(|s| s.id().to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&want));
        // The best few: the sorted ones' first few.
        for n in [0, 1, 2, 5, 17, 39, 40, 41] {
            let top = best(items.iter(), n);
            assert_eq!(ids(&top), ids(&want[..n.min(want.len())]), "best {n}");
        }
        // A creation time over 24 bytes: the plain sort, the same order.
        let long = Slim::new(&["WI-z", "k", "t", "s", &"9".repeat(30)], rest(&[]));
        let mut got: Vec<&Slim> = items.iter().chain([&long]).collect();
        let mut want = got.clone();
        want.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        sort_listed(&mut got);
        assert_eq!(ids(&got), ids(&want));
    }
}
