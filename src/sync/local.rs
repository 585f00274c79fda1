//! Bringing the local base branch up to date after a sync, without losing
//! any op written meanwhile.
//!
//! Only when the current branch *is* the base branch, no merge or rebase is
//! in progress, the branch is an ancestor of the new remote tip, and the
//! commits in between touch nothing but the tracker's op directories. Then,
//! for every op file those commits changed, under the file's append lock
//! (so no `htrac` write can slip in): the file becomes the tip's copy
//! followed by every local op block (working tree and index) the tip lacks
//! — an op-block union, never a loss; the index gets the tip's entries;
//! and the branch moves to the tip with a compare-and-swap `update-ref`.
//! In any other case the branch is left alone and the caller says so: the
//! ops are safe in the working tree and on the remote.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rustix::fs::{flock, FlockOperation, Mode, OFlags};

use super::gitrun::git;
use super::{commit, union, Repo};
use crate::error::{Error, Result};

/// What happened to the local branch.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalUpdate {
    UpToDate,
    /// Moved to the tip; `files` op files were rewritten in the working tree.
    Updated {
        files: usize,
    },
    /// Left alone, and why.
    Left(String),
}

impl LocalUpdate {
    pub fn describe(&self, branch: &str) -> String {
        match self {
            LocalUpdate::UpToDate => format!("local {branch} is up to date"),
            LocalUpdate::Updated { files } => {
                format!(
                    "local {branch} fast-forwarded ({files} op file(s) refreshed, local ops kept)"
                )
            }
            LocalUpdate::Left(why) => format!("local branch left as is: {why}"),
        }
    }
}

