//! [`Tracker::snapshot`] through the read cache: list and `stat` every op
//! file (one `readdir` per tier) while the cache file is read on another
//! thread, take each item whose file key matches from the cache, parse and
//! compile the rest (on all cores when there are many), and write the cache
//! back when it changed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::FileKey;
use crate::error::{Error, Result};
use crate::item::Item;
use crate::op::Op;
use crate::tiers::{id_from_file_name, Tier};
use crate::tracker::{Broken, ItemFile, Snapshot, Tracker};

/// One listed op file and its key (`None` if it could not be stat-ed).
/// No path: most files are never opened, so it is made only when needed.
struct Listed {
    id: String,
    tier: Tier,
    key: Option<FileKey>,
}

/// Every op file of every tier (sorted by tier, then ID), and the IDs with
/// a freeze sentinel per tier. One `getdents` pass and one `statx` (relative
/// to the open directory, no path walk) per op file; the `statx` calls of a
/// large tier are shared among threads.
fn scan(t: &Tracker) -> Result<(Vec<Listed>, [HashSet<String>; 3])> {
    use rustix::fs::{FileType, Mode, OFlags};
    let mut out = Vec::new();
    let mut frozen: [HashSet<String>; 3] = Default::default();
    for (ti, tier) in Tier::ALL.into_iter().enumerate() {
        let dir = t.tier_dir(tier);
        let cannot = |e: rustix::io::Errno| {
            Error::internal(format!(
                "cannot read {}: {}",
                dir.display(),
                std::io::Error::from(e)
            ))
        };
        let fd = match rustix::fs::open(
            &dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(cannot(e)),
        };
        // Op files named in the directory: (ID, type from getdents).
        let mut named: Vec<(String, FileType)> = Vec::new();
        let mut entries = rustix::fs::Dir::read_from(&fd).map_err(cannot)?;
        while let Some(entry) = entries.read() {
            let entry = entry.map_err(cannot)?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if let Some(id) = id_from_file_name(name) {
                let kind = entry.file_type();
                if kind == FileType::RegularFile || kind == FileType::Unknown {
                    named.push((id.to_string(), kind));
                }
            } else if let Some(id) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".frozen"))
            {
                frozen[ti].insert(id.to_string());
            }
        }
        named.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let stat_all = |chunk: &[(String, FileType)]| -> Vec<Listed> {
            chunk
                .iter()
                .filter_map(|(id, kind)| {
                    let key = stat_key(&fd, id);
                    match key {
                        Err(()) => None,
                        Ok(None) if *kind == FileType::Unknown => None,
                        Ok(key) => Some(Listed {
                            id: id.clone(),
                            tier,
                            key,
                        }),
                    }
                })
                .collect()
        };
        const PER_THREAD: usize = 2048;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(named.len() / PER_THREAD)
            .min(4);
        if threads > 1 {
            let size = named.len().div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = named[size..]
                    .chunks(size)
                    .map(|c| s.spawn(move || stat_all(c)))
                    .collect();
                out.extend(stat_all(&named[..size]));
                for h in handles {
                    out.extend(h.join().expect("stat thread"));
                }
            });
        } else {
            out.extend(stat_all(&named));
        }
    }
    Ok((out, frozen))
}

/// The key of op file `id` in the directory `dir`: `Ok(None)` if it cannot
/// be stat-ed, `Err` if it is not a regular file (a directory or symlink
/// with an op file's name is skipped).
fn stat_key(dir: &rustix::fd::OwnedFd, id: &str) -> std::result::Result<Option<FileKey>, ()> {
    use rustix::fs::{AtFlags, FileType, StatxFlags};
    let name = crate::tiers::ops_file_name(id);
    let Ok(st) = rustix::fs::statx(
        dir,
        name.as_str(),
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::TYPE
            | StatxFlags::SIZE
            | StatxFlags::MTIME
            | StatxFlags::CTIME
            | StatxFlags::INO,
    ) else {
        return Ok(None);
    };
    if FileType::from_raw_mode(st.stx_mode.into()) != FileType::RegularFile {
        return Err(());
    }
    Ok(Some(FileKey {
        size: st.stx_size,
        mtime: st.stx_mtime.tv_sec * 1_000_000_000 + i64::from(st.stx_mtime.tv_nsec),
        ctime: st.stx_ctime.tv_sec * 1_000_000_000 + i64::from(st.stx_ctime.tv_nsec),
        ino: st.stx_ino,
        dev: (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor),
    }))
}

