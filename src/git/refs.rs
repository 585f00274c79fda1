//! A repository's refs read straight from its files — loose refs under
//! `.git/refs/`, `packed-refs` and `HEAD` — so that finding the local
//! branches, or noticing that two revisions name the same commit, costs no
//! git process. The files layout is read: a `.git` directory, or a `.git`
//! file naming the git directory (a linked worktree, whose branches live in
//! the common directory its `commondir` names, or a submodule). Anything
//! else (reftable, a `.git` file htrac cannot follow) is `None`, and
//! callers ask git instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Ref name → commit (or tag) id, and what `HEAD` points at.
#[derive(Debug, Default)]
pub struct RefTable {
    ids: HashMap<String, String>,
    /// Symbolic refs (`HEAD`, `refs/remotes/origin/HEAD`) → their target.
    symbolic: HashMap<String, String>,
}

/// Where a work tree's repository keeps its refs: its own git directory
/// (`HEAD`, per-worktree refs, root refs such as `ORIG_HEAD`) and the
/// common one (branches, tags, `packed-refs`), the same for a plain `.git`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitDirs {
    pub git_dir: PathBuf,
    pub common: PathBuf,
}

impl GitDirs {
    /// The git directories of the work tree `work_tree`, when laid out as
    /// files htrac reads (see the module doc).
    pub fn of(work_tree: &Path) -> Option<GitDirs> {
        let dot = work_tree.join(".git");
        let meta = std::fs::metadata(&dot).ok()?;
        let git_dir = if meta.is_dir() {
            dot
        } else {
            let text = std::fs::read_to_string(&dot).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            let target = Path::new(target);
            if target.is_absolute() {
                target.to_path_buf()
            } else {
                work_tree.join(target)
            }
        };
        if !git_dir.is_dir() {
            return None;
        }
        let common = match std::fs::read_to_string(git_dir.join("commondir")) {
            Ok(c) => {
                let c = Path::new(c.trim());
                if c.is_absolute() {
                    c.to_path_buf()
                } else {
                    git_dir.join(c)
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => git_dir.clone(),
            Err(_) => return None,
        };
        if !common.is_dir() || common.join("reftable").exists() || git_dir.join("reftable").exists()
        {
            return None;
        }
        Some(GitDirs { git_dir, common })
    }
}

/// How deep symbolic refs may chain (git's own limit is 5).
const MAX_SYMREF_DEPTH: usize = 5;

impl RefTable {
    /// Reads the refs of the repository whose work tree is `work_tree`, or
    /// `None` when its layout is not one htrac reads ([`GitDirs::of`]) or
    /// cannot be read.
    pub fn read(work_tree: &Path) -> Option<RefTable> {
        RefTable::read_dirs(&GitDirs::of(work_tree)?)
    }

    /// [`RefTable::read`] of the repository in `dirs`.
    pub fn read_dirs(dirs: &GitDirs) -> Option<RefTable> {
        let git_dir = &dirs.common;
        let mut t = RefTable::default();
        if let Ok(packed) = std::fs::read_to_string(git_dir.join("packed-refs")) {
            for line in packed.lines() {
                if line.starts_with('#') || line.starts_with('^') {
                    continue;
                }
                if let Some((id, name)) = line.split_once(' ') {
                    t.ids.insert(name.to_string(), id.to_string());
                }
            }
        }
        // Loose refs win over packed ones.
        t.walk(&git_dir.join("refs"), "refs/");
        // A linked worktree's own refs (`refs/bisect/`, `refs/worktree/`, …).
        if dirs.git_dir != dirs.common {
            t.walk(&dirs.git_dir.join("refs"), "refs/");
        }
        let head = std::fs::read_to_string(dirs.git_dir.join("HEAD")).ok()?;
        t.add("HEAD", head.trim());
        Some(t)
    }

    fn walk(&mut self, dir: &Path, prefix: &str) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            let p = e.path();
            if p.is_dir() {
                self.walk(&p, &format!("{name}/"));
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                self.add(&name, text.trim());
            }
        }
    }

