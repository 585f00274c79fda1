//! Setup's hooks: the git pre-commit hook that runs `htrac validate
//! --check-locks` on the staged op logs (installed when there is none, never
//! written over someone else's), and the agent's stop hook (looked for, not
//! installed).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::checks::root_in_repo;
use super::{gitconfig, os, Check, Context, Status};
use crate::items::tiers::Tier;

/// The directory git runs hooks from: `core.hooksPath`, else `.githooks/`
/// when it exists in a single-user set-up (check 19b then points git at
/// it), else `.git/hooks`.
pub fn hooks_dir(ctx: &Context) -> Option<PathBuf> {
    let repo = ctx.repo.as_ref()?;
    let git_dir = ctx.git_dir.as_ref()?;
    if let Some(p) = gitconfig::get(repo, "core.hooksPath") {
        let p = match p.strip_prefix("~/") {
            Some(rest) => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(rest),
            None => PathBuf::from(p),
        };
        return Some(if p.is_absolute() { p } else { repo.join(p) });
    }
    let githooks = repo.join(".githooks");
    // In a two-user set-up the agent can rewrite the work tree, so hooks
    // stay in `.git/hooks` (see `guard`).
    if githooks.is_dir() && ctx.shared.is_none() {
        return Some(githooks);
    }
    Some(git_dir.join("hooks"))
}

/// The git pathspecs of the three tiers' op logs, relative to the repository top.
fn pathspecs(rel_root: &str) -> Vec<String> {
    let prefix = if rel_root.is_empty() {
        String::new()
    } else {
        format!("{rel_root}/")
    };
    Tier::ALL
        .iter()
        .map(|t| format!("{prefix}{}/*.ops", t.rel_dir()))
        .collect()
}

/// The pre-commit hook: a POSIX sh script that validates the staged op
/// logs (`htrac` from PATH, else `fallback`) and blocks the commit when
/// validation fails. No staged op log, nothing to do.
pub fn precommit_script(rel_root: &str, fallback: Option<&Path>) -> String {
    let specs: Vec<String> = pathspecs(rel_root)
        .iter()
        .map(|s| format!("    {} \\\n", os::sh_quote(s)))
        .collect();
    let find = match fallback {
        Some(exe) => format!(
            "htrac=htrac\ncommand -v htrac >/dev/null 2>&1 || htrac={}\n",
            os::sh_path(exe)
        ),
        None => "htrac=htrac\n".to_string(),
    };
    let root = if rel_root.is_empty() { "." } else { rel_root };
    format!(
        "#!/bin/sh
# htrac pre-commit hook (installed by `htrac setup`). Validates the tracker
# op logs staged for this commit and blocks the commit when they do not pass.
{find}IFS='
'
set -f
set -- $(git -c core.quotePath=false diff --cached --name-only --diff-filter=ACMR -- \\
{specs}    )
[ $# -eq 0 ] && exit 0
if ! command -v \"$htrac\" >/dev/null 2>&1; then
    echo \"pre-commit: htrac is not installed; cannot validate the staged op logs\" >&2
    exit 1
fi
if ! \"$htrac\" --tracker-root {root} validate --check-locks -- \"$@\"; then
    echo \"Tracker validation failed: fix the op logs named above (or unstage them), then commit again.\" >&2
    exit 1
fi
",
        specs = specs.concat(),
        root = os::sh_quote(root),
    )
}

/// The one line to add to an existing pre-commit hook.
pub fn precommit_line(rel_root: &str) -> String {
    let specs: Vec<String> = pathspecs(rel_root)
        .iter()
        .map(|s| os::sh_quote(s))
        .collect();
    let root = if rel_root.is_empty() { "." } else { rel_root };
    format!(
        "f=$(git diff --cached --name-only --diff-filter=ACMR -- {}); [ -z \"$f\" ] || htrac --tracker-root {} validate --check-locks $f || exit 1",
        specs.join(" "),
        os::sh_quote(root)
    )
}

/// Whether a hook's text already runs the tracker's validation.
fn mentions_validate(text: &str) -> bool {
    text.contains("validate") && (text.contains("htrac") || text.contains("tracker"))
}

/// Check 19: a pre-commit hook validates staged op logs. Installed when
/// absent; an existing hook that does not call htrac is left alone, with
/// the line to add.
pub fn precommit_hook(ctx: &mut Context) -> Check {
    let name = "precommit_hook";
    let Some(dir) = hooks_dir(ctx) else {
        return Check::ok(name, "Pre-commit hook check skipped (no git repo)");
    };
    let Some(rel) = root_in_repo(ctx) else {
        return Check::new(
            name,
            Status::Warn,
            "The tracker is outside the git work tree; no pre-commit hook installed",
        );
    };
    let path = dir.join("pre-commit");
    match fs::read_to_string(&path) {
        Ok(text) if mentions_validate(&text) => {
            let mode = fs::metadata(&path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o111 != 0 {
                return Check::ok(
                    name,
                    format!(
                        "Pre-commit hook runs tracker validation ({})",
                        path.display()
                    ),
                );
            }
            match fs::set_permissions(&path, fs::Permissions::from_mode(mode | 0o755)) {
                Ok(()) => Check::new(
                    name,
                    Status::Fixed,
                    format!("Pre-commit hook made executable ({})", path.display()),
                ),
                Err(e) => Check::new(
                    name,
                    Status::Warn,
                    format!(
                        "Pre-commit hook is not executable, so git skips it ({})",
                        path.display()
                    ),
                )
                .with([
                    e.to_string(),
                    format!("Fix with: chmod +x {}", os::sh_path(&path)),
                ]),
            }
        }
        Ok(_) => Check::new(
            name,
            Status::Warn,
            format!(
                "Pre-commit hook {} does not run tracker validation (left as it is)",
                path.display()
            ),
        )
        .with([
            "Add this line to it:".to_string(),
            format!("  {}", precommit_line(&rel)),
        ]),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let script = precommit_script(&rel, ctx.exe.as_deref());
            let written = fs::create_dir_all(&dir)
                .and_then(|()| fs::write(&path, script))
                .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(0o755)));
            match written {
                Ok(()) => Check::new(
                    name,
                    Status::Fixed,
                    format!(
                        "Installed pre-commit hook {} (htrac validate --check-locks on staged op logs)",
                        path.display()
                    ),
                ),
                Err(e) => Check::new(
                    name,
                    Status::Warn,
                    format!("Cannot install the pre-commit hook {}", path.display()),
                )
                .with([
                    e.to_string(),
                    "Create it (executable) with this line:".to_string(),
                    format!("  {}", precommit_line(&rel)),
                ]),
            }
        }
        Err(e) => Check::new(
            name,
            Status::Warn,
            format!("Cannot read the pre-commit hook {}", path.display()),
        )
        .with([e.to_string()]),
    }
}

