//! Remembered signature verifications. Checking an SSH signature costs far
//! more than reading an op, and a cold read (or every write) would check
//! each signed op again; so each (message, signature) pair found valid is
//! remembered by its SHA-256, in memory and in `sigs.bin` in the cache
//! directory (32 bytes a pair, appended; `HTRAC_NO_CACHE` turns it off).
//! The message holds the item ID and the signature holds the signer's key,
//! so the key covers all three. Whether the signer may sign for the op's
//! actor is checked on every read (it depends on allowed_signers, which
//! may change), never remembered.
//!
//! The file is as trusted as the read cache next to it, which already
//! holds compiled, enforced items: both belong to the user running htrac.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// Past this size the file is started again.
const MAX_BYTES: u64 = 8 << 20;

/// The cache key of a verified (message, signature) pair.
pub fn key(msg: &[u8], sig_b64: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"htrac sig v1\0");
    h.update((msg.len() as u64).to_le_bytes());
    h.update(msg);
    h.update(sig_b64.as_bytes());
    h.finalize().into()
}

/// Verified pairs: those read from the file, and those found since.
pub struct SigCache {
    path: Option<PathBuf>,
    known: OnceLock<Mutex<HashSet<[u8; 32]>>>,
    fresh: Mutex<Vec<[u8; 32]>>,
}

impl SigCache {
    /// The cache of the tracker at `root` (in memory only when there is no
    /// cache directory or `HTRAC_NO_CACHE` is set).
    pub fn open(root: &Path) -> SigCache {
        let off = std::env::var_os("HTRAC_NO_CACHE").is_some_and(|v| !v.is_empty());
        SigCache {
            path: if off {
                None
            } else {
                crate::alias::cache_dir(root).map(|d| d.join("sigs.bin"))
            },
            known: OnceLock::new(),
            fresh: Mutex::new(Vec::new()),
        }
    }

    fn known(&self) -> &Mutex<HashSet<[u8; 32]>> {
        self.known.get_or_init(|| {
            let bytes = self
                .path
                .as_deref()
                .and_then(crate::cache::read_own)
                .unwrap_or_default();
            let set = bytes
                .chunks_exact(32)
                .map(|c| <[u8; 32]>::try_from(c).expect("32 bytes"))
                .collect();
            Mutex::new(set)
        })
    }

    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.known().lock().is_ok_and(|k| k.contains(key))
    }

    pub fn insert(&self, key: [u8; 32]) {
        if let Ok(mut k) = self.known().lock() {
            if k.insert(key) {
                if let Ok(mut f) = self.fresh.lock() {
                    f.push(key);
                }
            }
        }
    }

    /// Appends the pairs found since the last flush to the file. Failing
    /// to write only costs a later check again.
    pub fn flush(&self) {
        let Some(path) = &self.path else { return };
        let fresh = match self.fresh.lock() {
            Ok(mut f) if !f.is_empty() => std::mem::take(&mut *f),
            _ => return,
        };
        // Too large, or not one this user may believe (another's, or
        // writable by others): started again.
        let believed = crate::cache::open_own(path).is_some();
        if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_BYTES || !believed) {
            let _ = std::fs::remove_file(path);
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let bytes: Vec<u8> = fresh.concat();
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
        {
            // One write: appends of whole records never interleave.
            let _ = f.write_all(&bytes);
        }
    }
}
