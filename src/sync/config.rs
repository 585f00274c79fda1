//! The `sync:` section of the tracker configuration: where ops go (remote,
//! base branch), when (threshold), how (`direct` push or `pr` through
//! configured forge commands), and how hard to try. Every error names the
//! key at fault. `TRACKER_AUTO_SYNC_THRESHOLD` overrides the threshold.

use serde_json::{Map, Value};

use super::forge::Forge;
use crate::config::{Config, Source};
use crate::error::{Error, Result};

/// How ops reach the base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Push the sync commit to the base branch (compare-and-swap).
    Direct,
    /// Push a `tracker-sync/<timestamp>` branch and merge it through a pull
    /// request, using the configured commands.
    Pr,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Direct => "direct",
            Mode::Pr => "pr",
        }
    }
}

/// Command templates of `pr` mode (run with `sh -c`, placeholders quoted).
/// `forge` fills in the ones not set (see [`super::forge`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrCommands {
    /// `sync.pr.forge`: the preset whose commands fill in those not set.
    pub forge: Option<Forge>,
    /// Opens the pull request; its last stdout line identifies it (`{pr}`).
    pub open: Option<String>,
    /// Polled until it exits 0 (ready) — exit 8 means pending (as `gh pr
    /// checks`), anything else failed. Optional: no status, merge at once.
    pub status: Option<String>,
    /// Merges the pull request.
    pub merge: Option<String>,
    /// Closes a pull request that failed (optional, best effort).
    pub close: Option<String>,
    pub poll_seconds: u64,
    pub timeout_seconds: u64,
}

/// One step's command and how to read its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCommand {
    pub template: String,
    /// `Some`: the preset's command, read the preset's way; `None`: a
    /// configured command, read the generic way.
    pub preset: Option<Forge>,
}

/// The four steps of `pr` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Open,
    Status,
    Merge,
    Close,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Open => "open",
            Step::Status => "status",
            Step::Merge => "merge",
            Step::Close => "close",
        }
    }
}

impl PrCommands {
    /// The command for `step`: the configured one, else the preset's.
    pub fn command(&self, step: Step) -> Option<StepCommand> {
        let explicit = match step {
            Step::Open => &self.open,
            Step::Status => &self.status,
            Step::Merge => &self.merge,
            Step::Close => &self.close,
        };
        if let Some(t) = explicit {
            return Some(StepCommand {
                template: t.clone(),
                preset: None,
            });
        }
        let forge = self.forge?;
        let p = forge.preset();
        let template = match step {
            Step::Open => p.open,
            Step::Status => p.status,
            Step::Merge => p.merge,
            Step::Close => p.close,
        };
        Some(StepCommand {
            template: template.to_string(),
            preset: Some(forge),
        })
    }
}

/// Where the base branch came from: the configuration, the committed
/// template (when the clone's own config names none), the remote's default
/// branch (`REMOTE/HEAD`), the current branch's upstream, or the built-in
/// default (`dev`, as the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseFrom {
    Config,
    Template,
    RemoteHead,
    Upstream,
    Default,
}

impl BaseFrom {
    /// How a report names it (`syncing to origin/main (…)`).
    pub fn describe(self) -> &'static str {
        match self {
            BaseFrom::Config => "sync.base_branch",
            BaseFrom::Template => "sync.base_branch in config.yaml.template",
            BaseFrom::RemoteHead => "the remote's default branch",
            BaseFrom::Upstream => "the current branch's upstream",
            BaseFrom::Default => "the default; set sync.base_branch",
        }
    }
}

/// The sync settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    pub remote: String,
    pub base_branch: String,
    /// Where `base_branch` came from (see [`BaseFrom`]).
    pub base_from: BaseFrom,
    /// Pending lines that trigger an auto-sync; ≤ 0 disables auto-sync.
    pub threshold: i64,
    pub mode: Mode,
    /// Extra attempts after a rejected push (the remote moved).
    pub retries: u32,
    /// First backoff between attempts, doubled each time.
    pub backoff_ms: u64,
    /// After a failure, auto-sync waits this long before trying again.
    pub cooldown_seconds: u64,
    /// How long a manual `htrac sync` waits for another sync to finish.
    pub lock_wait_seconds: u64,
    pub pr: PrCommands,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            remote: "origin".into(),
            base_branch: "dev".into(),
            base_from: BaseFrom::Default,
            threshold: 80,
            mode: Mode::Direct,
            retries: 3,
            backoff_ms: 500,
            cooldown_seconds: 1800,
            lock_wait_seconds: 30,
            pr: PrCommands {
                poll_seconds: 10,
                timeout_seconds: 900,
                ..PrCommands::default()
            },
        }
    }
}

