//! Which op files are, byte for byte, the same in the working tree, the
//! index and `HEAD` — files with no op new since `HEAD`, which
//! `--check-locks` then needs no copy of from git.
//!
//! Two git commands answer for the whole tracker at once, without reading
//! any file's contents: `git ls-files -s` gives each staged file's object ID
//! and `git diff-index --cached HEAD` names the staged files whose object
//! differs from `HEAD`'s. A file is unchanged when it is staged (stage 0),
//! not named by `diff-index`, and its own bytes hash to the staged object ID
//! (`blob <len>\0<bytes>`, SHA-1 or SHA-256 as the repository uses). The
//! hash is of the bytes validate read, so neither git's stat cache nor
//! `assume-unchanged`, `skip-worktree` or conversion filters can make a
//! changed file look unchanged. Any doubt (no git, no `HEAD`, a command that
//! fails, a path git does not list) leaves the file to be read from git.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::Read;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use foldhash::fast::RandomState;
use sha1::Digest;

/// The staged object IDs of the files that are the same in the index and
/// `HEAD`, by path relative to the work tree: `git ls-files`' output as it
/// came, where each such entry's path and object ID are in it, and the
/// entries by a keyed hash of their paths (no allocation per file: 100,000
/// entries are read in a blink).
pub(super) struct Unchanged {
    listed: Vec<u8>,
    /// (path, hexadecimal object ID) of each entry, as ranges of `listed`.
    entries: Vec<(Range<usize>, Range<usize>)>,
    /// The index in `entries` of each path's hash (two paths of one hash,
    /// which never happens, leave the first unfound: read from git).
    by_hash: HashMap<u64, usize, BuildHasherDefault<Hashed>>,
    keys: RandomState,
}

/// The hasher of keys that are hashes already.
#[derive(Default)]
struct Hashed(u64);

impl Hasher for Hashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Unchanged {
    /// Asks git about every file under `dir` (a directory of `work_tree`);
    /// `None` when git cannot answer.
    pub(super) fn ask(work_tree: &Path, dir: &Path) -> Option<Unchanged> {
        let rel = dir.strip_prefix(work_tree).ok()?;
        let spec = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let (staged, differ) = std::thread::scope(|s| {
            let differ = s.spawn(|| {
                run(
                    work_tree,
                    &[
                        "diff-index",
                        "--cached",
                        "--name-only",
                        "-z",
                        "--no-renames",
                    ],
                    &["HEAD"],
                    spec,
                )
            });
            let staged = run(
                work_tree,
                &["ls-files", "-s", "-z", "--full-name"],
                &[],
                spec,
            );
            (staged, differ.join().ok().flatten())
        });
        let (listed, differ) = (staged?, differ?);
        let differ: HashSet<&[u8], RandomState> = differ.split(|&b| b == 0).collect();
        let mut entries = Vec::new();
        let mut unmerged: HashSet<&[u8], RandomState> = HashSet::default();
        let mut start = 0;
        for entry in listed.split(|&b| b == 0) {
            let at = start;
            start += entry.len() + 1;
            // `<mode> <object> <stage>\t<path>`
            let Some(tab) = entry.iter().position(|&b| b == b'\t') else {
                continue;
            };
            let (meta, path) = (&entry[..tab], &entry[tab + 1..]);
            let mut fields = meta.split(|&b| b == b' ');
            let (Some(mode), Some(id), Some(stage)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if stage != b"0" {
                // A conflict: judged from git's copies.
                unmerged.insert(path);
            } else if !differ.contains(path) && unhex_into(id, &mut [0; 32]).is_some() {
                let id_at = at + mode.len() + 1;
                entries.push((at + tab + 1..at + entry.len(), id_at..id_at + id.len()));
            }
        }
        let keys = RandomState::default();
        let mut by_hash: HashMap<u64, usize, BuildHasherDefault<Hashed>> =
            HashMap::with_capacity_and_hasher(entries.len(), Default::default());
        for (i, (path, _)) in entries.iter().enumerate() {
            let path = &listed[path.clone()];
            if !unmerged.contains(path) {
                // Of one path listed twice, the last counts.
                by_hash.insert(keys.hash_one(path), i);
            }
        }
        drop((differ, unmerged));
        Some(Unchanged {
            listed,
            entries,
            by_hash,
            keys,
        })
    }

    /// The staged object ID of `rel` (hexadecimal), when it is unchanged
    /// between the index and `HEAD`.
    fn id_of(&self, rel: &[u8]) -> Option<&[u8]> {
        let &i = self.by_hash.get(&self.keys.hash_one(rel))?;
        let (path, id) = &self.entries[i];
        (self.listed[path.clone()] == *rel).then(|| &self.listed[id.clone()])
    }

    /// The staged object ID of `rel`, when it is unchanged between the
    /// index and `HEAD`.
    pub(super) fn staged(&self, rel: &Path) -> Option<ObjectId> {
        let hex = self.id_of(rel.as_os_str().as_bytes())?;
        let mut id = ObjectId::default();
        id.len = unhex_into(hex, &mut id.bytes)?.len() as u8;
        Some(id)
    }

    /// The staged object ID of `rel` when `bytes`, its working copy, are
    /// the staged copy and the staged copy is `HEAD`'s; else `None`.
    pub(super) fn holds(&self, rel: &Path, bytes: &[u8]) -> Option<ObjectId> {
        let id = self.staged(rel)?;
        // `blob <len>\0`, written without allocating.
        let mut header = [0u8; 32];
        let mut w = &mut header[..];
        let len = {
            use std::io::Write;
            write!(w, "blob {}\0", bytes.len()).expect("a 32-byte header holds any length");
            32 - w.len()
        };
        let header = &header[..len];
        let same = match id.as_bytes().len() {
            20 => {
                let mut h = sha1::Sha1::new();
                h.update(header);
                h.update(bytes);
                h.finalize()[..] == *id.as_bytes()
            }
            32 => {
                let mut h = sha2::Sha256::new();
                h.update(header);
                h.update(bytes);
                h.finalize()[..] == *id.as_bytes()
            }
            _ => false,
        };
        same.then_some(id)
    }
}

/// A git object ID (SHA-1 or SHA-256), held without allocating; empty when
/// not known.
#[derive(Clone, Copy, Default)]
pub(super) struct ObjectId {
    bytes: [u8; 32],
    len: u8,
}

impl ObjectId {
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The output of `git -C work_tree <args> <revs> -- <spec>`, when git ran and
/// succeeded. The index is only read (`GIT_OPTIONAL_LOCKS=0`), the path
/// taken literally.
fn run(work_tree: &Path, args: &[&str], revs: &[&str], spec: &Path) -> Option<Vec<u8>> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work_tree)
        .arg("--literal-pathspecs")
        .args(args)
        .args(revs)
        .arg("--")
        .arg(spec)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = Vec::new();
    let read = child.stdout.take()?.read_to_end(&mut out);
    let status = child.wait().ok()?;
    (read.is_ok() && status.success()).then_some(out)
}

