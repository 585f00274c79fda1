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

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha1::Digest;

/// The staged object IDs of the files that are the same in the index and
/// `HEAD`, by path relative to the work tree: `git ls-files`' output as it
/// came, and where each such entry's path and object ID are in it, sorted
/// by path (no allocation per file: 100,000 entries are read in a blink).
pub(super) struct Unchanged {
    listed: Vec<u8>,
    /// (path, hexadecimal object ID) of each entry, as ranges of `listed`.
    entries: Vec<(Range<usize>, Range<usize>)>,
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
        let differ: HashSet<&[u8]> = differ.split(|&b| b == 0).collect();
        let mut entries = Vec::new();
        let mut unmerged: HashSet<&[u8]> = HashSet::new();
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
        let path = |r: &Range<usize>| &listed[r.clone()];
        // Sorted by path (git lists them so: then this is one pass); of one
        // path listed twice, the last counts.
        entries.sort_by(|a, b| path(&a.0).cmp(path(&b.0)));
        let mut kept: Vec<(Range<usize>, Range<usize>)> = Vec::with_capacity(entries.len());
        for e in entries {
            if unmerged.contains(path(&e.0)) {
                continue;
            }
            match kept.last_mut() {
                Some(last) if path(&last.0) == path(&e.0) => *last = e,
                _ => kept.push(e),
            }
        }
        drop((differ, unmerged));
        Some(Unchanged {
            listed,
            entries: kept,
        })
    }

    /// The staged object ID of `rel` (hexadecimal), when it is unchanged
    /// between the index and `HEAD`.
    fn id_of(&self, rel: &[u8]) -> Option<&[u8]> {
        let i = self
            .entries
            .binary_search_by(|(path, _)| self.listed[path.clone()].cmp(rel))
            .ok()?;
        Some(&self.listed[self.entries[i].1.clone()])
    }

    /// True when `bytes`, the working copy of `rel`, are the staged copy
    /// and the staged copy is `HEAD`'s.
    pub(super) fn holds(&self, rel: &Path, bytes: &[u8]) -> bool {
        let Some(hex) = self.id_of(rel.as_os_str().as_bytes()) else {
            return false;
        };
        let mut id = [0u8; 32];
        let Some(id) = unhex_into(hex, &mut id) else {
            return false;
        };
        // `blob <len>\0`, written without allocating.
        let mut header = [0u8; 32];
        let mut w = &mut header[..];
        let len = {
            use std::io::Write;
            write!(w, "blob {}\0", bytes.len()).expect("a 32-byte header holds any length");
            32 - w.len()
        };
        let header = &header[..len];
        match id.len() {
            20 => {
                let mut h = sha1::Sha1::new();
                h.update(header);
                h.update(bytes);
                h.finalize()[..] == id[..]
            }
            32 => {
                let mut h = sha2::Sha256::new();
                h.update(header);
                h.update(bytes);
                h.finalize()[..] == id[..]
            }
            _ => false,
        }
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
    for (o, p) in out.iter_mut().zip(hex.chunks(2)) {
        *o = u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok()?;
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
