//! Setup's ownership and mode checks: the human owns `config.yaml` and it
//! is read-only; in a two-user set-up the other user can reach the
//! repository, and the shared directories (tier directories, `.git`) carry
//! the shared group, group write and setgid. What this user owns is fixed;
//! the rest is printed as `sudo` commands naming the group.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{os, Check, Context, Shared, Status};
use crate::items::tiers::Tier;

/// Finds the shared group (see the module docs of [`super`]).
pub fn detect_shared(root: &Path, repo: Option<&Path>, me: &crate::users::User) -> Option<Shared> {
    let mut probes: Vec<PathBuf> = Tier::ALL.iter().map(|t| t.dir(root)).collect();
    probes.push(root.join("tracker"));
    probes.push(root.join("tracker-workspace"));
    probes.push(root.to_path_buf());
    probes.extend(repo.map(Path::to_path_buf));
    let metas: Vec<(PathBuf, fs::Metadata)> = probes
        .into_iter()
        .filter_map(|p| fs::metadata(&p).ok().map(|m| (p, m)))
        .collect();
    let shared = |(p, m): &(PathBuf, fs::Metadata)| Shared {
        gid: m.gid(),
        name: crate::users::group_label(m.gid()),
        evidence: p.clone(),
    };
    metas
        .iter()
        .find(|(_, m)| m.gid() != me.gid)
        .or_else(|| metas.iter().find(|(_, m)| m.uid() != me.uid))
        .map(shared)
}

/// The commands that give the tracker's shared directories and `.git` to `group`.
pub fn group_fix_commands(ctx: &Context, group: &str) -> Vec<String> {
    let q = os::sh_path;
    let tracker = ctx.root.join("tracker");
    let ws = ctx.root.join("tracker-workspace");
    let tiers: Vec<String> = Tier::ALL.iter().map(|t| q(&t.dir(&ctx.root))).collect();
    let tiers = tiers.join(" ");
    let g = os::sh_quote(group);
    // Only the tier directories and their op logs are group-writable:
    // config.yaml's directory, the edit-mode log's directory and freeze
    // sentinels stay the human's.
    let mut lines = vec![
        format!("  sudo chgrp -R {g} {} {}", q(&tracker), q(&ws)),
        format!("  sudo chmod g+rxs,g-w {} {}", q(&tracker), q(&ws)),
        format!("  sudo chmod g+rwxs,+t {tiers}"),
        format!("  sudo find {tiers} -name '*.ops' -exec chmod g+rw {{}} +"),
    ];
    let git_dir = ctx
        .git_dir
        .clone()
        .or_else(|| ctx.repo.as_ref().map(|r| r.join(".git")));
    if let Some(gd) = git_dir.filter(|d| d.is_dir()) {
        lines.push(format!("  sudo chgrp -R {g} {}", q(&gd)));
        lines.push(format!("  sudo chmod -R g+rwX {}", q(&gd)));
        lines.push(format!(
            "  sudo find {} -type d -exec chmod g+s {{}} +",
            q(&gd)
        ));
        let protected: Vec<String> = ["config", "hooks", "info"]
            .iter()
            .map(|p| q(&gd.join(p)))
            .collect();
        lines.push(format!("  sudo chmod -R go-w {}", protected.join(" ")));
        lines.push(format!("  sudo chmod +t {}", q(&gd)));
        lines.push(
            "  (then run htrac setup as the human: it finishes what only it can, e.g. .git/index)"
                .into(),
        );
    }
    lines
}

fn owner_name(meta: &fs::Metadata) -> String {
    crate::users::user_by_uid(meta.uid())
        .map(|u| u.name)
        .unwrap_or_else(|| meta.uid().to_string())
}

/// Replaces `path` by a copy this user owns, with `mode` (same directory, atomic rename).
fn take_over(path: &Path, mode: u32) -> std::io::Result<()> {
    let bytes = fs::read(path)?;
    crate::atomic::replace(path, &bytes, mode)
}

