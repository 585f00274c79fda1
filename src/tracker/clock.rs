//! Lamport clocks: a new op's clock is 1 + the highest clock for the item
//! in the working tree, on each `lamport_branches` branch, HEAD and every
//! other local branch, all read through one `git cat-file --batch` process
//! — or none, when the refs name commits whose copies the peek cache
//! already holds ([`crate::git::peek`]).

use std::path::Path;

/// The highest `clock:` of the ops in op-log text (0 when there are none).
/// Only op-level keys count, never a `clock` inside user data.
pub fn max_clock(text: &[u8]) -> i64 {
    let mut max = 0;
    for line in text.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"  clock: ") {
            let digits: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            if let Ok(n) = std::str::from_utf8(&digits).unwrap_or("").parse::<i64>() {
                max = max.max(n);
            }
        }
    }
    max
}

/// The revisions whose copy of an item's file matter: each lamport branch
/// and HEAD (`locks: true`: their locks are honoured too), then every other
/// local branch. Reading every local branch gives the same highest clock as
/// the reference's "lamport branches, HEAD and every branch not merged into
/// the first lamport branch": a merged branch's ops are already in it.
///
/// Revisions naming the same commit (HEAD and the branch it is on, say)
/// are asked for once, with their `locks` joined: each costs git a lookup
/// in a tree as large as the tracker.
pub fn branch_specs(work_tree: &Path, rel: &str, lamport: &[String]) -> Vec<(String, bool)> {
    let refs = crate::git::refs::RefTable::read(work_tree);
    let branches = match &refs {
        Some(t) => t.local_branches(),
        None => crate::git::local_branches(work_tree),
    };
    let revs = lamport
        .iter()
        .map(|b| (b.as_str(), true))
        .chain(std::iter::once(("HEAD", true)))
        .chain(branches.iter().map(|b| (b.as_str(), false)));
    let mut specs: Vec<(String, bool)> = Vec::new();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (rev, locks) in revs {
        let id = refs.as_ref().and_then(|t| t.resolve(rev));
        if let Some(&(_, at)) = id.and_then(|id| seen.iter().find(|(s, _)| *s == id)) {
            specs[at].1 |= locks;
            continue;
        }
        if let Some(id) = id {
            seen.push((id, specs.len()));
        }
        specs.push((format!("{rev}:{rel}"), locks));
    }
    specs
}

/// An item file's bytes on each branch that has it, and whether that
/// branch's locks count (see [`branch_copies`]).
pub type BranchCopies = Vec<(Vec<u8>, bool)>;

/// The item's file on the branches of [`branch_specs`], with whether each
/// copy's locks count. One `git cat-file --batch` process, unless `cache`
/// (the peek cache, [`crate::git::peek::dir_for`]) holds every copy of the
/// commits the refs name now. No work tree (or a file outside it) means no
/// copies; git refusing the repository is an error with git's message.
pub fn branch_copies(
    file: &Path,
    work_tree: Option<&Path>,
    lamport: &[String],
    cache: Option<&Path>,
) -> std::io::Result<BranchCopies> {
    let Some(wt) = work_tree else {
        return Ok(Vec::new());
    };
    let Some(rel) = relative(file, wt) else {
        return Ok(Vec::new());
    };
    if let Some(answer) = cache.and_then(|c| crate::git::peek::lookup(wt, &rel, lamport, c)) {
        return answer;
    }
    let specs = branch_specs(wt, &rel, lamport);
    let names: Vec<String> = specs.iter().map(|(s, _)| s.clone()).collect();
    let blobs = crate::git::cat_files(wt, &names)?;
    Ok(blobs
        .into_iter()
        .zip(specs)
        .filter_map(|(b, (_, locks))| b.map(|b| (b, locks)))
        .collect())
}

/// [`branch_copies`] read on a thread of its own when git must be asked,
/// so that git runs while the caller does other work; answered at once,
/// with no thread, when the peek cache holds them. Dropped unread, it
/// waits for the thread: no git process outlives the write that started
/// it.
pub struct Prefetch(Option<Pending>);

enum Pending {
    Ready(std::io::Result<BranchCopies>),
    Reading(std::thread::JoinHandle<std::io::Result<BranchCopies>>),
}

impl Prefetch {
    pub fn start(
        file: &Path,
        work_tree: Option<&Path>,
        lamport: &[String],
        cache: Option<&Path>,
    ) -> Prefetch {
        let rel = work_tree.and_then(|wt| Some((wt, relative(file, wt)?)));
        let cached = match (rel, cache) {
            (None, _) => Some(Ok(Vec::new())),
            (Some((wt, rel)), Some(c)) => crate::git::peek::lookup_cached(wt, &rel, lamport, c),
            (Some(_), None) => None,
        };
        if let Some(answer) = cached {
            return Prefetch(Some(Pending::Ready(answer)));
        }
        let (file, wt) = (file.to_path_buf(), work_tree.map(Path::to_path_buf));
        let (lamport, cache) = (lamport.to_vec(), cache.map(Path::to_path_buf));
        Prefetch(Some(Pending::Reading(std::thread::spawn(move || {
            branch_copies(&file, wt.as_deref(), &lamport, cache.as_deref())
        }))))
    }

    /// The copies (or why git could not read them).
    pub fn wait(mut self) -> std::io::Result<BranchCopies> {
        match self.0.take().expect("waited once") {
            Pending::Ready(answer) => answer,
            Pending::Reading(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the git reader thread panicked"))),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        if let Some(Pending::Reading(h)) = self.0.take() {
            let _ = h.join();
        }
    }
}

/// The clock for the next op of an item, given the highest clock among its
/// local ops and its [`branch_copies`]: one more than all of them.
pub fn next_clock(local_max: i64, copies: &[(Vec<u8>, bool)]) -> i64 {
    let remote = copies.iter().map(|(b, _)| max_clock(b)).max().unwrap_or(0);
    local_max.max(remote) + 1
}

/// `file` relative to `work_tree`, with `/` separators, for a `rev:path` spec.
fn relative(file: &Path, work_tree: &Path) -> Option<String> {
    let dir = file.parent()?.canonicalize().ok()?;
    let rel = dir.strip_prefix(work_tree).ok()?.join(file.file_name()?);
    Some(rel.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_op_level_clocks() {
        let text = b"- op: create  # abcd\n  clock: 3  # abcd\n  data:  # abcd\n    clock: 99  # abcd\n- op: update  # ef01\n  clock: 7  # ef01\n";
        assert_eq!(max_clock(text), 7);
        assert_eq!(max_clock(b""), 0);
    }
}
