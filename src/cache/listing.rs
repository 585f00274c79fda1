//! A tracker's op files as the file system shows them right now: each
//! file's (tier, ID, key) and the IDs with a freeze sentinel. A warm read
//! matches it against the read cache; [`Listing::key_bytes`] spells it out
//! exactly, for results kept under it ([`super::memo`]).
//!
//! One `getdents` pass per tier, then one `statx` per op file relative to
//! the open directory (no path walk, no allocation), the calls shared
//! among threads only when there are many: a thread costs more to start
//! than a small tracker's whole listing.

mod names;
mod watched;

use std::collections::HashSet;
use std::time::Duration;

use rustix::fd::OwnedFd;
use rustix::fs::FileType;

use super::FileKey;
use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::tracker::Tracker;
use names::{is_op_file_name, sort_by_id, Names, RawNames};

/// One listed op file and its key (`None` if it could not be stat-ed).
/// Its name is kept in its [`Listing`] ([`Listing::id`], [`Listing::name`]).
#[derive(Clone, Copy)]
pub struct Listed {
    pub tier: Tier,
    pub key: Option<FileKey>,
    /// Where its file name (`.ID.ops`) lies in the listing's names.
    at: u32,
    len: u32,
}

impl FileKey {
    /// The key of a file as `fstat` gives it (the same as [`stat_key`]'s).
    pub fn of_stat(st: &rustix::fs::Stat) -> FileKey {
        FileKey {
            size: st.st_size as u64,
            mtime: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec as i64,
            ctime: st.st_ctime * 1_000_000_000 + st.st_ctime_nsec as i64,
            ino: st.st_ino,
            dev: (u64::from(rustix::fs::major(st.st_dev)) << 32)
                | u64::from(rustix::fs::minor(st.st_dev)),
        }
    }
}

/// Every op file of every tier, sorted by tier then ID, and per tier (in
/// [`Tier::ALL`] order) the IDs with a freeze sentinel.
pub struct Listing {
    pub files: Vec<Listed>,
    names: Names,
    pub frozen: [HashSet<String>; 3],
    /// Whether the files were stat-ed (else every key is `None`: a read
    /// with no cache to match takes each key as it opens the file).
    pub stated: bool,
    /// Each tier's open directory, for opening its files by name.
    dirs: [Option<OwnedFd>; 3],
}

/// One tier's directory as `getdents` gave it.
struct TierDir {
    tier: Tier,
    fd: OwnedFd,
    /// Op file names (where each lies in the names read) and their
    /// types, sorted by ID.
    named: Vec<(u32, u32, FileType)>,
    frozen: HashSet<String>,
}

/// Files per thread below which the `statx` calls are not shared out.
const PER_THREAD: usize = 1024;

/// What a listing in progress tells a caller waiting for it
/// ([`Listing::scan_probed`]): whether it saw an op file changed since
/// `since_ns` (its mtime or ctime at or past it). A hint only: it lets the
/// caller start work it will need anyway.
pub struct Probe {
    pub since_ns: i64,
    pub changed: std::sync::atomic::AtomicBool,
    /// Woken when a change is seen.
    pub waiter: std::thread::Thread,
}

impl Probe {
    fn saw(&self) {
        if !self
            .changed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.waiter.unpark();
        }
    }
}

impl Listing {
    /// Lists and stats every op file of `t`.
    pub fn scan(t: &Tracker) -> Result<Listing> {
        Listing::scan_with(t, true)
    }

    /// [`Listing::scan`], telling `probe` as soon as it sees a change
    /// (when it lists the directories itself: with the watcher, the
    /// listing is quick anyway).
    pub fn scan_probed(t: &Tracker, probe: &Probe) -> Result<Listing> {
        if let Some(listing) = watched::scan(t) {
            return Ok(listing);
        }
        let listing = Listing::scan_dirs(t, true, Some(probe))?;
        crate::watch::auto::note_scanned(listing.files.len());
        Ok(listing)
    }

    /// Lists every op file of `t`, stat-ing them only with `stat` (a file
    /// whose type the directory does not give is stat-ed anyway, to skip
    /// what is not a regular file). With `stat` and a resident watcher
    /// running (`htrac watch`), only the files it saw change are stat-ed
    /// ([`watched`]).
    pub fn scan_with(t: &Tracker, stat: bool) -> Result<Listing> {
        if stat {
            if let Some(listing) = watched::scan(t) {
                return Ok(listing);
            }
        }
        let listing = Listing::scan_dirs(t, stat, None)?;
        crate::watch::auto::note_scanned(listing.files.len());
        Ok(listing)
    }

