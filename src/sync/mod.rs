//! Sync: tracker ops travel between clones through any git remote, without
//! touching the user's index, working tree or branch, and without ever
//! losing an op.
//!
//! The flow: count pending lines ([`pending`]); take the repository's sync
//! lock ([`lock`]); refuse if an op file cannot be read; fetch the base
//! branch; build a commit on it that adds the local ops by op-block union
//! ([`commit`], [`union`]); deliver it — `direct`: a compare-and-swap push
//! to the base, rebuilt and retried with backoff when the remote moved
//! ([`push`]); `pr`: a `tracker-sync/*` branch merged through configured
//! forge commands or a forge CLI preset ([`pr`], [`forge`]); then bring the
//! local base branch up to date, keeping every op written meanwhile
//! ([`local`]). Failures feed a circuit
//! breaker ([`breaker`]); settings come from `sync:` ([`config`]).

pub mod breaker;
pub mod commit;
pub mod config;
pub mod forge;
mod gitrun;
pub mod local;
pub mod lock;
pub mod pending;
pub mod pr;
pub mod push;
pub mod union;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

pub use config::{Mode, SyncConfig};
use gitrun::git;
use local::LocalUpdate;

use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::tracker::Tracker;

/// The test-only failpoint variable: `after-commit-tree` kills the process
/// (SIGKILL) right after the sync commit is made, before anything is pushed.
pub const FAILPOINT_ENV: &str = "HTRAC_FAILPOINT";

/// The git side of a tracker: its work tree and the committed tiers' op dirs.
#[derive(Debug, Clone)]
pub struct Repo {
    pub work_tree: PathBuf,
    /// The canonical and workspace op dirs, relative to the work tree, `/`-separated.
    pub ops_dirs: Vec<String>,
    /// The same, absolute.
    pub ops_abs: Vec<PathBuf>,
}

/// Where git keeps this work tree's files and the repository's shared ones.
#[derive(Debug, Clone)]
pub struct GitDirs {
    /// Per-worktree (temporary index, in-progress markers).
    pub git_dir: PathBuf,
    /// Shared by all worktrees (sync lock, breaker state).
    pub common_dir: PathBuf,
}

impl Repo {
    /// The repository holding `tracker`, if its root is inside a git work tree.
    pub fn of(tracker: &Tracker) -> Option<Repo> {
        let work_tree = tracker.work_tree.clone()?;
        let rel = tracker.root.strip_prefix(&work_tree).ok()?;
        let mut ops_dirs = Vec::new();
        let mut ops_abs = Vec::new();
        for tier in [Tier::Canonical, Tier::Workspace] {
            let r = rel.join(tier.rel_dir());
            ops_dirs.push(r.to_str()?.trim_start_matches("./").to_string());
            ops_abs.push(tracker.tier_dir(tier));
        }
        Some(Repo {
            work_tree,
            ops_dirs,
            ops_abs,
        })
    }

    /// Is this work-tree-relative path inside one of the op dirs?
    pub fn is_ops_path(&self, p: &str) -> bool {
        self.ops_dirs.iter().any(|d| {
            p.strip_prefix(d.as_str())
                .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
        })
    }

    pub fn dirs(&self) -> Result<GitDirs> {
        let out = git(
            &self.work_tree,
            &[
                "rev-parse",
                "--path-format=absolute",
                "--git-dir",
                "--git-common-dir",
            ],
        )
        .ok("cannot find the git directory")?;
        let mut lines = out.lines();
        match (lines.next(), lines.next()) {
            (Some(g), Some(c)) => Ok(GitDirs {
                git_dir: PathBuf::from(g),
                common_dir: PathBuf::from(c),
            }),
            _ => Err(Error::internal(
                "git rev-parse did not name the git directory",
            )),
        }
    }

    fn lock_path(dirs: &GitDirs) -> PathBuf {
        dirs.common_dir.join("htrac-sync.lock")
    }