/// Every file under `dir` whose name contains "stop".
fn stop_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => stop_files(&p, out),
            Ok(_) => {
                if e.file_name()
                    .to_string_lossy()
                    .to_lowercase()
                    .contains("stop")
                {
                    out.push(p);
                }
            }
            Err(_) => {}
        }
    }
}

/// Claude Code settings files (`.claude/settings.json`, `settings.local.json`)
/// under `top` whose hooks run `htrac-hook` on `Stop`: the first, if any.
pub fn claude_stop_hook(top: &Path) -> Option<PathBuf> {
    ["settings.json", "settings.local.json"]
        .iter()
        .map(|f| top.join(".claude").join(f))
        .find(|p| {
            fs::read_to_string(p).is_ok_and(|t| t.contains("htrac-hook") && t.contains("Stop"))
        })
}

/// Files named `*stop*` under `root/hooks`, `top/.agent/hooks` and `top/.githooks`.
fn stop_scripts(root: &Path, top: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("hooks"), top.join(".agent").join("hooks")];
    dirs.push(top.join(".githooks"));
    dirs.dedup();
    let mut files = Vec::new();
    for d in &dirs {
        stop_files(d, &mut files);
    }
    files
}

/// Whether a stop script calls the tracker.
fn calls_tracker(file: &Path) -> bool {
    fs::read_to_string(file).is_ok_and(|t| {
        ["htrac-hook", "count-todos", "hash-todos", "guidance"]
            .iter()
            .any(|c| t.contains(c))
    })
}

/// Where an agent stop hook that asks the tracker is installed (a Claude
/// Code settings file, else a stop script), if anywhere: what the `stop_hook`
/// check calls ok. `root` is the `.agent/` directory, `top` the repository's.
pub fn installed_stop_hook(root: &Path, top: &Path) -> Option<PathBuf> {
    claude_stop_hook(top).or_else(|| {
        stop_scripts(root, top)
            .into_iter()
            .find(|f| calls_tracker(f))
    })
}

/// Check 18: an agent stop hook that asks the tracker whether work remains:
/// a Claude Code settings file (`.claude/settings.json` or
/// `settings.local.json`) whose hooks run `htrac-hook`, or a file named
/// `*stop*` under `.agent/hooks/` or `.githooks/` that calls `htrac-hook`,
/// `count-todos`, `hash-todos` or `guidance`. Looked for, not installed.
pub fn stop_hook(ctx: &mut Context) -> Check {
    let name = "stop_hook";
    let top = ctx.top();
    let how = [
        "A stop hook keeps the agent working while blocking items remain.".to_string(),
        "Claude Code: in .claude/settings.json add".to_string(),
        r#"  {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "htrac-hook stop"}]}]}}"#
            .to_string(),
        "Any other harness: a stop script (e.g. .agent/hooks/stop.sh) that runs".to_string(),
        "  exec htrac-hook check      (exit 0 = may stop, 2 = blocked; see docs/agents.md)".to_string(),
    ];
    if let Some(p) = claude_stop_hook(&top) {
        return Check::ok(
            name,
            format!("Claude Code stop hook runs htrac-hook ({})", p.display()),
        );
    }
    let files = stop_scripts(&ctx.root, &top);
    if files.is_empty() {
        return Check::new(name, Status::Warn, "No stop hook found").with(how);
    }
    if files.iter().any(|f| calls_tracker(f)) {
        return Check::ok(name, "Stop hook references tracker commands");
    }
    Check::new(
        name,
        Status::Warn,
        "Stop hook does not reference tracker commands",
    )
    .with(
        files
            .iter()
            .map(|f| format!("  found: {}", f.display()))
            .chain(how),
    )
}
