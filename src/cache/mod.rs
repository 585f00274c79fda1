//! The read cache: compiled items, keyed by each op file's identity, so a
//! warm read costs one `readdir` and one `stat` per file instead of a parse.
//!
//! One file per tracker, `items-<fingerprint>.bin`, in the tracker's cache
//! directory ([`crate::alias::cache_dir`]). It holds, per cached op file, its
//! tier, ID, and key — size, mtime and ctime (ns), inode and device — and
//! the item it compiled to; per tier, a hash of the edit-mode ops that were
//! folded in. An entry is used only when all of that still matches, so an
//! append, a rewrite, a `git checkout` or a move between tiers invalidates
//! exactly that item, and a new edit-mode window its tier.
//!
//! Racy timestamps: a file changed again within one timestamp tick of a
//! change we cached would look unchanged. Files whose mtime or ctime is
//! within [`racy_window`] of the moment we began reading are therefore not
//! cached (they are parsed each time until they age). ctime cannot be set
//! from user space, so even a same-size rewrite that restores the mtime is
//! seen.
//!
//! Layout: an 8-byte magic, then `u32`-length-prefixed records: a header
//! (format, version, tracker root, edit keys, record count); one summary
//! record per item (tier, ID, file key, the item's summary part:
//! [`codec::Enc::summary`]); a checksum of those; one heavy record per item
//! in the same order (the rest of it: [`codec::Enc::heavy`]); a checksum
//! of all. A summary read ([`Contents`] of stripped or [`Slim`] items)
//! stops after the first checksum, and writes the cache back by copying
//! unchanged items' records ([`writeback`]). Anything that does not read back
//! exactly — other version, truncation, garbage — is ignored and the cache
//! rebuilt. Writes are atomic (temp file + rename) and best-effort: a
//! read-only cache directory never fails a command.
//! Broken files and files with torn ops are never cached.

pub(crate) mod codec;
pub mod listing;
pub mod memo;
mod snapshot;
mod writeback;

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use codec::{checksum, checksum_wide, strip};
use codec::{Dec, Enc};
pub use snapshot::{snapshot_at, snapshot_slim, snapshot_with};

use crate::items::item::Item;
use crate::items::slim::{Listable, Slim};
use crate::items::tiers::Tier;

const MAGIC: &[u8; 8] = b"HTRACIC\x01";
/// Bump when the record layout or what compiling means changes.
const FORMAT: u32 = 9;

/// What identifies one version of an op file on disk (from `statx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub mtime: i64,
    pub ctime: i64,
    pub ino: u64,
    pub dev: u64,
}

impl FileKey {
    /// Changed so recently (relative to `now_ns`) that a further change in
    /// the same timestamp tick could go unseen.
    pub fn is_racy(&self, now_ns: i64, window: Duration) -> bool {
        let limit = now_ns.saturating_sub(window.as_nanos() as i64);
        self.mtime >= limit || self.ctime >= limit
    }

    pub(crate) fn encode(&self, e: &mut Enc<'_>) {
        e.u64(self.size);
        e.u64(self.mtime as u64);
        e.u64(self.ctime as u64);
        e.u64(self.ino);
        e.u64(self.dev);
    }

