//! Results derived from every item (`prime`'s briefing), kept in the cache
//! directory under the exact inputs they were computed from: the listing of
//! every op file with its key ([`Listing::key_bytes`]), each tier's
//! edit-mode key, and the caller's own inputs (configuration, actor). When
//! all of that is byte-for-byte the same, so is every item a read would
//! compile — the read cache's own test — and the result is used again
//! without decoding one item. A listing with a file changed within the racy
//! window is never kept. Best-effort like the read cache: a file that does
//! not read back exactly is a miss, a failed write is ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::codec::{checksum, Dec, Enc};
use super::listing::Listing;
use crate::error::Result;
use crate::items::slim::Slim;
use crate::items::tiers::Tier;
use crate::tracker::load::Snapshot;
use crate::tracker::Tracker;

const MAGIC: &[u8; 8] = b"HTRACMM\x01";
/// Bump when the layout changes.
const FORMAT: u32 = 1;

/// What [`summary_or_memo`] found.
pub enum Lookup {
    /// The kept result.
    Hit(Vec<u8>),
    /// Nothing kept for these inputs: a slim snapshot
    /// ([`Tracker::snapshot_slim`]) read from the same listing, and how
    /// to keep what is derived from it (`None`: it cannot be kept).
    Miss(Snapshot<Slim>, Option<Keeper>),
}

/// Keeps a result under the inputs it was derived from.
pub struct Keeper {
    path: PathBuf,
    key: Vec<u8>,
}

impl Keeper {
    /// Writes `result` (best-effort: an error is ignored).
    pub fn keep(self, result: &[u8]) {
        let _ = write(&self.path, &self.key, result);
    }
}

/// The result kept as `name` for the tracker as it is now and `inputs`,
/// or a slim snapshot to derive it from.
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
    let listing = Listing::scan(t)?;
    let key = listing.key_bytes(now, window).map(|files| {
        let mut key = files;
        let mut e = Enc(&mut key);
        e.u32(super::FORMAT);
        e.str(&t.root.to_string_lossy());
        for tier in Tier::ALL {
            e.u64(super::edit_key(&t.edit_mode_ops(tier).0));
        }
        e.u32(inputs.len() as u32);
        e.0.extend_from_slice(inputs);
        key
    });
    if let Some(key) = &key {
        if let Some(result) = read(&path, key) {
            if std::env::var_os("HTRAC_CACHE_STATS").is_some() {
                t.warn(format!("cache: {name} from the memo"));
            }
            return Ok(Lookup::Hit(result));
        }
    }
    let mut snap = super::snapshot_slim(t, Some(&items_path), window, Some(&listing))?;
    // As every read of the tracker: claims from the host's other worktrees
    // laid over the items (the board is among the caller's inputs).
    t.overlay_claims(&mut snap.items);
    Ok(Lookup::Miss(snap, key.map(|key| Keeper { path, key })))
}

/// The result in the memo file at `path` if it was kept under `key`.
fn read(path: &Path, key: &[u8]) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = body.split_at(body.len().checked_sub(8)?);
    if checksum(0, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut d = Dec::new(body);
    if d.u32()? != FORMAT || d.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    if d.bytes()? != key {
        return None;
    }
    let result = d.bytes()?.to_vec();
    d.at_end().then_some(result)
}

fn write(path: &Path, key: &[u8], result: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut body = Vec::with_capacity(key.len() + result.len() + 64);
    let mut e = Enc(&mut body);
    e.u32(FORMAT);
    e.str(env!("CARGO_PKG_VERSION"));
    e.bytes(key);
    e.bytes(result);
    let sum = checksum(0, &body);
    crate::atomic::replace_with(path, 0o600, false, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&body)?;
        w.write_all(&sum.to_le_bytes())
    })
}
