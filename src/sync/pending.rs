//! Pending lines: how much tracker change this clone holds that the remote
//! base lacks — lines added in the two committed tiers against
//! `<remote>/<base>` (or `HEAD` when that is unknown), plus the lines of
//! untracked op files. Stealth never syncs, so it never counts. Two git
//! processes: one `git diff --numstat`, one `git ls-files`.

use super::gitrun::git;
use super::Repo;

/// The pending line count (0 when git cannot answer).
pub fn pending_lines(repo: &Repo, remote: &str, base: &str) -> u64 {
    let tracking = format!("refs/remotes/{remote}/{base}");
    let added = diff_added(repo, &tracking).or_else(|| diff_added(repo, "HEAD"));
    added.unwrap_or(0) + untracked_lines(repo)
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

fn untracked_lines(repo: &Repo) -> u64 {
    let Ok(out) = git(
        &repo.work_tree,
        &["ls-files", "-z", "--others", "--exclude-standard", "--"],
    )
    .args(&repo.ops_dirs)
    .run() else {
        return 0;
    };
    if !out.ok {
        return 0;
    }
    out.stdout
        .split('\0')
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::fs::read(repo.work_tree.join(p)).ok())
        .map(|b| {
            let n = b.iter().filter(|&&c| c == b'\n').count() as u64;
            // A last line without a newline still counts, as `wc -l` would not.
            n + u64::from(!b.is_empty() && !b.ends_with(b"\n"))
        })
        .sum()
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
