//! Setup's git configuration: `safe.directory` for a repository owned by
//! the other user, `core.sharedRepository=group` for two users, the
//! `diff.tracker.textconv` driver (verified by running it), and
//! `core.hooksPath` for a `.githooks/` directory. Local config first; the
//! global one only when `.git/config` is not writable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{os, Check, Context, Status};
use crate::items::tiers::Tier;

/// Runs git in `repo`; `Ok(stdout)` on success, else `Err(stderr)`.
pub fn git(repo: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    if let Some(r) = repo {
        cmd.arg("-C").arg(r);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The repository's common git directory (where `config` and `hooks/` are).
pub fn git_dir(repo: &Path) -> Result<PathBuf, String> {
    git(
        Some(repo),
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .map(PathBuf::from)
}

/// Trusts `repo` in the global git config.
pub fn add_safe_directory(repo: &Path) -> Result<(), String> {
    let path = repo.to_string_lossy();
    git(
        None,
        &["config", "--global", "--add", "safe.directory", &path],
    )
    .map(|_| ())
}

/// A key's value as git sees it (local, then global, then system).
pub fn get(repo: &Path, key: &str) -> Option<String> {
    git(Some(repo), &["config", "--get", key])
        .ok()
        .filter(|v| !v.is_empty())
}

/// Sets `key` in the local config, else (not writable, and `global`
/// allowed) the global one. Returns which one it wrote, or the commands to
/// run by hand.
fn set_config(
    repo: &Path,
    key: &str,
    value: &str,
    global: bool,
) -> Result<&'static str, Vec<String>> {
    if git(Some(repo), &["config", "--local", key, value]).is_ok() {
        return Ok("local");
    }
    if global && git(None, &["config", "--global", key, value]).is_ok() {
        return Ok("global");
    }
    let v = os::sh_quote(value);
    let mut fix = vec![format!(
        "Fix with (as the owner of .git/config): git -C {} config --local {key} {v}",
        os::sh_path(repo)
    )];
    if global {
        fix.push(format!("Or globally: git config --global {key} {v}"));
    }
    Err(fix)
}

/// Check 12b (two-user): git creates group-writable objects and refs.
pub fn shared_repository(ctx: &mut Context) -> Check {
    let name = "shared_repository";
    let Some(repo) = ctx.repo.clone().filter(|_| ctx.git_dir.is_some()) else {
        return Check::ok(name, "core.sharedRepository check skipped (no git repo)");
    };
    if ctx.shared.is_none() {
        return Check::ok(
            name,
            "core.sharedRepository check skipped (single-user setup)",
        );
    }
    let current = get(&repo, "core.sharedRepository")
        .unwrap_or_default()
        .to_lowercase();
    if ["group", "1", "true", "all", "world", "everybody", "2"].contains(&current.as_str()) {
        return Check::ok(name, format!("core.sharedRepository is set to '{current}'"));
    }
    match set_config(&repo, "core.sharedRepository", "group", true) {
        Ok(scope) => Check::new(
            name,
            Status::Fixed,
            format!("core.sharedRepository set to 'group' ({scope} config)"),
        ),
        Err(fix) => Check::new(
            name,
            Status::Warn,
            "Could not set core.sharedRepository (git config not writable)",
        )
        .with(fix)
        .with(["Without it, objects one user writes cannot be replaced by the other."]),
    }
}

/// The first op log of a committed tier, to try the driver on.
fn probe_file(ctx: &Context) -> Option<PathBuf> {
    [Tier::Canonical, Tier::Workspace].iter().find_map(|t| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(t.dir(&ctx.root))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| crate::items::tiers::id_from_file_name(n).is_some())
            })
            .collect();
        names.sort();
        names.into_iter().next()
    })
}

