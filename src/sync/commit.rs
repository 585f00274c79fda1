//! Building the sync commit without touching the user's index, working
//! tree or branch.
//!
//! Every op file of the two committed tiers is merged into the base's copy
//! by op-block union (base first, then the local blocks it lacks), so the
//! commit only ever *adds* ops to the base: a file the base has and the
//! working tree lacks stays, and ops another clone pushed are never
//! replaced by a stale local copy. The merged files go into a temporary
//! index (`GIT_INDEX_FILE` in the git dir) read from the base's tree;
//! `write-tree` and `commit-tree -p <base>` make the commit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::gitrun::git;
use super::{union, Repo};
use crate::error::{Error, Result};
use crate::items::tiers::id_from_file_name;

/// One file the sync commit changes.
#[derive(Debug, Clone)]
pub struct Change {
    /// Path relative to the work tree, `/`-separated.
    pub path: String,
    pub content: Vec<u8>,
    /// Op blocks added to the base's copy.
    pub new_ops: usize,
}

/// What a sync would commit on top of `base`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The base commit (`None`: an empty remote branch is not supported,
    /// so this is only `None` for dry runs without any base).
    pub base: Option<String>,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn ops(&self) -> usize {
        self.changes.iter().map(|c| c.new_ops).sum()
    }

    /// Short item IDs (`WI-abcde`) of the changed op files, in path order.
    pub fn short_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for c in &self.changes {
            let name = c.path.rsplit('/').next().unwrap_or(&c.path);
            if let Some(id) = id_from_file_name(name) {
                let mut parts = id.splitn(3, '-');
                let short = match (parts.next(), parts.next()) {
                    (Some(kind), Some(first)) => format!("{kind}-{first}"),
                    _ => id.to_string(),
                };
                if !ids.contains(&short) {
                    ids.push(short);
                }
            }
        }
        ids
    }

    /// `tracker: N file(s) (M ops) — WI-abcde, INV-fghij, WI-klmno +K more`.
    pub fn title(&self) -> String {
        let n = self.changes.len();
        let mut t = format!(
            "tracker: {n} {} ({} ops)",
            if n == 1 { "file" } else { "files" },
            self.ops()
        );
        let ids = self.short_ids();
        if !ids.is_empty() {
            t.push_str(" — ");
            t.push_str(&ids.iter().take(3).cloned().collect::<Vec<_>>().join(", "));
            if ids.len() > 3 {
                t.push_str(&format!(" +{} more", ids.len() - 3));
            }
        }
        t
    }

    /// The commit message body: which files gained how many ops.
    pub fn body(&self) -> String {
        let mut b =
            String::from("Ops appended by htrac sync (op-block union, never a removal):\n\n");
        for c in self.changes.iter().take(200) {
            b.push_str(&format!("  {} (+{} ops)\n", c.path, c.new_ops));
        }
        if self.changes.len() > 200 {
            b.push_str(&format!(
                "  ... and {} more files\n",
                self.changes.len() - 200
            ));
        }
        b
    }
}

/// The committed tiers' files in the working tree: `.ops` files and the
/// directories' `.gitattributes`, as (relative path, bytes).
fn local_files(repo: &Repo) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (rel, abs) in repo.ops_dirs.iter().zip(&repo.ops_abs) {
        let entries = match std::fs::read_dir(abs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::internal(format!(
                    "cannot read {}: {e}",
                    abs.display()
                )))
            }
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n == ".gitattributes" || id_from_file_name(n).is_some())
            .collect();
        names.sort();
        for name in names {
            let path = abs.join(&name);
            match std::fs::read(&path) {
                Ok(bytes) => out.push((format!("{rel}/{name}"), bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Error::internal(format!(
                        "cannot read {}: {e}",
                        path.display()
                    )))
                }
            }
        }
    }
    Ok(out)
}

/// What committing the working tree's ops on top of `base` would change.
pub fn plan(repo: &Repo, base: Option<&str>) -> Result<Plan> {
    let files = local_files(repo)?;
    let base_copies: Vec<Option<Vec<u8>>> = match base {
        Some(b) => {
            let specs: Vec<String> = files.iter().map(|(p, _)| format!("{b}:{p}")).collect();
            crate::git::cat_files(&repo.work_tree, &specs)
                .map_err(|e| Error::internal(format!("cannot read the base's op files: {e}")))?
        }
        None => vec![None; files.len()],
    };
    let mut changes = Vec::new();
    for ((path, local), theirs) in files.into_iter().zip(base_copies) {
        let is_ops = path.ends_with(".ops");
        match theirs {
            None if !is_ops => changes.push(Change {
                path,
                content: local,
                new_ops: 0,
            }),
            // Non-op files the base already has are the base's business.
            Some(_) if !is_ops => {}
            theirs => {
                let local = String::from_utf8(local).map_err(|_| {
                    Error::user(format!("refusing to sync: {path} is not valid UTF-8"))
                        .with_hint("run 'htrac validate' and repair the file")
                })?;
                let theirs = theirs.map(|t| String::from_utf8_lossy(&t).into_owned());
                let (merged, added) = union::union(theirs.as_deref().unwrap_or(""), &local);
                if added > 0 {
                    changes.push(Change {
                        path,
                        content: merged.into_bytes(),
                        new_ops: added,
                    });
                }
            }
        }
    }
    Ok(Plan {
        base: base.map(str::to_string),
        changes,
    })
}

