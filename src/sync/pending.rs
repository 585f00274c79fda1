//! Pending lines: how much tracker change this clone holds that the remote
//! base lacks — lines added in the two committed tiers against
//! `<remote>/<base>` (or `HEAD` when that is unknown), plus the lines of
//! untracked op files. Stealth never syncs, so it never counts. Two git
//! processes (`git diff --numstat`, `git ls-files`) when that is below the
//! threshold; above it, untracked files the base already has are looked
//! up (one `git cat-file`) so that only their missing op blocks count.

use super::gitrun::git;
use super::{union, Repo};

/// The pending line count (0 when git cannot answer). Exact up to
/// `at_least`: a count below it may skip the lookup of untracked files in
/// the base (an upper bound that is already below is good enough).
pub fn pending_lines(repo: &Repo, remote: &str, base: &str, at_least: u64) -> u64 {
    let tracking = format!("refs/remotes/{remote}/{base}");
    let (added, base_ref) = match diff_added(repo, &tracking) {
        Some(n) => (n, tracking.as_str()),
        None => (diff_added(repo, "HEAD").unwrap_or(0), "HEAD"),
    };
    let untracked = untracked_files(repo);
    let upper = added + untracked.iter().map(|(_, t)| lines(t)).sum::<u64>();
    if upper < at_least || untracked.is_empty() {
        return upper;
    }
    let specs: Vec<String> = untracked
        .iter()
        .map(|(p, _)| format!("{base_ref}:{p}"))
        .collect();
    let Ok(theirs) = crate::git::cat_files(&repo.work_tree, &specs) else {
        return upper;
    };
    let mut n = added;
    for ((_, local), theirs) in untracked.iter().zip(theirs) {
        n += match theirs {
            None => lines(local),
            Some(t) => {
                let t = String::from_utf8_lossy(&t);
                let (merged, _) = union::union(&t, local);
                lines(&merged[t.len()..])
            }
        };
    }
    n
}

/// The base pending lines are counted against: `<remote>/<base>` if known.
pub fn count_base(repo: &Repo, remote: &str, base: &str) -> String {
    let tracking = format!("refs/remotes/{remote}/{base}");
    let known = git(&repo.work_tree, &["rev-parse", "-q", "--verify", &tracking])
        .run()
        .map(|o| o.ok)
        .unwrap_or(false);
    if known {
        format!("{remote}/{base}")
    } else {
        "HEAD".into()
    }
}

fn lines(text: &str) -> u64 {
    let n = text.matches('\n').count() as u64;
    n + u64::from(!text.is_empty() && !text.ends_with('\n'))
}

fn diff_added(repo: &Repo, base: &str) -> Option<u64> {
    let out = git(
        &repo.work_tree,
        &[
            "diff",
            "--numstat",
            "--no-renames",
            "--no-textconv",
            "--no-ext-diff",
            base,
            "--",
        ],
    )
    .args(&repo.ops_dirs)
    .run()
    .ok()?;
    if !out.ok {
        return None;
    }
    Some(sum_added(&out.stdout))
}

/// Sums the first column of `--numstat` output (binary files show `-`).
pub fn sum_added(numstat: &str) -> u64 {
    numstat
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// Untracked op files (path relative to the work tree, text).
fn untracked_files(repo: &Repo) -> Vec<(String, String)> {
    let Ok(out) = git(
        &repo.work_tree,
        &["ls-files", "-z", "--others", "--exclude-standard", "--"],
    )
    .args(&repo.ops_dirs)
    .run() else {
        return Vec::new();
    };
    if !out.ok {
        return Vec::new();
    }
    out.stdout
        .split('\0')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let b = std::fs::read(repo.work_tree.join(p)).ok()?;
            Some((p.to_string(), String::from_utf8_lossy(&b).into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sum_added;

    #[test]
    fn sums_added_column_and_skips_binary() {
        assert_eq!(sum_added("3\t0\ta\n-\t-\tbin\n10\t2\tb\n"), 13);
        assert_eq!(sum_added(""), 0);
    }
}