    /// [`Listing::scan_with`] without the watcher: every tier directory
    /// read, every file stat-ed (with `stat`), what it sees told to `probe`.
    fn scan_dirs(t: &Tracker, stat: bool, probe: Option<&Probe>) -> Result<Listing> {
        // The tiers' directories one after the other: `getdents` returns
        // hundreds of entries a call, so even 10,000 files take about a
        // millisecond, less than starting threads to share it.
        let mut raw = RawNames::default();
        let dirs: Vec<Option<TierDir>> = Tier::ALL
            .iter()
            .map(|&tier| read_dir(t, tier, &mut raw))
            .collect::<Result<Vec<_>>>()?;
        let mut dirs: Vec<TierDir> = dirs.into_iter().flatten().collect();
        let names = raw.into_names(&mut dirs);
        let mut frozen: [HashSet<String>; 3] = Default::default();
        let mut fds: [Option<OwnedFd>; 3] = Default::default();
        let mut files: Vec<Listed> = Vec::with_capacity(dirs.iter().map(|d| d.named.len()).sum());
        // Every file, with the type the directory gave (the key comes next).
        let mut kinds: Vec<(usize, FileType)> = Vec::with_capacity(files.capacity());
        for (d, dir) in dirs.iter().enumerate() {
            for &(at, len, kind) in &dir.named {
                files.push(Listed {
                    tier: dir.tier,
                    key: None,
                    at,
                    len,
                });
                kinds.push((d, kind));
            }
        }
        if !stat {
            // Only what the directory did not say is a file is stat-ed.
            let mut keep = Vec::with_capacity(files.len());
            for (f, &(d, kind)) in files.iter().zip(&kinds) {
                let file = kind != FileType::Unknown
                    || !matches!(
                        stat_key(&dirs[d].fd, names.get(f.at, f.len)),
                        StatResult::NotAFile
                    );
                keep.push(file);
            }
            let mut keep = keep.into_iter();
            files.retain(|_| keep.next().expect("one per file"));
        } else {
            // Then every file's key, the calls shared among threads, each
            // writing its share of the files' keys in place.
            let stat_all = |files: &mut [Listed], kinds: &[(usize, FileType)]| -> Vec<bool> {
                files
                    .iter_mut()
                    .zip(kinds)
                    .map(|(f, &(d, kind))| {
                        match stat_key(&dirs[d].fd, names.get(f.at, f.len)) {
                            StatResult::Key(key) => {
                                if let Some(p) = probe {
                                    if key.mtime >= p.since_ns || key.ctime >= p.since_ns {
                                        p.saw();
                                    }
                                }
                                f.key = Some(key);
                                true
                            }
                            // Not a regular file (a directory or symlink
                            // with an op file's name): skipped.
                            StatResult::NotAFile => false,
                            // Gone between readdir and statx, and not known
                            // to be a file: skipped; a known file without a
                            // key is parsed.
                            StatResult::Missing => kind != FileType::Unknown,
                        }
                    })
                    .collect()
            };
            // (`available_parallelism` reads cgroup files: asked only when
            // there is enough work to share.)
            let n = files.len();
            let threads = match n / PER_THREAD {
                0 | 1 => 1,
                k => std::thread::available_parallelism()
                    .map(|p| p.get())
                    .unwrap_or(1)
                    .min(k)
                    .clamp(1, 4),
            };
            let keep: Vec<bool> = if threads > 1 {
                let size = n.div_ceil(threads);
                std::thread::scope(|s| {
                    let mut shares = files.chunks_mut(size).zip(kinds.chunks(size));
                    let (first, first_kinds) = shares.next().expect("files to stat");
                    let handles: Vec<_> = shares
                        .map(|(f, k)| s.spawn(move || stat_all(f, k)))
                        .collect();
                    let mut keep = stat_all(first, first_kinds);
                    for h in handles {
                        keep.extend(h.join().expect("stat thread"));
                    }
                    keep
                })
            } else {
                stat_all(&mut files, &kinds)
            };
            let mut keep = keep.into_iter();
            files.retain(|_| keep.next().expect("one per file"));
        }
        for dir in dirs {
            frozen[super::tier_index(dir.tier)] = dir.frozen;
            fds[super::tier_index(dir.tier)] = Some(dir.fd);
        }
        Ok(Listing {
            files,
            names,
            frozen,
            stated: stat,
            dirs: fds,
        })
    }

    /// The file name (`.ID.ops`) of `f`, one of [`Listing::files`].
    pub fn name(&self, f: &Listed) -> &str {
        self.names.get(f.at, f.len)
    }

    /// The item ID of `f`, one of [`Listing::files`].
    pub fn id(&self, f: &Listed) -> &str {
        // Between the name's leading `.` and its `.ops`: ASCII, so where
        // characters begin.
        self.names.get(f.at + 1, f.len - 5)
    }

