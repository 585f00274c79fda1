//! Setup's two-user guard: nothing git or htrac executes or reads as
//! configuration is writable by the agent, and the agent cannot remove or
//! rename the human's files in the directories it shares.
//!
//! * Read-only to the group (owned by the human or root): `.git/config`,
//!   `.git/commondir`, `.git/hooks/`, `.git/info/`, `.git/branches/`,
//!   `.git/remotes/` (each with everything in it), the `core.hooksPath`
//!   directory, `.agent/tracker/` (which holds `config.yaml`),
//!   `.agent/tracker-workspace/` with its edit-mode log, and the freeze
//!   sentinels.
//! * Group-writable but sticky, so the agent creates files there and
//!   removes or renames only its own: `.git/` (git's lock files),
//!   `.agent/` when it is group-writable, and the tier directories (whose
//!   sticky bit [`super::perms::group_permissions`] sets).
//! * `.git/index` is a symbolic link to `.git/shared/index`: git replaces
//!   the index by renaming a lock file over it, which a sticky `.git/`
//!   would refuse the agent once the human owns the index; in the shared,
//!   non-sticky `.git/shared/` both users can.
//! * `.git/hooks/`, `info/`, `branches/`, `remotes/` exist (the human's, maybe
//!   empty), so the agent cannot create them in the sticky `.git/`.
//! * `.git/commondir` exists (`.`, owned by the human): in a sticky `.git/`
//!   the agent could otherwise create one pointing git at a directory of
//!   its own, configuration and all.
//! * `tracker/tag_catalog.yaml` exists and is group-writable, so the agent
//!   updates it in place (`tracker/` itself is not the agent's).
//!
//! Modes of what this user owns (everything, for root) are fixed; a
//! protected path owned by an agent is reported, never taken over — its
//! content may be the agent's (a hook, a `core.fsmonitor` line) and needs a
//! human's look first.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{os, Check, Context, Status};
use crate::items::tiers::Tier;

/// The directories under the git directory that stay read-only to the group.
pub fn protected_git_dirs(git_dir: &Path) -> Vec<PathBuf> {
    ["hooks", "info", "branches", "remotes"]
        .iter()
        .map(|d| git_dir.join(d))
        .collect()
}

/// `path` and, for a directory, everything under it.
fn tree(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    out.push(path.to_path_buf());
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            tree(&e, out);
        }
    }
}

/// What one run found and did.
#[derive(Default)]
struct Outcome {
    problems: Vec<String>,
    fixed: Vec<String>,
}

impl Outcome {
    fn chmod(&mut self, ctx: &Context, path: &Path, meta: &fs::Metadata, mode: u32, why: &str) {
        let mine = meta.uid() == ctx.me.uid || ctx.me.uid == 0;
        let done = mine
            && !ctx.is_agent()
            && fs::set_permissions(path, fs::Permissions::from_mode(mode)).is_ok();
        if done {
            self.fixed.push(format!("  {}: {why}", path.display()));
        } else {
            self.problems.push(format!(
                "{}: {why} — fix: chmod {:04o} {}",
                path.display(),
                mode,
                os::sh_path(path)
            ));
        }
    }
}

/// Makes `path` read-only to group and others, and reports an agent owner.
fn read_only(ctx: &Context, out: &mut Outcome, path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.file_type().is_symlink() {
        return;
    }
    let owner = crate::users::user_by_uid(meta.uid())
        .map(|u| u.name)
        .unwrap_or_else(|| meta.uid().to_string());
    if meta.uid() != 0 && ctx.is_agent_name(&owner) {
        let human = ctx.human_name().unwrap_or_else(|| "<human>".into());
        out.problems.push(format!(
            "{}: owned by agent user '{owner}', who can rewrite it — inspect it (git runs hooks and reads config as whoever runs git), then: sudo chown {} {}",
            path.display(),
            os::sh_quote(&human),
            os::sh_path(path)
        ));
        return;
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        out.chmod(
            ctx,
            path,
            &meta,
            mode & !0o022,
            "writable by the group or others (the agent could change what git or htrac runs or reads)",
        );
    }
}

