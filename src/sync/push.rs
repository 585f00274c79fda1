//! Talking to the remote: fetching the base branch into its
//! remote-tracking ref, and pushing a commit to a branch as a
//! compare-and-swap (`--force-with-lease` with the expected old value), read
//! back through `--porcelain` so a rejection because the remote moved can be
//! told apart from a refusal (hook, permissions) or an unreachable remote.

use std::time::Duration;

use super::gitrun::git;
use super::Repo;
use crate::error::{Error, Result};

/// How a push ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PushOutcome {
    Pushed,
    /// The remote branch moved since we read it: fetch, rebuild, retry.
    Moved(String),
    /// Refused or unreachable: retrying the same way will not help.
    Failed(String),
}

/// Fetches `<base>` from the remote into `refs/remotes/<remote>/<base>` and
/// returns the remote tip.
pub fn fetch_base(repo: &Repo, remote: &str, base: &str) -> Result<String> {
    let tracking = format!("refs/remotes/{remote}/{base}");
    let refspec = format!("+refs/heads/{base}:{tracking}");
    let out = git(
        &repo.work_tree,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            remote,
            &refspec,
        ],
    )
    .run()?;
    if !out.ok {
        let msg = out.message();
        if msg.contains("couldn't find remote ref") {
            return Err(Error::user(format!(
                "the remote '{remote}' has no branch '{base}'"
            ))
            .with_hint(format!(
                "push the branch first (git push {remote} HEAD:{base}), or set sync.base_branch in .agent/tracker/config.yaml"
            )));
        }
        return Err(Error::user(format!("cannot fetch from '{remote}': {msg}")).with_hint(
            "check the remote (git remote -v) and your network; the ops stay in the working tree and the next sync sends them",
        ));
    }
    git(
        &repo.work_tree,
        &["rev-parse", "--verify", &format!("{tracking}^{{commit}}")],
    )
    .ok("cannot read the fetched base")
}

/// Pushes `sha` to `refs/heads/<branch>` on the remote, only if the remote
/// branch is still `expected` (`None`: only if it does not exist).
pub fn push_cas(
    repo: &Repo,
    remote: &str,
    sha: &str,
    branch: &str,
    expected: Option<&str>,
) -> Result<PushOutcome> {
    let dst = format!("refs/heads/{branch}");
    let spec = format!("{sha}:{dst}");
    let lease = format!("--force-with-lease={dst}:{}", expected.unwrap_or(""));
    let out = git(
        &repo.work_tree,
        &[
            "push",
            "--porcelain",
            "--no-progress",
            &lease,
            remote,
            &spec,
        ],
    )
    .run()?;
    Ok(read_porcelain(&out.stdout, &out.stderr, out.ok, &dst))
}

/// Deletes remote branches (best effort is up to the caller).
pub fn push_delete(repo: &Repo, remote: &str, branches: &[String]) -> Result<()> {
    if branches.is_empty() {
        return Ok(());
    }
    let specs: Vec<String> = branches
        .iter()
        .map(|b| format!(":refs/heads/{b}"))
        .collect();
    git(&repo.work_tree, &["push", "--quiet", remote])
        .args(&specs)
        .ok(&format!("cannot delete branches on '{remote}'"))
        .map(|_| ())
}

/// Reads `git push --porcelain` output for the line of `dst`.
pub fn read_porcelain(stdout: &str, stderr: &str, ok: bool, dst: &str) -> PushOutcome {
    for line in stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(flag), Some(refs), summary) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if !refs.ends_with(&format!(":{dst}")) {
            continue;
        }
        let summary = summary.unwrap_or("").trim();
        return match flag {
            " " | "+" | "*" | "=" if ok => PushOutcome::Pushed,
            // The remote ref moved between the advertisement and the update.
            "!" if summary.contains("failed to update ref")
                || summary.contains("cannot lock ref")
                || summary.contains("failed to lock") =>
            {
                PushOutcome::Moved(summary.to_string())
            }
            "!" if summary.contains("[remote rejected]")
                || summary.contains("[remote failure]") =>
            {
                PushOutcome::Failed(format!("the remote refused the push: {summary}"))
            }
            "!" if summary.contains("stale info")
                || summary.contains("fetch first")
                || summary.contains("non-fast-forward")
                || summary.contains("already exists") =>
            {
                PushOutcome::Moved(summary.to_string())
            }
            "!" => PushOutcome::Failed(format!("push rejected: {summary}")),
            _ if ok => PushOutcome::Pushed,
            _ => PushOutcome::Failed(first_error(stderr)),
        };
    }
    if ok {
        PushOutcome::Pushed
    } else {
        PushOutcome::Failed(first_error(stderr))
    }
}

fn first_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or(lines.first())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "git push failed".into())
}

/// The pause before attempt `attempt` (1-based retry number): `base_ms`
/// doubled each time, plus up to 50% jitter so racing clones spread out.
pub fn backoff(base_ms: u64, attempt: u32) -> Duration {
    let ms = base_ms.saturating_mul(1u64 << attempt.min(10).saturating_sub(1));
    let mut b = [0u8; 2];
    let jitter = if base_ms > 0
        && rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty()).is_ok()
    {
        u64::from(u16::from_le_bytes(b)) % (ms / 2 + 1)
    } else {
        0
    };
    Duration::from_millis(ms + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DST: &str = "refs/heads/dev";

    #[test]
    fn porcelain_outcomes() {
        let ok = "To /r\n \tabc:refs/heads/dev\t1111..2222\nDone\n";
        assert_eq!(read_porcelain(ok, "", true, DST), PushOutcome::Pushed);
        let stale = "To /r\n!\tabc:refs/heads/dev\t[rejected] (stale info)\nDone\n";
        assert!(matches!(
            read_porcelain(stale, "", false, DST),
            PushOutcome::Moved(_)
        ));
        let hook =
            "To /r\n!\tabc:refs/heads/dev\t[remote rejected] (pre-receive hook declined)\nDone\n";
        match read_porcelain(hook, "", false, DST) {
            PushOutcome::Failed(m) => assert!(m.contains("hook declined"), "{m}"),
            other => panic!("{other:?}"),
        }
        let raced = "!\tabc:refs/heads/dev\t[remote rejected] (failed to update ref)\n";
        assert!(matches!(
            read_porcelain(raced, "", false, DST),
            PushOutcome::Moved(_)
        ));
        let gone = "fatal: '/nope' does not appear to be a git repository\nfatal: Could not read from remote repository.\n";
        match read_porcelain("", gone, false, DST) {
            PushOutcome::Failed(m) => assert!(m.contains("does not appear"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backoff_grows_and_is_bounded_by_jitter() {
        assert_eq!(backoff(0, 3), Duration::ZERO);
        let b1 = backoff(100, 1).as_millis();
        let b3 = backoff(100, 3).as_millis();
        assert!((100..=150).contains(&b1), "{b1}");
        assert!((400..=600).contains(&b3), "{b3}");
    }
}
