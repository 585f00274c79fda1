//! Near-duplicate detection for `add`: the existing items of a tier whose
//! SimHash ([`super::simhash`]) is within [`THRESHOLD`] bits of a new
//! item's, as the reference warns about them (it never blocks the add).
//!
//! The reference reads and compiles every op file of the tier on every
//! `add`. We keep each item's fingerprint in a small file next to the read
//! cache (`simhash-<tracker fingerprint>.bin`), keyed by tier, ID and inode:
//! an ID is a content hash of the create op's data, so an item's
//! fingerprint cannot change while its file stays the same file, and a
//! file replaced by `git checkout` or a take-over gets a new inode and is
//! read again. A warm `add` therefore costs one `getdents` pass over the
//! tier and one read of that file, plus reading the few items added since
//! it was last written (it is rewritten once 16 had to be read). Files
//! that do not parse or compile (no create op) are skipped, as the
//! reference skips them, and never remembered.
//! `HTRAC_NO_CACHE` turns the file off (every item is read each time).

use std::path::{Path, PathBuf};

use super::simhash::{self, Hasher, THRESHOLD};
use crate::items::compile::compile;
use crate::items::tiers::{id_from_file_name, Tier};
use crate::oplog::op::Op;
use crate::tracker::Tracker;

/// An existing item close to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearDuplicate {
    pub id: String,
    /// Bits the two fingerprints differ in (at most [`THRESHOLD`]).
    pub distance: u32,
}

const MAGIC: &[u8; 8] = b"HTRACSH\x01";

/// Rewrite the store once this many items had to be read (fewer are
/// cheaper to read again than the store is to rewrite).
const SAVE_AFTER_MISSES: usize = 16;

/// One remembered fingerprint (the ID borrowed from the store's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry<'a> {
    tier: Tier,
    id: &'a str,
    ino: u64,
    fp: u64,
}

fn store_path(root: &Path) -> Option<PathBuf> {
    crate::cache::path_for(root)?;
    let dir = crate::alias::cache_dir(root)?;
    Some(dir.join(format!("simhash-{}.bin", crate::alias::fingerprint(root))))
}

fn tier_code(t: Tier) -> u8 {
    match t {
        Tier::Canonical => 0,
        Tier::Workspace => 1,
        Tier::Stealth => 2,
    }
}

/// The entries of a store file, sorted by (tier, ID) as written; `None`
/// when the bytes are not a whole, intact store.
fn decode(bytes: &[u8]) -> Option<Vec<Entry<'_>>> {
    let body = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = body.split_at(body.len().checked_sub(8)?);
    if crate::cache::checksum(0, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut rest = body;
    let mut take = |n: usize| -> Option<&[u8]> {
        if rest.len() < n {
            return None;
        }
        let (a, b) = rest.split_at(n);
        rest = b;
        Some(a)
    };
    let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let mut out = Vec::with_capacity(count.min(body.len() / 19));
    for _ in 0..count {
        let tier = match take(1)?[0] {
            0 => Tier::Canonical,
            1 => Tier::Workspace,
            2 => Tier::Stealth,
            _ => return None,
        };
        let ino = u64_of(take(8)?);
        let fp = u64_of(take(8)?);
        let len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        let id = std::str::from_utf8(take(len)?).ok()?;
        out.push(Entry { tier, id, ino, fp });
    }
    let sorted = out
        .windows(2)
        .all(|w| (tier_code(w[0].tier), w[0].id) < (tier_code(w[1].tier), w[1].id));
    (take(1).is_none() && sorted).then_some(out)
}

