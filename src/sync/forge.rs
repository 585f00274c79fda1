//! Forge presets of `pr` mode (`sync.pr.forge`): the `gh`, `glab` and `tea`
//! commands that open, watch, merge and close a pull request, and how to read
//! each CLI's answers (the pull request's identifier, its CI state).
//!
//! What each CLI prints was taken from its documentation and source; facts
//! only inferred are marked so below.
//!
//! - **GitHub (`gh`).** `gh pr create` prints the pull request's URL
//!   (documented: "Upon success, the URL of the created pull request will be
//!   printed"). `gh pr checks` exits 0 when every check passed, 8 while some
//!   are pending, 1 when one failed (documented "Additional exit codes: 8:
//!   Checks pending"; 1 from its source), and fails with `no checks reported
//!   on the '<branch>' branch` before the first check registers (source):
//!   that counts as pending, as the reference waits for a first status before
//!   trusting CI. A cancelled check counts as passed for `gh` (its source) and
//!   so here. `gh pr merge` needs a strategy when not on a terminal:
//!   `--rebase`, the reference's first choice on GitHub.
//! - **GitLab (`glab`).** `glab mr create` prints the merge request's URL on
//!   stdout when not on a terminal (source: `DisplayMR`), its
//!   `Creating merge request for …` line goes to stderr; other glab commands
//!   take the MR's number, so the number is read from the URL
//!   (`…/-/merge_requests/<n>`). The pipeline is read from
//!   `glab mr view <n> --output json` (documented `-F, --output text|json`;
//!   the JSON is GitLab's merge-request object, source), field
//!   `head_pipeline.status` (else `pipeline.status`): `success` passes;
//!   `created`, `waiting_for_resource`, `preparing`, `pending`, `running`,
//!   `scheduled` and no pipeline yet are pending; anything else (`failed`,
//!   `canceled`, `skipped`, `manual`) fails, naming the status. `glab mr
//!   merge --yes` merges at once once the pipeline is done (documented:
//!   auto-merge only applies while a pipeline runs).
//! - **Gitea (`tea`).** `tea pulls create` prints the pull request rendered
//!   as markdown, `# #<n> <title> (open)` first (source: `PullDetails`), so
//!   its number is the first `#<digits>`. tea has no command for a pull
//!   request's checks; the preset asks Gitea's combined commit status through
//!   `tea api /repos/{owner}/{repo}/commits/<sha>/status` — *inferred* from
//!   third-party documentation of tea's `api` command (recent tea; `{owner}`
//!   and `{repo}` are filled by tea), not confirmed in tea's own docs. The
//!   answer is read as the reference reads that endpoint: no status yet is
//!   pending, `success` passes, `failure`/`error` fail, anything else is
//!   pending. Where `tea api` is missing, set `sync.pr.status` yourself (or
//!   rely on the base branch's protection: Gitea refuses the merge until the
//!   required checks pass).
//!
//! A command the user sets (`sync.pr.open`, …) replaces the preset's and is
//! read the generic way: its last non-empty stdout line identifies the pull
//! request, and a status command answers by exit code (0 passed, 8 pending,
//! anything else failed), as `gh pr checks`.

use serde_json::Value;

/// A forge whose CLI a preset drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    Github,
    Gitlab,
    Gitea,
}

/// The four command templates of a preset (placeholders as in `sync.pr.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub open: &'static str,
    pub status: &'static str,
    pub merge: &'static str,
    pub close: &'static str,
}

/// What a status command said about the pull request's CI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checks {
    Passed,
    /// Not finished (or not started); why, for the timeout message.
    Pending(String),
    /// Failed, with the reason.
    Failed(String),
}

