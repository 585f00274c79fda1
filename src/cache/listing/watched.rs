//! A [`Listing`] through the resident watcher ([`crate::watch`]): the
//! listing as last made, kept in `listing-<fingerprint>.bin` next to the
//! read cache with the watcher's stamp it is valid at, brought up to date
//! by `stat`-ing only the names the watcher saw change since — instead of
//! listing every tier and `stat`-ing every file.
//!
//! The stored listing is valid at its stamp (session, seq): every change
//! the watcher numbered up to seq is in it. That holds by induction: a
//! full listing is made *after* the watcher answered with the stamp, and
//! an update `stat`s every name with an event after the old seq, after the
//! answer that gave the new one. Changes racing the read get later
//! numbers, so the next read `stat`s them again. With no watcher, or any
//! doubt — another session, lost events, an unreadable file, a tier
//! directory gone — the read lists everything as it does without one.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustix::fd::OwnedFd;

use super::{stat_key, Listed, Listing, Names, StatResult};
use crate::items::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;
use crate::watch::{Answer, Stamp};

const MAGIC: &[u8; 8] = b"HTRACWL\x02";

/// The listing of `t` through its watcher, or `None` when no watcher
/// answers (the caller then lists everything itself).
pub(super) fn scan(t: &Tracker) -> Option<Listing> {
    if crate::watch::auto::disabled_by_env() {
        return None;
    }
    let cache = crate::cache::path_for(&t.root)?;
    let socket = crate::watch::socket_path(&t.root)?;
    let stream = crate::watch::connect(&socket)?;
    crate::watch::auto::note_present();
    let side = side_path(&cache);
    let stored = load(&side, t);
    match crate::watch::ask(stream, stored.as_ref().map(|s| s.0))? {
        Answer::Rescan(stamp) => fresh(t, &side, stamp),
        Answer::Changed(stamp, names) => {
            let Some((old, mut listing)) = stored else {
                return fresh(t, &side, stamp);
            };
            if names.len() > listing.files.len() / 4 + 256 || !update(&mut listing, names) {
                return fresh(t, &side, stamp);
            }
            if stamp != old {
                let _ = save(&side, t, stamp, &listing);
            }
            Some(listing)
        }
    }
}

/// The side file of the read cache at `cache`.
fn side_path(cache: &Path) -> PathBuf {
    let name = cache.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let fp = name.strip_prefix("items-").unwrap_or(name);
    cache.with_file_name(format!("listing-{fp}"))
}

/// Everything listed again, stored as valid at `stamp`.
fn fresh(t: &Tracker, side: &Path, stamp: Stamp) -> Option<Listing> {
    let listing = Listing::scan_dirs(t, true, None).ok()?;
    let _ = save(side, t, stamp, &listing);
    Some(listing)
}

/// Applies the changed `names` (tier index, file name): each is `stat`-ed
/// again. False when in doubt (the caller lists everything).
fn update(listing: &mut Listing, names: Vec<(u8, String)>) -> bool {
    use rustix::fs::AtFlags;
    let mut removed: Vec<usize> = Vec::new();
    let mut added: Vec<Listed> = Vec::new();
    let exists = |dir: Option<&OwnedFd>, name: &str| -> Option<bool> {
        let Some(dir) = dir else { return Some(false) };
        match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Some(true),
            Err(rustix::io::Errno::NOENT) => Some(false),
            Err(_) => None,
        }
    };
    for (ti, name) in names {
        let tier = Tier::ALL[usize::from(ti)];
        let dir = listing.dirs[usize::from(ti)].as_ref();
        if let Some(id) = id_from_file_name(&name) {
            let key = match dir.map(|d| stat_key(d, &name)) {
                Some(StatResult::Key(k)) => Some(k),
                Some(StatResult::NotAFile) | None => None,
                Some(StatResult::Missing) => match exists(dir, &name) {
                    Some(false) => None,
                    _ => return false,
                },
            };
            let names = &listing.names;
            let at = listing
                .files
                .binary_search_by(|f| (f.tier_index(), id_in(names, f)).cmp(&(ti, id)));
            match (at, key) {
                (Ok(i), Some(k)) => listing.files[i].key = Some(k),
                (Ok(i), None) => removed.push(i),
                (Err(_), Some(k)) => {
                    let Some((at, len)) = listing.names.push(&name) else {
                        return false;
                    };
                    added.push(Listed {
                        tier,
                        key: Some(k),
                        at,
                        len,
                    });
                }
                (Err(_), None) => {}
            }
        } else if let Some(id) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".frozen"))
        {
            let frozen = &mut listing.frozen[usize::from(ti)];
            match exists(dir, &name) {
                Some(true) => {
                    frozen.insert(id.to_string());
                }
                Some(false) => {
                    frozen.remove(id);
                }
                None => return false,
            }
        }
    }
    if !removed.is_empty() {
        removed.sort_unstable();
        let mut i = 0;
        listing.files.retain(|_| {
            i += 1;
            removed.binary_search(&(i - 1)).is_err()
        });
    }
    if !added.is_empty() {
        listing.files.extend(added);
        let names = &listing.names;
        listing.files.sort_by(|a, b| {
            (a.tier_index(), id_in(names, a)).cmp(&(b.tier_index(), id_in(names, b)))
        });
    }
    true
}