/// Check 10: the human owns `config.yaml` (governance is the human's): one
/// an agent owns is taken back, and so is one another (non-agent) user owns,
/// such as root after a `sudo htrac init`.
pub fn config_ownership(ctx: &mut Context) -> Check {
    let name = "config_ownership";
    let path = ctx.config_path();
    let Ok(meta) = fs::metadata(&path) else {
        return Check::ok(name, "Config ownership check skipped (no config.yaml yet)");
    };
    let owner = owner_name(&meta);
    let owner_is_agent = ctx.is_agent_name(&owner);
    if !owner_is_agent && (owner == ctx.me.name || ctx.is_agent()) {
        return Check::ok(name, format!("config.yaml owned by human user '{owner}'"));
    }
    let p = os::sh_path(&path);
    if ctx.is_agent() {
        let human = ctx.human_name().unwrap_or_else(|| "<human>".into());
        return Check::new(
            name,
            Status::Warn,
            format!("config.yaml is owned by the agent user '{owner}'"),
        )
        .with([
            "The config is governance and belongs to the human. As the human, run:".to_string(),
            format!("  sudo chown {human} {p} && sudo chmod 444 {p}"),
        ]);
    }
    let mode = meta.permissions().mode() & 0o7777;
    let fixed =
        std::os::unix::fs::chown(&path, Some(ctx.me.uid), None).or_else(|_| take_over(&path, mode));
    // Another non-agent user's (root's, after a `sudo htrac init`, say): the
    // human running setup takes it over, as the reference does.
    let whose = if owner_is_agent { "agent" } else { "user" };
    match fixed {
        Ok(()) => Check::new(
            name,
            Status::Fixed,
            format!(
                "config.yaml ownership — taken from {whose} '{owner}' by '{}'",
                ctx.me.name
            ),
        ),
        Err(e) if !owner_is_agent => Check::new(
            name,
            Status::Warn,
            format!(
                "config.yaml is owned by the user '{owner}', not by you, and cannot be taken over"
            ),
        )
        .with([
            e.to_string(),
            format!("Fix with: sudo chown {} {p}", os::sh_quote(&ctx.me.name)),
        ]),
        Err(e) => Check::new(
            name,
            Status::Error,
            format!("config.yaml is owned by the agent user '{owner}' and cannot be taken back"),
        )
        .with([
            e.to_string(),
            format!("Fix with: sudo chown {} {p}", os::sh_quote(&ctx.me.name)),
        ]),
    }
}

/// Check 10b: `config.yaml` is read-only (0444).
pub fn config_permissions(ctx: &mut Context) -> Check {
    let name = "config_permissions";
    let path = ctx.config_path();
    let Ok(meta) = fs::metadata(&path) else {
        return Check::ok(
            name,
            "Config permissions check skipped (no config.yaml yet)",
        );
    };
    let mode = meta.permissions().mode() & 0o7777;
    if mode == 0o444 {
        return Check::ok(name, "config.yaml is read-only (0444)");
    }
    let p = os::sh_path(&path);
    let can = !ctx.is_agent() && (meta.uid() == ctx.me.uid || ctx.me.uid == 0);
    if can && fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).is_ok() {
        return Check::new(
            name,
            Status::Fixed,
            format!("config.yaml permissions — {mode:04o} → 0444"),
        );
    }
    let who = if ctx.is_agent() {
        "As the human, run:"
    } else {
        "As its owner, run:"
    };
    Check::new(
        name,
        Status::Warn,
        format!("config.yaml is not read-only ({mode:04o}, want 0444)"),
    )
    .with([
        "The config is governance; read-only keeps in-place edits out.".to_string(),
        who.to_string(),
        format!("  chmod 444 {p}"),
    ])
}

/// Whether the other user of a two-user set-up can pass through `dir`.
fn traversable(meta: &fs::Metadata, shared: &Shared, me: u32) -> bool {
    let mode = meta.permissions().mode();
    mode & 0o001 != 0
        || (mode & 0o010 != 0 && meta.gid() == shared.gid)
        || (mode & 0o100 != 0 && meta.uid() != me && meta.uid() != 0)
}

