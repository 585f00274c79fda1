//! The set-up wizard (`htrac setup`): an ordered list of checks, each
//! reporting `ok`, `fixed`, `warn` or `error` with the command that fixes
//! what it could not. Running it twice changes nothing the second time.
//!
//! The checks live by concept: files and config ([`checks`]), ownership,
//! modes and groups ([`perms`]), git configuration ([`gitconfig`]), git and
//! agent hooks ([`hooks`]), the journal's restore hooks ([`journalhooks`]),
//! what must stay out of the agent's reach in a two-user set-up ([`guard`]),
//! the managed block in `AGENTS.md` ([`agentsmd`]).
//! [`forkscope`] is `fork-setup`'s config edit.
//!
//! **Two-user detection.** A set-up is two-user when one of the tracker's
//! directories (the tier directories, `tracker/`, `tracker-workspace/`,
//! `.agent/`, the repository top) either has a group other than the current
//! user's primary group (someone ran `chgrp`), or is owned by another user.
//! The first such directory's group is the shared group every fix and
//! command names.

pub mod agentsmd;
pub mod checks;
pub mod concepts;
pub mod forkscope;
pub mod gitconfig;
pub mod guard;
pub mod hooks;
pub mod install;
pub mod journalhooks;
pub mod os;
pub mod perms;
pub mod reach;
pub mod shims;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::Config;
use crate::governance::actor::{fnmatch, Actor};

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Fixed,
    Warn,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fixed => "fixed",
            Status::Warn => "warn",
            Status::Error => "error",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub message: String,
    pub details: Vec<String>,
}

impl Check {
    pub fn new(name: &'static str, status: Status, message: impl Into<String>) -> Check {
        Check {
            name,
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn ok(name: &'static str, message: impl Into<String>) -> Check {
        Check::new(name, Status::Ok, message)
    }

    pub fn with(mut self, details: impl IntoIterator<Item = impl Into<String>>) -> Check {
        self.details.extend(details.into_iter().map(Into::into));
        self
    }
}

/// The shared group of a two-user set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub gid: u32,
    pub name: String,
    /// Which directory showed it.
    pub evidence: PathBuf,
}

/// What every check knows: where things are and who is running.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `.agent/` directory (absolute).
    pub root: PathBuf,
    /// The git work tree's top, if the tracker is in one.
    pub repo: Option<PathBuf>,
    /// The git directory holding `config` and `hooks/` (the common one for worktrees).
    pub git_dir: Option<PathBuf>,
    pub me: crate::users::User,
    pub actor: Actor,
    pub shared: Option<Shared>,
    /// How to invoke htrac from a hook or git: `htrac` when it is on PATH,
    /// else the absolute path of this binary (shell-quoted).
    pub htrac: String,
    /// The binary that runs setup, as the pre-commit hook's fallback.
    pub exe: Option<PathBuf>,
    /// `--with-policy-template`: add the project's status policy section to AGENTS.md.
    pub with_policy_template: bool,
}

