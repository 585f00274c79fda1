//! [`Tracker::snapshot`] through the read cache: list and `stat` every op
//! file (one `readdir` per tier) while the cache file is read (on another
//! thread when it is large), take each item whose file key matches from
//! the cache, parse and compile the rest (on all cores when there are
//! many), and write the cache back when it changed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::listing::Listing;
use super::{Decoded, FileKey};
use crate::error::Result;
use crate::items::slim::Slim;
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::tracker::load::{Broken, Snapshot};
use crate::tracker::{ItemFile, Tracker};

/// Cache files at least this large (about 1,500 items) are read while the
/// op files are listed on another thread; below it, one after the other.
pub(super) const PARALLEL_LOAD: u64 = 1 << 20;

/// What parsing one file produced: the item (or why not), whether it had
/// warnings (torn ops), which keeps it out of the cache, the file's key
/// as it was opened (when the listing did not stat it), and the item's
/// cache record when it may be cached (made on the parsing thread). The
/// item is already what the read decodes into (a [`Slim`] one for the
/// listings): a whole [`crate::items::item::Item`] is some 1.2 KB before
/// its texts, and a cold read of 100,000 items held them all until the
/// last was parsed.
struct Parsed<T> {
    item: std::result::Result<T, Broken>,
    warnings: Vec<String>,
    key: Option<FileKey>,
    /// Whether the item may be cached.
    cache: bool,
    record: Option<super::Rec>,
}

/// How a parsing thread decides whether an item may be cached, and what
/// it leaves of the item.
#[derive(Clone, Copy)]
struct Keep {
    /// A cache record is wanted (there is a cache file to write).
    records: bool,
    /// Only a summary is wanted ([`super::strip`] once recorded).
    summary: bool,
    now: i64,
    window: Duration,
}

/// Whether `id` is frozen in `tier` (no hashing when nothing is frozen).
fn is_frozen(frozen: &[HashSet<String>; 3], tier: Tier, id: &str) -> bool {
    let set = &frozen[super::tier_index(tier)];
    !set.is_empty() && set.contains(id)
}

/// Parses and compiles the listed files `which` (indices in `listing`);
/// `edit` holds each tier's edit-mode ops. Files are opened by name in
/// their listed directory. Each item that may be cached is recorded for
/// the cache right away (then, for a summary, stripped) — on all cores
/// when there are many ([`crate::par`]); the results in `which`'s order.
fn parse_all<T: Decoded>(
    t: &Tracker,
    listing: &Listing,
    which: Vec<usize>,
    edit: &[(Vec<Op>, Vec<String>)],
    keep: Keep,
) -> Vec<Parsed<T>> {
    let one = |i: usize| -> Parsed<T> {
        let l = &listing.files[i];
        let file = ItemFile {
            id: listing.id(l).to_string(),
            tier: l.tier,
            path: t.item_path(l.tier, listing.id(l)),
        };
        let mut warnings = Vec::new();
        let ti = super::tier_index(l.tier);
        let frozen = listing.frozen[ti].contains(&file.id);
        let (log, st) = match listing.dir(l.tier) {
            Some(dir) => crate::oplog::read_at(dir, listing.name(l), &file.path),
            None => (crate::oplog::read(&file.path), None),
        };
        let key = st
            .filter(|_| !listing.stated)
            .map(|st| FileKey::of_stat(&st));
        let mut item = t.compile_read(&file, log, &edit[ti].0, frozen, &mut warnings);
        // Cached: read cleanly, not changed within the racy window, not frozen.
        let cacheable = warnings.is_empty()
            && !frozen
            && l.key
                .or(key)
                .is_some_and(|k| !k.is_racy(keep.now, keep.window));
        let record = match &mut item {
            Ok(it) if cacheable => {
                let record = keep
                    .records
                    .then(|| super::record(&l.key.or(key).expect("keyed"), it));
                if keep.summary {
                    super::strip(it);
                }
                record
            }
            _ => None,
        };
        Parsed {
            cache: cacheable && item.is_ok(),
            item: item.map(T::from_item),
            warnings,
            key,
            record,
        }
    };
    let threads = if which.len() >= 256 {
        crate::par::threads_for(which.len(), 1)
    } else {
        1
    };
    crate::par::map(which, threads, 32, one)
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
    let (mut snap, written) = read(t, cache_path, window, rebuild, quick, listing)?;
    if summary {
        // Items from the cache come stripped; parsed ones were stripped
        // once recorded, but for a full read's.
        snap.items.iter_mut().for_each(super::strip);
    }
    Ok((snap, written))
}

