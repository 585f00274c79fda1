//! Setup's journal hooks: git `post-checkout` and `post-merge` hooks that
//! run `htrac reconcile --hook`, so ops a checkout (`git checkout -- .`,
//! `git checkout -f`) or a pull/merge removed come back from the journal by
//! themselves. Installed when absent (in the same hooks
//! directory as the pre-commit hook), never written over someone else's
//! hook: a foreign one gets a warning with the line to add.
//!
//! `git reset --hard`, `git restore`, `git stash` and `git clean` run no
//! hook; after them, run `htrac reconcile` by hand. A switch to another
//! commit (`git checkout <branch>`, a rebase's first step) only reports
//! what the journal holds that the checkout lacks (see [`script`]).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::checks::root_in_repo;
use super::hooks::hooks_dir;
use super::{os, Check, Context, Status};

/// The hooks installed, in order.
pub const HOOKS: [&str; 2] = ["post-checkout", "post-merge"];

/// The command a hook runs: restore, or (`dry`) only say what is missing.
fn command(htrac: &str, root: &str, dry: bool) -> String {
    let dry = if dry { " --dry-run" } else { "" };
    format!("{htrac} --tracker-root {root} --no-auto-sync reconcile --hook{dry} || true")
}

/// The hook script: POSIX sh, `htrac` from PATH else `fallback`; does
/// nothing when the tracker or htrac is missing, and always exits 0 (a
/// post-checkout hook's status becomes the checkout's).
///
/// post-checkout restores after a file checkout (`git checkout -- .`, its
/// third argument 0) and after a forced checkout of the same commit
/// (`git checkout -f`); after a switch to another commit it only says how
/// many journalled ops that checkout lacks: files restored there would be
/// untracked or modified files that stop the next checkout or rebase.
pub fn script(hook: &str, rel_root: &str, fallback: Option<&Path>) -> String {
    let find = match fallback {
        Some(exe) => format!(
            "htrac=htrac\ncommand -v htrac >/dev/null 2>&1 || htrac={}\n",
            os::sh_path(exe)
        ),
        None => "htrac=htrac\n".to_string(),
    };
    let root = os::sh_quote(if rel_root.is_empty() { "." } else { rel_root });
    let run = if hook == "post-checkout" {
        format!(
            "if [ \"$3\" = 1 ] && [ \"$1\" != \"$2\" ]; then\n    {}\nelse\n    {}\nfi\n",
            command("\"$htrac\"", &root, true),
            command("\"$htrac\"", &root, false)
        )
    } else {
        format!("{}\n", command("\"$htrac\"", &root, false))
    };
    format!(
        "#!/bin/sh
# htrac {hook} hook (installed by `htrac setup`). Restores tracker ops that
# a git command removed from the working tree, from htrac's out-of-repo
# journal ('htrac reconcile'). Silent unless it restored something.
{find}[ -d {root} ] || exit 0
command -v \"$htrac\" >/dev/null 2>&1 || exit 0
{run}exit 0
"
    )
}

/// The line to add to an existing hook.
pub fn line(hook: &str, rel_root: &str) -> String {
    let root = os::sh_quote(if rel_root.is_empty() { "." } else { rel_root });
    if hook == "post-checkout" {
        format!(
            "if [ \"$3\" = 1 ] && [ \"$1\" != \"$2\" ]; then {}; else {}; fi",
            command("htrac", &root, true),
            command("htrac", &root, false)
        )
    } else {
        command("htrac", &root, false)
    }
}

/// Whether a hook's text already runs the journal restore.
fn mentions_reconcile(text: &str) -> bool {
    text.contains("htrac") && text.contains("reconcile")
}

/// What happened to one hook: (status, message, details).
fn one(path: &Path, hook: &str, rel: &str, ctx: &Context) -> (Status, String, Vec<String>) {
    let shown = path.display();
    match fs::read_to_string(path) {
        Ok(text) if mentions_reconcile(&text) => {
            let mode = fs::metadata(path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o111 != 0 {
                return (Status::Ok, format!("{hook} runs it"), Vec::new());
            }
            match fs::set_permissions(path, fs::Permissions::from_mode(mode | 0o755)) {
                Ok(()) => (
                    Status::Fixed,
                    format!("{hook} made executable ({shown})"),
                    Vec::new(),
                ),
                Err(e) => (
                    Status::Warn,
                    format!("{hook} is not executable, so git skips it ({shown})"),
                    vec![
                        e.to_string(),
                        format!("Fix with: chmod +x {}", os::sh_path(path)),
                    ],
                ),
            }
        }
        Ok(_) => (
            Status::Warn,
            format!("{hook} hook {shown} does not run the journal restore (left as it is)"),
            vec![
                format!("Add this line to it:"),
                format!("  {}", line(hook, rel)),
            ],
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let written = path
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::write(path, script(hook, rel, ctx.exe.as_deref())))
                .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(0o755)));
            match written {
                Ok(()) => (
                    Status::Fixed,
                    format!("installed {hook} ({shown})"),
                    Vec::new(),
                ),
                Err(e) => (
                    Status::Warn,
                    format!("cannot install the {hook} hook {shown}"),
                    vec![
                        e.to_string(),
                        "Create it (executable) with this line:".to_string(),
                        format!("  {}", line(hook, rel)),
                    ],
                ),
            }
        }
        Err(e) => (
            Status::Warn,
            format!("cannot read the {hook} hook {shown}"),
            vec![e.to_string()],
        ),
    }
}

/// Check `journal_hooks`: `post-checkout` and `post-merge` run `htrac
/// reconcile --hook`. Installed when absent; foreign hooks are left alone.
pub fn journal_hooks(ctx: &mut Context) -> Check {
    let name = "journal_hooks";
    let Some(dir) = hooks_dir(ctx) else {
        return Check::ok(name, "Journal hooks check skipped (no git repo)");
    };
    let Some(rel) = root_in_repo(ctx) else {
        return Check::new(
            name,
            Status::Warn,
            "The tracker is outside the git work tree; no journal hooks installed",
        );
    };
    let results: Vec<_> = HOOKS
        .iter()
        .map(|h| one(&dir.join(h), h, &rel, ctx))
        .collect();
    let status = if results.iter().any(|r| r.0 == Status::Warn) {
        Status::Warn
    } else if results.iter().any(|r| r.0 == Status::Fixed) {
        Status::Fixed
    } else {
        Status::Ok
    };
    let message = match status {
        Status::Ok => format!(
            "post-checkout and post-merge hooks restore journalled ops ({})",
            dir.display()
        ),
        _ => format!(
            "Journal hooks: {}",
            results
                .iter()
                .filter(|r| r.0 != Status::Ok)
                .map(|r| r.1.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let mut details: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    if status != Status::Ok {
        details.push(
            "git reset --hard, restore, stash and clean run no hook: run 'htrac reconcile' after them"
                .into(),
        );
    }
    Check::new(name, status, message).with(details)
}
