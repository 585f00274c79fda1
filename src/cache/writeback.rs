//! Writing the cache back after a summary read, whose items are stripped
//! or [`crate::items::slim::Slim`] and so cannot be encoded: each unchanged
//! item's two records (summary and heavy) are copied from the cache file
//! byte for byte — checked against the file's checksums, never decoded —
//! and only freshly parsed items are encoded ([`super::record`]).

use std::ops::Range;
use std::path::Path;

use super::codec::Dec;
use super::{checksum_wide, Entry, FileKey, MAGIC};
use crate::items::tiers::Tier;

/// A cache file read whole, its records located but not decoded.
pub(crate) struct Raw {
    bytes: Vec<u8>,
    /// Per tier, the edit-mode key its records were built with.
    edit_keys: [Option<u64>; 3],
    /// In file order ((tier, ID) order).
    recs: Vec<RawRec>,
}

/// Where one item's records lie in [`Raw::bytes`].
struct RawRec {
    tier: Tier,
    id: Range<usize>,
    key: FileKey,
    summary: Range<usize>,
    heavy: Range<usize>,
}

/// Steps through a cache file's `u32`-length-prefixed records, chaining
/// their checksum as [`super::load`] does.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    sum: u64,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<Range<usize>> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let r = self.pos..end;
        self.pos = end;
        Some(r)
    }

    fn record(&mut self) -> Option<Range<usize>> {
        let len = self.take(4)?;
        let len = u32::from_le_bytes(self.bytes[len].try_into().ok()?) as usize;
        let r = self.take(len)?;
        self.sum = checksum_wide(self.sum, &self.bytes[r.clone()]);
        Some(r)
    }

    fn check(&mut self) -> Option<()> {
        let sum = self.sum;
        let r = self.take(8)?;
        (u64::from_le_bytes(self.bytes[r].try_into().ok()?) == sum).then_some(())
    }
}

/// Reads the cache file at `path` whole and locates its records, or `None`
/// if it is missing, of another format, version or tracker, or fails
/// either checksum (a damaged record is never copied).
pub(crate) fn load_raw(path: &Path, root: &Path) -> Option<Raw> {
    let bytes = super::read_own(path)?;
    let mut c = Cursor {
        bytes: &bytes,
        pos: 0,
        sum: 0,
    };
    if bytes.get(c.take(8)?)? != MAGIC {
        return None;
    }
    let (edit_keys, count) = super::decode_header(&bytes[c.record()?], root)?;
    let mut recs = Vec::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let summary = c.record()?;
        let mut d = Dec::new(&bytes[summary.clone()]);
        let tier = *Tier::ALL.get(d.u8()? as usize)?;
        let id = d.raw()?;
        // The ID's place in the file (it lies within the record).
        let start = id.as_ptr() as usize - bytes.as_ptr() as usize;
        let id = start..start + id.len();
        let key = FileKey::decode(&mut d)?;
        recs.push(RawRec {
            tier,
            id,
            key,
            summary,
            heavy: 0..0,
        });
    }
    c.check()?;
    for rec in &mut recs {
        rec.heavy = c.record()?;
    }
    c.check()?;
    if c.pos != bytes.len() {
        return None;
    }
    Some(Raw {
        bytes,
        edit_keys,
        recs,
    })
}

impl Raw {
    /// The records of the item (`tier`, `id`) whose op file has `key` and
    /// whose tier's edit key is `edit_key`, searched from `*at` on (calls
    /// come in (tier, ID) order, as the records lie); `None` if the file
    /// holds no such record (it was replaced since it was read).
    pub(crate) fn find(
        &self,
        at: &mut usize,
        tier: Tier,
        id: &str,
        key: &FileKey,
        edit_key: Option<u64>,
    ) -> Option<Entry<'_>> {
        let here = (tier, id.as_bytes());
        while let Some(r) = self.recs.get(*at) {
            let there = (r.tier, &self.bytes[r.id.clone()]);
            if there < here {
                *at += 1;
                continue;
            }
            let ok = there == here
                && r.key == *key
                && self.edit_keys[super::tier_index(tier)] == edit_key
                && edit_key.is_some();
            return ok
                .then(|| Entry::Raw(&self.bytes[r.summary.clone()], &self.bytes[r.heavy.clone()]));
        }
        None
    }
}