/// Every item of every tier as a [`Slim`] one — for the text listings,
/// at a fraction of [`snapshot_with`]'s memory: a warm read decodes the
/// cache straight into slim items, and writes it back (when it must) by
/// copying unchanged items' records ([`super::writeback`]).
/// `listing`: the op files as the caller just listed them (else listed
/// here).
pub fn snapshot_slim(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    listing: Option<&Listing>,
) -> Result<Snapshot<Slim>> {
    Ok(read::<Slim>(t, cache_path, window, false, true, listing)?.0)
}

/// What a read keys each tier's cache entries with: the tier's edit-mode
/// ops (and the warnings reading them gave), and its key — those ops and
/// the policy compiled into the items: other rules, other items.
pub(crate) struct ReadKeys {
    pub edit: Vec<(Vec<Op>, Vec<String>)>,
    pub all: [u64; 3],
}

impl ReadKeys {
    pub fn of(t: &Tracker) -> ReadKeys {
        // The edit-mode logs are tiny; their ops key each tier's cache entries.
        let edit: Vec<(Vec<Op>, Vec<String>)> = Tier::ALL
            .iter()
            .map(|&tier| t.edit_mode_ops(tier))
            .collect();
        let policy = t.policy.fingerprint();
        let all = std::array::from_fn(|i| {
            super::checksum(super::edit_key(&edit[i].0), policy.as_bytes())
        });
        ReadKeys { edit, all }
    }

    /// The cache file's contents as slim items (`None`: missing, stale or
    /// corrupt), for [`snapshot_slim_loaded`].
    pub fn load_slim(&self, t: &Tracker, cache_path: &Path) -> Option<super::Contents<Slim>> {
        super::load(cache_path, &t.root, &self.all.map(Some), true)
    }
}

/// [`snapshot_slim`] from the op files as the caller listed them and the
/// cache file's contents as it loaded them ([`ReadKeys::load_slim`], the
/// two side by side as it saw fit).
pub(crate) fn snapshot_slim_loaded(
    t: &Tracker,
    cache_path: &Path,
    window: Duration,
    listing: &Listing,
    keys: ReadKeys,
    contents: Option<super::Contents<Slim>>,
) -> Result<Snapshot<Slim>> {
    let now = super::now_ns();
    let found = Found {
        listing,
        contents,
        keys,
        now,
    };
    Ok(read_found(t, Some(cache_path), window, false, true, found)?.0)
}

/// What a read found: the op files listed, the cache file's contents, and
/// what keys them; `now` is when it began.
struct Found<'a, T> {
    listing: &'a Listing,
    contents: Option<super::Contents<T>>,
    keys: ReadKeys,
    now: i64,
}

/// One read, and the outcome of writing the cache back (if it was). With
/// `summary`, cached items are decoded from their summary parts alone and
/// a write-back copies their records ([`super::writeback`]).
fn read<T: Decoded>(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
    summary: bool,
    listing: Option<&Listing>,
) -> Result<(Snapshot<T>, Option<std::io::Result<()>>)> {
    let now = super::now_ns();
    let keys = ReadKeys::of(t);

    // List and stat the files (unless the caller did) while the cache is
    // read — side by side only when the cache file is large: a small
    // tracker's listing and cache take less time than starting a thread.
    let want: [Option<u64>; 3] = keys.all.map(Some);
    let load = || match (cache_path, rebuild) {
        (Some(p), false) => super::load(p, &t.root, &want, summary),
        _ => None,
    };
    let scanned;
    let (listing, contents) = match listing {
        Some(l) => (l, load()),
        None => {
            // With no cache to match, the files need no `stat`: each key is
            // taken as the file is opened. A large cache file is read while
            // the files are listed on another thread.
            let (stat, large) = match (cache_path, rebuild) {
                (Some(p), false) => match std::fs::metadata(p) {
                    Ok(m) => (true, m.len() >= PARALLEL_LOAD),
                    Err(_) => (false, false),
                },
                _ => (false, false),
            };
            let (l, contents) = if large {
                std::thread::scope(|s| {
                    let lister = s.spawn(|| Listing::scan_with(t, stat));
                    let contents = load();
                    (lister.join().expect("lister thread"), contents)
                })
            } else {
                let contents = load();
                (Listing::scan_with(t, stat), contents)
            };
            scanned = l?;
            (&scanned, contents)
        }
    };
    let found = Found {
        listing,
        contents,
        keys,
        now,
    };
    read_found(t, cache_path, window, rebuild, summary, found)
}

