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
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha1::Digest;

/// The staged object IDs of the files that are the same in the index and
/// `HEAD`, by path relative to the work tree.
pub(super) struct Unchanged {
    ids: HashMap<Box<[u8]>, Box<[u8]>>,
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
        let (staged, differ) = (staged?, differ?);
        let differ: HashSet<&[u8]> = differ.split(|&b| b == 0).collect();
        let mut ids = HashMap::new();
        let mut unmerged = Vec::new();
        for entry in staged.split(|&b| b == 0) {
            // `<mode> <object> <stage>\t<path>`
            let Some(tab) = entry.iter().position(|&b| b == b'\t') else {
                continue;
            };
            let (meta, path) = (&entry[..tab], &entry[tab + 1..]);
            let mut fields = meta.split(|&b| b == b' ');
            let (Some(_), Some(id), Some(stage)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if stage != b"0" {
                // A conflict: judged from git's copies.
                unmerged.push(path);
            } else if !differ.contains(path) {
                if let Some(id) = unhex(id) {
                    ids.insert(Box::<[u8]>::from(path), id.into_boxed_slice());
                }
            }
        }
        for path in unmerged {
            ids.remove(path);
        }
        Some(Unchanged { ids })
    }

    /// True when `bytes`, the working copy of `rel`, are the staged copy
    /// and the staged copy is `HEAD`'s.
    pub(super) fn holds(&self, rel: &Path, bytes: &[u8]) -> bool {
        let Some(id) = self.ids.get(rel.as_os_str().as_bytes()) else {
            return false;
        };
        let header = format!("blob {}\0", bytes.len());
        match id.len() {
            20 => {
                let mut h = sha1::Sha1::new();
                h.update(header.as_bytes());
                h.update(bytes);
                h.finalize()[..] == id[..]
            }
            32 => {
                let mut h = sha2::Sha256::new();
                h.update(header.as_bytes());
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

/// The bytes of a hexadecimal object ID.
fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    hex.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}
