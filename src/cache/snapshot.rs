//! [`Tracker::snapshot`] through the read cache: list and `stat` every op
//! file (one `readdir` per tier) while the cache file is read (on another
//! thread when it is large), take each item whose file key matches from
//! the cache, parse and compile the rest (on all cores when there are
//! many), and write the cache back when it changed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::listing::{Listed, Listing};
use super::FileKey;
use crate::error::Result;
use crate::items::item::Item;
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::tracker::load::{Broken, Snapshot};
use crate::tracker::{ItemFile, Tracker};

/// Cache files at least this large (about 1,500 items) are read while the
/// op files are listed on another thread; below it, one after the other.
const PARALLEL_LOAD: u64 = 1 << 20;

/// What parsing one file produced: the item (or why not) and whether it
/// had warnings (torn ops), which keeps it out of the cache.
type Parsed = (std::result::Result<Item, Broken>, Vec<String>);

/// Whether `id` is frozen in `tier` (no hashing when nothing is frozen).
fn is_frozen(frozen: &[HashSet<String>; 3], tier: Tier, id: &str) -> bool {
    let set = &frozen[super::tier_index(tier)];
    !set.is_empty() && set.contains(id)
}

/// Parses and compiles `files`; `edit` holds each tier's edit-mode ops,
/// `frozen` each tier's frozen IDs.
fn parse_all(
    t: &Tracker,
    files: &[&ItemFile],
    edit: &[(Vec<Op>, Vec<String>)],
    frozen: &[HashSet<String>; 3],
) -> Vec<Parsed> {
    let run = |chunk: &[&ItemFile]| -> Vec<Parsed> {
        chunk
            .iter()
            .map(|f| {
                let mut w = Vec::new();
                let ti = super::tier_index(f.tier);
                let r = t.compile_file(f, &edit[ti].0, frozen[ti].contains(&f.id), &mut w);
                (r, w)
            })
            .collect()
    };
    let threads = if files.len() >= 256 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8)
    } else {
        1
    };
    if threads > 1 {
        let size = files.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = files
                .chunks(size)
                .map(|c| s.spawn(move || run(c)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("reader thread"))
                .collect()
        })
    } else {
        run(files)
    }
}

/// Loads every item of every tier, from the cache where it is current.
/// With `rebuild`, the cache file is ignored and rewritten; the second
/// value is the outcome of writing it (`None` if it was not written).
///
/// `cache_path` is the cache file (`None`: no cache); files changed within
/// `window` of now are not cached (see [`super::racy_window`]).
pub fn snapshot_at(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
) -> Result<(Snapshot, Option<std::io::Result<()>>)> {
    snapshot_with(t, cache_path, window, rebuild, false, None)
}

/// [`snapshot_at`]; with `summary`, every item without its long texts
/// ([`super::strip`]), which a warm read then never decodes — for
/// listings that print none of them, at a fraction of the memory.
/// `listing`: the op files as the caller just listed them (else listed
/// here).
pub fn snapshot_with(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
    summary: bool,
    listing: Option<&Listing>,
) -> Result<(Snapshot, Option<std::io::Result<()>>)> {
    let quick = summary && !rebuild && cache_path.is_some();
    let (mut snap, written) = match read(t, cache_path, window, rebuild, quick, listing)? {
        Some(done) => done,
        // The cache must be written, which takes whole items.
        None => {
            read(t, cache_path, window, rebuild, false, listing)?.expect("a full read finishes")
        }
    };
    if summary {
        snap.items.iter_mut().for_each(super::strip);
    }
    Ok((snap, written))
}

/// One read; with `summary`, `None` if the cache needs writing.
type Read = Option<(Snapshot, Option<std::io::Result<()>>)>;

