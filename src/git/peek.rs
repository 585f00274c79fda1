//! Other branches' copies of an item file, remembered by commit, so that a
//! write whose refs have not moved starts no git process.
//!
//! A write's Lamport clock and its lock check read the item's file on each
//! lamport branch, HEAD and every other local branch
//! ([`crate::tracker::clock`]). A commit never changes, and neither does
//! the file at a path in it. So once git has shown the tier directory of a
//! commit (its tree: each file's name and blob id) and the blobs asked for,
//! they are kept in the tracker's cache directory; a later write whose
//! revisions resolve — from the ref files themselves, read as
//! [`RefTable`] does, no process — to commits already seen is answered
//! from there, exactly as git would answer it. A ref that moved names
//! another commit, whose tree is not known yet: git is asked again (one
//! `git cat-file --batch`), for exactly what is missing, by object id (so
//! what is kept is what that commit holds, even if the ref moves again
//! meanwhile).
//!
//! Kept under `<cache dir>/peek/`, each file written atomically:
//! - `t-<commit>-<dir hash>`: one directory's tree in one commit (or that
//!   the commit has no such directory), with a checksum;
//! - `b-<blob id>`: a blob's bytes, checked against the id (the hash of
//!   git's `blob <size>\0` header and the bytes) every time they are read.
//!
//! Only files the running user owns are read: the answer decides which
//! locks bind an agent, and the cache is as trusted as the read cache
//! beside it (the user's own). Whenever git's answer could differ from
//! this one, git is asked as before ([`lookup`] returns `None`): a
//! repository whose refs htrac does not read (reftable),
//! environment variables that send git elsewhere (`GIT_DIR`, …), replace
//! refs, a revision that is not a plain ref name, an entry that is not a
//! file, `HTRAC_NO_CACHE`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::refs::{GitDirs, RefTable};

const TREE_MAGIC: &[u8; 8] = b"HTRACPT\x01";

/// Blob files kept at most, and their bytes at most; past either the
/// oldest go (when git is asked).
const MAX_BLOBS: usize = 256;
const MAX_BLOB_BYTES: u64 = 64 << 20;

/// Variables that make git read another repository, other refs or other
/// objects than `<work tree>/.git` holds.
const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_COMMON_DIR",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
];

/// The peek cache directory of the tracker at `root` (`None`: no cache).
pub fn dir_for(root: &Path) -> Option<PathBuf> {
    if std::env::var_os("HTRAC_NO_CACHE").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    crate::alias::cache_dir(root).map(|d| d.join("peek"))
}

/// Each copy's bytes and whether its revision's locks bind (as
/// [`crate::tracker::clock::BranchCopies`]).
pub type Copies = Vec<(Vec<u8>, bool)>;

/// One revision that counts: the commit it names and whether its locks bind.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rev {
    commit: String,
    locks: bool,
}

/// What a commit's tree says about the item's file.
enum Entry {
    /// The directory, or the file in it, is not there.
    Absent,
    /// A file (regular or symlink): its blob id.
    Blob(String),
}

/// The copies of `rel` (a path relative to the work tree `wt`) on the
/// revisions of [`crate::tracker::clock::branch_specs`], with whether each
/// one's locks bind — or `None` when they cannot be answered this way (the
/// caller asks git as before). `Some(Err)` is git's own failure.
pub fn lookup(
    wt: &Path,
    rel: &str,
    lamport: &[String],
    cache: &Path,
) -> Option<std::io::Result<Copies>> {
    lookup_with(wt, rel, lamport, cache, true)
}

/// [`lookup`] from the cache alone: `None` also when git would have to be
/// asked (never an error).
pub fn lookup_cached(
    wt: &Path,
    rel: &str,
    lamport: &[String],
    cache: &Path,
) -> Option<std::io::Result<Copies>> {
    lookup_with(wt, rel, lamport, cache, false)
}