/// Check 11 (two-user): the other user can reach the tracker through every
/// directory above it.
pub fn home_traversable(ctx: &mut Context) -> Check {
    let name = "home_traversable";
    let Some(shared) = ctx.shared.clone() else {
        return Check::ok(name, "Traversal check skipped (single-user setup)");
    };
    let mut dirs: Vec<PathBuf> = ctx.top().ancestors().map(Path::to_path_buf).collect();
    dirs.reverse();
    for d in [
        ctx.root.clone(),
        ctx.root.join("tracker"),
        ctx.root.join("tracker-workspace"),
    ] {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    let blocked: Vec<PathBuf> = dirs
        .into_iter()
        .filter(|d| {
            fs::metadata(d)
                .map(|m| !traversable(&m, &shared, ctx.me.uid))
                .unwrap_or(false)
        })
        .collect();
    if blocked.is_empty() {
        return Check::ok(
            name,
            "Every directory above the tracker is traversable by the other user",
        );
    }
    let mut details = vec![format!(
        "The other user (group '{}') cannot pass through:",
        shared.name
    )];
    details.extend(blocked.iter().map(|d| format!("  {}", d.display())));
    details.push("Fix with (as a user with sudo):".into());
    for d in &blocked {
        details.push(format!("  sudo chmod o+x {}", os::sh_path(d)));
    }
    details.push(format!(
        "or, to keep them private to the group: sudo chgrp {} DIR && sudo chmod g+x DIR",
        os::sh_quote(&shared.name)
    ));
    Check::new(
        name,
        Status::Warn,
        format!(
            "{} director{} block{} the other user",
            blocked.len(),
            if blocked.len() == 1 { "y" } else { "ies" },
            if blocked.len() == 1 { "s" } else { "" }
        ),
    )
    .with(details)
}

/// Every directory under `dir` (itself included).
fn dirs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                dirs_under(&e.path(), out);
            }
        }
    }
}

/// What a shared path lacks: the group, and mode bits (`want`).
fn missing(meta: &fs::Metadata, gid: u32, want: u32) -> (bool, u32) {
    (meta.gid() != gid, want & !meta.permissions().mode())
}

fn describe(path: &Path, wrong_group: bool, bits: u32, group: &str) -> String {
    let mut what = Vec::new();
    if wrong_group {
        what.push(format!("group is not '{group}'"));
    }
    if bits & 0o020 != 0 {
        what.push("no group write".into());
    }
    if bits & 0o040 != 0 {
        what.push("no group read".into());
    }
    if bits & 0o010 != 0 {
        what.push("no group search".into());
    }
    if bits & 0o2000 != 0 {
        what.push("no setgid".into());
    }
    if bits & 0o1000 != 0 {
        what.push("no sticky bit (the agent could rename the human's files)".into());
    }
    format!("{}: {}", path.display(), what.join(", "))
}

