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
//! read again. A warm `add` therefore costs one `readdir` of the tier and
//! one read of that file. Files that do not parse or compile (no create
//! op) are skipped, as the reference skips them, and never remembered.
//! `HTRAC_NO_CACHE` turns the file off (every item is read each time).

use std::collections::HashMap;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

use super::simhash::{self, Hasher, THRESHOLD};
use crate::compile::compile;
use crate::op::Op;
use crate::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;

/// An existing item close to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearDuplicate {
    pub id: String,
    /// Bits the two fingerprints differ in (at most [`THRESHOLD`]).
    pub distance: u32,
}

const MAGIC: &[u8; 8] = b"HTRACSH\x01";

/// Remembered fingerprints: (tier, ID) → (inode, fingerprint).
type Store = HashMap<(Tier, String), (u64, u64)>;

fn store_path(root: &Path) -> Option<PathBuf> {
    crate::cache::path_for(root)?;
    let dir = crate::alias::cache_dir(root)?;
    Some(dir.join(format!(
        "simhash-{}.bin",
        crate::alias::fingerprint(root)
    )))
}

fn tier_code(t: Tier) -> u8 {
    match t {
        Tier::Canonical => 0,
        Tier::Workspace => 1,
        Tier::Stealth => 2,
    }
}

fn load(path: &Path) -> Store {
    let mut out = Store::new();
    let Ok(bytes) = std::fs::read(path) else {
        return out;
    };
    if decode(&bytes, &mut out).is_none() {
        out.clear();
    }
    out
}

fn decode(bytes: &[u8], out: &mut Store) -> Option<()> {
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
        let id = std::str::from_utf8(take(len)?).ok()?.to_string();
        out.insert((tier, id), (ino, fp));
    }
    take(1).is_none().then_some(())
}

fn encode(store: &Store) -> Vec<u8> {
    let mut entries: Vec<_> = store.iter().filter(|((_, id), _)| id.len() <= 0xFFFF).collect();
    entries.sort_by(|a, b| (tier_code(a.0 .0), &a.0 .1).cmp(&(tier_code(b.0 .0), &b.0 .1)));
    let mut body = Vec::with_capacity(entries.len() * 72 + 4);
    body.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for ((tier, id), (ino, fp)) in entries {
        body.push(tier_code(*tier));
        body.extend_from_slice(&ino.to_le_bytes());
        body.extend_from_slice(&fp.to_le_bytes());
        body.extend_from_slice(&(id.len() as u16).to_le_bytes());
        body.extend_from_slice(id.as_bytes());
    }
    let mut out = MAGIC.to_vec();
    let sum = crate::cache::checksum(0, &body);
    out.extend_from_slice(&body);
    out.extend_from_slice(&sum.to_le_bytes());
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
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, u64)> = entries
        .flatten()
        .filter(|e| e.file_type().map(|k| k.is_file()).unwrap_or(false))
        .filter_map(|e| {
            let name = e.file_name();
            let id = id_from_file_name(name.to_str()?)?.to_string();
            Some((id, e.ino()))
        })
        .collect();
    files.sort();
    let path = store_path(&t.root);
    let mut store = path.as_deref().map(load).unwrap_or_default();
    let mut hasher = Hasher::new();
    let mut changed = false;
    let mut out = Vec::with_capacity(files.len());
    for (id, ino) in &files {
        let key = (tier, id.clone());
        match store.get(&key) {
            Some((i, fp)) if i == ino => out.push((id.clone(), *fp)),
            _ => {
                let p = dir.join(crate::tiers::ops_file_name(id));
                if let Some(fp) = read_fingerprint(&p, id, tier, &mut hasher) {
                    store.insert(key, (*ino, fp));
                    changed = true;
                    out.push((id.clone(), fp));
                }
            }
        }
    }
    // Forget items of this tier that are gone.
    let before = store.len();
    let listed: std::collections::HashSet<&str> = files.iter().map(|(id, _)| id.as_str()).collect();
    store.retain(|(t, id), _| *t != tier || listed.contains(id.as_str()));
    changed |= store.len() != before;
    if let (true, Some(p)) = (changed, path) {
        // Best effort, like the read cache: a read-only cache directory
        // costs speed, never the command.
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let _ = crate::atomic::replace_with(&p, 0o644, false, |w| {
            std::io::Write::write_all(w, &encode(&store))
        });
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
        let mut s = Store::new();
        s.insert((Tier::Workspace, "WI-a".into()), (7, 0xdead));
        s.insert((Tier::Canonical, "INV-b".into()), (9, u64::MAX));
        let bytes = encode(&s);
        let mut back = Store::new();
        assert!(decode(&bytes, &mut back).is_some());
        assert_eq!(back, s);
        for cut in [0, 8, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], &mut Store::new()).is_none(), "cut {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[14] ^= 1;
        assert!(decode(&flipped, &mut Store::new()).is_none());
    }
}