impl Context {
    /// Looks around `root` (the `.agent/` directory, which need not exist yet).
    pub fn new(root: &Path) -> Context {
        let root = absolute(root);
        let existing = root.ancestors().find(|p| p.exists()).unwrap_or(&root);
        let repo = crate::git::work_tree_of(existing);
        let patterns = Config::load(&root)
            .map(|c| c.agent_usernames)
            .unwrap_or_else(|_| vec!["*_agent".into()]);
        let me = crate::users::current_user();
        let actor = Actor::for_name(&me.name, &patterns);
        let shared = perms::detect_shared(&root, repo.as_deref(), &me);
        let exe = std::env::current_exe().ok();
        let htrac = if os::which("htrac").is_some() {
            "htrac".to_string()
        } else {
            exe.as_deref()
                .map(os::sh_path)
                .unwrap_or_else(|| "htrac".into())
        };
        Context {
            root,
            repo,
            git_dir: None,
            me,
            actor,
            shared,
            with_policy_template: false,
            htrac,
            exe,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("tracker").join("config.yaml")
    }

    pub fn template_path(&self) -> PathBuf {
        self.root.join("tracker").join("config.yaml.template")
    }

    pub fn is_agent(&self) -> bool {
        self.actor.is_agent()
    }

    /// The agent patterns in force (the config's, else the default).
    pub fn patterns(&self) -> Vec<String> {
        Config::load(&self.root)
            .map(|c| c.agent_usernames)
            .unwrap_or_else(|_| vec!["*_agent".into()])
    }

    /// Whether user `name` resolves as an agent.
    pub fn is_agent_name(&self, name: &str) -> bool {
        self.patterns().iter().any(|p| fnmatch(p, name))
    }

    /// The human's user name, best guess: the agent's name without its
    /// pattern's suffix (`amy_agent` → `amy`) when that user exists, else
    /// the owner of the repository or `.agent/` when not an agent.
    pub fn human_name(&self) -> Option<String> {
        if !self.is_agent() {
            return Some(self.me.name.clone());
        }
        for p in self.patterns() {
            if let Some(suffix) = p.strip_prefix('*') {
                if !suffix.contains(['*', '?', '[']) {
                    if let Some(base) = self.me.name.strip_suffix(suffix) {
                        if !base.is_empty() && crate::users::user_by_name(base).is_some() {
                            return Some(base.to_string());
                        }
                    }
                }
            }
        }
        let candidates = [Some(self.root.as_path()), self.repo.as_deref()];
        for dir in candidates.into_iter().flatten() {
            if let Ok(meta) = std::fs::metadata(dir) {
                use std::os::unix::fs::MetadataExt;
                if let Some(u) = crate::users::user_by_uid(meta.uid()) {
                    if u.uid != self.me.uid && !self.is_agent_name(&u.name) {
                        return Some(u.name);
                    }
                }
            }
        }
        None
    }

    /// The directory from which setup would be run (repository top, else `.agent`'s parent).
    pub fn top(&self) -> PathBuf {
        self.repo
            .clone()
            .or_else(|| self.root.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| self.root.clone())
    }
}

fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    // Not there yet: canonicalise the part that exists.
    let mut tail = Vec::new();
    let mut cur = p.to_path_buf();
    while !cur.exists() {
        match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                cur = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
    let mut out = cur.canonicalize().unwrap_or(cur);
    for name in tail.into_iter().rev() {
        out.push(name);
    }
    out
}

/// Where setup works when not told: the nearest `.agent/` at or above
/// `cwd`, else `.agent` at the git work tree's top, else `cwd/.agent`.
pub fn default_root(cwd: &Path) -> PathBuf {
    if let Some(found) = crate::tracker::find_agent_dir(cwd) {
        return found;
    }
    match crate::git::work_tree_of(cwd) {
        Some(top) => top.join(".agent"),
        None => cwd.join(".agent"),
    }
}

/// Runs every check in order, fixing what it can.
pub fn run(ctx: &mut Context) -> Vec<Check> {
    let checks = vec![
        checks::git_repo(ctx),
        checks::directory_structure(ctx),
        checks::gitattributes(ctx),
        checks::gitignore(ctx),
        checks::config_template(ctx),
        checks::config_yaml(ctx),
        checks::config_validation(ctx),
        checks::actor_resolution(ctx),
        perms::config_ownership(ctx),
        perms::config_permissions(ctx),
        perms::home_traversable(ctx),
        perms::group_permissions(ctx),
        gitconfig::shared_repository(ctx),
        perms::ops_writable(ctx),
        gitconfig::textconv(ctx),
        checks::existing_data(ctx),
        shims::tracker_wrapper(ctx),
        agentsmd::agents_md(ctx),
        hooks::stop_hook(ctx),
        hooks::precommit_hook(ctx),
        journalhooks::journal_hooks(ctx),
        gitconfig::hooks_path(ctx),
        guard::agent_guard(ctx),
        reach::agent_can_write(ctx),
        install::sync_remote(ctx),
        install::provenance(ctx),
        checks::trust_root(ctx),
    ];
    // The tag catalog's merge driver (quietly; see items::tagmerge).
    if ctx.root.join("tracker").is_dir() {
        crate::items::tagmerge::ensure_driver(&ctx.root);
    }
    checks
}

/// How many checks ended in each status: ok, fixed, warn, error.
pub fn counts(checks: &[Check]) -> [usize; 4] {
    let mut c = [0; 4];
    for ch in checks {
        c[ch.status as usize] += 1;
    }
    c
}

/// Whether any check is an error (setup then exits 1).
pub fn has_errors(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Error)
}