/// Adds the sticky bit to a group-writable directory.
fn sticky(ctx: &Context, out: &mut Outcome, dir: &Path) {
    let Ok(meta) = fs::metadata(dir) else { return };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        out.chmod(
            ctx,
            dir,
            &meta,
            mode | 0o1000,
            "group-writable without the sticky bit (the agent could rename the human's files away)",
        );
    }
}

/// Check `agent_guard` (two-user only).
pub fn agent_guard(ctx: &mut Context) -> Check {
    let name = "agent_guard";
    if ctx.shared.is_none() {
        return Check::ok(name, "Agent guard skipped (single-user setup)");
    }
    let mut out = Outcome::default();
    if let Some(gd) = ctx.git_dir.clone() {
        git_paths(ctx, &mut out, &gd);
    }
    tracker_paths(ctx, &mut out);
    if !out.problems.is_empty() {
        let n = out.problems.len();
        let mut details = out.problems;
        if !out.fixed.is_empty() {
            details.push(format!("Fixed {} path(s):", out.fixed.len()));
            details.extend(capped(out.fixed));
        }
        return Check::new(
            name,
            Status::Error,
            format!(
                "{n} path{} the agent could use to act with the human's authority",
                if n == 1 { "" } else { "s" }
            ),
        )
        .with(details);
    }
    if !out.fixed.is_empty() {
        return Check::new(
            name,
            Status::Fixed,
            format!(
                "Put {} path(s) out of the agent's reach (config, hooks, sentinels)",
                out.fixed.len()
            ),
        )
        .with(capped(out.fixed));
    }
    Check::ok(
        name,
        "The agent can write none of git's or htrac's configuration, hooks or sentinels",
    )
}

/// At most 12 lines, then a count of the rest.
fn capped(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > 12 {
        let more = lines.len() - 12;
        lines.truncate(12);
        lines.push(format!("  ... and {more} more"));
    }
    lines
}

fn git_paths(ctx: &Context, out: &mut Outcome, gd: &Path) {
    sticky(ctx, out, gd);
    let mut paths = vec![gd.join("config"), gd.join("config.worktree")];
    let commondir = gd.join("commondir");
    let reftable = ctx
        .repo
        .as_deref()
        .and_then(|r| super::gitconfig::get(r, "extensions.refStorage"))
        .is_some_and(|v| v.eq_ignore_ascii_case("reftable"));
    if fs::symlink_metadata(&commondir).is_err() && reftable {
        // git's reftable backend cannot work with a "." commondir (two ref
        // stacks in one directory): the gap stays open, and is named.
        out.problems.push(format!(
            "{}: missing, and this repository uses the reftable ref format, which cannot take a '.' commondir — the agent could create one pointing git at its own configuration; use the files ref format (git refs migrate --ref-format=files) in a two-user set-up",
            commondir.display()
        ));
    } else if fs::symlink_metadata(&commondir).is_err() && !ctx.is_agent() {
        // A main repository has none; "." keeps git's common dir where it is.
        match fs::write(&commondir, ".\n")
            .and_then(|()| fs::set_permissions(&commondir, fs::Permissions::from_mode(0o644)))
        {
            Ok(()) => out.fixed.push(format!(
                "  {}: created ('.'), so the agent cannot create one pointing git elsewhere",
                commondir.display()
            )),
            Err(e) => out
                .problems
                .push(format!("{}: cannot create: {e}", commondir.display())),
        }
    } else if fs::symlink_metadata(&commondir).is_err() {
        out.problems.push(format!(
            "{}: missing — the agent could create one pointing git at its own configuration (run htrac setup as the human)",
            commondir.display()
        ));
    }
    paths.push(commondir);
    for d in protected_git_dirs(gd) {
        // Missing, the agent could create it in the sticky `.git/` (and, say,
        // `remotes/origin` or `info/attributes` in it): the human's, empty.
        if fs::symlink_metadata(&d).is_err() && !ctx.is_agent() {
            match fs::create_dir(&d)
                .and_then(|()| fs::set_permissions(&d, fs::Permissions::from_mode(0o2755)))
            {
                Ok(()) => out.fixed.push(format!(
                    "  {}: created (the human's), so the agent cannot create it",
                    d.display()
                )),
                Err(e) => out
                    .problems
                    .push(format!("{}: cannot create: {e}", d.display())),
            }
        }
        tree(&d, &mut paths);
    }
    if let Some(hooks) = super::hooks::hooks_dir(ctx).filter(|h| !h.starts_with(gd)) {
        tree(&hooks, &mut paths);
        if let Some(parent) = hooks.parent() {
            let swappable = fs::metadata(parent).is_ok_and(|m| {
                let mode = m.permissions().mode();
                mode & 0o022 != 0 && mode & 0o1000 == 0
            });
            if swappable {
                out.problems.push(format!(
                    "{}: core.hooksPath points here and its parent {} is group-writable, so the agent can put its own hooks in its place — in a two-user set-up keep hooks in .git/hooks: cp -p {}/* {}/ && git -C {} config --unset core.hooksPath",
                    hooks.display(),
                    parent.display(),
                    os::sh_path(&hooks),
                    os::sh_path(&gd.join("hooks")),
                    os::sh_path(&ctx.top())
                ));
            }
        }
    }
    for p in paths {
        read_only(ctx, out, &p);
    }
    index_link(ctx, out, gd);
}