    /// The configured remote exists? `Err` carries the names that do.
    /// A remote named in the repository's own `config` file is found
    /// there without a git process; otherwise `git remote` (which also
    /// sees included and global configuration) answers.
    fn remote_exists(&self, remote: &str) -> std::result::Result<(), Vec<String>> {
        let section = format!("[remote \"{remote}\"]");
        let env_decides = [
            "GIT_DIR",
            "GIT_COMMON_DIR",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        let in_config = (!env_decides)
            .then(|| crate::git::refs::GitDirs::of(&self.work_tree))
            .flatten()
            .and_then(|d| std::fs::read_to_string(d.common.join("config")).ok())
            .is_some_and(|text| text.lines().any(|l| l.trim() == section));
        if in_config {
            return Ok(());
        }
        let names = git(&self.work_tree, &["remote"])
            .run()
            .map(|o| o.stdout)
            .unwrap_or_default();
        let names: Vec<String> = names.lines().map(str::to_string).collect();
        if names.iter().any(|n| n == remote) || remote.contains('/') || remote.contains(':') {
            Ok(())
        } else {
            Err(names)
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct Report {
    pub mode: Mode,
    pub remote: String,
    pub base_branch: String,
    pub dry_run: bool,
    pub files: usize,
    pub ops: usize,
    pub title: Option<String>,
    pub paths: Vec<String>,
    pub commit: Option<String>,
    /// Push attempts (direct mode).
    pub attempts: u32,
    pub pr: Option<String>,
    pub branch: Option<String>,
    pub local: Option<LocalUpdate>,
    pub notes: Vec<String>,
}

impl Report {
    fn new(cfg: &SyncConfig) -> Report {
        Report {
            mode: cfg.mode,
            remote: cfg.remote.clone(),
            base_branch: cfg.base_branch.clone(),
            dry_run: false,
            files: 0,
            ops: 0,
            title: None,
            paths: Vec::new(),
            commit: None,
            attempts: 0,
            pr: None,
            branch: None,
            local: None,
            notes: Vec::new(),
        }
    }

    fn take_plan(&mut self, plan: &commit::Plan) {
        self.files = plan.changes.len();
        self.ops = plan.ops();
        self.paths = plan.changes.iter().map(|c| c.path.clone()).collect();
        if !plan.is_empty() {
            self.title = Some(plan.title());
        }
    }

    /// One line saying what happened.
    pub fn summary(&self) -> String {
        let target = format!("{}/{}", self.remote, self.base_branch);
        if self.files == 0 {
            return format!("nothing to sync; {target} already has every local op");
        }
        let what = format!("{} file(s) ({} ops)", self.files, self.ops);
        if self.dry_run {
            return format!(
                "would sync {what} to {target}: {}",
                self.title.as_deref().unwrap_or("")
            );
        }
        let short = self
            .commit
            .as_deref()
            .map(|c| &c[..c.len().min(10)])
            .unwrap_or("");
        match &self.pr {
            Some(pr) => format!("synced {what} to {target} via pull request {pr} ({short})"),
            None => format!("synced {what} to {target} ({short})"),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ok": true,
            "dry_run": self.dry_run,
            "mode": self.mode.as_str(),
            "remote": self.remote,
            "base_branch": self.base_branch,
            "synced_files": self.files,
            "ops": self.ops,
            "title": self.title,
            "files": self.paths,
            "commit": self.commit,
            "attempts": self.attempts,
            "pr": self.pr,
            "branch": self.branch,
            "local": self.local.as_ref().map(|l| match l {
                LocalUpdate::UpToDate => json!({"updated": false, "message": l.describe(&self.base_branch)}),
                LocalUpdate::Updated { files } => json!({"updated": true, "rewritten_files": files, "message": l.describe(&self.base_branch)}),
                LocalUpdate::Left(_) => json!({"updated": false, "message": l.describe(&self.base_branch)}),
            }),
            "notes": self.notes,
        })
    }

    fn last_json(&self) -> Value {
        json!({
            "ok": true,
            "at": crate::timestamp::now_utc(),
            "mode": self.mode.as_str(),
            "files": self.files,
            "ops": self.ops,
            "commit": self.commit,
            "pr": self.pr,
            "message": self.summary(),
        })
    }
}

fn failure_json(cfg: &SyncConfig, e: &Error) -> Value {
    json!({
        "ok": false,
        "at": crate::timestamp::now_utc(),
        "mode": cfg.mode.as_str(),
        "message": e.message,
    })
}

/// Refuses to sync while any committed-tier op file cannot be read.
fn validate(tracker: &Tracker) -> Result<()> {
    let snap = tracker.snapshot()?;
    let broken: Vec<String> = snap
        .broken
        .iter()
        .filter(|b| b.file.tier != Tier::Stealth)
        .map(|b| b.error.clone())
        .collect();
    if broken.is_empty() {
        return Ok(());
    }
    Err(Error::user(format!(
        "refusing to sync: {} op file(s) cannot be read: {}",
        broken.len(),
        broken.join("; ")
    ))
    .with_hint("repair the file(s) ('htrac validate' shows the details); nothing was pushed"))
}

pub(crate) fn failpoint(name: &str) {
    if std::env::var(FAILPOINT_ENV).as_deref() == Ok(name) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        std::process::exit(137);
    }
}

/// The sync itself, with the lock held.
fn run_locked(tracker: &Tracker, repo: &Repo, dirs: &GitDirs, cfg: &SyncConfig) -> Result<Report> {
    validate(tracker)?;
    if let Err(names) = repo.remote_exists(&cfg.remote) {
        return Err(Error::user(format!("no git remote named '{}'", cfg.remote)).with_hint(
            if names.is_empty() {
                "add one (git remote add origin URL) or set sync.remote in .agent/tracker/config.yaml".to_string()
            } else {
                format!("remotes here: {}; set sync.remote in .agent/tracker/config.yaml", names.join(", "))
            },
        ));
    }
    if cfg.mode == Mode::Pr {
        cfg.check_pr()?;
    }
    commit::clean_leftovers(&dirs.git_dir);
    let mut report = Report::new(cfg);
    let (remote, base) = (cfg.remote.as_str(), cfg.base_branch.as_str());
    let tip = loop {
        report.attempts += 1;
        let tip = push::fetch_base(repo, remote, base)?;
        let plan = commit::plan(repo, Some(&tip))?;
        report.take_plan(&plan);
        if plan.is_empty() {
            break tip;
        }
        let sha = commit::commit(repo, &dirs.git_dir, &plan)?;
        report.commit = Some(sha.clone());
        if cfg.mode == Mode::Pr {
            let r = pr::run(repo, cfg, &dirs.git_dir, &plan, &sha)?;
            report.pr = Some(r.pr);
            report.commit = Some(r.commit);
            if !r.in_base {
                report.notes.push(format!(
                    "the merge command succeeded but {remote}/{base} does not hold the ops yet; branch {} is kept",
                    r.branch
                ));
            }
            report.branch = Some(r.branch);
            break r.tip;
        }
        match push::push_cas(repo, remote, &sha, base, Some(&tip))? {
            push::PushOutcome::Pushed => {
                let tracking = format!("refs/remotes/{remote}/{base}");
                let _ = git(&repo.work_tree, &["update-ref", &tracking, &sha]).run();
                break sha;
            }
            push::PushOutcome::Moved(why) => {
                if report.attempts > cfg.retries {
                    return Err(Error::user(format!(
                        "{remote}/{base} kept moving: push rejected {} time(s) (last: {why})",
                        report.attempts
                    ))
                    .with_hint("the ops stay in the working tree; run 'htrac sync' again"));
                }
                std::thread::sleep(push::backoff(cfg.backoff_ms, report.attempts));
            }
            push::PushOutcome::Failed(why) => {
                return Err(Error::user(format!("cannot push to {remote}/{base}: {why}")).with_hint(
                    "the ops stay in the working tree and the next sync sends them; check the remote, its hooks and your permissions",
                ));
            }
        }
    };
    report.local = Some(local::bring_up_to_date(
        repo,
        &dirs.git_dir,
        remote,
        base,
        &tip,
    )?);
    Ok(report)
}

/// `htrac sync --dry-run`: what would be synced against what is known of
/// the remote (no fetch, no lock, nothing written).
pub fn dry_run(tracker: &Tracker) -> Result<Report> {
    dry_run_with(tracker, &Overrides::default())
}

/// [`dry_run`] with the command line's overrides.
pub fn dry_run_with(tracker: &Tracker, over: &Overrides) -> Result<Report> {
    let (repo, cfg) = open_with(tracker, over)?;
    validate(tracker)?;
    let mut report = Report::new(&cfg);
    report.dry_run = true;
    let tracking = format!("refs/remotes/{}/{}", cfg.remote, cfg.base_branch);
    let base = git(
        &repo.work_tree,
        &[
            "rev-parse",
            "-q",
            "--verify",
            &format!("{tracking}^{{commit}}"),
        ],
    )
    .ok("")
    .or_else(|_| {
        git(
            &repo.work_tree,
            &["rev-parse", "-q", "--verify", "HEAD^{commit}"],
        )
        .ok("")
    })
    .ok();
    if base.is_none() {
        report
            .notes
            .push("no base commit known; every local op counts".into());
    }
    let plan = commit::plan(&repo, base.as_deref())?;
    report.take_plan(&plan);
    Ok(report)
}

/// What a command line may set for one sync (`--base-branch`, `--timeout`),
/// over the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub base_branch: Option<String>,
    /// How long `pr` mode waits for the pull request's checks and merge.
    pub timeout_seconds: Option<u64>,
}

fn open_with(tracker: &Tracker, over: &Overrides) -> Result<(Repo, SyncConfig)> {
    let (repo, mut cfg) = open(tracker)?;
    if let Some(b) = &over.base_branch {
        cfg.base_branch = b.clone();
        cfg.base_from = config::BaseFrom::Config;
    }
    if let Some(t) = over.timeout_seconds {
        cfg.pr.timeout_seconds = t;
    }
    Ok((repo, cfg))
}

fn open(tracker: &Tracker) -> Result<(Repo, SyncConfig)> {
    let repo = Repo::of(tracker).ok_or_else(|| {
        Error::user("the tracker is not inside a git work tree; there is nothing to sync through")
            .with_hint("run 'git init' (and add a remote) at the top of your project")
    })?;
    let cfg = load_config(tracker, &repo)?;
    Ok((repo, cfg))
}

/// The sync settings, with the base branch found when no configuration
/// names one: the committed template's, else the remote's default branch
/// (`REMOTE/HEAD`), else the current branch's upstream on that remote,
/// else `dev`.
pub fn load_config(tracker: &Tracker, repo: &Repo) -> Result<SyncConfig> {
    let mut cfg = SyncConfig::load(&tracker.config)?;
    if cfg.base_from != config::BaseFrom::Default {
        return Ok(cfg);
    }
    let template = tracker.root.join("tracker/config.yaml.template");
    let from_template = std::fs::read_to_string(&template)
        .ok()
        .and_then(|t| {
            crate::config::Config::document(&tracker.root, "template", &t, &template).ok()
        })
        .and_then(|v| SyncConfig::from_raw(&v).ok())
        .filter(|c| c.base_from == config::BaseFrom::Config);
    if let Some(t) = from_template {
        cfg.base_branch = t.base_branch;
        cfg.base_from = config::BaseFrom::Template;
        return Ok(cfg);
    }
    // `REMOTE/HEAD` is a file in the common git directory (a symbolic ref
    // is never packed); git answers where that is not so.
    let symref = format!("refs/remotes/{}/HEAD", cfg.remote);
    let text = crate::claims::board::common_dir(&repo.work_tree)
        .and_then(|d| std::fs::read_to_string(d.join(&symref)).ok())
        .and_then(|t| t.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        .or_else(|| {
            git(&repo.work_tree, &["symbolic-ref", "-q", &symref])
                .run()
                .ok()
                .map(|o| o.stdout.trim().to_string())
        });
    let head = text.and_then(|t| {
        t.strip_prefix(&format!("refs/remotes/{}/", cfg.remote))
            .map(str::to_string)
    });
    if let Some(b) = head.filter(|b| !b.is_empty()) {
        cfg.base_branch = b;
        cfg.base_from = config::BaseFrom::RemoteHead;
        return Ok(cfg);
    }
    let upstream = git(
        &repo.work_tree,
        &[
            "rev-parse",
            "--abbrev-ref",
            "--symbolic-full-name",
            "@{upstream}",
        ],
    )
    .run()
    .ok()
    .and_then(|o| {
        o.stdout
            .trim()
            .strip_prefix(&format!("{}/", cfg.remote))
            .map(str::to_string)
    });
    if let Some(b) = upstream.filter(|b| !b.is_empty()) {
        cfg.base_branch = b;
        cfg.base_from = config::BaseFrom::Upstream;
    }
    Ok(cfg)
}

/// Why an automatic sync (auto-sync, a claim's confirmation) should not
/// try now: the circuit breaker is cooling down after a failure, or off
/// after repeated ones. `None`: go ahead.
pub fn breaker_holds(tracker: &Tracker) -> Option<String> {
    let (repo, cfg) = open(tracker).ok()?;
    let dirs = repo.dirs().ok()?;
    match breaker::State::load(&dirs.common_dir).gate(breaker::now(), cfg.cooldown_seconds) {
        breaker::Gate::Open => None,
        breaker::Gate::Cooling(s) => Some(format!(
            "the sync circuit breaker is open after a failed sync ({s} s of cooldown left)"
        )),
        breaker::Gate::Off => Some(
            "auto-sync is off after repeated failures ('htrac sync' retries and turns it back on)"
                .into(),
        ),
    }
}

/// Whether the tracker has a remote to sync with: inside a git work tree,
/// with a valid sync configuration naming a remote that exists.
pub fn has_remote(tracker: &Tracker) -> bool {
    open(tracker).is_ok_and(|(repo, cfg)| repo.remote_exists(&cfg.remote).is_ok())
}

/// The texts of the op files `paths` (in this work tree) as the remote's
/// base branch held them at the last fetch or push (`None`: not there, or
/// no remote), read by one git process. Remote ops reach a work tree's
/// files only when its branch is the base branch; this reads them from any
/// branch or linked worktree.
pub fn remote_copies(tracker: &Tracker, paths: &[&std::path::Path]) -> Vec<Option<String>> {
    let none = || vec![None; paths.len()];
    // No remote-tracking branch (no remote, or never fetched): nothing to
    // ask, and no git process started to learn it — not even the ones that
    // find the base branch. Refs htrac cannot read itself (reftable) are
    // left to git.
    let refs = tracker
        .work_tree
        .as_deref()
        .and_then(crate::git::refs::RefTable::read);
    if refs
        .as_ref()
        .is_some_and(|r| !r.has_refs_under("refs/remotes/"))
    {
        return none();
    }
    let Ok((repo, cfg)) = open(tracker) else {
        return none();
    };
    let tracking = format!("refs/remotes/{}/{}", cfg.remote, cfg.base_branch);
    if refs.is_some_and(|r| r.resolve(&tracking).is_none()) {
        return none();
    }
    let specs: Vec<String> = paths
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&repo.work_tree)
                .ok()
                .and_then(|r| r.to_str())
                .unwrap_or("");
            format!("refs/remotes/{}/{}:{rel}", cfg.remote, cfg.base_branch)
        })
        .collect();
    match crate::git::cat_files(&repo.work_tree, &specs) {
        Ok(blobs) => blobs
            .into_iter()
            .map(|b| b.and_then(|b| String::from_utf8(b).ok()))
            .collect(),
        Err(_) => none(),
    }
}