fn read(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
    summary: bool,
    listing: Option<&Listing>,
) -> Result<Read> {
    let now = super::now_ns();
    // The edit-mode logs are tiny; their ops key each tier's cache entries.
    let edit: Vec<(Vec<Op>, Vec<String>)> = Tier::ALL
        .iter()
        .map(|&tier| t.edit_mode_ops(tier))
        .collect();
    // The policy compiled into the items keys them too: other rules, other items.
    let policy = t.policy.fingerprint();
    let all_keys: [u64; 3] =
        std::array::from_fn(|i| super::checksum(super::edit_key(&edit[i].0), policy.as_bytes()));

    // List and stat the files (unless the caller did) while the cache is
    // read — side by side only when the cache file is large: a small
    // tracker's listing and cache take less time than starting a thread.
    let want: [Option<u64>; 3] = all_keys.map(Some);
    let load = || match (cache_path, rebuild) {
        (Some(p), false) => super::load(p, &t.root, &want, summary),
        _ => None,
    };
    let scanned;
    let (listing, contents) = match listing {
        Some(l) => (l, load()),
        None => {
            let large = match (cache_path, rebuild) {
                (Some(p), false) => std::fs::metadata(p).is_ok_and(|m| m.len() >= PARALLEL_LOAD),
                _ => false,
            };
            let (l, contents) = if large {
                std::thread::scope(|s| {
                    let lister = s.spawn(|| Listing::scan(t));
                    let contents = load();
                    (lister.join().expect("lister thread"), contents)
                })
            } else {
                let contents = load();
                (Listing::scan(t), contents)
            };
            scanned = l?;
            (&scanned, contents)
        }
    };
    let (listed, frozen) = (&listing.files, &listing.frozen);

    let mut has_files = [false; 3];
    for l in listed {
        has_files[super::tier_index(l.tier)] = true;
    }
    let edit_keys: [Option<u64>; 3] = std::array::from_fn(|i| has_files[i].then_some(all_keys[i]));
    let mut snap = Snapshot::default();
    for (i, (_, w)) in edit.iter().enumerate() {
        if has_files[i] {
            snap.warnings.extend(w.iter().cloned());
        }
    }

    // Match files to cached records: both are in (tier, ID) order.
    let (records, items, cached_count, keys_changed) = match contents {
        Some(c) => {
            let n = c.records.len();
            (c.records, c.items, n, c.edit_keys != edit_keys)
        }
        None => (Vec::new(), Vec::new(), 0, true),
    };
    // For each listed file, the index of its current cached record.
    let mut slots: Vec<Option<usize>> = Vec::with_capacity(listed.len());
    let mut r = 0;
    let mut hits = 0;
    for l in listed {
        let here = (l.tier, l.id());
        while records
            .get(r)
            .is_some_and(|x| (x.tier, x.id(&items)) < here)
        {
            r += 1;
        }
        // A frozen item is compiled afresh each time (its sentinel decides
        // which ops count); frozen items are few.
        let hit = records.get(r).is_some_and(|x| {
            x.item.is_some() && (x.tier, x.id(&items)) == here && Some(x.key) == l.key
        }) && !is_frozen(frozen, l.tier, l.id());
        hits += usize::from(hit);
        slots.push(if hit { records[r].item } else { None });
    }
    drop(records);

    // Fully warm: every file's item is cached, in order; hand the vector on.
    if hits == listed.len() && items.len() == hits {
        snap.items = items;
        snap.cache_hits = hits;
        let mut cacheable = Vec::with_capacity(hits);
        for (i, (l, item)) in listed.iter().zip(&mut snap.items).enumerate() {
            item.frozen = frozen[super::tier_index(l.tier)].contains(&item.id);
            cacheable.push((l.key.expect("a hit has a key"), i));
        }
        let dirty = rebuild || keys_changed || hits != cached_count;
        if summary && dirty {
            return Ok(None);
        }
        return finish(t, snap, listed, cacheable, edit_keys, cache_path, dirty).map(Some);
    }
    snap.items.reserve(listed.len());
    // Otherwise take cached items out one by one (same layout: no copy).
    let mut pool: Vec<Option<Item>> = items.into_iter().map(Some).collect();

    // Parse and compile the rest.
    let missing: Vec<ItemFile> = listed
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(l, _)| ItemFile {
            id: l.id().to_string(),
            tier: l.tier,
            path: t.item_path(l.tier, l.id()),
        })
        .collect();
    let missing: Vec<&ItemFile> = missing.iter().collect();
    let mut parsed = parse_all(t, &missing, &edit, frozen).into_iter();

    // Assemble in file order; note which items may be cached.
    let mut cacheable: Vec<(FileKey, usize)> = Vec::new();
    let mut fresh = 0;
    for (l, slot) in listed.iter().zip(slots) {
        let ti = super::tier_index(l.tier);
        let (mut item, cache_it) = match slot {
            Some(i) => (pool[i].take().expect("a cached item"), true),
            None => {
                let (r, w) = parsed.next().expect("one result per missing file");
                let clean = w.is_empty();
                snap.warnings.extend(w);
                match r {
                    Ok(item) => {
                        let ok = clean
                            && l.key.is_some_and(|k| !k.is_racy(now, window))
                            && !is_frozen(frozen, l.tier, &item.id);
                        fresh += usize::from(ok);
                        (item, ok)
                    }
                    Err(b) => {
                        snap.broken.push(b);
                        continue;
                    }
                }
            }
        };
        item.frozen = frozen[ti].contains(&item.id);
        if cache_it {
            cacheable.push((l.key.expect("keyed"), snap.items.len()));
        }
        snap.items.push(item);
    }
    snap.cache_hits = hits;

    drop(pool);
    // Write the cache back if it would differ: new entries, gone entries,
    // other edit-mode keys, or no (valid) cache at all.
    let dirty = rebuild || keys_changed || fresh > 0 || cacheable.len() != cached_count;
    if summary && dirty {
        return Ok(None);
    }
    finish(t, snap, listed, cacheable, edit_keys, cache_path, dirty).map(Some)
}