impl SyncConfig {
    /// Reads `sync:` from the tracker configuration, then the environment
    /// overrides (`TRACKER_AUTO_SYNC_THRESHOLD`; for tests
    /// `HTRAC_SYNC_BACKOFF_MS`).
    pub fn load(config: &Config) -> Result<SyncConfig> {
        let mut cfg = SyncConfig::from_raw(&config.raw).map_err(|e| {
            let file = match &config.source {
                Source::File(p) => format!("invalid config {}: ", p.display()),
                Source::Defaults => "invalid built-in config: ".into(),
            };
            Error::user(format!("{file}{}", e.message)).with_hint(e.hint.unwrap_or_default())
        })?;
        if let Ok(v) = std::env::var("TRACKER_AUTO_SYNC_THRESHOLD") {
            // As the reference: a value that is not a whole number is ignored.
            if let Ok(n) = v.trim().parse::<i64>() {
                cfg.threshold = n;
            }
        }
        if let Ok(v) = std::env::var("HTRAC_SYNC_BACKOFF_MS") {
            if let Ok(n) = v.trim().parse::<u64>() {
                cfg.backoff_ms = n;
            }
        }
        Ok(cfg)
    }

    /// Parses the `sync:` mapping of a configuration document.
    pub fn from_raw(raw: &Value) -> Result<SyncConfig> {
        let mut cfg = SyncConfig::default();
        let Some(section) = raw.get("sync") else {
            return Ok(cfg);
        };
        let map = match section {
            Value::Null => return Ok(cfg),
            Value::Object(m) => m,
            _ => return Err(bad("sync", "must be a mapping of keys to values")),
        };
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(bad(&format!("sync.{key}"), "unknown key")
                    .with_hint(format!("known keys: {}", KEYS.join(", "))));
            }
        }
        if let Some(v) = string(map, "remote")? {
            cfg.remote = v;
        }
        if let Some(v) = string(map, "base_branch")? {
            cfg.base_branch = v;
            cfg.base_from = BaseFrom::Config;
        }
        if let Some(n) = int(map, "threshold")? {
            cfg.threshold = n;
        }
        if let Some(m) = string(map, "mode")? {
            cfg.mode = match m.as_str() {
                "direct" => Mode::Direct,
                "pr" => Mode::Pr,
                _ => {
                    return Err(bad(
                        "sync.mode",
                        &format!("expected 'direct' or 'pr', found '{m}'"),
                    ))
                }
            };
        }
        if let Some(n) = unsigned(map, "retries")? {
            cfg.retries = n.min(100) as u32;
        }
        if let Some(n) = unsigned(map, "backoff_ms")? {
            cfg.backoff_ms = n;
        }
        if let Some(n) = unsigned(map, "cooldown_seconds")? {
            cfg.cooldown_seconds = n;
        }
        if let Some(n) = unsigned(map, "lock_wait_seconds")? {
            cfg.lock_wait_seconds = n;
        }
        match map.get("pr") {
            None | Some(Value::Null) => {}
            Some(Value::Object(pr)) => {
                for key in pr.keys() {
                    if !PR_KEYS.contains(&key.as_str()) {
                        return Err(bad(&format!("sync.pr.{key}"), "unknown key")
                            .with_hint(format!("known keys: {}", PR_KEYS.join(", "))));
                    }
                }
                let p = &mut cfg.pr;
                if let Some(f) = string_in(pr, "sync.pr.forge", "forge")? {
                    p.forge = Some(Forge::parse(&f).ok_or_else(|| {
                        bad(
                            "sync.pr.forge",
                            &format!("expected one of {}, found '{f}'", Forge::NAMES.join(", ")),
                        )
                    })?);
                }
                p.open = string_in(pr, "sync.pr.open", "open")?;
                p.status = string_in(pr, "sync.pr.status", "status")?;
                p.merge = string_in(pr, "sync.pr.merge", "merge")?;
                p.close = string_in(pr, "sync.pr.close", "close")?;
                if let Some(n) = unsigned_in(pr, "sync.pr.poll_seconds", "poll_seconds")? {
                    p.poll_seconds = n;
                }
                if let Some(n) = unsigned_in(pr, "sync.pr.timeout_seconds", "timeout_seconds")? {
                    p.timeout_seconds = n;
                }
            }
            Some(_) => return Err(bad("sync.pr", "must be a mapping of keys to values")),
        }
        if cfg.remote.trim().is_empty() || cfg.remote.starts_with('-') {
            return Err(bad("sync.remote", "must name a git remote"));
        }
        if !valid_branch(&cfg.base_branch) {
            return Err(bad(
                "sync.base_branch",
                &format!("'{}' is not a branch name", cfg.base_branch),
            ));
        }
        Ok(cfg)
    }

    /// Is `pr` mode configured well enough to run?
    pub fn check_pr(&self) -> Result<()> {
        for (key, step) in [("open", Step::Open), ("merge", Step::Merge)] {
            if self.pr.command(step).is_none() {
                return Err(
                    Error::user(format!("sync.mode is 'pr' but sync.pr.{key} is not set"))
                        .with_hint(
                            "set sync.pr.forge (github, gitlab or gitea), or sync.pr.open and \
                     sync.pr.merge, in .agent/tracker/config.yaml (see the commented example in \
                     config.yaml.template), or use sync.mode: direct",
                        ),
                );
            }
        }
        Ok(())
    }
}