/// The store file's bytes for `entries` (sorted here).
fn encode(entries: &mut [Entry<'_>]) -> Vec<u8> {
    entries.sort_by(|a, b| (tier_code(a.tier), a.id).cmp(&(tier_code(b.tier), b.id)));
    let mut body = Vec::with_capacity(entries.len() * 72 + 4);
    let kept: Vec<&Entry> = entries.iter().filter(|e| e.id.len() <= 0xFFFF).collect();
    body.extend_from_slice(&(kept.len() as u32).to_le_bytes());
    for e in kept {
        body.push(tier_code(e.tier));
        body.extend_from_slice(&e.ino.to_le_bytes());
        body.extend_from_slice(&e.fp.to_le_bytes());
        body.extend_from_slice(&(e.id.len() as u16).to_le_bytes());
        body.extend_from_slice(e.id.as_bytes());
    }
    let mut out = MAGIC.to_vec();
    let sum = crate::cache::checksum(0, &body);
    out.extend_from_slice(&body);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The op files of a tier directory as (ID, inode), sorted by ID: one
/// `getdents` pass, no `stat`.
fn list(dir: &Path) -> Vec<(String, u64)> {
    use rustix::fs::{FileType, Mode, OFlags};
    let Ok(fd) = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let Ok(mut entries) = rustix::fs::Dir::read_from(&fd) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Some(Ok(entry)) = entries.read() {
        let kind = entry.file_type();
        if kind != FileType::RegularFile && kind != FileType::Unknown {
            continue;
        }
        if let Some(id) = entry.file_name().to_str().ok().and_then(id_from_file_name) {
            out.push((id.to_string(), entry.ino()));
        }
    }
    out.sort_unstable();
    out
}

/// The fingerprint of the item in `path`: its first create op's data
/// (file order, as the reference reads it), or `None` when the file does
/// not parse or compile.
fn read_fingerprint(path: &Path, id: &str, tier: Tier, hasher: &mut Hasher) -> Option<u64> {
    let log = crate::oplog::read(path).ok()?;
    let ops: Vec<Op> = log.ops.into_iter().map(|(_, o)| o).collect();
    compile(id, tier, &ops).ok()?;
    let data = ops.iter().find(|o| o.kind == "create")?.get_map("data")?;
    Some(hasher.fingerprint(&simhash::create_text(data)))
}

/// Every readable item of `tier` with its fingerprint, in ID order.
pub fn fingerprints(t: &Tracker, tier: Tier) -> Vec<(String, u64)> {
    let dir = t.tier_dir(tier);
    let files = list(&dir);
    let path = store_path(&t.root);
    let bytes = path
        .as_deref()
        .and_then(crate::cache::read_own)
        .unwrap_or_default();
    let store = decode(&bytes).unwrap_or_default();
    // This tier's entries are one sorted run of the store: merge-join them
    // with the sorted listing.
    let mine: Vec<&Entry> = store.iter().filter(|e| e.tier == tier).collect();
    let mut hasher = Hasher::new();
    let mut out: Vec<(String, u64)> = Vec::with_capacity(files.len());
    let mut inos: Vec<u64> = Vec::with_capacity(files.len());
    let mut misses = 0;
    let mut m = 0;
    for (id, ino) in &files {
        while m < mine.len() && mine[m].id < id.as_str() {
            m += 1;
        }
        match mine.get(m) {
            Some(e) if e.id == id && e.ino == *ino => {
                out.push((id.clone(), e.fp));
                inos.push(*ino);
            }
            _ => {
                let p = dir.join(crate::items::tiers::ops_file_name(id));
                if let Some(fp) = read_fingerprint(&p, id, tier, &mut hasher) {
                    misses += 1;
                    out.push((id.clone(), fp));
                    inos.push(*ino);
                }
            }
        }
    }
    if let (true, Some(p)) = (misses >= SAVE_AFTER_MISSES, path) {
        // Other tiers as they were, this tier as listed now (gone items forgotten).
        let mut entries: Vec<Entry> = store.iter().filter(|e| e.tier != tier).copied().collect();
        entries.extend(out.iter().zip(&inos).map(|((id, fp), ino)| Entry {
            tier,
            id,
            ino: *ino,
            fp: *fp,
        }));
        // Best effort, like the read cache: a read-only cache directory
        // costs speed, never the command.
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let bytes = encode(&mut entries);
        let _ =
            crate::atomic::replace_with(&p, 0o644, false, |w| std::io::Write::write_all(w, &bytes));
    }
    out
}

/// The items of `tier` within [`THRESHOLD`] bits of `fingerprint`, in ID
/// order, leaving out the IDs in `not_duplicate_of`.
pub fn near_duplicates(
    t: &Tracker,
    tier: Tier,
    fingerprint: u64,
    not_duplicate_of: &[String],
) -> Vec<NearDuplicate> {
    fingerprints(t, tier)
        .into_iter()
        .filter(|(id, _)| !not_duplicate_of.contains(id))
        .filter_map(|(id, fp)| {
            let distance = simhash::distance(fingerprint, fp);
            (distance <= THRESHOLD).then_some(NearDuplicate { id, distance })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_round_trips_and_rejects_damage() {
        let mut entries = vec![
            Entry {
                tier: Tier::Workspace,
                id: "WI-a",
                ino: 7,
                fp: 0xdead,
            },
            Entry {
                tier: Tier::Canonical,
                id: "INV-b",
                ino: 9,
                fp: u64::MAX,
            },
            Entry {
                tier: Tier::Workspace,
                id: "WI-0",
                ino: 1,
                fp: 0,
            },
        ];
        let bytes = encode(&mut entries);
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back, entries);
        assert_eq!(back[0].id, "INV-b", "sorted by tier, then ID");
        for cut in [0, 8, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_none(), "cut {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[14] ^= 1;
        assert!(decode(&flipped).is_none());
    }
}
