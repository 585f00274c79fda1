//! The few things htrac asks of git, by running the `git` CLI: where the
//! repository is, and the contents of files on other branches (one
//! `git cat-file --batch` process for any number of blobs); and the refs
//! read straight from the repository's files, with no git process
//! ([`refs`]).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod peek;
pub mod refs;

/// The top of the git work tree containing `path`, found by walking up to
/// the nearest `.git` (no git process needed).
pub fn work_tree_of(path: &Path) -> Option<PathBuf> {
    work_tree_above(path.canonicalize().ok()?)
}

/// [`work_tree_of`] for a path already canonical (no `readlink` walk).
pub fn work_tree_above(canonical: PathBuf) -> Option<PathBuf> {
    let mut cur = canonical;
    loop {
        if cur.join(".git").exists() {
            return Some(cur);
        }
        if !cur.pop() {
            return None;
        }
    }
}

/// Reads `<rev>:<path>` blobs through one `git cat-file --batch` process.
/// Missing objects come back as `None`. Fails if git cannot be run or
/// refuses the repository (e.g. "dubious ownership"), with git's message.
pub fn cat_files(work_tree: &Path, specs: &[String]) -> std::io::Result<Vec<Option<Vec<u8>>>> {
    Ok(cat_objects(work_tree, specs)?
        .into_iter()
        .map(|o| o.map(|o| o.bytes))
        .collect())
}

/// An object as `git cat-file --batch` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub id: String,
    /// `blob`, `tree`, `commit` or `tag`.
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// [`cat_files`], with each object's id and type.
pub fn cat_objects(work_tree: &Path, specs: &[String]) -> std::io::Result<Vec<Option<Object>>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work_tree)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut input = String::new();
    for s in specs {
        input.push_str(s);
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("piped stdin");
    // A large request is written from a thread so that git's answer cannot
    // fill its pipe while we are still writing (a deadlock); a small one
    // fits in the pipe's buffer whatever git does, so it is written here.
    let writer = if input.len() <= PIPE_SAFE {
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        None
    } else {
        Some(std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        }))
    };
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut out)?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait()?;
    if !status.success() && out.is_empty() {
        let msg = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git cat-file failed")
            .trim()
            .to_string();
        return Err(std::io::Error::other(msg));
    }

    let mut results = Vec::with_capacity(specs.len());
    let mut pos = 0;
    while results.len() < specs.len() && pos < out.len() {
        let nl = match out[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i,
            None => break,
        };
        let header = String::from_utf8_lossy(&out[pos..nl]).into_owned();
        pos = nl + 1;
        let parts: Vec<&str> = header.split_whitespace().collect();
        if header.ends_with(" missing") || header.ends_with(" ambiguous") || parts.len() != 3 {
            results.push(None);
            continue;
        }
        let size: usize = parts[2].parse().unwrap_or(0);
        let end = (pos + size).min(out.len());
        results.push(Some(Object {
            id: parts[0].to_string(),
            kind: parts[1].to_string(),
            bytes: out[pos..end].to_vec(),
        }));
        pos = end + 1;
    }
    results.resize(specs.len(), None);
    Ok(results)
}

/// Bytes a request to `git cat-file --batch` may have for it to be written
/// before anything is read: well under the smallest pipe buffer (4 KiB
/// pages; Linux gives 64 KiB).
const PIPE_SAFE: usize = 4096;

/// Runs git with `args` in `work_tree` and returns trimmed stdout, or `None`
/// if git failed.
pub fn output(work_tree: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(work_tree)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Every local branch, as a full ref name (`refs/heads/...`). Read from the
/// repository's files when it has a plain `.git` directory, else asked of git.
pub fn local_branches(work_tree: &Path) -> Vec<String> {
    match crate::git::refs::RefTable::read(work_tree) {
        Some(t) => t.local_branches(),
        None => output(
            work_tree,
            &["for-each-ref", "--format=%(refname)", "refs/heads"],
        )
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default(),
    }
}
