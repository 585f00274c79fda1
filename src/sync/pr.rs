//! `pr` mode and `--prune`.
//!
//! The sync commit is pushed to `tracker-sync/<YYYYmmdd-HHMMSS>` and merged
//! through a pull request by the configured commands (`sync.pr.open`,
//! `status`, `merge`, `close`), or a forge preset's (`sync.pr.forge`: the
//! `gh`, `glab` or `tea` CLI, see [`super::forge`]), run with `sh -c` with
//! placeholders replaced by shell-quoted values. No forge HTTP here. A
//! failing step leaves every local op where it was; the local
//! `tracker-sync/*` branch is kept until its ops are in the base.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::commit::Plan;
use super::config::{Step, StepCommand, SyncConfig};
use super::forge::{self, Checks};
use super::gitrun::git;
use super::push::{push_cas, PushOutcome};
use super::{union, Repo};
use crate::error::{Error, Result};

/// `tracker-sync/<YYYYmmdd-HHMMSS>` (UTC) for the time `secs`.
pub fn branch_name(secs: i64) -> String {
    let t = crate::timestamp::format_utc(secs); // YYYY-MM-DDTHH:MM:SSZ
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    format!("tracker-sync/{}-{}", &digits[..8], &digits[8..14])
}

/// `value` quoted for `sh`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Replaces `{name}` placeholders with shell-quoted values; other braces stay.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let hit = after.find('}').and_then(|end| {
            let name = &after[..end];
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (end, shell_quote(v)))
        });
        match hit {
            Some((end, quoted)) => {
                out.push_str(&quoted);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What one configured command did.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn tail(&self) -> String {
        forge::tail(&self.stdout, &self.stderr, self.code)
    }
}

fn run_step(repo: &Repo, step: Step, cmd: &StepCommand, vars: &[(&str, &str)]) -> Result<Ran> {
    let step = step.as_str();
    let cmd = render(&cmd.template, vars);
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(&repo.work_tree)
        .env("HTRAC_SYNC_STEP", step)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::user(format!("sync.pr.{step}: cannot run sh: {e}")))?;
    Ok(Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The outcome of a `pr`-mode sync.
#[derive(Debug, Clone)]
pub struct PrResult {
    pub branch: String,
    pub pr: String,
    /// Does the base now hold every op of the sync commit?
    pub in_base: bool,
    /// The base's tip after the merge.
    pub tip: String,
    /// The commit merged (rebuilt when the base moved before the merge).
    pub commit: String,
}

/// Pushes `sha` to a new `tracker-sync/*` branch and merges it by pull request.
pub fn run(
    repo: &Repo,
    cfg: &SyncConfig,
    git_dir: &std::path::Path,
    plan: &Plan,
    sha: &str,
) -> Result<PrResult> {
    cfg.check_pr()?;
    let wt = &repo.work_tree;
    let mut branch = branch_name(super::breaker::now());
    let mut pushed = false;
    for attempt in 0..3 {
        if attempt > 0 {
            branch = format!("{}-{}", branch_name(super::breaker::now()), attempt + 1);
        }
        match push_cas(repo, &cfg.remote, sha, &branch, None)? {
            PushOutcome::Pushed => {
                pushed = true;
                break;
            }
            PushOutcome::Moved(_) => continue, // the name is taken: pick another
            PushOutcome::Failed(m) => {
                return Err(Error::user(format!("cannot push {branch}: {m}")).with_hint(
                    "check the remote and your permissions; the ops stay in the working tree",
                ))
            }
        }
    }
    if !pushed {
        return Err(Error::user("cannot find a free tracker-sync/* branch name"));
    }
    // Keep a local handle on the commit until its ops are in the base.
    let _ = git(wt, &["update-ref", &format!("refs/heads/{branch}"), sha]).run();

    let body_file = git_dir.join(format!("htrac-sync-body-{}.md", std::process::id()));
    std::fs::write(&body_file, plan.body())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", body_file.display())))?;
    let body_path = body_file.to_string_lossy().into_owned();
    let title = plan.title();
    let rebuilt: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let result = (|| {
        let mut vars: Vec<(&str, &str)> = vec![
            ("branch", &branch),
            ("base", &cfg.base_branch),
            ("remote", &cfg.remote),
            ("title", &title),
            ("body_file", &body_path),
            ("commit", sha),
        ];
        let open = cfg
            .pr
            .command(Step::Open)
            .ok_or_else(|| missing(Step::Open))?;
        let ran = run_step(repo, Step::Open, &open, &vars)?;
        if ran.code != Some(0) {
            return Err(Error::user(format!("sync.pr.open failed: {}", ran.tail())));
        }
        let pr = match open.preset {
            Some(f) => f.pr_id(&ran.stdout),
            None => forge::last_line(&ran.stdout),
        }
        .ok_or_else(|| {
            Error::user("sync.pr.open printed no pull request identifier").with_hint(
                "the open command must print the pull request's number or URL as its last line",
            )
        })?;
        vars.push(("pr", &pr));
        let failed = |e: Error| -> Error {
            if let Some(close) = cfg.pr.command(Step::Close) {
                let _ = run_step(repo, Step::Close, &close, &vars);
            }
            e
        };
        if let Some(status) = cfg.pr.command(Step::Status) {
            let started = Instant::now();
            loop {
                let ran = run_step(repo, Step::Status, &status, &vars)?;
                let checks = match status.preset {
                    Some(f) => f.checks(ran.code, &ran.stdout, &ran.stderr),
                    None => forge::by_exit_code(ran.code, &ran.stdout, &ran.stderr),
                };
                match checks {
                    Checks::Passed => break,
                    Checks::Pending(_)
                        if started.elapsed() < Duration::from_secs(cfg.pr.timeout_seconds) =>
                    {
                        std::thread::sleep(Duration::from_secs(cfg.pr.poll_seconds))
                    }
                    Checks::Pending(why) => {
                        return Err(failed(Error::user(format!(
                            "pull request {pr} still pending after {} s ({why})",
                            cfg.pr.timeout_seconds
                        ))))
                    }
                    Checks::Failed(why) => {
                        return Err(failed(Error::user(format!(
                            "pull request {pr} failed its checks: {why}"
                        ))))
                    }
                }
            }
        }
        // The forge's merge does not know `merge=union`: if the base moved,
        // rebuild the commit on it first so the merge is a fast-forward.
        let tip = super::push::fetch_base(repo, &cfg.remote, &cfg.base_branch)?;
        if Some(tip.as_str()) != plan.base.as_deref() && !contained(repo, &tip, sha)? {
            let fresh = super::commit::plan(repo, Some(&tip))?;
            if !fresh.is_empty() {
                let new_sha = super::commit::commit(repo, git_dir, &fresh)?;
                match push_cas(repo, &cfg.remote, &new_sha, &branch, Some(sha))? {
                    PushOutcome::Pushed => {
                        let _ = git(
                            wt,
                            &["update-ref", &format!("refs/heads/{branch}"), &new_sha],
                        )
                        .run();
                        *rebuilt.borrow_mut() = Some(new_sha);
                    }
                    PushOutcome::Moved(m) | PushOutcome::Failed(m) => {
                        return Err(failed(Error::user(format!(
                            "cannot update {branch} on the moved base: {m}"
                        ))))
                    }
                }
            }
        }
        let merge = cfg
            .pr
            .command(Step::Merge)
            .ok_or_else(|| missing(Step::Merge))?;
        let ran = run_step(repo, Step::Merge, &merge, &vars)?;
        if ran.code != Some(0) {
            return Err(failed(Error::user(format!(
                "cannot merge pull request {pr}: {}",
                ran.tail()
            ))));
        }
        Ok(pr.clone())
    })();
    let _ = std::fs::remove_file(&body_file);
    let pr = result.map_err(|e| {
        e.with_hint(format!(
            "the ops stay in the working tree (and on branch {branch}); the next sync retries; 'htrac sync --prune' cleans up merged tracker-sync branches"
        ))
    })?;
    let sha = rebuilt.into_inner().unwrap_or_else(|| sha.to_string());
    let tip = super::push::fetch_base(repo, &cfg.remote, &cfg.base_branch)?;
    let in_base = contained(repo, &tip, &sha)?;
    if in_base {
        let _ = git(wt, &["update-ref", "-d", &format!("refs/heads/{branch}")]).run();
    }
    Ok(PrResult {
        branch,
        pr,
        in_base,
        tip,
        commit: sha,
    })
}

/// A step [`SyncConfig::check_pr`] should have required.
fn missing(step: Step) -> Error {
    Error::internal(format!("sync.pr.{} is not set", step.as_str()))
}

/// Does `base` hold every op (and every other tracker file) that `commit`
/// added since their merge base? `None`-like answers (outside the tracker)
/// count as no.
pub fn contained(repo: &Repo, base: &str, commit: &str) -> Result<bool> {
    let wt = &repo.work_tree;
    let mb = git(wt, &["merge-base", base, commit]).run()?;
    if !mb.ok {
        return Ok(false);
    }
    let mb = mb.stdout.trim().to_string();
    let changed = super::commit::changed_paths(repo, &mb, commit)?;
    if changed.values().any(|is_ops| !is_ops) {
        return Ok(false);
    }
    let mut specs = Vec::new();
    for p in changed.keys() {
        specs.push(format!("{commit}:{p}"));
        specs.push(format!("{base}:{p}"));
    }
    let blobs = crate::git::cat_files(wt, &specs)
        .map_err(|e| Error::internal(format!("cannot read op files: {e}")))?;
    for (i, p) in changed.keys().enumerate() {
        let (ours, theirs) = (&blobs[2 * i], &blobs[2 * i + 1]);
        let ok = match (ours, theirs) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(o), Some(t)) if p.ends_with(".ops") => {
                union::contains_all(&String::from_utf8_lossy(t), &String::from_utf8_lossy(o))
            }
            (Some(o), Some(t)) => o == t,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `--prune`: deletes local and remote `tracker-sync/*` branches whose ops
/// are all in the base already. Returns the branches deleted.
pub fn prune(repo: &Repo, cfg: &SyncConfig) -> Result<Vec<String>> {
    let wt = &repo.work_tree;
    let remote = &cfg.remote;
    let tip = super::push::fetch_base(repo, remote, &cfg.base_branch)?;
    let spec = format!("+refs/heads/tracker-sync/*:refs/remotes/{remote}/tracker-sync/*");
    git(
        wt,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--prune",
            "--no-write-fetch-head",
            remote,
            &spec,
        ],
    )
    .ok(&format!(
        "cannot fetch tracker-sync branches from '{remote}'"
    ))?;
    let list = |prefix: &str| -> Result<Vec<(String, String)>> {
        let out = git(
            wt,
            &["for-each-ref", "--format=%(refname) %(objectname)", prefix],
        )
        .ok("cannot list branches")?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(r, s)| (r.to_string(), s.to_string()))
            .collect())
    };
    let mut deleted = Vec::new();
    for (r, sha) in list("refs/heads/tracker-sync/")? {
        if contained(repo, &tip, &sha)? {
            git(wt, &["update-ref", "-d", &r, &sha]).ok("cannot delete a local branch")?;
            deleted.push(r.trim_start_matches("refs/heads/").to_string());
        }
    }
    let tracking = format!("refs/remotes/{remote}/");
    let mut remote_done = Vec::new();
    for (r, sha) in list(&format!("{tracking}tracker-sync/"))? {
        if contained(repo, &tip, &sha)? {
            remote_done.push((r.clone(), r.trim_start_matches(&tracking).to_string(), sha));
        }
    }
    let names: Vec<String> = remote_done.iter().map(|(_, n, _)| n.clone()).collect();
    super::push::push_delete(repo, remote, &names)?;
    for (r, name, sha) in remote_done {
        let _ = git(wt, &["update-ref", "-d", &r, &sha]).run();
        deleted.push(format!("{remote}/{name}"));
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_quoted_and_unknown_braces_kept() {
        let cmd = render(
            "gh pr create --title {title} --head {branch} --json {x} {pr",
            &[
                ("title", "tracker: 1 file — it's"),
                ("branch", "tracker-sync/1"),
            ],
        );
        assert_eq!(
            cmd,
            "gh pr create --title 'tracker: 1 file — it'\\''s' --head 'tracker-sync/1' --json {x} {pr"
        );
    }

    #[test]
    fn branch_names_carry_the_utc_time() {
        assert_eq!(branch_name(0), "tracker-sync/19700101-000000");
        assert_eq!(branch_name(1_700_000_000), "tracker-sync/20231114-221320");
    }
}