/// The plain report: a rule, `[status] message` lines with indented
/// details, a rule, and the summary line.
pub fn render_text(checks: &[Check]) -> String {
    let rule = "-".repeat(47);
    let mut out = format!("{rule}\n");
    for c in checks {
        out.push_str(&format!(
            "{:<8}{}\n",
            format!("[{}]", c.status.as_str()),
            c.message
        ));
        for d in &c.details {
            out.push_str(&format!("        {d}\n"));
        }
    }
    out.push_str(&format!("{rule}\n"));
    let [_, fixed, warn, error] = counts(checks);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if fixed > 0 {
        parts.push(format!("{fixed} fixed"));
    }
    if warn > 0 {
        parts.push(plural(warn, "warning"));
    }
    if error > 0 {
        parts.push(plural(error, "error"));
    }
    if parts.is_empty() {
        out.push_str("Setup complete. All checks passed.\n");
    } else {
        out.push_str(&format!("Setup complete. {}.\n", parts.join(", ")));
    }
    out
}

/// The `--json` report: `{"checks": [{name, status, message, details}], "summary": {ok, fixed, warn, error}}`.
pub fn to_json(checks: &[Check]) -> Value {
    let [ok, fixed, warn, error] = counts(checks);
    json!({
        "checks": checks.iter().map(|c| json!({
            "name": c.name,
            "status": c.status.as_str(),
            "message": c.message,
            "details": c.details,
        })).collect::<Vec<_>>(),
        "summary": {"ok": ok, "fixed": fixed, "warn": warn, "error": error},
    })
}

/// What an agent on a terminal is told before it is asked whether to go
/// on: how to run setup as the human, and the two-user commands.
pub fn human_instructions(ctx: &Context) -> Vec<String> {
    let human = ctx.human_name().unwrap_or_else(|| "<human>".into());
    let top = os::sh_path(&ctx.top());
    let root = os::sh_path(&ctx.root);
    let mut lines = vec![
        format!(
            "You are running setup as '{}', which resolves to an agent.",
            ctx.me.name
        ),
        "Setup can fix config ownership, modes and group permissions only as the human.".into(),
        "As the human, run:".into(),
        format!("  sudo -u {human} {} setup --root {root}", ctx.htrac),
        format!(
            "or log in as the human (su - {human}), then: cd {top} && {} setup",
            ctx.htrac
        ),
    ];
    let group = ctx
        .shared
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "<group>".into());
    lines.push(format!(
        "For a two-user set-up, the human (with sudo) shares the tracker through group '{group}':"
    ));
    let g = os::sh_quote(&group);
    lines.push(format!(
        "  sudo usermod -aG {g} {human} && sudo usermod -aG {g} {}",
        os::sh_quote(&ctx.me.name)
    ));
    lines.extend(perms::group_fix_commands(ctx, &group));
    lines.push(format!("  (then log in again, or run: newgrp {g})"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_layout() {
        let checks = vec![
            Check::ok("git_repo", "Git repository detected"),
            Check::new("gitignore", Status::Fixed, ".gitignore — fixed 1 file")
                .with(["  created: x"]),
            Check::new("stop_hook", Status::Warn, "No stop hook found"),
        ];
        let text = render_text(&checks);
        let rule = "-".repeat(47);
        assert_eq!(
            text,
            format!("{rule}\n[ok]    Git repository detected\n[fixed] .gitignore — fixed 1 file\n          created: x\n[warn]  No stop hook found\n{rule}\nSetup complete. 1 fixed, 1 warning.\n")
        );
        assert!(render_text(&checks[..1]).ends_with("Setup complete. All checks passed.\n"));
        let v = to_json(&checks);
        assert_eq!(
            v["summary"],
            json!({"ok": 1, "fixed": 1, "warn": 1, "error": 0})
        );
        assert_eq!(v["checks"][1]["details"], json!(["  created: x"]));
        assert!(!has_errors(&checks));
    }
}
