//! Setup's look outward: whether sync has somewhere to go (the remote
//! exists and answers, and holds the base branch sync would use), and which
//! htrac the shell and the git hooks run (on PATH, its version, the same
//! as the one running setup). Both only report: nothing here changes files.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{os, Check, Context, Status};

/// Sync's prerequisites: a remote, reachable, with the base branch; in `pr`
/// mode with a forge preset, that preset's CLI on PATH.
pub fn sync_remote(ctx: &mut Context) -> Check {
    let check = remote_reachable(ctx);
    let Some(forge) = preset_in_use(ctx) else {
        return check;
    };
    if os::which(forge.cli()).is_some() {
        return check;
    }
    let warning = format!(
        "sync.pr.forge is '{}' but the {} CLI is not on PATH: pr-mode syncs will fail",
        forge.as_str(),
        forge.cli()
    );
    let hint = format!(
        "install {} and log in, or set sync.pr.open/status/merge/close to other commands",
        forge.cli()
    );
    if check.status == Status::Ok {
        Check::new(check.name, Status::Warn, warning).with([hint])
    } else {
        let mut check = check;
        check.details.push(warning);
        check.details.push(hint);
        check
    }
}

/// The forge preset whose commands a `pr`-mode sync would run, if any.
fn preset_in_use(ctx: &Context) -> Option<crate::sync::forge::Forge> {
    use crate::sync::config::Step;
    let tracker = crate::tracker::Tracker::open(&ctx.root).ok()?;
    let repo = crate::sync::Repo::of(&tracker)?;
    let cfg = crate::sync::load_config(&tracker, &repo).ok()?;
    if cfg.mode != crate::sync::Mode::Pr {
        return None;
    }
    [Step::Open, Step::Status, Step::Merge, Step::Close]
        .into_iter()
        .find_map(|s| cfg.pr.command(s)?.preset)
}

fn remote_reachable(ctx: &mut Context) -> Check {
    let name = "sync_remote";
    let Some(repo_dir) = ctx.repo.clone() else {
        return Check::ok(name, "Not a git repository: no sync (N/A)");
    };
    let Ok(tracker) = crate::tracker::Tracker::open(&ctx.root) else {
        return Check::ok(name, "No tracker yet: sync checked once it exists (N/A)");
    };
    let Some(repo) = crate::sync::Repo::of(&tracker) else {
        return Check::ok(name, "The tracker is outside the work tree: no sync (N/A)");
    };
    let cfg = match crate::sync::load_config(&tracker, &repo) {
        Ok(c) => c,
        Err(e) => return Check::new(name, Status::Warn, format!("Sync settings: {}", e.message)),
    };

    let remotes = git_out(&repo_dir, &["remote"]).unwrap_or_default();
    if remotes.trim().is_empty() {
        return Check::ok(
            name,
            "No git remote: ops stay in this clone (add one and auto-sync delivers them)",
        );
    }
    if !remotes.lines().any(|r| r == cfg.remote) {
        return Check::new(
            name,
            Status::Warn,
            format!("Sync remote '{}' does not exist", cfg.remote),
        )
        .with([format!(
            "remotes here: {}; set sync.remote in .agent/tracker/config.yaml",
            remotes.lines().collect::<Vec<_>>().join(", ")
        )]);
    }
    let target = format!("{}/{}", cfg.remote, cfg.base_branch);
    // Never prompts and gives up quickly: setup must not hang on a network.
    let heads = Command::new("git")
        .args(["ls-remote", "--heads", &cfg.remote, &cfg.base_branch])
        .current_dir(&repo_dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env(
            "GIT_SSH_COMMAND",
            "ssh -o BatchMode=yes -o ConnectTimeout=10",
        )
        .stdin(Stdio::null())
        .output();
    match heads {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
                Check::new(
                    name,
                    Status::Warn,
                    format!("Sync target {target} does not exist on the remote"),
                )
                .with([
                    format!(
                        "the base branch is {} ({})",
                        cfg.base_branch,
                        cfg.base_from.describe()
                    ),
                    "push it, or set sync.base_branch in .agent/tracker/config.yaml".to_string(),
                ])
            } else {
                Check::ok(
                    name,
                    format!(
                        "Sync target {target} is reachable ({})",
                        cfg.base_from.describe()
                    ),
                )
            }
        }
        Ok(out) => Check::new(
            name,
            Status::Warn,
            format!("Sync remote '{}' does not answer", cfg.remote),
        )
        .with([String::from_utf8_lossy(&out.stderr).trim().to_string()]),
        Err(e) => Check::new(name, Status::Warn, format!("Cannot run git: {e}")),
    }
}

/// Which htrac the shell runs, its version, and whether the git hooks run
/// the same one.
pub fn provenance(ctx: &mut Context) -> Check {
    let name = "install_provenance";
    let mine = env!("CARGO_PKG_VERSION");
    let here = ctx
        .exe
        .as_deref()
        .map(os::sh_path)
        .unwrap_or_else(|| "this htrac".into());
    let Some(on_path) = os::which("htrac") else {
        return Check::new(
            name,
            Status::Warn,
            format!("htrac is not on PATH; hooks fall back to {here}"),
        )
        .with([
            "install it ('make install' or 'cargo install --path .') so agents and hooks find it",
        ]);
    };
    let version = Command::new(&on_path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let theirs = version
        .strip_prefix("htrac ")
        .unwrap_or(&version)
        .to_string();
    let same_file = ctx
        .exe
        .as_deref()
        .zip(on_path.canonicalize().ok())
        .is_some_and(|(e, p)| e.canonicalize().is_ok_and(|e| e == p));
    let shown = os::sh_path(&on_path);
    if theirs != mine {
        return Check::new(
            name,
            Status::Warn,
            format!("htrac on PATH ({shown}) is version {theirs}, this one is {mine}"),
        )
        .with([format!(
            "the hooks run the one on PATH; reinstall it, or put {here} first on PATH"
        )]);
    }
    let how = if same_file {
        "the one running setup"
    } else {
        "the same version as the one running setup"
    };
    let hooks = hooks_dir(ctx);
    let precommit = hooks.as_deref().map(|d| d.join("pre-commit"));
    let calls = precommit
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.contains("htrac=htrac") || t.contains("command -v htrac"));
    let hook_note = match calls {
        Some(true) => "; the hooks run it",
        Some(false) => "; the pre-commit hook names another binary",
        None => "",
    };
    Check::ok(
        name,
        format!("htrac {mine} on PATH ({shown}), {how}{hook_note}"),
    )
}

fn hooks_dir(ctx: &Context) -> Option<std::path::PathBuf> {
    ctx.git_dir.as_deref().map(|g| g.join("hooks"))
}

fn git_out(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