/// The ID of `f`, whose name is in `names`.
fn id_in<'a>(names: &'a Names, f: &Listed) -> &'a str {
    let name = names.get(f.at, f.len);
    &name[1..name.len() - 4]
}

impl Listed {
    fn tier_index(&self) -> u8 {
        crate::cache::tier_index(self.tier) as u8
    }
}

/// Each tier's directory, open (`None` where there is none).
fn open_dirs(t: &Tracker) -> Option<[Option<OwnedFd>; 3]> {
    use rustix::fs::{Mode, OFlags};
    let mut dirs: [Option<OwnedFd>; 3] = Default::default();
    for (i, &tier) in Tier::ALL.iter().enumerate() {
        dirs[i] = match rustix::fs::open(
            t.tier_dir(tier),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Some(fd),
            Err(rustix::io::Errno::NOENT) => None,
            Err(_) => return None,
        };
    }
    Some(dirs)
}

/// The header both [`save`] and [`load`] spell: what the listing is of.
fn header(t: &Tracker, out: &mut Vec<u8>) {
    put_str(out, env!("CARGO_PKG_VERSION"));
    put_str(out, &t.root.to_string_lossy());
    for &tier in &Tier::ALL {
        put_str(out, &t.tier_dir(tier).to_string_lossy());
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Stores `listing` as valid at `stamp` (best-effort).
fn save(side: &Path, t: &Tracker, stamp: Stamp, listing: &Listing) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 + listing.files.len() * 64);
    buf.extend_from_slice(MAGIC);
    header(t, &mut buf);
    buf.extend_from_slice(&stamp.session.to_le_bytes());
    buf.extend_from_slice(&stamp.seq.to_le_bytes());
    buf.extend_from_slice(&(listing.files.len() as u64).to_le_bytes());
    // The names one after the other, then each file's tier, name length
    // and key: the names are read back in one piece.
    let total: usize = listing.files.iter().map(|f| f.len as usize).sum();
    buf.extend_from_slice(&(total as u64).to_le_bytes());
    for f in &listing.files {
        buf.extend_from_slice(listing.name(f).as_bytes());
    }
    for f in &listing.files {
        buf.push(f.tier_index());
        buf.extend_from_slice(&f.len.to_le_bytes());
        match f.key {
            None => buf.push(0),
            Some(k) => {
                buf.push(1);
                for v in [k.size, k.mtime as u64, k.ctime as u64, k.ino, k.dev] {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    for ids in &listing.frozen {
        buf.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        for id in ids {
            put_str(&mut buf, id);
        }
    }
    let sum = crate::cache::checksum_wide(0, &buf);
    crate::atomic::replace_with(side, 0o600, false, |w| {
        w.write_all(&buf)?;
        w.write_all(&sum.to_le_bytes())
    })
}

/// A reader over the side file's bytes.
struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

/// The stored listing and its stamp, with each tier's directory opened
/// now; `None` if missing, of another tracker, or not read back exactly.
fn load(side: &Path, t: &Tracker) -> Option<(Stamp, Listing)> {
    let bytes = crate::cache::read_own(side)?;
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if crate::cache::checksum_wide(0, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut want = Vec::new();
    want.extend_from_slice(MAGIC);
    header(t, &mut want);
    let mut d = Dec(body.strip_prefix(want.as_slice())?);
    let stamp = Stamp {
        session: d.u64()?,
        seq: d.u64()?,
    };
    let n = usize::try_from(d.u64()?).ok()?;
    let total = usize::try_from(d.u64()?).ok()?;
    let blob = std::str::from_utf8(d.take(total)?).ok()?;
    let mut files = Vec::with_capacity(n.min(d.0.len() / 6));
    let mut at = 0u32;
    for _ in 0..n {
        let tier = *Tier::ALL.get(usize::from(d.u8()?))?;
        let len = d.u32()?;
        let end = at.checked_add(len)?;
        id_from_file_name(blob.get(at as usize..end as usize)?)?;
        let key = match d.u8()? {
            0 => None,
            1 => Some(crate::cache::FileKey {
                size: d.u64()?,
                mtime: d.u64()? as i64,
                ctime: d.u64()? as i64,
                ino: d.u64()?,
                dev: d.u64()?,
            }),
            _ => return None,
        };
        files.push(Listed { tier, key, at, len });
        at = end;
    }
    if at as usize != blob.len() {
        return None;
    }
    let mut frozen: [HashSet<String>; 3] = Default::default();
    for ids in &mut frozen {
        for _ in 0..d.u32()? {
            ids.insert(d.str()?.to_string());
        }
    }
    if !d.0.is_empty() {
        return None;
    }
    Some((
        stamp,
        Listing {
            files,
            names: Names(blob.to_string()),
            frozen,
            stated: true,
            dirs: open_dirs(t)?,
        },
    ))
}