    fn add(&mut self, name: &str, value: &str) {
        if let Some(target) = value.strip_prefix("ref: ") {
            self.symbolic
                .insert(name.to_string(), target.trim().to_string());
        } else if value.len() >= 40 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.ids.insert(name.to_string(), value.to_string());
        }
    }

    /// The id a full ref name (or `HEAD`) stands for, following symbolic refs.
    fn id_of(&self, name: &str) -> Option<&str> {
        let mut name = name;
        for _ in 0..=MAX_SYMREF_DEPTH {
            if let Some(id) = self.ids.get(name) {
                return Some(id);
            }
            name = self.symbolic.get(name)?;
        }
        None
    }

    /// The id that revision `rev` names, for a ref name as gitrevisions(7)
    /// resolves it: `HEAD`, a full ref, or a short name tried as `refs/X`,
    /// `refs/tags/X`, `refs/heads/X`, `refs/remotes/X`, `refs/remotes/X/HEAD`.
    /// `None` for anything else (an expression, an unknown name).
    pub fn resolve(&self, rev: &str) -> Option<&str> {
        if rev == "HEAD" || rev.starts_with("refs/") {
            return self.id_of(rev);
        }
        [
            format!("refs/{rev}"),
            format!("refs/tags/{rev}"),
            format!("refs/heads/{rev}"),
            format!("refs/remotes/{rev}"),
            format!("refs/remotes/{rev}/HEAD"),
        ]
        .iter()
        .find_map(|full| self.id_of(full))
    }

    /// Every ref whose full name starts with `prefix`, with the id it names
    /// (symbolic refs followed), sorted by name.
    pub fn ids_under(&self, prefix: &str) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .ids
            .keys()
            .chain(self.symbolic.keys())
            .filter(|n| n.starts_with(prefix))
            .filter_map(|n| Some((n.as_str(), self.id_of(n)?)))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether any ref's full name starts with `prefix` (`refs/replace/`).
    pub fn has_refs_under(&self, prefix: &str) -> bool {
        self.ids
            .keys()
            .chain(self.symbolic.keys())
            .any(|n| n.starts_with(prefix))
    }

    /// Every local branch as a full ref name (`refs/heads/...`), sorted.
    pub fn local_branches(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .ids
            .keys()
            .chain(self.symbolic.keys())
            .filter(|n| n.starts_with("refs/heads/"))
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let g = d.path().join(".git");
        std::fs::create_dir_all(g.join("refs/heads/feat")).unwrap();
        std::fs::create_dir_all(g.join("refs/remotes/origin")).unwrap();
        std::fs::write(g.join("HEAD"), "ref: refs/heads/dev\n").unwrap();
        std::fs::write(g.join("refs/heads/dev"), format!("{A}\n")).unwrap();
        std::fs::write(g.join("refs/heads/feat/x"), format!("{B}\n")).unwrap();
        std::fs::write(
            g.join("refs/remotes/origin/HEAD"),
            "ref: refs/remotes/origin/main\n",
        )
        .unwrap();
        // A packed ref, one shadowed by a loose ref, and a peeled tag line.
        std::fs::write(
            g.join("packed-refs"),
            format!(
                "# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/dev\n{A} refs/heads/main\n{B} refs/remotes/origin/main\n{A} refs/tags/v1\n^{B}\n"
            ),
        )
        .unwrap();
        d
    }

    #[test]
    fn resolves_like_git() {
        let d = repo();
        let t = RefTable::read(d.path()).unwrap();
        assert_eq!(t.resolve("HEAD"), Some(A), "loose dev wins over packed");
        assert_eq!(t.resolve("dev"), Some(A));
        assert_eq!(t.resolve("refs/heads/dev"), Some(A));
        assert_eq!(t.resolve("main"), Some(A));
        assert_eq!(t.resolve("feat/x"), Some(B));
        assert_eq!(t.resolve("origin/main"), Some(B));
        assert_eq!(t.resolve("origin"), Some(B), "refs/remotes/X/HEAD");
        assert_eq!(t.resolve("v1"), Some(A));
        assert_eq!(t.resolve("nope"), None);
        assert_eq!(t.resolve("HEAD~1"), None);
        assert_eq!(
            t.local_branches(),
            ["refs/heads/dev", "refs/heads/feat/x", "refs/heads/main"]
        );
    }

    #[test]
    fn other_layouts_are_left_to_git() {
        let d = repo();
        std::fs::create_dir(d.path().join(".git/reftable")).unwrap();
        assert!(RefTable::read(d.path()).is_none());
        let w = tempfile::tempdir().unwrap();
        std::fs::write(w.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert!(RefTable::read(w.path()).is_none());
        std::fs::write(w.path().join(".git"), "not a gitfile\n").unwrap();
        assert!(RefTable::read(w.path()).is_none());
    }

    #[test]
    fn a_linked_worktree_reads_its_head_and_the_common_branches() {
        let d = repo();
        let wt_git = d.path().join(".git/worktrees/wt");
        std::fs::create_dir_all(wt_git.join("refs/bisect")).unwrap();
        std::fs::write(wt_git.join("commondir"), "../..\n").unwrap();
        std::fs::write(wt_git.join("HEAD"), "ref: refs/heads/feat/x\n").unwrap();
        std::fs::write(wt_git.join("refs/bisect/bad"), format!("{A}\n")).unwrap();
        let w = tempfile::tempdir().unwrap();
        std::fs::write(
            w.path().join(".git"),
            format!("gitdir: {}\n", wt_git.display()),
        )
        .unwrap();
        let dirs = GitDirs::of(w.path()).unwrap();
        assert_eq!(dirs.git_dir, wt_git);
        assert_eq!(dirs.common, wt_git.join("../.."));
        let t = RefTable::read(w.path()).unwrap();
        assert_eq!(t.resolve("HEAD"), Some(B), "this worktree's HEAD");
        assert_eq!(t.resolve("dev"), Some(A));
        assert_eq!(t.resolve("refs/bisect/bad"), Some(A));
        assert_eq!(
            t.local_branches(),
            ["refs/heads/dev", "refs/heads/feat/x", "refs/heads/main"]
        );
        // A submodule's gitfile: a git directory without commondir.
        let s = tempfile::tempdir().unwrap();
        std::fs::write(
            s.path().join(".git"),
            format!("gitdir: {}\n", d.path().join(".git").display()),
        )
        .unwrap();
        assert_eq!(RefTable::read(s.path()).unwrap().resolve("HEAD"), Some(A));
    }
}
