//! Results derived from every item (`prime`'s briefing), kept in the cache
//! directory under the exact inputs they were computed from: the listing of
//! every op file with its key ([`Listing::key_bytes`]), each tier's
//! edit-mode ops and the governance policy (what the read cache keys its
//! items with), and the caller's own inputs (configuration, actor). When
//! all of that is byte-for-byte the same, so is every item a read would
//! compile — the read cache's own test — and the result is used again
//! without decoding one item. A listing with a file changed within the racy
//! window is never kept. Best-effort like the read cache: a file that does
//! not read back exactly is a miss, a failed write is ignored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::codec::{checksum_wide, Dec, Enc};
use super::listing::{Listing, Probe};
use super::snapshot::ReadKeys;
use crate::error::Result;
use crate::items::slim::Slim;
use crate::tracker::load::Snapshot;
use crate::tracker::Tracker;

const MAGIC: &[u8; 8] = b"HTRACMM\x01";
/// Bump when the layout changes.
const FORMAT: u32 = 2;

/// What [`summary_or_memo`] found.
pub enum Lookup {
    /// The kept result.
    Hit(Kept),
    /// Nothing kept for these inputs: a slim snapshot
    /// ([`Tracker::snapshot_slim`]) read from the same listing, and how
    /// to keep what is derived from it (`None`: it cannot be kept).
    Miss(Snapshot<Slim>, Option<Keeper>),
}

/// A memo file as read: the key and the result it keeps.
pub struct Kept {
    bytes: Vec<u8>,
    key: std::ops::Range<usize>,
    result: std::ops::Range<usize>,
}

impl Kept {
    /// The result.
    pub fn result(&self) -> &[u8] {
        &self.bytes[self.result.clone()]
    }

    /// The result's bytes from `at` on, as a vector (the file's bytes
    /// reused: no copy of a large result).
    pub fn into_tail(self, at: usize) -> Vec<u8> {
        let mut bytes = self.bytes;
        bytes.truncate(self.result.end);
        bytes.drain(..self.result.start + at.min(self.result.len()));
        bytes
    }

    fn key(&self) -> &[u8] {
        &self.bytes[self.key.clone()]
    }
}

/// Keeps a result under the inputs it was derived from: `head`, then the
/// listing spelled out ([`Listing::key_bytes`], written as it is spelled).
/// On a large tracker the key (a megabyte at 10,000 files) is written on
/// a thread of its own while the caller derives the result, which
/// [`Keeper::keep`] then hands it; a keeper dropped unused writes nothing.
pub struct Keeper {
    state: KeeperState,
}

enum KeeperState {
    /// To write when the result comes.
    Later(Box<KeyToWrite>),
    /// Being written: the result goes down the channel.
    Writing(
        std::sync::mpsc::SyncSender<Vec<u8>>,
        std::thread::JoinHandle<std::io::Result<()>>,
    ),
    Done,
}

/// Where a memo goes and the key it is kept under.
struct KeyToWrite {
    path: PathBuf,
    head: Vec<u8>,
    listing: std::sync::Arc<Listing>,
    /// When the listing was judged free of racy files, and the window.
    now: i64,
    window: std::time::Duration,
    /// The length of the listing spelled out.
    listed_len: usize,
}

/// Keys at least this long are written beside the caller's work.
const WRITE_BESIDE: usize = 1 << 18;