/// Brings the current branch to `tip` when it is the base branch and that is safe.
pub fn bring_up_to_date(
    repo: &Repo,
    git_dir: &Path,
    remote: &str,
    base: &str,
    tip: &str,
) -> Result<LocalUpdate> {
    let wt = &repo.work_tree;
    let head = git(wt, &["symbolic-ref", "-q", "HEAD"]).run()?;
    let branch = head.stdout.trim();
    if !head.ok {
        return Ok(LocalUpdate::Left(
            "HEAD is detached; the ops are in the working tree and on the remote".into(),
        ));
    }
    if branch != format!("refs/heads/{base}") {
        return Ok(LocalUpdate::Left(format!(
            "the current branch is {}, not {base}; its ops are in the working tree and on {remote}/{base}",
            branch.trim_start_matches("refs/heads/")
        )));
    }
    let Ok(old) = git(wt, &["rev-parse", "--verify", "-q", "HEAD"]).ok("no HEAD") else {
        return Ok(LocalUpdate::Left(format!("{base} has no commit yet")));
    };
    if old == tip {
        return Ok(LocalUpdate::UpToDate);
    }
    for busy in [
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
        "REVERT_HEAD",
        "rebase-merge",
        "rebase-apply",
    ] {
        if git_dir.join(busy).exists() {
            return Ok(LocalUpdate::Left(format!(
                "a git operation is in progress ({busy}); run 'git pull' when it is done"
            )));
        }
    }
    let ancestor = git(wt, &["merge-base", "--is-ancestor", &old, tip]).run()?;
    if !ancestor.ok {
        // The synced ops would sit in the working tree as local changes, and
        // `git pull` refuses to merge over those: commit them on the local
        // branch (the op files only), so that it can.
        let how = match commit_ops(repo, git_dir, branch, &old, remote, base) {
            Ok(Some((sha, n))) => format!(
                "the synced ops are committed on it ({n} op file(s), {}), so 'git pull' merges {remote}/{base} (op files merge by union)",
                &sha[..sha.len().min(10)]
            ),
            Ok(None) => "run 'git pull' to merge (op files merge by union)".into(),
            Err(e) => format!(
                "the synced ops could not be committed on it ({}); commit them ('git add .agent && git commit'), then 'git pull'",
                e.message
            ),
        };
        return Ok(LocalUpdate::Left(format!(
            "local {base} has commits that {remote}/{base} lacks; {how}"
        )));
    }
    let changed = commit::changed_paths(repo, &old, tip)?;
    if changed.values().any(|is_ops| !is_ops) {
        return Ok(LocalUpdate::Left(format!(
            "{remote}/{base} also changed files outside the tracker; run 'git pull' to bring them in"
        )));
    }
    let paths: Vec<&String> = changed.keys().collect();

    // Hold every existing file's append lock from the snapshot to the rename.
    let mut locks: BTreeMap<&str, File> = BTreeMap::new();
    for p in &paths {
        if let Some(f) = lock_existing(&wt.join(p))? {
            locks.insert(p.as_str(), f);
        }
    }
    let mut specs = Vec::new();
    for p in &paths {
        specs.push(format!("{tip}:{p}"));
        specs.push(format!("{old}:{p}"));
        specs.push(format!(":{p}"));
    }
    let blobs = crate::git::cat_files(wt, &specs)
        .map_err(|e| Error::internal(format!("cannot read op files from git: {e}")))?;
    let text = |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());

    let mut rewritten = 0;
    for (i, p) in paths.iter().enumerate() {
        let (Some(theirs), before, staged) = (
            text(&blobs[3 * i]),
            text(&blobs[3 * i + 1]),
            text(&blobs[3 * i + 2]),
        ) else {
            continue; // deleted upstream: keep the local file (it will sync back)
        };
        let abs = wt.join(p);
        let current = match locks.get_mut(p.as_str()) {
            Some(f) => Some(read_all(f)?),
            None => None,
        };
        let desired = if p.ends_with(".ops") {
            let (d, _) = union::union(&theirs, current.as_deref().unwrap_or(""));
            union::union(&d, staged.as_deref().unwrap_or("")).0
        } else if current.is_none() || current == before {
            theirs
        } else {
            continue;
        };
        if current.as_deref() == Some(desired.as_str()) {
            continue;
        }
        if current.is_some() {
            let mode = std::fs::metadata(&abs)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o664);
            crate::atomic::replace(&abs, desired.as_bytes(), mode)
                .map_err(|e| Error::internal(format!("cannot write {}: {e}", abs.display())))?;
        } else {
            create_new(&abs, &desired)?;
        }
        rewritten += 1;
    }

    // The index first (it only gains ops relative to the old HEAD), then the branch.
    let listing = git(wt, &["ls-tree", "-r", "-z", "--full-tree", tip, "--"])
        .args(&paths)
        .ok("cannot list the tip's op files")?;
    let mut in_tip: BTreeMap<&str, &str> = BTreeMap::new();
    for entry in listing.split('\0').filter(|e| !e.is_empty()) {
        if let Some((meta, path)) = entry.split_once('\t') {
            in_tip.insert(path, meta);
        }
    }
    let mut info = String::new();
    for p in &paths {
        match in_tip.get(p.as_str()) {
            Some(meta) => {
                let mut m = meta.split(' ');
                let (mode, _kind, sha) = (m.next(), m.next(), m.next());
                info.push_str(&format!(
                    "{} {}\t{p}\n",
                    mode.unwrap_or("100644"),
                    sha.unwrap_or_default()
                ));
            }
            None => info.push_str(&format!("0 {}\t{p}\n", "0".repeat(40))),
        }
    }
    let idx = git(wt, &["update-index", "--index-info"])
        .stdin(info.as_bytes())
        .run()?;
    if !idx.ok {
        return Ok(LocalUpdate::Left(format!(
            "cannot update the index ({}); the working tree holds every op, run 'git pull' later",
            idx.message()
        )));
    }
    let moved = git(
        wt,
        &[
            "update-ref",
            "-m",
            &format!("htrac sync: fast-forward to {remote}/{base}"),
            &format!("refs/heads/{base}"),
            tip,
            &old,
        ],
    )
    .run()?;
    drop(locks);
    if !moved.ok {
        return Ok(LocalUpdate::Left(format!(
            "{base} moved while syncing ({}); the working tree holds every op",
            moved.message()
        )));
    }
    Ok(LocalUpdate::Updated { files: rewritten })
}