/// `htrac sync`: syncs now, whatever the threshold and the breaker say;
/// waits for another sync to finish (up to `sync.lock_wait_seconds`).
/// The result feeds the breaker: a success turns auto-sync back on.
pub fn sync_now(tracker: &Tracker, waiting: &mut dyn FnMut(&str)) -> Result<Report> {
    sync_now_with(tracker, &Overrides::default(), waiting)
}

/// [`sync_now`] with the command line's overrides.
pub fn sync_now_with(
    tracker: &Tracker,
    over: &Overrides,
    waiting: &mut dyn FnMut(&str),
) -> Result<Report> {
    sync_now_inner(tracker, over, waiting, true)
}

/// One sync attempt, as [`sync_now`], whose failure the circuit breaker
/// does not count (a caller that retries records the end result itself with
/// [`record_failure`]); a success still resets it.
pub fn sync_attempt(tracker: &Tracker) -> Result<Report> {
    sync_now_inner(tracker, &Overrides::default(), &mut |_| {}, false)
}

/// Counts one failed sync (of a caller that made several attempts) in the
/// circuit breaker.
pub fn record_failure(tracker: &Tracker, e: &Error) {
    let Ok((repo, cfg)) = open(tracker) else {
        return;
    };
    let Ok(dirs) = repo.dirs() else {
        return;
    };
    let mut state = breaker::State::load(&dirs.common_dir);
    state.record_failure(breaker::now(), &e.message, failure_json(&cfg, e));
    let _ = state.save(&dirs.common_dir);
}

