//! A tracker's op files as the file system shows them right now: each
//! file's (tier, ID, key) and the IDs with a freeze sentinel. A warm read
//! matches it against the read cache; [`Listing::key_bytes`] spells it out
//! exactly, for results kept under it ([`super::memo`]).
//!
//! One `getdents` pass per tier, then one `statx` per op file relative to
//! the open directory (no path walk, no allocation), the calls shared
//! among threads only when there are many: a thread costs more to start
//! than a small tracker's whole listing.

mod watched;

use std::collections::HashSet;
use std::time::Duration;

use rustix::fd::OwnedFd;
use rustix::fs::FileType;

use super::FileKey;
use crate::error::{Error, Result};
use crate::items::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;

/// One listed op file and its key (`None` if it could not be stat-ed).
pub struct Listed {
    pub tier: Tier,
    /// The file name (`.ID.ops`); no path: most files are never opened.
    name: String,
    pub key: Option<FileKey>,
}

impl Listed {
    pub fn id(&self) -> &str {
        id_from_file_name(&self.name).expect("listed names are op file names")
    }

    /// The file name (`.ID.ops`).
    pub fn name(&self) -> &str {
        &self.name
    }
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
    /// Op file names and their types, sorted by ID.
    named: Vec<(String, FileType)>,
    frozen: HashSet<String>,
}

/// Files per thread below which the `statx` calls are not shared out.
const PER_THREAD: usize = 1024;

impl Listing {
    /// Lists and stats every op file of `t`.
    pub fn scan(t: &Tracker) -> Result<Listing> {
        Listing::scan_with(t, true)
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
        Listing::scan_dirs(t, stat)
    }

    /// [`Listing::scan_with`] without the watcher: every tier directory
    /// read, every file stat-ed (with `stat`).
    fn scan_dirs(t: &Tracker, stat: bool) -> Result<Listing> {
        // The tiers' directories one after the other: `getdents` returns
        // hundreds of entries a call, so even 10,000 files take about a
        // millisecond, less than starting threads to share it.
        let dirs: Vec<Option<TierDir>> = Tier::ALL
            .iter()
            .map(|&tier| read_dir(t, tier))
            .collect::<Result<Vec<_>>>()?;
        let dirs: Vec<TierDir> = dirs.into_iter().flatten().collect();

        // Then every file's key, the calls shared among threads.
        let work: Vec<(usize, &str)> = dirs
            .iter()
            .enumerate()
            .flat_map(|(d, dir)| dir.named.iter().map(move |(n, _)| (d, n.as_str())))
            .collect();
        let stat_all = |chunk: &[(usize, &str)]| -> Vec<StatResult> {
            chunk
                .iter()
                .map(|&(d, name)| stat_key(&dirs[d].fd, name))
                .collect()
        };
        if !stat {
            let mut files = Vec::with_capacity(work.len());
            drop(work);
            let mut frozen: [HashSet<String>; 3] = Default::default();
            let mut fds: [Option<OwnedFd>; 3] = Default::default();
            for dir in dirs {
                let ti = super::tier_index(dir.tier);
                for (name, kind) in dir.named {
                    if kind == FileType::Unknown {
                        match stat_key(&dir.fd, &name) {
                            StatResult::Key(_) | StatResult::Missing => {}
                            StatResult::NotAFile => continue,
                        }
                    }
                    files.push(Listed {
                        tier: dir.tier,
                        name,
                        key: None,
                    });
                }
                frozen[ti] = dir.frozen;
                fds[ti] = Some(dir.fd);
            }
            return Ok(Listing {
                files,
                frozen,
                stated: false,
                dirs: fds,
            });
        }
        // (`available_parallelism` reads cgroup files: asked only when
        // there is enough work to share.)
        let threads = match work.len() / PER_THREAD {
            0 | 1 => 1,
            n => std::thread::available_parallelism()
                .map(|p| p.get())
                .unwrap_or(1)
                .min(n)
                .clamp(1, 4),
        };
        let keys: Vec<StatResult> = if threads > 1 {
            let size = work.len().div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = work[size..]
                    .chunks(size)
                    .map(|c| s.spawn(move || stat_all(c)))
                    .collect();
                let mut keys = stat_all(&work[..size]);
                for h in handles {
                    keys.extend(h.join().expect("stat thread"));
                }
                keys
            })
        } else {
            stat_all(&work)
        };
        drop(work);

        let mut files = Vec::with_capacity(keys.len());
        let mut frozen: [HashSet<String>; 3] = Default::default();
        let mut fds: [Option<OwnedFd>; 3] = Default::default();
        let mut keys = keys.into_iter();
        for dir in dirs {
            frozen[super::tier_index(dir.tier)] = dir.frozen;
            fds[super::tier_index(dir.tier)] = Some(dir.fd);
            for (name, kind) in dir.named {
                match keys.next().expect("one key per file") {
                    // Not a regular file (a directory or symlink with an op
                    // file's name): skipped.
                    StatResult::NotAFile => {}
                    // Gone between readdir and statx, and not known to be a
                    // file: skipped; a known file without a key is parsed.
                    StatResult::Missing if kind == FileType::Unknown => {}
                    StatResult::Missing => files.push(Listed {
                        tier: dir.tier,
                        name,
                        key: None,
                    }),
                    StatResult::Key(key) => files.push(Listed {
                        tier: dir.tier,
                        name,
                        key: Some(key),
                    }),
                }
            }
        }
        Ok(Listing {
            files,
            frozen,
            stated: true,
            dirs: fds,
        })
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
        let mut e = super::codec::Enc(&mut buf);
        e.u64(self.files.len() as u64);
        for f in &self.files {
            let key = f.key?;
            if key.is_racy(now_ns, window) {
                return None;
            }
            e.u8(super::tier_index(f.tier) as u8);
            e.str(f.id());
            key.encode(&mut e);
        }
        for ids in &self.frozen {
            let mut ids: Vec<&String> = ids.iter().collect();
            ids.sort();
            e.u32(ids.len() as u32);
            for id in ids {
                e.str(id);
            }
        }
        Some(buf)
    }
}