fn lookup_with(
    wt: &Path,
    rel: &str,
    lamport: &[String],
    cache: &Path,
    fetch: bool,
) -> Option<std::io::Result<Copies>> {
    if GIT_ENV.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    let dirs = GitDirs::of(wt)?;
    let refs = RefTable::read_dirs(&dirs)?;
    if refs.has_refs_under("refs/replace/") {
        return None;
    }
    let revs = resolve_revs(&refs, &dirs, lamport)?;
    let (dir, name) = match rel.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", rel),
    };
    let peek = Peek { cache, dir, name };
    // What the cache knows: each commit's entry, each blob's bytes.
    let mut entries: Vec<Option<Entry>> = Vec::with_capacity(revs.len());
    for r in &revs {
        entries.push(match peek.tree(&r.commit) {
            Some(kept) => {
                let tree = kept.as_ref().map(|(bytes, at)| &bytes[*at..]);
                Some(tree_entry(tree, name, id_len(&r.commit)?)?)
            }
            None => None,
        });
    }
    let mut blobs: Vec<Option<Vec<u8>>> = entries
        .iter()
        .map(|e| match e {
            Some(Entry::Blob(id)) => peek.blob(id),
            _ => None,
        })
        .collect();
    let complete = entries
        .iter()
        .zip(&blobs)
        .all(|(e, b)| matches!(e, Some(Entry::Absent)) || b.is_some());
    if !complete {
        if !fetch {
            return None;
        }
        if let Err(e) = peek.fetch(wt, &revs, &entries, &mut blobs) {
            return Some(Err(e));
        }
    }
    Some(Ok(revs
        .iter()
        .zip(blobs)
        .filter_map(|(r, b)| b.map(|b| (b, r.locks)))
        .collect()))
}

/// The revisions of [`crate::tracker::clock::branch_specs`] as commits,
/// resolved from the ref files (those naming the same commit joined, those
/// naming none left out: git would find nothing there), or `None` when a
/// name might resolve otherwise for git.
fn resolve_revs(refs: &RefTable, dirs: &GitDirs, lamport: &[String]) -> Option<Vec<Rev>> {
    let branches = refs.local_branches();
    let names = lamport
        .iter()
        .map(|b| (b.as_str(), true))
        .chain(std::iter::once(("HEAD", true)))
        .chain(branches.iter().map(|b| (b.as_str(), false)));
    let mut revs: Vec<Rev> = Vec::new();
    for (name, locks) in names {
        let full = name == "HEAD" || name.starts_with("refs/");
        // git reads `.git/<name>` first (a root ref such as ORIG_HEAD), and
        // takes hex for an object id and `X-g<hex>` for describe output.
        let root_ref = || dirs.git_dir.join(name).exists() || dirs.common.join(name).exists();
        if !full && (!plain_ref_name(name) || root_ref()) {
            return None;
        }
        let Some(commit) = refs.resolve(name) else {
            continue;
        };
        id_len(commit)?;
        match revs.iter_mut().find(|r| r.commit == commit) {
            Some(r) => r.locks |= locks,
            None => revs.push(Rev {
                commit: commit.to_string(),
                locks,
            }),
        }
    }
    Some(revs)
}

/// A branch name git can only read as a ref: letters, digits, `._/-`, no
/// `..`, not all hex (an abbreviated object id), no `-g` followed by hex
/// at the end (describe output).
fn plain_ref_name(name: &str) -> bool {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'));
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let describe = name.rsplit_once("-g").is_some_and(|(_, tail)| hex(tail));
    ok_chars
        && !name.is_empty()
        && !name.contains("..")
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !hex(name)
        && !describe
}

/// The byte length of object ids in a repository whose ids look like `id`
/// (SHA-1 or SHA-256), or `None` for anything else.
fn id_len(id: &str) -> Option<usize> {
    match id.len() {
        40 | 64 if id.bytes().all(|b| b.is_ascii_hexdigit()) => Some(id.len() / 2),
        _ => None,
    }
}