impl Forge {
    /// The values `sync.pr.forge` accepts.
    pub const NAMES: &'static [&'static str] = &["github", "gitlab", "gitea"];

    pub fn parse(name: &str) -> Option<Forge> {
        match name {
            "github" => Some(Forge::Github),
            "gitlab" => Some(Forge::Gitlab),
            "gitea" => Some(Forge::Gitea),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Forge::Github => "github",
            Forge::Gitlab => "gitlab",
            Forge::Gitea => "gitea",
        }
    }

    /// The CLI the preset runs.
    pub fn cli(self) -> &'static str {
        match self {
            Forge::Github => "gh",
            Forge::Gitlab => "glab",
            Forge::Gitea => "tea",
        }
    }

    pub fn preset(self) -> Preset {
        match self {
            Forge::Github => Preset {
                open: "gh pr create --base {base} --head {branch} --title {title} --body-file {body_file}",
                status: "gh pr checks {pr}",
                merge: "gh pr merge {pr} --rebase",
                close: "gh pr close {pr}",
            },
            Forge::Gitlab => Preset {
                open: "glab mr create --source-branch {branch} --target-branch {base} --title {title} --description \"$(cat {body_file})\" --yes",
                status: "glab mr view {pr} --output json",
                merge: "glab mr merge {pr} --yes --remove-source-branch",
                close: "glab mr close {pr}",
            },
            Forge::Gitea => Preset {
                open: "tea pulls create --head {branch} --base {base} --title {title} --description \"$(cat {body_file})\"",
                status: "tea api /repos/{owner}/{repo}/commits/{commit}/status",
                merge: "tea pulls merge {pr} --style rebase",
                close: "tea pulls close {pr}",
            },
        }
    }

    /// The pull request's identifier (`{pr}`) in what the preset's open
    /// command printed on stdout.
    pub fn pr_id(self, stdout: &str) -> Option<String> {
        match self {
            Forge::Github => last_line(stdout),
            Forge::Gitlab => stdout.lines().rev().find_map(|l| {
                let (_, rest) = l.trim().split_once("/merge_requests/")?;
                let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
                (!n.is_empty()).then_some(n)
            }),
            Forge::Gitea => stdout.split('#').skip(1).find_map(|rest| {
                let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
                (!n.is_empty()).then_some(n)
            }),
        }
    }

    /// Reads what the preset's status command answered.
    pub fn checks(self, code: Option<i32>, stdout: &str, stderr: &str) -> Checks {
        match self {
            Forge::Github => match code {
                Some(1) if stderr.contains("no checks reported") => {
                    Checks::Pending("no checks reported yet".into())
                }
                _ => by_exit_code(code, stdout, stderr),
            },
            // A CLI error (network, a 5xx) is retried until the timeout, as
            // the reference retries a failed API call.
            _ if code != Some(0) => Checks::Pending(format!(
                "{} failed: {}",
                self.cli(),
                tail(stdout, stderr, code)
            )),
            Forge::Gitlab => gitlab_pipeline(stdout),
            Forge::Gitea => gitea_status(stdout),
        }
    }
}