/// A tier's op files and freeze sentinels (`None`: no such directory).
fn read_dir(t: &Tracker, tier: Tier) -> Result<Option<TierDir>> {
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
    let mut named: Vec<(String, FileType)> = Vec::new();
    let mut frozen = HashSet::new();
    // getdents into one buffer, no allocation per entry (64 KiB holds many
    // entries of at most 255-byte names).
    let mut buf = Vec::with_capacity(1 << 16);
    let mut entries = rustix::fs::RawDir::new(&fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(cannot)?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if id_from_file_name(name).is_some() {
            let kind = entry.file_type();
            if kind == FileType::RegularFile || kind == FileType::Unknown {
                named.push((name.to_string(), kind));
            }
        } else if let Some(id) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".frozen"))
        {
            frozen.insert(id.to_string());
        }
    }
    // By ID, which is not the file names' order (`.a-b.ops` < `.a.ops`):
    // each name is `.ID.ops`. The first 8 bytes of the ID, as an integer,
    // settle most comparisons without a string compare.
    fn id(name: &str) -> &[u8] {
        name.get(1..name.len() - 4).unwrap_or_default().as_bytes()
    }
    fn prefix(name: &str) -> u64 {
        let mut b = [0u8; 8];
        let id = id(name);
        let n = id.len().min(8);
        b[..n].copy_from_slice(&id[..n]);
        u64::from_be_bytes(b)
    }
    let mut keyed: Vec<(u64, String, FileType)> =
        named.into_iter().map(|(n, k)| (prefix(&n), n, k)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| id(&a.1).cmp(id(&b.1))));
    let named = keyed.into_iter().map(|(_, n, k)| (n, k)).collect();
    Ok(Some(TierDir {
        tier,
        fd,
        named,
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