/// `name`'s entry in tree object bytes (`None`: tree is absent), or `None`
/// when it is not a file (a directory, a submodule) or the tree does not
/// parse: git is asked then.
fn tree_entry(tree: Option<&[u8]>, name: &str, id_len: usize) -> Option<Entry> {
    let Some(mut rest) = tree else {
        return Some(Entry::Absent);
    };
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let nul = sp + 1 + rest[sp + 1..].iter().position(|&b| b == 0)?;
        let end = nul + 1 + id_len;
        if end > rest.len() {
            return None;
        }
        if &rest[sp + 1..nul] == name.as_bytes() {
            return match &rest[..sp] {
                b"100644" | b"100755" | b"120000" => Some(Entry::Blob(hex(&rest[nul + 1..end]))),
                _ => None,
            };
        }
        rest = &rest[end..];
    }
    Some(Entry::Absent)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` are the blob with id `id` (SHA-1, or SHA-256 for 64 hex digits).
fn is_blob(id: &str, bytes: &[u8]) -> bool {
    let header = format!("blob {}\0", bytes.len());
    let digest = if id.len() == 64 {
        use sha2::Digest;
        hex(&sha2::Sha256::new()
            .chain_update(header.as_bytes())
            .chain_update(bytes)
            .finalize())
    } else {
        use sha1::Digest;
        hex(&sha1::Sha1::new()
            .chain_update(header.as_bytes())
            .chain_update(bytes)
            .finalize())
    };
    digest == id
}

struct Peek<'a> {
    cache: &'a Path,
    dir: &'a str,
    name: &'a str,
}

impl Peek<'_> {
    fn tree_path(&self, commit: &str) -> PathBuf {
        let h = crate::cache::checksum(0, self.dir.as_bytes());
        self.cache.join(format!("t-{commit}-{h:016x}"))
    }

    /// The directory's tree in `commit` as kept (the file's bytes and where
    /// the tree starts in them, so that a 10,000-entry tree is not copied
    /// again): `Some(None)` when the commit has no such directory, `None`
    /// when not kept (or damaged).
    fn tree(&self, commit: &str) -> Option<Option<(Vec<u8>, usize)>> {
        let mut bytes = crate::cache::read_own(&self.tree_path(commit))?;
        let (body, sum) = bytes.split_at(bytes.len().checked_sub(8)?);
        if crate::cache::checksum(0, body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let rest = body.strip_prefix(TREE_MAGIC)?;
        let (head, rest) = rest.split_at_checked(4)?;
        let n = u32::from_le_bytes(head.try_into().ok()?) as usize;
        let (dir, rest) = rest.split_at_checked(n)?;
        if dir != self.dir.as_bytes() {
            return None;
        }
        let at = body.len() - rest.len() + 1;
        match rest.split_first()? {
            (0, []) => Some(None),
            (1, _) => {
                bytes.truncate(bytes.len() - 8);
                Some(Some((bytes, at)))
            }
            _ => None,
        }
    }

    fn save_tree(&self, commit: &str, tree: Option<&[u8]>) {
        let mut body = TREE_MAGIC.to_vec();
        body.extend_from_slice(&(self.dir.len() as u32).to_le_bytes());
        body.extend_from_slice(self.dir.as_bytes());
        match tree {
            None => body.push(0),
            Some(t) => {
                body.push(1);
                body.extend_from_slice(t);
            }
        }
        let sum = crate::cache::checksum(0, &body);
        body.extend_from_slice(&sum.to_le_bytes());
        self.save(&self.tree_path(commit), &body);
    }

    /// A kept blob, when its bytes still hash to its id.
    fn blob(&self, id: &str) -> Option<Vec<u8>> {
        let bytes = crate::cache::read_own(&self.cache.join(format!("b-{id}")))?;
        is_blob(id, &bytes).then_some(bytes)
    }

    fn save(&self, path: &Path, bytes: &[u8]) {
        if std::fs::create_dir_all(self.cache).is_ok() {
            let _ = crate::atomic::replace_with(path, 0o600, false, |w| w.write_all(bytes));
        }
    }

    /// Asks git (one process) for what the cache lacks: the directory's
    /// tree in each commit not kept (and the file in it, by path), and each
    /// blob not kept (by id); keeps what came back and fills in `blobs`.
    fn fetch(
        &self,
        wt: &Path,
        revs: &[Rev],
        entries: &[Option<Entry>],
        blobs: &mut [Option<Vec<u8>>],
    ) -> std::io::Result<()> {
        // Per revision, which requests answer it: (tree, file) or (blob).
        enum Ask {
            Tree(usize, usize),
            Blob(usize),
            Known,
        }
        let mut specs: Vec<String> = Vec::new();
        let mut asks = Vec::with_capacity(revs.len());
        for ((r, e), b) in revs.iter().zip(entries).zip(blobs.iter()) {
            asks.push(match (e, b) {
                (None, _) => {
                    specs.push(format!("{}:{}", r.commit, self.dir));
                    specs.push(if self.dir.is_empty() {
                        format!("{}:{}", r.commit, self.name)
                    } else {
                        format!("{}:{}/{}", r.commit, self.dir, self.name)
                    });
                    Ask::Tree(specs.len() - 2, specs.len() - 1)
                }
                (Some(Entry::Blob(id)), None) => {
                    specs.push(id.clone());
                    Ask::Blob(specs.len() - 1)
                }
                _ => Ask::Known,
            });
        }
        let mut got = super::cat_objects(wt, &specs)?;
        for ((r, ask), slot) in revs.iter().zip(asks).zip(blobs.iter_mut()) {
            match ask {
                Ask::Known => {}
                Ask::Tree(t, f) => {
                    match &got[t] {
                        Some(o) if o.kind == "tree" => self.save_tree(&r.commit, Some(&o.bytes)),
                        None => self.save_tree(&r.commit, None),
                        Some(_) => {}
                    }
                    // The file as git gave it by path, whatever it is.
                    if let Some(o) = got[f].take() {
                        if o.kind == "blob" {
                            self.save(&self.cache.join(format!("b-{}", o.id)), &o.bytes);
                        }
                        *slot = Some(o.bytes);
                    }
                }
                Ask::Blob(b) => {
                    if let Some(o) = got[b].take().filter(|o| o.kind == "blob") {
                        self.save(&self.cache.join(format!("b-{}", o.id)), &o.bytes);
                        *slot = Some(o.bytes);
                    }
                }
            }
        }
        self.prune(revs);
        Ok(())
    }

    /// Drops trees of commits no revision names now, and the oldest blobs
    /// past [`MAX_BLOBS`] or [`MAX_BLOB_BYTES`]. Run only when git was
    /// asked (refs moved).
    fn prune(&self, revs: &[Rev]) {
        let Ok(list) = std::fs::read_dir(self.cache) else {
            return;
        };
        let mut blobs: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        for e in list.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(rest) = name.strip_prefix("t-") {
                let commit = rest.split('-').next().unwrap_or("");
                if !revs.iter().any(|r| r.commit == commit) {
                    let _ = std::fs::remove_file(e.path());
                }
            } else if name.starts_with("b-") {
                let Ok(meta) = e.metadata() else { continue };
                let at = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                blobs.push((at, meta.len(), e.path()));
            }
        }
        // Newest first: keep while within both bounds.
        blobs.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut total = 0;
        for (i, (_, len, p)) in blobs.iter().enumerate() {
            total += len;
            if i >= MAX_BLOBS || total > MAX_BLOB_BYTES {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut t = Vec::new();
        for (mode, name, id) in entries {
            t.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            t.extend_from_slice(&[*id; 20]);
        }
        t
    }

    #[test]
    fn finds_files_only() {
        let t = tree(&[
            ("100644", ".A.ops", 1),
            ("40000", ".B.ops", 2),
            ("100755", ".C.ops", 3),
            ("160000", ".D.ops", 4),
        ]);
        assert!(
            matches!(tree_entry(Some(&t), ".A.ops", 20), Some(Entry::Blob(id)) if id == "01".repeat(20))
        );
        assert!(
            matches!(tree_entry(Some(&t), ".C.ops", 20), Some(Entry::Blob(id)) if id == "03".repeat(20))
        );
        assert!(matches!(
            tree_entry(Some(&t), ".E.ops", 20),
            Some(Entry::Absent)
        ));
        assert!(matches!(
            tree_entry(None, ".A.ops", 20),
            Some(Entry::Absent)
        ));
        assert!(
            tree_entry(Some(&t), ".B.ops", 20).is_none(),
            "a directory: ask git"
        );
        assert!(
            tree_entry(Some(&t), ".D.ops", 20).is_none(),
            "a submodule: ask git"
        );
        assert!(
            tree_entry(Some(&t[..t.len() - 3]), ".E.ops", 20).is_none(),
            "cut short"
        );
    }

    #[test]
    fn only_plain_names_are_resolved_here() {
        for ok in [
            "dev",
            "main",
            "origin/dev",
            "feature/x-1",
            "v1.2",
            "release_3",
        ] {
            assert!(plain_ref_name(ok), "{ok}");
        }
        for no in [
            "",
            "dead",
            "cafe1234",
            "HEAD~1",
            "dev^",
            "@",
            "dev@{1}",
            "a..b",
            "-x",
            "x/",
            ".x",
            "v1.0-3-g1a2b",
            "dev:path",
            "a b",
        ] {
            assert!(!plain_ref_name(no), "{no}");
        }
    }

    #[test]
    fn blobs_are_checked_against_their_id() {
        // `printf 'hi\n' | git hash-object --stdin`
        let id = "45b983be36b73c0788dc9cbcb76cbb80fc7bb057";
        assert!(is_blob(id, b"hi\n"));
        assert!(!is_blob(id, b"hi!\n"));
    }
}