/// Marks cross-tier conflicts and writes the cache back when `dirty`.
fn finish(
    t: &Tracker,
    mut snap: Snapshot,
    listed: &[Listed],
    cacheable: Vec<(FileKey, usize)>,
    edit_keys: [Option<u64>; 3],
    cache_path: Option<&Path>,
    dirty: bool,
) -> Result<(Snapshot, Option<std::io::Result<()>>)> {
    // An ID listed in more than one tier is a cross-tier conflict. Each
    // tier's IDs are sorted, so a merge finds them without hashing them all.
    let mut per_tier: [Vec<&str>; 3] = Default::default();
    for l in listed {
        per_tier[super::tier_index(l.tier)].push(l.id());
    }
    let mut conflicted: HashSet<String> = HashSet::new();
    for (i, a) in per_tier.iter().enumerate() {
        for b in &per_tier[i + 1..] {
            let (mut x, mut y) = (0, 0);
            while x < a.len() && y < b.len() {
                match a[x].cmp(b[y]) {
                    std::cmp::Ordering::Less => x += 1,
                    std::cmp::Ordering::Greater => y += 1,
                    std::cmp::Ordering::Equal => {
                        conflicted.insert(a[x].to_string());
                        x += 1;
                        y += 1;
                    }
                }
            }
        }
    }
    if !conflicted.is_empty() {
        for item in &mut snap.items {
            item.cross_tier_conflict = conflicted.contains(&item.id);
        }
    }

    // Write the cache back if it would differ: new entries, gone entries,
    // other edit-mode keys, or no (valid) cache at all.
    let written = match cache_path {
        Some(p) if dirty => {
            let entries: Vec<(FileKey, &Item)> = cacheable
                .iter()
                .map(|&(k, i)| (k, &snap.items[i]))
                .collect();
            Some(super::save(p, &t.root, &edit_keys, &entries))
        }
        _ => None,
    };
    Ok((snap, written))
}