/// Opens and exclusively locks a file as appenders do; `None` if absent.
/// Commits the op files that differ from `head` on `branch` (a ref name),
/// exactly as the working tree has them (under their append locks), in a
/// temporary index, moving the branch by compare-and-swap and staging the
/// same blobs in the user's index. Nothing else is committed. Returns the
/// commit and how many files it holds (`None`: nothing to commit).
fn commit_ops(
    repo: &Repo,
    git_dir: &Path,
    branch: &str,
    head: &str,
    remote: &str,
    base: &str,
) -> Result<Option<(String, usize)>> {
    let wt = &repo.work_tree;
    let changed = git(wt, &["diff", "--name-only", "-z", head, "--"])
        .args(&repo.ops_dirs)
        .ok("cannot list the changed op files")?;
    let untracked = git(
        wt,
        &["ls-files", "-z", "--others", "--exclude-standard", "--"],
    )
    .args(&repo.ops_dirs)
    .ok("cannot list the new op files")?;
    let mut paths: Vec<&str> = changed
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|p| !p.is_empty() && repo.is_ops_path(p) && wt.join(p).is_file())
        .collect();
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return Ok(None);
    }
    let mut locks = Vec::new();
    for p in &paths {
        if let Some(f) = lock_existing(&wt.join(p))? {
            locks.push(f);
        }
    }
    let list: String = paths.iter().map(|p| format!("{p}\n")).collect();
    let shas = git(wt, &["hash-object", "-w", "--stdin-paths"])
        .stdin(list.as_bytes())
        .ok("cannot store the op files")?;
    let info: String = shas
        .lines()
        .zip(&paths)
        .map(|(sha, p)| format!("100644 {sha}\t{p}\n"))
        .collect();
    let index = git_dir.join(format!("htrac-local-index-{}", std::process::id()));
    let _ = std::fs::remove_file(&index);
    let idx = index.as_os_str();
    let result = (|| {
        git(wt, &["read-tree", head])
            .env("GIT_INDEX_FILE", idx)
            .ok("cannot read HEAD into a temporary index")?;
        git(wt, &["update-index", "--add", "--index-info"])
            .env("GIT_INDEX_FILE", idx)
            .stdin(info.as_bytes())
            .ok("cannot stage the op files")?;
        git(wt, &["write-tree"])
            .env("GIT_INDEX_FILE", idx)
            .ok("cannot write the tree")
    })();
    let _ = std::fs::remove_file(&index);
    let tree = result?;
    let message = format!(
        "tracker: ops synced to {remote}/{base}\n\nCommitted by htrac sync so that 'git pull' can merge {remote}/{base}."
    );
    let sha = commit::commit_tree(repo, &tree, head, &message)?;
    git(
        wt,
        &[
            "update-ref",
            "-m",
            "htrac sync: commit synced ops",
            branch,
            &sha,
            head,
        ],
    )
    .ok("the branch moved meanwhile")?;
    // The user's index gets the same blobs, so the files show as committed.
    let _ = git(wt, &["update-index", "--add", "--index-info"])
        .stdin(info.as_bytes())
        .run();
    drop(locks);
    Ok(Some((sha, paths.len())))
}

fn lock_existing(path: &Path) -> Result<Option<File>> {
    match rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => {
            flock(&fd, FlockOperation::LockExclusive)
                .map_err(|e| Error::internal(format!("cannot lock {}: {e}", path.display())))?;
            Ok(Some(File::from(fd)))
        }
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(Error::internal(format!(
            "cannot open {}: {e}",
            path.display()
        ))),
    }
}

fn read_all(f: &mut File) -> Result<String> {
    let mut b = Vec::new();
    f.read_to_end(&mut b)
        .map_err(|e| Error::internal(format!("cannot read an op file: {e}")))?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

/// Creates a file the working tree lacks without replacing one a writer
/// created meanwhile (then that file is locked and merged instead).
fn create_new(path: &Path, desired: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(".htrac-tmp-sync-{}", std::process::id()));
    let cannot =
        |e: std::io::Error| Error::internal(format!("cannot write {}: {e}", path.display()));
    {
        let mut f = File::create(&tmp).map_err(cannot)?;
        f.write_all(desired.as_bytes()).map_err(cannot)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o664))
            .map_err(cannot)?;
        f.sync_all().map_err(cannot)?;
    }
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        &tmp,
        rustix::fs::CWD,
        path,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::EXIST) => {
            let _ = std::fs::remove_file(&tmp);
            let mut f = lock_existing(path)?
                .ok_or_else(|| Error::internal(format!("{} vanished", path.display())))?;
            let current = read_all(&mut f)?;
            let (merged, _) = union::union(desired, &current);
            crate::atomic::replace(path, merged.as_bytes(), 0o664).map_err(cannot)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(cannot(e.into()))
        }
    }
}