/// Runs the driver as git would (`sh -c 'COMMAND "$1"'`); the reason it fails, if it does.
/// Git gives up on a diff when the driver exits non-zero or writes to stderr.
fn verify_driver(repo: &Path, command: &str, file: &Path) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("textconv")
        .arg(file)
        .current_dir(repo)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => return Some(format!("the driver could not be run: {e}")),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = |s: &str| s.trim().lines().next().unwrap_or("(no output)").to_string();
    if !out.status.success() {
        return Some(format!(
            "the driver exited {}: {}",
            out.status.code().unwrap_or(-1),
            first(&stderr)
        ));
    }
    if !stderr.trim().is_empty() {
        return Some(format!(
            "the driver wrote to stderr (git then aborts the diff): {}",
            first(&stderr)
        ));
    }
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Some("the driver printed nothing".into());
    }
    None
}

/// Check 14: `git diff` shows op logs as compiled items through
/// `diff.tracker.textconv` (the `diff=tracker` attribute is check 3's),
/// verified on a real op log when there is one.
pub fn textconv(ctx: &mut Context) -> Check {
    let name = "textconv";
    let key = "diff.tracker.textconv";
    let Some(repo) = ctx.repo.clone().filter(|_| ctx.git_dir.is_some()) else {
        return Check::ok(name, "Textconv check skipped (no git repo)");
    };
    let wanted = format!("{} textconv", ctx.htrac);
    let mut fixed = None;
    let command = match get(&repo, key) {
        Some(c) => c,
        None => match set_config(&repo, key, &wanted, true) {
            Ok(scope) => {
                fixed = Some(scope);
                wanted.clone()
            }
            Err(fix) => {
                return Check::new(
                    name,
                    Status::Warn,
                    "Could not configure the textconv driver (git config not writable)",
                )
                .with(fix)
            }
        },
    };
    if let Some(file) = probe_file(ctx) {
        if let Some(reason) = verify_driver(&repo, &command, &file) {
            return Check::new(
                name,
                Status::Warn,
                "Git textconv driver is configured but does NOT work",
            )
            .with([
                reason,
                format!("probe file: {}", file.display()),
                format!("configured: {key} = {command}"),
                "Effect: git diff / git log -p fail on .ops files.".into(),
                format!(
                    "Fix with: git -C {} config {key} {}",
                    os::sh_path(&repo),
                    os::sh_quote(&wanted)
                ),
            ]);
        }
    }
    let verified = if probe_file(ctx).is_some() {
        "verified against a real op log"
    } else {
        "no op log yet to verify it on"
    };
    match fixed {
        Some(scope) => Check::new(
            name,
            Status::Fixed,
            format!(
                "Git textconv driver configured ({scope} config: {key} = {command}; {verified})"
            ),
        ),
        None => Check::ok(name, format!("Git textconv driver ({verified})")),
    }
}

/// Check 19b: a `.githooks/` directory is where git looks for hooks.
pub fn hooks_path(ctx: &mut Context) -> Check {
    let name = "hooks_path";
    let Some(repo) = ctx.repo.clone().filter(|_| ctx.git_dir.is_some()) else {
        return Check::ok(name, "Hooks path check skipped (no git repo)");
    };
    if !repo.join(".githooks").is_dir() {
        return Check::ok(name, "No .githooks/ directory (hooks path check N/A)");
    }
    let current = get(&repo, "core.hooksPath");
    if ctx.shared.is_some() && current.is_none() {
        return Check::ok(
            name,
            "core.hooksPath left unset: in a two-user set-up hooks stay in .git/hooks, out of the agent's reach",
        );
    }
    match current {
        Some(p) if p.trim_end_matches('/') == ".githooks" => {
            Check::ok(name, "core.hooksPath is set to .githooks")
        }
        Some(other) => Check::new(
            name,
            Status::Warn,
            format!("core.hooksPath is '{other}', not .githooks (left as it is)"),
        )
        .with([format!(
            "To use .githooks/: git -C {} config core.hooksPath .githooks",
            os::sh_path(&repo)
        )]),
        None => match set_config(&repo, "core.hooksPath", ".githooks", false) {
            Ok(scope) => Check::new(
                name,
                Status::Fixed,
                format!("Set core.hooksPath=.githooks ({scope} config)"),
            ),
            Err(fix) => {
                Check::new(name, Status::Warn, "core.hooksPath is not set to .githooks").with(fix)
            }
        },
    }
}