const KEYS: &[&str] = &[
    "remote",
    "base_branch",
    "threshold",
    "mode",
    "retries",
    "backoff_ms",
    "cooldown_seconds",
    "lock_wait_seconds",
    "pr",
];

const PR_KEYS: &[&str] = &[
    "forge",
    "open",
    "status",
    "merge",
    "close",
    "poll_seconds",
    "timeout_seconds",
];

fn bad(key: &str, message: &str) -> Error {
    Error::user(format!("{key}: {message}"))
}

fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && !b.starts_with('-')
        && !b.starts_with('/')
        && !b.ends_with('/')
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && !b
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    string_in(map, &format!("sync.{key}"), key)
}

fn string_in(map: &Map<String, Value>, full: &str, key: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(bad(full, "must not be empty")),
        Some(other) => Err(bad(full, &format!("must be a string, found {other}"))),
    }
}

fn int(map: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(other) => Err(bad(
            &format!("sync.{key}"),
            &format!("must be a whole number, found {other}"),
        )),
    }
}

fn unsigned(map: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    unsigned_in(map, &format!("sync.{key}"), key)
}

fn unsigned_in(map: &Map<String, Value>, full: &str, key: &str) -> Result<Option<u64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
        Some(other) => Err(bad(
            full,
            &format!("must be a whole number ≥ 0, found {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<SyncConfig> {
        let v: Value = serde_norway::from_str(yaml).unwrap();
        SyncConfig::from_raw(&v)
    }

    #[test]
    fn defaults_when_absent() {
        let c = parse("kinds: {}").unwrap();
        assert_eq!(c, SyncConfig::default());
        assert_eq!(c.remote, "origin");
        assert_eq!(c.base_branch, "dev");
        assert_eq!(c.threshold, 80);
        assert_eq!(c.mode, Mode::Direct);
    }

    #[test]
    fn reads_every_key() {
        let c = parse(
            "sync:\n  remote: up\n  base_branch: main\n  threshold: 5\n  mode: pr\n  retries: 1\n  backoff_ms: 7\n  cooldown_seconds: 0\n  lock_wait_seconds: 2\n  pr:\n    open: gh pr create\n    merge: gh pr merge {pr}\n    poll_seconds: 1\n    timeout_seconds: 3\n",
        )
        .unwrap();
        assert_eq!(c.remote, "up");
        assert_eq!(c.base_branch, "main");
        assert_eq!(c.threshold, 5);
        assert_eq!(c.mode, Mode::Pr);
        assert_eq!((c.retries, c.backoff_ms, c.cooldown_seconds), (1, 7, 0));
        assert_eq!(c.pr.open.as_deref(), Some("gh pr create"));
        assert_eq!(c.pr.status, None);
        assert_eq!((c.pr.poll_seconds, c.pr.timeout_seconds), (1, 3));
        assert!(c.check_pr().is_ok());
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("sync:\n  mode: sometimes\n").unwrap_err();
        assert!(e.message.starts_with("sync.mode:"), "{}", e.message);
        let e = parse("sync:\n  threshold: lots\n").unwrap_err();
        assert!(e.message.starts_with("sync.threshold:"), "{}", e.message);
        let e = parse("sync:\n  retrys: 2\n").unwrap_err();
        assert!(
            e.message.starts_with("sync.retrys: unknown key"),
            "{}",
            e.message
        );
        let e = parse("sync:\n  pr:\n    opne: x\n").unwrap_err();
        assert!(e.message.starts_with("sync.pr.opne"), "{}", e.message);
        let e = parse("sync:\n  base_branch: 'a b'\n").unwrap_err();
        assert!(e.message.starts_with("sync.base_branch"), "{}", e.message);
        let e = parse("sync: [1]\n").unwrap_err();
        assert!(e.message.starts_with("sync:"), "{}", e.message);
    }

    #[test]
    fn forge_presets_fill_in_what_is_not_set() {
        let c = parse("sync:\n  mode: pr\n  pr:\n    forge: gitlab\n    merge: my-merge {pr}\n")
            .unwrap();
        assert!(c.check_pr().is_ok());
        let open = c.pr.command(Step::Open).unwrap();
        assert_eq!(open.preset, Some(Forge::Gitlab));
        assert!(
            open.template.starts_with("glab mr create "),
            "{}",
            open.template
        );
        let merge = c.pr.command(Step::Merge).unwrap();
        assert_eq!(
            (merge.template.as_str(), merge.preset),
            ("my-merge {pr}", None)
        );
        let e = parse("sync:\n  pr:\n    forge: bitbucket\n").unwrap_err();
        assert!(
            e.message
                .starts_with("sync.pr.forge: expected one of github, gitlab, gitea"),
            "{}",
            e.message
        );
        let none = parse("sync:\n  mode: pr\n").unwrap();
        assert_eq!(none.pr.command(Step::Status), None);
    }

    #[test]
    fn pr_mode_needs_open_and_merge() {
        let c = parse("sync:\n  mode: pr\n  pr:\n    open: x\n").unwrap();
        let e = c.check_pr().unwrap_err();
        assert!(e.message.contains("sync.pr.merge"), "{}", e.message);
    }
}