/// What parsing one file produced: the item (or why not) and whether it
/// had warnings (torn ops), which keeps it out of the cache.
type Parsed = (std::result::Result<Item, Broken>, Vec<String>);

/// Parses and compiles `files`; `edit` holds each tier's edit-mode ops.
fn parse_all(t: &Tracker, files: &[&ItemFile], edit: &[(Vec<Op>, Vec<String>)]) -> Vec<Parsed> {
    let run = |chunk: &[&ItemFile]| -> Vec<Parsed> {
        chunk
            .iter()
            .map(|f| {
                let mut w = Vec::new();
                let r = t.compile_file(f, &edit[super::tier_index(f.tier)].0, &mut w);
                (r, w)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads > 1 && files.len() >= 256 {
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
    snapshot_with(t, cache_path, window, rebuild, false)
}

/// [`snapshot_at`]; with `summary`, every item without its long texts
/// ([`super::strip`]), which a warm read then never decodes — for
/// listings that print none of them, at a fraction of the memory.
pub fn snapshot_with(
    t: &Tracker,
    cache_path: Option<&Path>,
    window: Duration,
    rebuild: bool,
    summary: bool,
) -> Result<(Snapshot, Option<std::io::Result<()>>)> {
    let quick = summary && !rebuild && cache_path.is_some();
    let (mut snap, written) = match read(t, cache_path, window, rebuild, quick)? {
        Some(done) => done,
        // The cache must be written, which takes whole items.
        None => read(t, cache_path, window, rebuild, false)?.expect("a full read finishes"),
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
) -> Result<Read> {
    let now = super::now_ns();
    // The edit-mode logs are tiny; their ops key each tier's cache entries.
    let edit: Vec<(Vec<Op>, Vec<String>)> = Tier::ALL
        .iter()
        .map(|&tier| t.edit_mode_ops(tier))
        .collect();
    let all_keys: [u64; 3] = std::array::from_fn(|i| super::edit_key(&edit[i].0));

    // List and stat the files while the cache is read.
    let (scanned, contents) = std::thread::scope(|s| {
        let lister = s.spawn(|| scan(t));
        let want: [Option<u64>; 3] = all_keys.map(Some);
        let contents = match (cache_path, rebuild) {
            (Some(p), false) => super::load(p, &t.root, &want, summary),
            _ => None,
        };
        (lister.join().expect("lister thread"), contents)
    });
    let (listed, frozen) = scanned?;

    let mut has_files = [false; 3];
    for l in &listed {
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
    for l in &listed {
        let here = (l.tier, l.id.as_str());
        while records
            .get(r)
            .is_some_and(|x| (x.tier, x.id(&items)) < here)
        {
            r += 1;
        }
        let hit = records.get(r).is_some_and(|x| {
            x.item.is_some() && (x.tier, x.id(&items)) == here && Some(x.key) == l.key
        });
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
        return finish(t, snap, &listed, cacheable, edit_keys, cache_path, dirty).map(Some);
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
            id: l.id.clone(),
            tier: l.tier,
            path: t.item_path(l.tier, &l.id),
        })
        .collect();
    let missing: Vec<&ItemFile> = missing.iter().collect();
    let mut parsed = parse_all(t, &missing, &edit).into_iter();

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
                        let ok = clean && l.key.is_some_and(|k| !k.is_racy(now, window));
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
    finish(t, snap, &listed, cacheable, edit_keys, cache_path, dirty).map(Some)
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
        per_tier[super::tier_index(l.tier)].push(l.id.as_str());
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