/// The last non-empty line, trimmed.
pub fn last_line(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// The last non-empty line of stderr, else of stdout, else the exit code.
pub fn tail(stdout: &str, stderr: &str, code: Option<i32>) -> String {
    last_line(stderr)
        .or_else(|| last_line(stdout))
        .unwrap_or_else(|| match code {
            Some(c) => format!("exit {c}"),
            None => "killed by a signal".into(),
        })
}

/// The generic reading of a status command: 0 passed, 8 pending (as
/// `gh pr checks`), anything else failed.
pub fn by_exit_code(code: Option<i32>, stdout: &str, stderr: &str) -> Checks {
    match code {
        Some(0) => Checks::Passed,
        Some(8) => Checks::Pending("checks pending".into()),
        _ => Checks::Failed(tail(stdout, stderr, code)),
    }
}

fn gitlab_pipeline(stdout: &str) -> Checks {
    let Ok(mr) = serde_json::from_str::<Value>(stdout.trim()) else {
        return Checks::Pending("cannot read glab's JSON answer".into());
    };
    let status = ["head_pipeline", "pipeline"]
        .iter()
        .find_map(|k| mr.get(k)?.get("status")?.as_str());
    match status {
        None => Checks::Pending("no pipeline yet".into()),
        Some("success") => Checks::Passed,
        Some(
            s @ ("created"
            | "waiting_for_resource"
            | "preparing"
            | "pending"
            | "running"
            | "scheduled"),
        ) => Checks::Pending(format!("pipeline {s}")),
        Some(s) => Checks::Failed(format!("pipeline {s}")),
    }
}

fn gitea_status(stdout: &str) -> Checks {
    let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) else {
        return Checks::Pending("cannot read the commit status answer".into());
    };
    let statuses = v
        .get("statuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if statuses.is_empty() {
        return Checks::Pending("no status reported yet".into());
    }
    match v.get("state").and_then(Value::as_str).unwrap_or("pending") {
        "success" => Checks::Passed,
        s @ ("failure" | "error") => {
            let bad: Vec<&str> = statuses
                .iter()
                .filter(|st| {
                    let s = st
                        .get("status")
                        .or_else(|| st.get("state"))
                        .and_then(Value::as_str);
                    !matches!(s, Some("success"))
                })
                .filter_map(|st| st.get("context").and_then(Value::as_str))
                .collect();
            Checks::Failed(if bad.is_empty() {
                format!("commit status {s}")
            } else {
                format!("commit status {s}: {}", bad.join(", "))
            })
        }
        s => Checks::Pending(format!("commit status {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_each_cli() {
        assert_eq!(
            Forge::Github
                .pr_id("https://github.com/o/r/pull/7\n")
                .as_deref(),
            Some("https://github.com/o/r/pull/7")
        );
        assert_eq!(
            Forge::Gitlab
                .pr_id("https://gitlab.com/g/p/-/merge_requests/42\n")
                .as_deref(),
            Some("42")
        );
        assert_eq!(Forge::Gitlab.pr_id("Creating merge request\n"), None);
        let tea = "  # #12 tracker: 1 file (open)\n  @amy created 2026-01-01\t**dev** <- **tracker-sync/1**\n\n  body #99\n\n  ---\n  - No Conflicts\n";
        assert_eq!(Forge::Gitea.pr_id(tea).as_deref(), Some("12"));
    }

    #[test]
    fn github_checks_by_exit_code() {
        assert_eq!(Forge::Github.checks(Some(0), "", ""), Checks::Passed);
        assert!(matches!(
            Forge::Github.checks(Some(8), "", ""),
            Checks::Pending(_)
        ));
        assert!(matches!(
            Forge::Github.checks(Some(1), "", "no checks reported on the 'x' branch"),
            Checks::Pending(_)
        ));
        assert_eq!(
            Forge::Github.checks(Some(1), "build\tfail\t1m\thttps://x\n", ""),
            Checks::Failed("build\tfail\t1m\thttps://x".into())
        );
    }

    #[test]
    fn gitlab_pipeline_states() {
        let c = |j: &str| Forge::Gitlab.checks(Some(0), j, "");
        assert!(matches!(
            c(r#"{"iid":1,"head_pipeline":null}"#),
            Checks::Pending(_)
        ));
        assert!(matches!(
            c(r#"{"head_pipeline":{"status":"running"}}"#),
            Checks::Pending(_)
        ));
        assert_eq!(
            c(r#"{"head_pipeline":{"status":"success"}}"#),
            Checks::Passed
        );
        assert_eq!(
            c(r#"{"head_pipeline":{"status":"failed"}}"#),
            Checks::Failed("pipeline failed".into())
        );
        assert!(matches!(
            Forge::Gitlab.checks(Some(1), "", "401 Unauthorized"),
            Checks::Pending(_)
        ));
    }

    #[test]
    fn gitea_combined_status() {
        let c = |j: &str| Forge::Gitea.checks(Some(0), j, "");
        assert!(matches!(
            c(r#"{"state":"pending","statuses":[],"total_count":0}"#),
            Checks::Pending(_)
        ));
        assert!(matches!(
            c(r#"{"state":"pending","statuses":[{"status":"pending","context":"ci"}]}"#),
            Checks::Pending(_)
        ));
        assert_eq!(
            c(r#"{"state":"success","statuses":[{"status":"success","context":"ci"}]}"#),
            Checks::Passed
        );
        assert_eq!(
            c(
                r#"{"state":"failure","statuses":[{"status":"success","context":"lint"},{"status":"failure","context":"ci/test"}]}"#
            ),
            Checks::Failed("commit status failure: ci/test".into())
        );
    }
}