/// Check 12 (two-user): the tier directories and every directory of `.git`
/// but those [`super::guard`] keeps the human's have the shared group,
/// group write and setgid (the tier directories and `.git/` itself also the
/// sticky bit) (`tracker-workspace/`: the
/// group and setgid, group read, no group write); the op logs in the tier
/// directories are group read/write (freeze sentinels keep their 0444).
/// Paths this user owns are fixed.
pub fn group_permissions(ctx: &mut Context) -> Check {
    let name = "group_permissions";
    let Some(shared) = ctx.shared.clone() else {
        return Check::ok(
            name,
            "Single-user setup (no shared group on the tracker's directories)",
        );
    };
    let group = shared.name.clone();
    let mut problems = Vec::new();
    let am_root = ctx.me.uid == 0;
    if !am_root && !crate::users::process_in_group(shared.gid) {
        let listed = crate::users::group_by_gid(shared.gid)
            .map(|g| g.members.contains(&ctx.me.name))
            .unwrap_or(false);
        problems.push(if listed {
            format!(
                "user '{}' is in group '{group}' but this session is not: log in again, or run: newgrp {}",
                ctx.me.name,
                os::sh_quote(&group)
            )
        } else {
            format!(
                "user '{}' is not in group '{group}': sudo usermod -aG {} {}",
                ctx.me.name,
                os::sh_quote(&group),
                os::sh_quote(&ctx.me.name)
            )
        });
    }
    // `tracker-workspace/` is traversed by both users but written only by
    // the human (it holds the edit-mode log); the tier directories are
    // shared. Only op logs are group-writable: freeze sentinels stay 0444.
    let ws = ctx.root.join("tracker-workspace");
    let mut targets: Vec<(PathBuf, u32)> = Vec::new();
    if ws.is_dir() {
        targets.push((ws.clone(), 0o2050));
    }
    let tier_dirs: Vec<PathBuf> = Tier::ALL.iter().map(|t| t.dir(&ctx.root)).collect();
    for d in tier_dirs.iter().filter(|d| d.is_dir()) {
        // Sticky: the agent removes or renames only its own files.
        targets.push((d.clone(), 0o3070));
        let mut files: Vec<PathBuf> = fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ops"))
            .collect();
        files.sort();
        targets.extend(files.into_iter().map(|f| (f, 0o060)));
    }
    let catalog = crate::items::tags::catalog_path(&ctx.root);
    if catalog.is_file() {
        targets.push((catalog, 0o060));
    }
    if let Some(gd) = ctx.git_dir.clone() {
        let mut git_dirs = Vec::new();
        dirs_under(&gd, &mut git_dirs);
        git_dirs.sort();
        // hooks/, info/, ... stay the human's (see `guard`); `.git/` is sticky.
        let protected = super::guard::protected_git_dirs(&gd);
        git_dirs.retain(|d| !protected.iter().any(|p| d.starts_with(p)));
        targets.extend(
            git_dirs
                .into_iter()
                .map(|d| (d.clone(), if d == gd { 0o3070 } else { 0o2070 })),
        );
    }
    let mut fixed = Vec::new();
    let mut unfixed = Vec::new();
    for (path, want) in targets {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let (wrong_group, bits) = missing(&meta, shared.gid, want);
        if !wrong_group && bits == 0 {
            continue;
        }
        let mine = meta.uid() == ctx.me.uid || am_root;
        let repaired = mine
            && (!wrong_group || std::os::unix::fs::chown(&path, None, Some(shared.gid)).is_ok())
            && {
                // chown may clear setgid; read the mode again.
                let mode = fs::symlink_metadata(&path)
                    .map(|m| m.permissions().mode())
                    .unwrap_or(meta.permissions().mode());
                fs::set_permissions(&path, fs::Permissions::from_mode((mode | want) & 0o7777))
                    .is_ok()
            };
        if repaired {
            fixed.push(path);
        } else {
            unfixed.push(describe(&path, wrong_group, bits, &group));
        }
    }
    problems.extend(unfixed);
    if !problems.is_empty() {
        let n = problems.len();
        let mut details: Vec<String> = problems.iter().take(10).cloned().collect();
        if n > 10 {
            details.push(format!("... and {} more", n - 10));
        }
        if !fixed.is_empty() {
            details.push(format!("Fixed {} path(s) this user owns.", fixed.len()));
        }
        details.push("Fix with (as a user with sudo):".into());
        details.extend(group_fix_commands(ctx, &group));
        return Check::new(
            name,
            Status::Error,
            format!(
                "Two-user group setup (group '{group}') has {n} problem{}",
                if n == 1 { "" } else { "s" }
            ),
        )
        .with(details);
    }
    if !fixed.is_empty() {
        let n = fixed.len();
        let mut details: Vec<String> = fixed
            .iter()
            .take(10)
            .map(|p| format!("  {}", p.display()))
            .collect();
        if n > 10 {
            details.push(format!("  ... and {} more", n - 10));
        }
        return Check::new(
            name,
            Status::Fixed,
            format!("Group permissions fixed on {n} path(s) (group '{group}', g+w, setgid)"),
        )
        .with(details);
    }
    Check::ok(
        name,
        format!("Two-user group setup is correct (group '{group}')"),
    )
}

/// Check 13: this user can write every tier directory.
pub fn ops_writable(ctx: &mut Context) -> Check {
    let name = "ops_writable";
    let not_writable: Vec<PathBuf> = Tier::ALL
        .iter()
        .map(|t| t.dir(&ctx.root))
        .filter(|d| d.exists() && rustix::fs::access(d, rustix::fs::Access::WRITE_OK).is_err())
        .collect();
    if not_writable.is_empty() {
        return Check::ok(name, "Tier directories are writable");
    }
    let n = not_writable.len();
    let mut details: Vec<String> = not_writable
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect();
    match &ctx.shared {
        Some(s) => {
            details.push("Fix with (as a user with sudo):".into());
            details.extend(group_fix_commands(ctx, &s.name));
        }
        None => {
            details.push("Fix with (as their owner):".into());
            details.extend(
                not_writable
                    .iter()
                    .map(|p| format!("  chmod u+w {}", os::sh_path(p))),
            );
        }
    }
    Check::new(
        name,
        Status::Error,
        format!(
            "{n} tier director{} not writable by '{}'",
            if n == 1 { "y is" } else { "ies are" },
            ctx.me.name
        ),
    )
    .with(details)
}