fn sync_now_inner(
    tracker: &Tracker,
    over: &Overrides,
    waiting: &mut dyn FnMut(&str),
    count_failure: bool,
) -> Result<Report> {
    let (repo, cfg) = open_with(tracker, over)?;
    let dirs = repo.dirs()?;
    let lock_path = Repo::lock_path(&dirs);
    if let Some(h) = lock::holder(&lock_path) {
        waiting(&format!(
            "waiting for the sync lock held by {}",
            h.describe()
        ));
    }
    let cannot_lock = |e: std::io::Error| {
        Error::internal(format!(
            "cannot open the sync lock {}: {e}",
            lock_path.display()
        ))
    };
    let _lock = match lock::acquire(&lock_path, Duration::from_secs(cfg.lock_wait_seconds))
        .map_err(cannot_lock)?
    {
        lock::Acquire::Got(l) => l,
        lock::Acquire::Busy(h) => {
            return Err(Error::user(format!(
                "another sync is running: the sync lock is held by {}",
                h.describe()
            ))
            .with_hint("wait for it to finish and run 'htrac sync' again"))
        }
    };
    let mut state = breaker::State::load(&dirs.common_dir);
    let result = run_locked(tracker, &repo, &dirs, &cfg);
    let now = breaker::now();
    match &result {
        Ok(r) => {
            state.record_success(now, r.last_json());
            // What reached the base branch no longer needs the journal.
            let _ = crate::journal::prune(tracker);
        }
        Err(e) if count_failure => {
            state.record_failure(now, &e.message, failure_json(&cfg, e));
        }
        Err(_) => return result,
    }
    let _ = state.save(&dirs.common_dir);
    result
}