impl Keeper {
    fn new(key: KeyToWrite) -> Keeper {
        if key.listed_len < WRITE_BESIDE {
            return Keeper {
                state: KeeperState::Later(Box::new(key)),
            };
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let writer = std::thread::spawn(move || {
            key.write(|| {
                rx.recv()
                    .map_err(|_| std::io::Error::other("nothing to keep"))
            })
        });
        Keeper {
            state: KeeperState::Writing(tx, writer),
        }
    }

    /// Writes `result` (best-effort: an error is ignored).
    pub fn keep(mut self, result: Vec<u8>) {
        match std::mem::replace(&mut self.state, KeeperState::Done) {
            KeeperState::Later(key) => {
                let _ = key.write(|| Ok(result));
            }
            KeeperState::Writing(tx, writer) => {
                let _ = tx.send(result);
                let _ = writer.join();
            }
            KeeperState::Done => {}
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        // Unused: the writer, told there is nothing to keep, removes its
        // temporary file (waited for: none is left behind).
        if let KeeperState::Writing(tx, writer) =
            std::mem::replace(&mut self.state, KeeperState::Done)
        {
            drop(tx);
            let _ = writer.join();
        }
    }
}

impl KeyToWrite {
    /// Writes the memo file: the key, then the result `result` gives
    /// (which may wait for it).
    fn write(&self, result: impl FnOnce() -> std::io::Result<Vec<u8>>) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::atomic::replace_with(&self.path, 0o600, false, |w| {
            w.write_all(MAGIC)?;
            let mut body = Sealer::new(w);
            let mut head = Vec::with_capacity(64);
            let mut e = Enc(&mut head);
            e.u32(FORMAT);
            e.str(env!("CARGO_PKG_VERSION"));
            e.u64((self.head.len() + self.listed_len) as u64);
            body.put(&head)?;
            body.put(&self.head)?;
            let mut failed = None;
            let mut written = 0;
            let spelled = self.listing.spell(self.now, self.window, |b| {
                written += b.len();
                match body.put(b) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
            if spelled != Some(true) || written != self.listed_len {
                // (Never: a listing does not change once read.)
                return Err(std::io::Error::other("the listing spelled otherwise"));
            }
            let result = result()?;
            body.put(&(result.len() as u64).to_le_bytes())?;
            body.put(&result)?;
            let sum = body.finish()?;
            w.write_all(&sum.to_le_bytes())
        })
    }
}

/// Bytes at a time of a memo file's body: [`seal`] chains the checksum
/// over blocks of this size, so a writer need not hold the body whole.
const BLOCK: usize = 1 << 16;

/// The checksum a memo file's body is sealed with: [`checksum_wide`]
/// chained over its [`BLOCK`]s.
pub fn seal(body: &[u8]) -> u64 {
    body.chunks(BLOCK).fold(0, checksum_wide)
}

/// Writes a memo file's body, sealing it as it goes ([`seal`]).
pub(crate) struct Sealer<'w, W: Write> {
    w: &'w mut W,
    block: Vec<u8>,
    sum: u64,
}

impl<'w, W: Write> Sealer<'w, W> {
    pub(crate) fn new(w: &'w mut W) -> Self {
        Sealer {
            w,
            block: Vec::with_capacity(BLOCK),
            sum: 0,
        }
    }

    pub(crate) fn put(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let n = (BLOCK - self.block.len()).min(bytes.len());
            self.block.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.block.len() == BLOCK {
                self.flush_block()?;
            }
        }
        Ok(())
    }

    fn flush_block(&mut self) -> std::io::Result<()> {
        self.sum = checksum_wide(self.sum, &self.block);
        self.w.write_all(&self.block)?;
        self.block.clear();
        Ok(())
    }

    /// The body's seal, once the last (partial) block is written.
    pub(crate) fn finish(mut self) -> std::io::Result<u64> {
        if !self.block.is_empty() {
            self.flush_block()?;
        }
        Ok(self.sum)
    }
}

/// The result kept as `name` for the tracker as it is now and `inputs`,
/// or a slim snapshot to derive it from.
///
/// The files are listed while the memo file is read; when what is kept
/// there was derived under other inputs (or nothing is), or the listing
/// meets a file changed since it was kept, the items will be read
/// whatever the rest of the listing says, and the read cache is loaded
/// beside the listing too.
pub fn summary_or_memo(t: &Tracker, name: &str, inputs: &[u8]) -> Result<Lookup> {
    let Some(items_path) = super::path_for(&t.root) else {
        return Ok(Lookup::Miss(t.snapshot_slim()?, None));
    };
    let path = items_path.with_file_name(format!(
        "memo-{name}-{}.bin",
        crate::alias::fingerprint(&t.root)
    ));
    let now = super::now_ns();
    let window = super::racy_window();
    let keys = ReadKeys::of(t);
    // The key: what the result was derived under (each tier's edit-mode
    // ops and the policy, the caller's inputs), then the listing.
    let mut head = Vec::with_capacity(inputs.len() + 64);
    let mut e = Enc(&mut head);
    e.u32(super::FORMAT);
    e.str(&t.root.to_string_lossy());
    for k in keys.all {
        e.u64(k);
    }
    e.u32(inputs.len() as u32);
    e.0.extend_from_slice(inputs);
    // A small tracker's listing takes less than starting a thread.
    let large =
        std::fs::metadata(&items_path).is_ok_and(|m| m.len() >= super::snapshot::PARALLEL_LOAD);
    let (listing, kept, contents) = if large {
        // A file changed since the memo was written (the racy window
        // before it, too: nothing changed in it was kept) means a miss.
        let probe = Probe {
            since_ns: std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(i64::MIN, |d| d.as_nanos() as i64)
                .saturating_sub(window.as_nanos() as i64),
            changed: AtomicBool::new(false),
            waiter: std::thread::current(),
        };
        let listed = AtomicBool::new(false);
        std::thread::scope(|s| {
            let lister = s.spawn(|| {
                let listing = Listing::scan_probed(t, &probe);
                listed.store(true, Ordering::Release);
                probe.waiter.unpark();
                listing
            });
            let kept = read(&path);
            let mut miss = !kept.as_ref().is_some_and(|k| k.key().starts_with(&head));
            // Kept under these inputs: the listing decides. Until it is
            // done, a file it sees changed settles it (either wakes this
            // thread).
            while !miss && !listed.load(Ordering::Acquire) && !lister.is_finished() {
                std::thread::park_timeout(std::time::Duration::from_millis(5));
                miss = probe.changed.load(Ordering::Relaxed);
            }
            let contents = miss.then(|| keys.load_slim(t, &items_path));
            (lister.join().expect("lister thread"), kept, contents)
        })
    } else {
        (Listing::scan(t), read(&path), None)
    };
    let listing = listing?;
    if let Some(kept) = kept {
        let same = kept
            .key()
            .strip_prefix(head.as_slice())
            .is_some_and(|files| listing.key_is(files, now, window));
        if same {
            if std::env::var_os("HTRAC_CACHE_STATS").is_some() {
                t.warn(format!("cache: {name} from the memo"));
            }
            return Ok(Lookup::Hit(kept));
        }
    }
    // Kept only when no file changed within the racy window.
    // The key is written (beside the rest, on a large tracker) from now on.
    let listing = std::sync::Arc::new(listing);
    let keeper = listing.spelled_len(now, window).map(|listed_len| {
        Keeper::new(KeyToWrite {
            path,
            head,
            listing: listing.clone(),
            now,
            window,
            listed_len,
        })
    });
    let contents = match contents {
        Some(c) => c,
        None => keys.load_slim(t, &items_path),
    };
    let mut snap =
        super::snapshot::snapshot_slim_loaded(t, &items_path, window, &listing, keys, contents)?;
    // As every read of the tracker: claims from the host's other worktrees
    // laid over the items (the board is among the caller's inputs).
    t.overlay_claims(&mut snap.items);
    Ok(Lookup::Miss(snap, keeper))
}

/// The memo file at `path`, if it reads back whole.
fn read(path: &Path) -> Option<Kept> {
    let bytes = super::read_own(path)?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = body.split_at(body.len().checked_sub(8)?);
    if seal(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut d = Dec::new(body);
    if d.u32()? != FORMAT || d.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    // Where each part lies in the file's bytes.
    let at = |part: &[u8]| {
        let start = part.as_ptr() as usize - bytes.as_ptr() as usize;
        start..start + part.len()
    };
    let key = at(d.bytes()?);
    let result = at(d.bytes()?);
    if !d.at_end() {
        return None;
    }
    Some(Kept { bytes, key, result })
}