/// [`read`] once the files are listed and the cache file loaded.
fn read_found<T: Decoded>(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
    summary: bool,
    found: Found<'_, T>,
) -> Result<(Snapshot<T>, Option<std::io::Result<()>>)> {
    let Found {
        listing,
        contents,
        keys: ReadKeys {
            edit,
            all: all_keys,
        },
        now,
    } = found;
    let (listed, frozen) = (&listing.files, &listing.frozen);

    let mut has_files = [false; 3];
    for l in listed {
        has_files[super::tier_index(l.tier)] = true;
    }
    let edit_keys: [Option<u64>; 3] = std::array::from_fn(|i| has_files[i].then_some(all_keys[i]));
    let mut snap = Snapshot::<T>::default();
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
    // Records whose file is still listed (current or not): the others are
    // gone, and only they make the cache worth rewriting by themselves.
    let mut still_listed = 0;
    for l in listed {
        let id = listing.id(l);
        let here = (l.tier, id.as_bytes());
        // The first record not before this file (compared once each).
        let mut same = false;
        while let Some(x) = records.get(r) {
            match (x.tier, x.id(&items).as_bytes()).cmp(&here) {
                std::cmp::Ordering::Less => r += 1,
                std::cmp::Ordering::Equal => {
                    same = true;
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        still_listed += usize::from(same);
        // A frozen item is compiled afresh each time (its sentinel decides
        // which ops count); frozen items are few.
        let hit = same
            && records[r].item.is_some()
            && Some(records[r].key) == l.key
            && !is_frozen(frozen, l.tier, id);
        hits += usize::from(hit);
        slots.push(if hit { records[r].item } else { None });
    }
    drop(records);

    // Fully warm: every file's item is cached, in order; hand the vector on.
    if hits == listed.len() && items.len() == hits {
        snap.items = items;
        snap.cache_hits = hits;
        if frozen.iter().any(|f| !f.is_empty()) {
            for (l, item) in listed.iter().zip(&mut snap.items) {
                item.set_frozen(frozen[super::tier_index(l.tier)].contains(item.id()));
            }
        }
        let dirty = rebuild || keys_changed || still_listed != cached_count;
        // What to write back: only made when the cache is to be written.
        let cacheable = if dirty && cache_path.is_some() {
            listed
                .iter()
                .enumerate()
                .map(|(i, l)| (Cacheable::Item(l.key.expect("a hit has a key")), i))
                .collect()
        } else {
            Vec::new()
        };
        return finish(
            t, snap, listing, cacheable, edit_keys, cache_path, dirty, summary,
        );
    }
    snap.items.reserve(listed.len());
    // Otherwise take cached items out one by one (same layout: no copy).
    let mut pool: Vec<Option<T>> = items.into_iter().map(Some).collect();

    // Parse and compile the rest.
    let todo: Vec<usize> = (0..listed.len()).filter(|&i| slots[i].is_none()).collect();
    let keep = Keep {
        records: cache_path.is_some(),
        summary,
        now,
        window,
    };
    let mut parsed = parse_all(t, listing, todo, &edit, keep);

    // Which parsed items may be cached: read cleanly, not changed within
    // the racy window, not frozen.
    let fresh = parsed.iter().filter(|p| p.cache).count();
    // Write the cache back if it would differ: new entries, gone entries,
    // other edit-mode keys, or no (valid) cache at all. A stale record of
    // a listed file (changed within the racy window, broken, frozen) is
    // harmless — its key matches no file — and is kept.
    let dirty = rebuild || keys_changed || fresh > 0 || still_listed != cached_count;

    // Assemble in file order; note which items may be cached.
    let mut cacheable: Vec<(Cacheable, usize)> = Vec::new();
    let mut parsed = parsed.drain(..);
    for (l, slot) in listed.iter().zip(slots) {
        let ti = super::tier_index(l.tier);
        let (mut item, entry) = match slot {
            Some(i) => (
                pool[i].take().expect("a cached item"),
                Some(Cacheable::Item(l.key.expect("a hit has a key"))),
            ),
            None => {
                let p = parsed.next().expect("one result per missing file");
                snap.warnings.extend(p.warnings);
                let entry = match (p.cache, p.record) {
                    (true, Some(r)) => Some(Cacheable::Record(r)),
                    (true, None) => l.key.or(p.key).map(Cacheable::Item),
                    (false, _) => None,
                };
                match p.item {
                    Ok(item) => (item, entry),
                    Err(b) => {
                        snap.broken.push(b);
                        continue;
                    }
                }
            }
        };
        item.set_frozen(frozen[ti].contains(item.id()));
        if let Some(e) = entry {
            cacheable.push((e, snap.items.len()));
        }
        snap.items.push(item);
    }
    snap.cache_hits = hits;

    drop(pool);
    finish(
        t, snap, listing, cacheable, edit_keys, cache_path, dirty, summary,
    )
}

/// An item to cache (by its index in the snapshot): with its file's key,
/// or as the record its parsing thread made.
enum Cacheable {
    Item(FileKey),
    Record(super::Rec),
}

/// Marks cross-tier conflicts and writes the cache back when `dirty`;
/// with `summary` (items not whole), cached items' records are copied.
#[allow(clippy::too_many_arguments)]
fn finish<T: Decoded>(
    t: &Tracker,
    mut snap: Snapshot<T>,
    listing: &Listing,
    cacheable: Vec<(Cacheable, usize)>,
    edit_keys: [Option<u64>; 3],
    cache_path: Option<&Path>,
    dirty: bool,
    summary: bool,
) -> Result<(Snapshot<T>, Option<std::io::Result<()>>)> {
    // An ID listed in more than one tier is a cross-tier conflict. Each
    // tier's IDs are sorted, so a merge finds them without hashing them all.
    let mut per_tier: [Vec<&str>; 3] = Default::default();
    for l in &listing.files {
        per_tier[super::tier_index(l.tier)].push(listing.id(l));
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
            item.set_conflict(conflicted.contains(item.id()));
        }
    }

    // Write the cache back if it would differ: new entries, gone entries,
    // other edit-mode keys, or no (valid) cache at all.
    let written = match cache_path {
        Some(p) if dirty => {
            // Summary and slim items cannot be encoded: their records are
            // copied from the cache file as they are. One the file no
            // longer holds soundly (damaged, or replaced since) is left
            // out: it is parsed, and cached, by the next read.
            let raw = summary
                .then(|| super::writeback::load_raw(p, &t.root))
                .flatten();
            let mut at = 0;
            let entries: Vec<super::Entry<'_>> = cacheable
                .iter()
                .filter_map(|(c, i)| match (c, &raw) {
                    (Cacheable::Record(r), _) => Some(super::Entry::Record(r)),
                    (Cacheable::Item(k), _) if !summary => snap.items[*i]
                        .as_item()
                        .map(|it| super::Entry::Item(*k, it)),
                    (Cacheable::Item(k), Some(raw)) => {
                        let it = &snap.items[*i];
                        let ti = super::tier_index(it.tier());
                        raw.find(&mut at, it.tier(), it.id(), k, edit_keys[ti])
                    }
                    (Cacheable::Item(_), None) => None,
                })
                .collect();
            Some(super::save(p, &t.root, &edit_keys, &entries))
        }
        _ => None,
    };
    Ok((snap, written))
}