/// After a mutating command: sync when enough tracker lines are pending.
/// Never fails the command; says what it did on stderr (returned lines).
/// Below the threshold this costs one `git diff --numstat` and one
/// `git ls-files`.
pub fn auto_sync(tracker: &Tracker) -> Vec<String> {
    let Some(repo) = Repo::of(tracker) else {
        return Vec::new();
    };
    // The threshold is checked before the base branch is looked up (that
    // may run git): most writes stop here.
    let remote = match SyncConfig::load(&tracker.config) {
        Ok(c) if c.threshold <= 0 => return Vec::new(),
        Ok(c) => c.remote,
        Err(e) => return vec![format!("auto-sync: {}", e.message)],
    };
    // A repository without any remote has nowhere to sync to: stay quiet,
    // before counting anything (its ops are all pending, for ever).
    let remotes = repo.remote_exists(&remote);
    if remotes.as_ref().is_err_and(|names| names.is_empty()) {
        return Vec::new();
    }
    let cfg = match load_config(tracker, &repo) {
        Ok(c) => c,
        Err(e) => return vec![format!("auto-sync: {}", e.message)],
    };
    let pending =
        pending::pending_lines(&repo, &cfg.remote, &cfg.base_branch, cfg.threshold as u64);
    if pending < cfg.threshold as u64 {
        return Vec::new();
    }
    match remotes {
        Ok(()) => {}
        Err(names) if names.is_empty() => return Vec::new(),
        Err(names) => {
            return vec![format!(
                "auto-sync: no git remote named '{}' (remotes: {}); set sync.remote in .agent/tracker/config.yaml. {pending} pending line(s) not synced",
                cfg.remote,
                names.join(", ")
            )]
        }
    }
    let dirs = match repo.dirs() {
        Ok(d) => d,
        Err(e) => return vec![format!("auto-sync: {}", e.message)],
    };
    let now = breaker::now();
    let gate = breaker::State::load(&dirs.common_dir).gate(now, cfg.cooldown_seconds);
    if let Some(line) = gate_message(&gate, &dirs) {
        return vec![line];
    }
    let lock = match lock::try_acquire(&Repo::lock_path(&dirs)) {
        Ok(lock::Acquire::Got(l)) => l,
        Ok(lock::Acquire::Busy(h)) => {
            return vec![format!(
                "auto-sync: another sync is running ({}), skipping",
                h.describe()
            )]
        }
        Err(e) => return vec![format!("auto-sync: cannot take the sync lock: {e}")],
    };
    // Another process may have synced or failed while we waited.
    let mut state = breaker::State::load(&dirs.common_dir);
    if let Some(line) = gate_message(&state.gate(now, cfg.cooldown_seconds), &dirs) {
        return vec![line];
    }
    let mut msgs = vec![format!(
        "auto-sync: {pending} pending line(s) ≥ threshold {}, syncing to {}/{} ({})...",
        cfg.threshold,
        cfg.remote,
        cfg.base_branch,
        cfg.base_from.describe()
    )];
    let result = run_locked(tracker, &repo, &dirs, &cfg);
    let now = breaker::now();
    match result {
        Ok(r) => {
            state.record_success(now, r.last_json());
            let _ = crate::journal::prune(tracker);
            msgs.push(format!("auto-sync: {}", r.summary()));
            if let Some(LocalUpdate::Left(why)) = &r.local {
                msgs.push(format!("auto-sync: local branch left as is: {why}"));
            }
            msgs.extend(r.notes.iter().map(|n| format!("auto-sync: {n}")));
        }
        Err(e) => {
            let off = state.record_failure(now, &e.message, failure_json(&cfg, &e));
            msgs.push(format!(
                "auto-sync: sync failed ({}/{}): {}",
                state.consecutive_failures,
                breaker::MAX_FAILURES,
                e.message
            ));
            if let Some(h) = &e.hint {
                msgs.push(format!("auto-sync: {h}"));
            }
            if off {
                msgs.push(format!("ESCALATION: {}", breaker::off_message(&state)));
            }
        }
    }
    let _ = state.save(&dirs.common_dir);
    drop(lock);
    msgs
}

