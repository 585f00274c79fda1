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
    fn has_tag(&self, tag: &str) -> bool;
    /// The `isbefore` entries as text ([`value_text`]).
    fn isbefore_ids(&self) -> Vec<String>;
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
    fn isbefore_ids(&self) -> Vec<String> {
        Item::isbefore_ids(self)
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
    /// ID, kind, title, status and creation time, one after the other.
    text: Box<str>,
    /// Where each but the first of those begins in `text`.
    starts: [u32; 4],
    pub priority: Priority,
    /// The tags that are strings (no other tag can match a tag filter).
    pub tags: Box<[Box<str>]>,
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

impl Slim {
    /// Made of its parts (as the read cache holds them).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        kind: &str,
        title: &str,
        status: &str,
        created_at: &str,
        priority: Priority,
        tags: Box<[Box<str>]>,
        isbefore: Box<[Box<str>]>,
        claim_fields: Map<String, Value>,
        locked_fields: Box<[Box<str>]>,
        unread: usize,
        tier: Tier,
        duplicate: bool,
    ) -> Slim {
        let (text, starts) = pack([id, kind, title, status, created_at]);
        Slim {
            text,
            starts,
            priority,
            tags,
            isbefore,
            claim_fields: (!claim_fields.is_empty()).then(|| Box::new(claim_fields)),
            locked_fields,
            unread: unread as u32,
            tier,
            frozen: false,
            cross_tier_conflict: false,
            duplicate,
        }
    }

    /// [`Slim::new`] from its text parts as bytes (ID, kind, title,
    /// status, creation time), checked as UTF-8 once, all together; `None`
    /// if they are not UTF-8.
    #[allow(clippy::too_many_arguments)]
    pub fn from_bytes(
        parts: [&[u8]; 5],
        priority: Priority,
        tags: Box<[Box<str>]>,
        isbefore: Box<[Box<str>]>,
        claim_fields: Map<String, Value>,
        locked_fields: Box<[Box<str>]>,
        unread: usize,
        tier: Tier,
        duplicate: bool,
    ) -> Option<Slim> {
        let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut starts = [0u32; 4];
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                starts[i - 1] = u32::try_from(bytes.len()).ok()?;
            }
            bytes.extend_from_slice(p);
        }
        let text = String::from_utf8(bytes).ok()?;
        // Valid as a whole, and cut only between characters: so is each part.
        if !starts.iter().all(|&s| text.is_char_boundary(s as usize)) {
            return None;
        }
        Some(Slim {
            text: text.into_boxed_str(),
            starts,
            priority,
            tags,
            isbefore,
            claim_fields: (!claim_fields.is_empty()).then(|| Box::new(claim_fields)),
            locked_fields,
            unread: unread as u32,
            tier,
            frozen: false,
            cross_tier_conflict: false,
            duplicate,
        })
    }

    /// The slim form of a (whole or summary) item.
    pub fn of(item: &Item) -> Slim {
        let fields: Map<String, Value> = crate::claims::FIELDS
            .iter()
            .filter_map(|k| item.fields.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        let mut s = Slim::new(
            &item.id,
            &item.kind,
            &item.title,
            &item.status,
            &item.created_at,
            Priority::of(item.priority.clone()),
            string_tags(&item.tags),
            text_list(&item.isbefore),
            fields,
            item.locked_fields
                .iter()
                .map(|f| Box::from(f.as_str()))
                .collect(),
            item.unread_human().len(),
            item.tier,
            !item.duplicate_of.is_empty(),
        );
        s.frozen = item.frozen;
        s.cross_tier_conflict = item.cross_tier_conflict;
        s
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.starts[i - 1] as usize
        };
        let end = self.starts.get(i).map_or(self.text.len(), |e| *e as usize);
        &self.text[start..end]
    }
}

/// The string tags of a tag list.
pub fn string_tags(tags: &[Value]) -> Box<[Box<str>]> {
    tags.iter()
        .filter_map(|t| t.as_str().map(Box::from))
        .collect()
}

/// A list's entries as text ([`value_text`]).
pub fn text_list(values: &[Value]) -> Box<[Box<str>]> {
    values.iter().map(|v| value_text(v).into()).collect()
}

fn pack(parts: [&str; 5]) -> (Box<str>, [u32; 4]) {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    let mut starts = [0u32; 4];
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            starts[i - 1] = text.len() as u32;
        }
        text.push_str(p);
    }
    (text.into_boxed_str(), starts)
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
        match &self.priority {
            Priority::Int(i) => *i,
            Priority::Other(_) => i64::MAX,
        }
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| &**t == tag)
    }
    fn isbefore_ids(&self) -> Vec<String> {
        self.isbefore.iter().map(|s| s.to_string()).collect()
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
        let (text, starts) = pack([
            self.id(),
            self.kind(),
            self.title(),
            crate::claims::CLAIMED_STATUS,
            self.created_at(),
        ]);
        (self.text, self.starts) = (text, starts);
    }
    fn unread_count(&self) -> usize {
        self.unread as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parts_round_trip_and_a_claim_sets_the_status() {
        let mut s = Slim::new(
            "WI-a",
            "work_item",
            "café",
            "todo_hard",
            "2026-01-01T00:00:00Z",
            Priority::of(json!(2)),
            string_tags(&[json!("perf"), json!(7)]),
            text_list(&[json!("WI-b"), json!(null)]),
            Map::new(),
            Box::new([]),
            1,
            Tier::Workspace,
            false,
        );
        assert_eq!(
            (s.id(), s.kind(), s.title(), s.status(), s.created_at()),
            (
                "WI-a",
                "work_item",
                "café",
                "todo_hard",
                "2026-01-01T00:00:00Z"
            )
        );
        assert_eq!(s.sort_key(), (2, "2026-01-01T00:00:00Z"));
        assert!(s.has_tag("perf") && !s.has_tag("7"));
        assert_eq!(s.isbefore_ids(), ["WI-b", "None"]);
        assert!(s.claim().is_none());
        let claim = Claim {
            session: "s1".into(),
            until: 2_000_000_000,
            from: String::new(),
        };
        s.set_claim(&claim);
        assert_eq!(s.status(), crate::claims::CLAIMED_STATUS);
        assert_eq!(s.title(), "café");
        assert_eq!(s.claim().map(|c| c.session), Some("s1".into()));
        assert_eq!(
            Priority::of(json!("high")).clone(),
            Priority::Other(Box::new(json!("high")))
        );
    }
}