/// `.git/index` → `shared/index`, in a group-writable, non-sticky `.git/shared/`.
fn index_link(ctx: &Context, out: &mut Outcome, gd: &Path) {
    let index = gd.join("index");
    let meta = fs::symlink_metadata(&index);
    if meta.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return;
    }
    if ctx.is_agent() {
        out.problems.push(format!(
            "{}: not yet a link into .git/shared/ — once the human owns it, the agent's git cannot replace it in the sticky .git/ (run htrac setup as the human)",
            index.display()
        ));
        return;
    }
    let shared = gd.join("shared");
    let moved = (|| -> std::io::Result<()> {
        fs::create_dir_all(&shared)?;
        if let Some(s) = &ctx.shared {
            let _ = std::os::unix::fs::chown(&shared, None, Some(s.gid));
        }
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o2775))?;
        if meta.is_ok() {
            fs::rename(&index, shared.join("index"))?;
        }
        std::os::unix::fs::symlink("shared/index", &index)
    })();
    match moved {
        Ok(()) => out.fixed.push(format!(
            "  {}: now a link to shared/index (both users can replace the index)",
            index.display()
        )),
        Err(e) => out.problems.push(format!(
            "{}: cannot move into shared/: {e}",
            index.display()
        )),
    }
}

fn tracker_paths(ctx: &Context, out: &mut Outcome) {
    let root = ctx.root.clone();
    sticky(ctx, out, &root);
    let mut paths = vec![root.join("tracker"), root.join("tracker-workspace")];
    tree(
        &root.join("tracker-workspace").join(".edit-mode"),
        &mut paths,
    );
    for tier in Tier::ALL {
        let dir = tier.dir(&root);
        let mut sentinels: Vec<PathBuf> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "frozen"))
            .collect();
        sentinels.sort();
        paths.extend(sentinels);
    }
    for p in paths {
        read_only(ctx, out, &p);
    }
    // The catalog the agent updates on --add-tag: present and group-writable.
    let catalog = crate::items::tags::catalog_path(&root);
    if !catalog.exists() && !ctx.is_agent() && root.join("tracker").is_dir() {
        let made = crate::items::tags::save(&root, &Default::default()).and_then(|()| {
            if let Some(s) = &ctx.shared {
                let _ = std::os::unix::fs::chown(&catalog, None, Some(s.gid));
            }
            fs::set_permissions(&catalog, fs::Permissions::from_mode(0o664)).map_err(Into::into)
        });
        match made {
            Ok(()) => out.fixed.push(format!(
                "  {}: created, group-writable (the agent records tags in it)",
                catalog.display()
            )),
            Err(e) => out.problems.push(format!("{}: {e}", catalog.display())),
        }
    }
}