fn gate_message(gate: &breaker::Gate, dirs: &GitDirs) -> Option<String> {
    match gate {
        breaker::Gate::Open => None,
        breaker::Gate::Cooling(s) => Some(format!(
            "auto-sync: circuit breaker open after a failed sync ({s} s of cooldown left), skipping; 'htrac sync' retries now"
        )),
        breaker::Gate::Off => Some(breaker::off_message(&breaker::State::load(&dirs.common_dir))),
    }
}

/// `htrac sync --status`: pending lines, threshold, last result, breaker, lock.
pub fn status(tracker: &Tracker) -> Result<Value> {
    let (repo, cfg) = open(tracker)?;
    let dirs = repo.dirs()?;
    let pending = pending::pending_lines(&repo, &cfg.remote, &cfg.base_branch, 0);
    let state = breaker::State::load(&dirs.common_dir);
    let holder = lock::holder(&Repo::lock_path(&dirs));
    let mut breaker_json = state.to_json(breaker::now(), cfg.cooldown_seconds);
    let off = breaker_json["state"] == "off";
    breaker_json["auto_sync"] = Value::Bool(cfg.threshold > 0 && !off);
    Ok(json!({
        "pending_lines": pending,
        "threshold": cfg.threshold,
        "counted_against": pending::count_base(&repo, &cfg.remote, &cfg.base_branch),
        "mode": cfg.mode.as_str(),
        "remote": cfg.remote,
        "base_branch": cfg.base_branch,
        "base_branch_from": cfg.base_from.describe(),
        "last": state.last,
        "breaker": breaker_json,
        "lock": holder.map(|h| json!({"pid": h.pid, "started": h.started, "alive": h.alive, "holder": h.describe()})),
    }))
}

/// `htrac sync --prune`: deletes `tracker-sync/*` branches (local and on
/// the remote) whose ops the base already holds.
pub fn prune(tracker: &Tracker) -> Result<Vec<String>> {
    let (repo, cfg) = open(tracker)?;
    let dirs = repo.dirs()?;
    let _lock = match lock::acquire(
        &Repo::lock_path(&dirs),
        Duration::from_secs(cfg.lock_wait_seconds),
    )
    .map_err(|e| Error::internal(format!("cannot open the sync lock: {e}")))?
    {
        lock::Acquire::Got(l) => l,
        lock::Acquire::Busy(h) => {
            return Err(Error::user(format!(
                "another sync is running: the sync lock is held by {}",
                h.describe()
            )))
        }
    };
    pr::prune(&repo, &cfg)
}