/// Removes the temporary files a sync killed mid-way left in the git dir.
pub fn clean_leftovers(git_dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(git_dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("htrac-sync-index-") || name.starts_with("htrac-sync-blobs-") {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
}

/// Removes a path when dropped.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Writes the plan's files as blobs, builds their tree on the base's tree in
/// a temporary index, and makes the commit. Returns the commit's SHA.
pub fn commit(repo: &Repo, git_dir: &std::path::Path, plan: &Plan) -> Result<String> {
    let base = plan
        .base
        .as_deref()
        .ok_or_else(|| Error::internal("a sync commit needs a base commit"))?;
    let pid = std::process::id();
    let wt = &repo.work_tree;

    // Blobs: one `hash-object --stdin-paths` for all files.
    let blobs_dir = TempPath(git_dir.join(format!("htrac-sync-blobs-{pid}")));
    std::fs::create_dir_all(&blobs_dir.0)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", blobs_dir.0.display())))?;
    let mut list = String::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let p = blobs_dir.0.join(i.to_string());
        std::fs::write(&p, &c.content)
            .map_err(|e| Error::internal(format!("cannot write {}: {e}", p.display())))?;
        list.push_str(&p.to_string_lossy());
        list.push('\n');
    }
    let shas = git(wt, &["hash-object", "-w", "--no-filters", "--stdin-paths"])
        .stdin(list.as_bytes())
        .ok("cannot store the merged op files")?;
    let shas: Vec<&str> = shas.lines().collect();
    if shas.len() != plan.changes.len() {
        return Err(Error::internal(
            "git hash-object returned the wrong number of blobs",
        ));
    }

    // Tree: the base's tree plus the merged files, in a temporary index.
    let index = TempPath(git_dir.join(format!("htrac-sync-index-{pid}")));
    let _ = std::fs::remove_file(&index.0);
    let idx = index.0.as_os_str();
    git(wt, &["read-tree", base])
        .env("GIT_INDEX_FILE", idx)
        .ok("cannot read the base's tree into a temporary index")?;
    let mut info = String::new();
    for (c, sha) in plan.changes.iter().zip(&shas) {
        info.push_str(&format!("100644 {sha}\t{}\n", c.path));
    }
    git(wt, &["update-index", "--index-info"])
        .env("GIT_INDEX_FILE", idx)
        .stdin(info.as_bytes())
        .ok("cannot stage the merged op files in the temporary index")?;
    let tree = git(wt, &["write-tree"])
        .env("GIT_INDEX_FILE", idx)
        .ok("cannot write the sync tree")?;

    let message = format!("{}\n\n{}", plan.title(), plan.body());
    let sha = commit_tree(repo, &tree, base, &message)?;
    // Test-only: die here, temporary index and all, before anything is pushed.
    super::failpoint("after-commit-tree");
    Ok(sha)
}

/// `git commit-tree TREE -p PARENT` with `message` (never signed: htrac
/// makes these commits itself); a missing git identity gets a hint.
pub fn commit_tree(repo: &Repo, tree: &str, parent: &str, message: &str) -> Result<String> {
    let out = git(
        &repo.work_tree,
        &[
            "-c",
            "commit.gpgSign=false",
            "commit-tree",
            tree,
            "-p",
            parent,
            "-F",
            "-",
        ],
    )
    .stdin(message.as_bytes())
    .run()?;
    if !out.ok {
        let msg = out.message();
        let mut e = Error::user(format!("cannot make the commit: {msg}"));
        if msg.contains("identity") || msg.contains("user.email") || msg.contains("name") {
            e = e.with_hint("set your git identity: git config user.name 'Name'; git config user.email you@example.com");
        }
        return Err(e);
    }
    Ok(out.stdout.trim().to_string())
}

/// Paths under the ops dirs that changed between two commits.
pub fn changed_paths(repo: &Repo, from: &str, to: &str) -> Result<BTreeMap<String, bool>> {
    // path -> is under an ops dir
    let out = git(
        &repo.work_tree,
        &["diff", "--name-only", "-z", "--no-renames", from, to],
    )
    .ok("cannot compare commits")?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(|p| (p.to_string(), repo.is_ops_path(p)))
        .collect())
}
