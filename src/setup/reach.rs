//! The two-user check that closes the loop: for each agent account in the
//! shared group, every path the agent must write — the tier directories,
//! the op files in them, the tag catalog, and git's object store, refs and
//! the index's directory — is writable *by that account*, judged from owner, group and
//! mode as the kernel would, with every directory above passable. The
//! other checks fix modes; this one proves the result, so setup never says
//! "All checks passed" while the agent's `--add-tag` would be refused.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{os, Check, Context, Status};
use crate::items::tiers::Tier;
use crate::users::User;

/// An account and the groups it acts with.
struct Account {
    user: User,
    groups: Vec<u32>,
}

impl Account {
    /// Whether the account has `bit` (4 read, 2 write, 1 execute) on a file
    /// with this metadata, as the kernel decides (owner, then group, then
    /// other; root passes).
    fn may(&self, meta: &fs::Metadata, bit: u32) -> bool {
        let mode = meta.permissions().mode();
        if self.user.uid == 0 {
            return true;
        }
        let class = if meta.uid() == self.user.uid {
            mode >> 6
        } else if self.groups.contains(&meta.gid()) {
            mode >> 3
        } else {
            mode
        };
        class & bit == bit
    }
}

/// What the agent must be able to write: `(path, is a directory)`.
fn needed(ctx: &Context) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for tier in Tier::ALL {
        let d = tier.dir(&ctx.root);
        if !d.is_dir() {
            continue;
        }
        out.push((d.clone(), true));
        let mut files: Vec<PathBuf> = fs::read_dir(&d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ops") && p.is_file())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (f, false)));
    }
    out.push((crate::items::tags::catalog_path(&ctx.root), false));
    if let Some(gd) = &ctx.git_dir {
        for d in ["objects", "refs", "refs/heads", "logs"] {
            let p = gd.join(d);
            if p.is_dir() {
                out.push((p, true));
            }
        }
        // git replaces the index by renaming a lock file over it: what must
        // be writable is the directory the index (or its link's target) is in.
        if let Some(dir) = fs::canonicalize(gd.join("index"))
            .ok()
            .and_then(|i| i.parent().map(Path::to_path_buf))
        {
            out.push((dir, true));
        }
    }
    out
}

/// The first directory on the way to `path` that `account` cannot pass.
fn barrier(account: &Account, path: &Path) -> Option<PathBuf> {
    let mut up: Vec<&Path> = path.ancestors().skip(1).collect();
    up.reverse();
    up.into_iter()
        .find(|a| fs::metadata(a).is_ok_and(|m| !account.may(&m, 1)))
        .map(Path::to_path_buf)
}

/// Why `account` cannot write `path` (its directories passable), if it cannot.
fn blocked(account: &Account, path: &Path, dir: bool) -> Option<String> {
    let Ok(m) = fs::metadata(path) else {
        return Some("missing (run 'htrac setup' as the human to create it)".into());
    };
    let bits = if dir { 3 } else { 2 };
    if account.may(&m, bits) {
        return None;
    }
    Some(format!(
        "{} {}:{} mode {:o}",
        if dir {
            "cannot create files in it:"
        } else {
            "cannot write it:"
        },
        crate::users::user_by_uid(m.uid()).map_or(m.uid().to_string(), |u| u.name),
        crate::users::group_label(m.gid()),
        m.permissions().mode() & 0o7777
    ))
}

/// The check.
pub fn agent_can_write(ctx: &mut Context) -> Check {
    let name = "agent_can_write";
    let Some(shared) = ctx.shared.clone() else {
        return Check::ok(
            name,
            "Single-user setup (nothing to prove for a second user)",
        );
    };
    let agents: Vec<Account> = crate::users::members_of(shared.gid)
        .into_iter()
        .filter(|u| ctx.is_agent_name(&u.name))
        .map(|user| Account {
            groups: crate::users::groups_of(&user),
            user,
        })
        .collect();
    if agents.is_empty() {
        return Check::new(
            name,
            Status::Warn,
            format!("No agent account is in group '{}'", shared.name),
        )
        .with([
            format!(
                "An agent user (a name matching {}) must be in the group to write items:",
                ctx.patterns().join(", ")
            ),
            format!(
                "  sudo usermod -aG {} AGENT_USER",
                os::sh_quote(&shared.name)
            ),
        ]);
    }
    let needed = needed(ctx);
    let mut details = Vec::new();
    let mut n = 0;
    for a in &agents {
        // One barrier above everything (a private home) says it all.
        let mut barriers: Vec<PathBuf> = Vec::new();
        for (path, dir) in &needed {
            let why = match barrier(a, path) {
                Some(b) if barriers.contains(&b) => continue,
                Some(b) => {
                    barriers.push(b.clone());
                    format!("cannot pass through {} (nothing below it is reachable; see home_traversable)", b.display())
                }
                None => match blocked(a, path, *dir) {
                    Some(why) => why,
                    None => continue,
                },
            };
            n += 1;
            details.push(format!("  {} → {}: {why}", a.user.name, path.display()));
        }
    }
    let who: Vec<&str> = agents.iter().map(|a| a.user.name.as_str()).collect();
    if details.is_empty() {
        return Check::ok(
            name,
            format!(
                "{} can write every tier, op file, the tag catalog and git's store",
                who.join(", ")
            ),
        );
    }
    details.push(format!(
        "Fix: run 'htrac setup' as the human (it fixes what it owns), or: sudo chgrp {g} PATH && sudo chmod g+rw PATH",
        g = os::sh_quote(&shared.name)
    ));
    Check::new(
        name,
        Status::Error,
        format!("The agent cannot write {n} path(s) it needs"),
    )
    .with(details)
}