    /// The open directory of `tier`, if it was listed.
    pub fn dir(&self, tier: Tier) -> Option<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        self.dirs[super::tier_index(tier)]
            .as_ref()
            .map(|d| d.as_fd())
    }

    /// The listing spelled out — every file's tier, ID and key, then each
    /// tier's frozen IDs — or `None` when a file has no key or changed
    /// within `window` of `now_ns` (a change in the same timestamp tick
    /// could then go unseen: see [`super::racy_window`]). Equal bytes mean
    /// a read compiles the same items.
    pub fn key_bytes(&self, now_ns: i64, window: Duration) -> Option<Vec<u8>> {
        let mut buf = Vec::with_capacity(self.files.len() * 96);
        self.spell(now_ns, window, |b| {
            buf.extend_from_slice(b);
            true
        })?;
        Some(buf)
    }

    /// Whether [`Listing::key_bytes`] would be `Some(key)`: compared as
    /// it is spelled, without making it.
    pub fn key_is(&self, key: &[u8], now_ns: i64, window: Duration) -> bool {
        let mut rest = key;
        let same = self.spell(now_ns, window, |b| match rest.strip_prefix(b) {
            Some(r) => {
                rest = r;
                true
            }
            None => false,
        });
        same == Some(true) && rest.is_empty()
    }

    /// The length of [`Listing::key_bytes`] (`None` as it), counted
    /// without spelling it.
    pub(crate) fn spelled_len(&self, now_ns: i64, window: Duration) -> Option<usize> {
        let mut n = 8;
        for f in &self.files {
            if f.key?.is_racy(now_ns, window) {
                return None;
            }
            // Tier, the ID's length and bytes (`.ID.ops` less 5), the key.
            n += 1 + 4 + (f.len as usize - 5) + 40;
        }
        for ids in &self.frozen {
            n += 4 + ids.iter().map(|id| 4 + id.len()).sum::<usize>();
        }
        Some(n)
    }

    /// Hands [`Listing::key_bytes`] to `put` piece by piece, until it
    /// returns false (then `Some(false)`); `None` as `key_bytes`.
    pub(crate) fn spell(
        &self,
        now_ns: i64,
        window: Duration,
        mut put: impl FnMut(&[u8]) -> bool,
    ) -> Option<bool> {
        // One file's tier, ID and key at most (IDs are file names: < 256 bytes).
        let mut buf = Vec::with_capacity(512);
        let mut e = super::codec::Enc(&mut buf);
        e.u64(self.files.len() as u64);
        for f in &self.files {
            let key = f.key?;
            if key.is_racy(now_ns, window) {
                return None;
            }
            e.u8(super::tier_index(f.tier) as u8);
            e.str(self.id(f));
            key.encode(&mut e);
            if !put(e.0) {
                return Some(false);
            }
            e.0.clear();
        }
        for ids in &self.frozen {
            let mut ids: Vec<&String> = ids.iter().collect();
            ids.sort();
            e.u32(ids.len() as u32);
            for id in ids {
                e.str(id);
            }
        }
        Some(put(e.0))
    }
}

/// A tier's op files and freeze sentinels (`None`: no such directory);
/// the op files' names are added to `names`.
fn read_dir(t: &Tracker, tier: Tier, names: &mut RawNames) -> Result<Option<TierDir>> {
    use rustix::fs::{Mode, OFlags};
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
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let mut named: Vec<(u32, u32, FileType)> = Vec::new();
    let mut frozen = HashSet::new();
    // getdents into one buffer, no allocation per entry (64 KiB holds many
    // entries of at most 255-byte names).
    let mut buf = Vec::with_capacity(1 << 16);
    let mut entries = rustix::fs::RawDir::new(&fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(cannot)?;
        let name = entry.file_name().to_bytes();
        if is_op_file_name(name) {
            let kind = entry.file_type();
            if kind == FileType::RegularFile || kind == FileType::Unknown {
                let Some((at, len)) = names.push(name) else {
                    return Err(Error::internal(format!(
                        "cannot list {}: too many files",
                        dir.display()
                    )));
                };
                named.push((at, len, kind));
            }
        } else if let Some(id) = std::str::from_utf8(name)
            .ok()
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".frozen"))
        {
            frozen.insert(id.to_string());
        }
    }
    Ok(Some(TierDir {
        tier,
        fd,
        named: sort_by_id(named, names),
        frozen,
    }))
}

enum StatResult {
    Key(FileKey),
    /// It could not be stat-ed (gone since the readdir, say).
    Missing,
    /// It is not a regular file.
    NotAFile,
}

/// The key of the op file `name` in the directory `dir`.
fn stat_key(dir: &OwnedFd, name: &str) -> StatResult {
    use rustix::fs::{AtFlags, StatxFlags};
    let Ok(st) = rustix::fs::statx(
        dir,
        name,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::TYPE
            | StatxFlags::SIZE
            | StatxFlags::MTIME
            | StatxFlags::CTIME
            | StatxFlags::INO,
    ) else {
        return StatResult::Missing;
    };
    if FileType::from_raw_mode(st.stx_mode.into()) != FileType::RegularFile {
        return StatResult::NotAFile;
    }
    StatResult::Key(FileKey {
        size: st.stx_size,
        mtime: st.stx_mtime.tv_sec * 1_000_000_000 + i64::from(st.stx_mtime.tv_nsec),
        ctime: st.stx_ctime.tv_sec * 1_000_000_000 + i64::from(st.stx_ctime.tv_nsec),
        ino: st.stx_ino,
        dev: (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor),
    })
}