    pub(crate) fn decode(d: &mut Dec<'_>) -> Option<FileKey> {
        Some(FileKey {
            size: d.u64()?,
            mtime: d.u64()? as i64,
            ctime: d.u64()? as i64,
            ino: d.u64()?,
            dev: d.u64()?,
        })
    }
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// How recent a change must be for its file not to be cached: 2 s (coarse
/// file systems, clock steps), or `HTRAC_CACHE_RACY_MS` (tests).
pub fn racy_window() -> Duration {
    std::env::var("HTRAC_CACHE_RACY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(2))
}

/// The cache file at `path`, opened, when it can be believed: a plain file
/// of the running user that no other user may write. What the cache
/// directory holds shapes what reads show and what checks believe
/// (compiled items, verified signatures, the parsed configuration,
/// `validate`'s findings): a file another user could have written — in a
/// cache directory shared through `HTRAC_CACHE_DIR`, or left writable to
/// the group an agent shares with its human — is ignored and rebuilt.
pub fn open_own(path: &Path) -> Option<File> {
    use std::os::unix::fs::MetadataExt;
    let f = File::open(path).ok()?;
    let meta = f.metadata().ok()?;
    let mine = meta.uid() == rustix::process::geteuid().as_raw();
    (meta.is_file() && mine && meta.mode() & 0o022 == 0).then_some(f)
}

/// The bytes of the cache file at `path`, when it can be believed
/// ([`open_own`]).
pub fn read_own(path: &Path) -> Option<Vec<u8>> {
    let mut f = open_own(path)?;
    let mut bytes = Vec::with_capacity(f.metadata().map_or(0, |m| m.len() as usize));
    f.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The cache file of the tracker at `root`, unless caching is off
/// (`HTRAC_NO_CACHE` set) or there is no cache directory.
pub fn path_for(root: &Path) -> Option<PathBuf> {
    if std::env::var_os("HTRAC_NO_CACHE").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let dir = crate::alias::cache_dir(root)?;
    Some(dir.join(format!("items-{}.bin", crate::alias::fingerprint(root))))
}

/// One cached op file.
pub struct Record {
    pub tier: Tier,
    /// Empty when the item was decoded (its ID is the item's: see [`Record::id`]).
    id: String,
    pub key: FileKey,
    /// Its item's index in [`Contents::items`]; `None` when its tier's
    /// edit-mode key no longer matches (not decoded).
    pub item: Option<usize>,
}

impl Record {
    /// The item ID (stored once, in the decoded item when there is one).
    pub(crate) fn id<'a, T: Decoded>(&'a self, items: &'a [T]) -> &'a str {
        match self.item {
            Some(i) => items[i].id(),
            None => &self.id,
        }
    }
}

/// What a cache read decodes each item into: a whole [`Item`] (or its
/// summary, [`strip`]), or a [`Slim`] one.
pub(crate) trait Decoded: Listable + Sized + Send {
    /// Decodes a record's item from its summary part.
    /// `id` as the record holds it (its UTF-8 not yet checked).
    fn decode(d: &mut Dec<'_>, id: &[u8], tier: Tier) -> Option<Self>;
    /// Adds the item's heavy part (a whole read only).
    fn heavy(&mut self, d: &mut Dec<'_>) -> Option<()>;
    /// Made of a compiled item (stripped already for a summary read).
    fn from_item(item: Item) -> Self;
    fn set_frozen(&mut self, frozen: bool);
    fn set_conflict(&mut self, cross_tier_conflict: bool);
    /// The whole item, which a cache write needs (a slim one is not).
    fn as_item(&self) -> Option<&Item>;
}

impl Decoded for Item {
    fn decode(d: &mut Dec<'_>, id: &[u8], tier: Tier) -> Option<Item> {
        d.item(std::str::from_utf8(id).ok()?.to_string(), tier)
    }
    fn heavy(&mut self, d: &mut Dec<'_>) -> Option<()> {
        d.heavy(self)
    }
    fn from_item(item: Item) -> Item {
        item
    }
    fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
    fn set_conflict(&mut self, cross_tier_conflict: bool) {
        self.cross_tier_conflict = cross_tier_conflict;
    }
    fn as_item(&self) -> Option<&Item> {
        Some(self)
    }
}

impl Decoded for Slim {
    fn decode(d: &mut Dec<'_>, id: &[u8], tier: Tier) -> Option<Slim> {
        d.slim(id, tier)
    }
    fn heavy(&mut self, _d: &mut Dec<'_>) -> Option<()> {
        None
    }
    fn from_item(item: Item) -> Slim {
        Slim::of(&item)
    }
    fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
    fn set_conflict(&mut self, cross_tier_conflict: bool) {
        self.cross_tier_conflict = cross_tier_conflict;
    }
    fn as_item(&self) -> Option<&Item> {
        None
    }
}

/// A cache file's contents.
pub struct Contents<T = Item> {
    /// Per tier (in [`Tier::ALL`] order), the edit-mode key it was built with.
    pub edit_keys: [Option<u64>; 3],
    /// In (tier, ID) order.
    pub records: Vec<Record>,
    /// The decoded items, in record order (kept apart from the records so
    /// a fully warm read hands this vector on without copying it).
    pub items: Vec<T>,
}

pub(crate) fn tier_index(t: Tier) -> usize {
    Tier::ALL.iter().position(|x| *x == t).expect("tier")
}

fn header(root: &Path, edit_keys: &[Option<u64>; 3], count: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut e = Enc(&mut buf);
    e.u32(FORMAT);
    e.str(env!("CARGO_PKG_VERSION"));
    e.str(&root.to_string_lossy());
    for k in edit_keys {
        match k {
            None => e.u8(0),
            Some(k) => {
                e.u8(1);
                e.u64(*k);
            }
        }
    }
    e.u64(count as u64);
    buf
}

/// Reads a cache file record by record, through one buffer: a record that
/// fits is decoded where it lies (no copy).
struct Reader {
    file: File,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// The chained checksum of the records read.
    sum: u64,
}

impl Reader {
    /// Makes the next `n` bytes lie in the buffer; `None` at end of file.
    fn fill(&mut self, n: usize) -> Option<()> {
        if self.end - self.pos >= n {
            return Some(());
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            match self.file.read(&mut self.buf[self.end..]).ok()? {
                0 => return None,
                k => self.end += k,
            }
        }
        Some(())
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        self.fill(n)?;
        self.pos += n;
        Some(&self.buf[self.pos - n..self.pos])
    }

    /// The next `u32`-length-prefixed record, added to the checksum.
    fn record(&mut self) -> Option<&[u8]> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
        if len > 1 << 30 {
            return None;
        }
        self.fill(len)?;
        self.sum = checksum_wide(self.sum, &self.buf[self.pos..self.pos + len]);
        self.pos += len;
        Some(&self.buf[self.pos - len..self.pos])
    }

    /// The checksum the writer put here matches what was read.
    fn check(&mut self) -> Option<()> {
        let sum = self.sum;
        (u64::from_le_bytes(self.take(8)?.try_into().ok()?) == sum).then_some(())
    }

    fn at_eof(&mut self) -> bool {
        self.pos == self.end && self.file.read(&mut [0u8; 1]).ok() == Some(0)
    }
}

/// The header record's edit keys and record count, or `None` when it is
/// of another format, htrac version or tracker root ([`header`] writes it).
pub(crate) fn decode_header(rec: &[u8], root: &Path) -> Option<([Option<u64>; 3], usize)> {
    let mut d = Dec::new(rec);
    if d.u32()? != FORMAT || d.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    if d.str()? != root.to_string_lossy() {
        return None;
    }
    let mut edit_keys = [None; 3];
    for k in &mut edit_keys {
        *k = match d.u8()? {
            0 => None,
            1 => Some(d.u64()?),
            _ => return None,
        };
    }
    let count = usize::try_from(d.u64()?).ok()?;
    d.at_end().then_some((edit_keys, count))
}

/// Reads the cache file, or `None` if it is missing, stale or corrupt.
/// Records of tiers whose edit key differs from `want_edit_keys` are
/// returned without their items (not worth decoding). With `summary`,
/// items are decoded from their summary parts alone ([`strip`], or
/// [`Slim`]) and the file's second section, the heavy parts, is not read.
pub(crate) fn load<T: Decoded>(
    path: &Path,
    root: &Path,
    want_edit_keys: &[Option<u64>; 3],
    summary: bool,
) -> Option<Contents<T>> {
    let mut r = Reader {
        file: open_own(path)?,
        buf: vec![0; 1 << 16],
        pos: 0,
        end: 0,
        sum: 0,
    };
    if r.take(8)? != MAGIC {
        return None;
    }
    let (edit_keys, count) = decode_header(r.record()?, root)?;
    let mut records: Vec<Record> = Vec::with_capacity(count.min(1 << 20));
    let mut items: Vec<T> = Vec::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let mut d = Dec::new(r.record()?);
        let tier = *Tier::ALL.get(d.u8()? as usize)?;
        let id = d.raw()?;
        let key = FileKey::decode(&mut d)?;
        if let Some(prev) = records.last() {
            if (prev.tier, prev.id(&items).as_bytes()) >= (tier, id) {
                return None;
            }
        }
        let ti = tier_index(tier);
        let (id, item) = if edit_keys[ti].is_some() && edit_keys[ti] == want_edit_keys[ti] {
            let item = T::decode(&mut d, id, tier)?;
            if !d.at_end() {
                return None;
            }
            items.push(item);
            (String::new(), Some(items.len() - 1))
        } else {
            (std::str::from_utf8(id).ok()?.to_string(), None)
        };
        records.push(Record {
            tier,
            id,
            key,
            item,
        });
    }
    r.check()?;
    if !summary {
        // The heavy parts, one per record, in the same order.
        for rec in &records {
            let bytes = r.record()?;
            if let Some(i) = rec.item {
                let mut d = Dec::new(bytes);
                items[i].heavy(&mut d)?;
                if !d.at_end() {
                    return None;
                }
            }
        }
        r.check()?;
        if !r.at_eof() {
            return None;
        }
    }
    Some(Contents {
        edit_keys,
        records,
        items,
    })
}

/// One entry of the cache file: an item with its file's key, or the
/// record [`record`] made of one.
pub enum Entry<'a> {
    Item(FileKey, &'a Item),
    Record(&'a Rec),
    /// An item's summary and heavy records as the cache file held them
    /// ([`writeback`]).
    Raw(&'a [u8], &'a [u8]),
}

/// An item's two records in the cache file.
pub struct Rec {
    /// Tier, ID, file key and the item's summary part ([`Enc::summary`]).
    pub summary: Vec<u8>,
    /// The rest of it ([`Enc::heavy`]).
    pub heavy: Vec<u8>,
}

/// The cache file's records of `item`, whose op file has `key`.
pub fn record(key: &FileKey, item: &Item) -> Rec {
    let mut summary = Vec::with_capacity(512);
    summary_record(&mut summary, key, item);
    let mut heavy = Vec::with_capacity(1024);
    Enc(&mut heavy).heavy(item);
    // Kept until the cache is written, a record for every item parsed: no
    // room to spare (a shrink in place, not a copy).
    summary.shrink_to_fit();
    heavy.shrink_to_fit();
    Rec { summary, heavy }
}

/// An item's summary record: tier, ID, file key, summary part.
fn summary_record(buf: &mut Vec<u8>, key: &FileKey, item: &Item) {
    let mut e = Enc(buf);
    e.u8(tier_index(item.tier) as u8);
    e.str(&item.id);
    key.encode(&mut e);
    e.summary(item);
}

/// Writes the cache file: `entries` in (tier, ID) order — the header,
/// every entry's summary record and a checksum, then every entry's heavy
/// record and a checksum of all. Best-effort: the caller ignores the error.
pub fn save(
    path: &Path,
    root: &Path,
    edit_keys: &[Option<u64>; 3],
    entries: &[Entry<'_>],
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    fn put(w: &mut impl Write, sum: &mut u64, rec: &[u8]) -> std::io::Result<()> {
        w.write_all(&(rec.len() as u32).to_le_bytes())?;
        w.write_all(rec)?;
        *sum = checksum_wide(*sum, rec);
        Ok(())
    }
    crate::atomic::replace_with(path, 0o600, false, |w| {
        w.write_all(MAGIC)?;
        let mut sum = 0u64;
        put(w, &mut sum, &header(root, edit_keys, entries.len()))?;
        // An item's records are encoded as they are written (one buffer).
        let mut buf = Vec::with_capacity(1 << 12);
        for entry in entries {
            match entry {
                Entry::Item(key, item) => {
                    buf.clear();
                    summary_record(&mut buf, key, item);
                    put(w, &mut sum, &buf)?;
                }
                Entry::Record(r) => put(w, &mut sum, &r.summary)?,
                Entry::Raw(summary, _) => put(w, &mut sum, summary)?,
            }
        }
        w.write_all(&sum.to_le_bytes())?;
        for entry in entries {
            match entry {
                Entry::Item(_, item) => {
                    buf.clear();
                    Enc(&mut buf).heavy(item);
                    put(w, &mut sum, &buf)?;
                }
                Entry::Record(r) => put(w, &mut sum, &r.heavy)?,
                Entry::Raw(_, heavy) => put(w, &mut sum, heavy)?,
            }
        }
        w.write_all(&sum.to_le_bytes())
    })
}

/// A key for the edit-mode ops folded into every item of a tier: a hash of
/// their serialized text (`None` when there are none).
pub fn edit_key(ops: &[crate::oplog::op::Op]) -> u64 {
    let mut h = 0x5eed_u64;
    for op in ops {
        h = checksum(h, crate::oplog::emit::emit_op(op).as_bytes());
    }
    h
}