/// The bytes of a hexadecimal object ID of at most 32 bytes, into `out`.
fn unhex_into<'a>(hex: &[u8], out: &'a mut [u8; 32]) -> Option<&'a [u8]> {
    if hex.len() % 2 != 0 || hex.len() / 2 > out.len() {
        return None;
    }
    // As `u8::from_str_radix(pair, 16)` reads each pair (a `+` sign first
    // included), without its checks and calls.
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for (o, p) in out.iter_mut().zip(hex.chunks(2)) {
        *o = match p[0] {
            b'+' => nibble(p[1])?,
            hi => nibble(hi)? << 4 | nibble(p[1])?,
        };
    }
    Some(&out[..hex.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of a hexadecimal object ID, as they were read before (into a `Vec`).
    fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
        if hex.len() % 2 != 0 {
            return None;
        }
        hex.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn object_ids_of_any_bytes_read_alike_into_a_buffer(hex in "[0-9a-fA-F+g -]{0,70}") {
            let mut buf = [0u8; 32];
            let want = unhex(hex.as_bytes()).filter(|v| v.len() <= 32);
            proptest::prop_assert_eq!(unhex_into(hex.as_bytes(), &mut buf).map(<[u8]>::to_vec), want);
        }
    }

    #[test]
    fn object_ids_read_alike_into_a_buffer() {
        for hex in [
            "",
            "0a",
            "ff00",
            "0a1",
            "zz",
            "+1",
            &"ab".repeat(20),
            &"cd".repeat(32),
            &"ef".repeat(33),
        ] {
            let mut buf = [0u8; 32];
            let want = unhex(hex.as_bytes()).filter(|v| v.len() <= 32);
            assert_eq!(
                unhex_into(hex.as_bytes(), &mut buf).map(<[u8]>::to_vec),
                want,
                "{hex}"
            );
        }
    }
}
