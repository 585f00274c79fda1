//! Setup's file checks: the git repository, the tracker's directories,
//! `.gitattributes` and `.gitignore` lines, the config template and the
//! human's `config.yaml`, the config's validity, who is running, whether
//! the existing item files compile, and the trust root (host configuration,
//! and a tracker config no agent could have written). Creating what is missing here
//! lays out the same tracker `htrac init` does, one reported fix at a time.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{gitconfig, os, Check, Context, Status};
use crate::config::{Config, DEFAULT_CONFIG_YAML};
use crate::items::tiers::Tier;
use crate::tracker::Tracker;

/// Check 1: is the tracker inside a git work tree git will open for us?
/// A repository owned by another user is added to `safe.directory`.
pub fn git_repo(ctx: &mut Context) -> Check {
    let name = "git_repo";
    let Some(repo) = ctx.repo.clone() else {
        return Check::new(name, Status::Warn, "Not inside a git repository").with([
            "Merges (merge=union), textconv diffs and the pre-commit hook need git.".to_string(),
            format!("To use them: cd {} && git init", os::sh_path(&ctx.top())),
        ]);
    };
    match gitconfig::git_dir(&repo) {
        Ok(dir) => {
            ctx.git_dir = Some(dir);
            Check::ok(name, "Git repository detected")
        }
        Err(err) if err.contains("dubious ownership") => {
            let owner = fs::metadata(&repo)
                .ok()
                .and_then(|m| crate::users::user_by_uid(m.uid()))
                .map(|u| u.name)
                .unwrap_or_else(|| "another user".into());
            let add = format!(
                "git config --global --add safe.directory {}",
                os::sh_path(&repo)
            );
            match gitconfig::add_safe_directory(&repo) {
                Ok(()) => match gitconfig::git_dir(&repo) {
                    Ok(dir) => {
                        ctx.git_dir = Some(dir);
                        Check::new(
                            name,
                            Status::Fixed,
                            format!("Git repository detected; owned by '{owner}', added to safe.directory (global git config)"),
                        )
                    }
                    Err(e) => Check::new(name, Status::Error, "git still refuses the repository")
                        .with([first_line(&e)]),
                },
                Err(e) => Check::new(
                    name,
                    Status::Error,
                    format!("git refuses the repository (owned by '{owner}') and safe.directory could not be set"),
                )
                .with([first_line(&e), format!("Fix with: {add}")]),
            }
        }
        Err(err) => Check::new(name, Status::Error, "git cannot read the repository").with([
            first_line(&err),
            format!("Check it with: git -C {} status", os::sh_path(&repo)),
        ]),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// The tracker's directories, in creation order.
pub fn tracker_dirs(root: &Path) -> Vec<PathBuf> {
    vec![
        root.to_path_buf(),
        root.join("tracker"),
        Tier::Canonical.dir(root),
        Tier::Workspace.dir(root),
        Tier::Stealth.dir(root),
    ]
}

/// Check 2: the `.agent/` tree. In a two-user set-up new directories get
/// the shared group and mode 2775.
pub fn directory_structure(ctx: &mut Context) -> Check {
    let name = "directory_structure";
    let mut created = Vec::new();
    for d in tracker_dirs(&ctx.root) {
        if d.is_dir() {
            continue;
        }
        if let Err(e) = fs::create_dir_all(&d) {
            return Check::new(
                name,
                Status::Error,
                format!("Cannot create {}", d.display()),
            )
            .with([e.to_string()]);
        }
        if let Some(shared) = &ctx.shared {
            // Failures here are reported by group_permissions.
            let _ = std::os::unix::fs::chown(&d, None, Some(shared.gid));
            let _ = fs::set_permissions(&d, fs::Permissions::from_mode(0o2775));
        }
        created.push(d);
    }
    if created.is_empty() {
        return Check::ok(name, "Directory structure");
    }
    let n = created.len();
    Check::new(
        name,
        Status::Fixed,
        format!("Created {n} director{}", if n == 1 { "y" } else { "ies" }),
    )
    .with(
        created
            .iter()
            .map(|p| format!("  created: {}", p.display())),
    )
}

/// Whether `text` has `line` (compared with runs of blanks collapsed).
fn has_line(text: &str, line: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = norm(line);
    text.lines().any(|l| norm(l) == want)
}

/// Appends the `lines` missing from the file at `path` (creating it).
/// Returns whether it wrote.
fn ensure_lines(path: &Path, lines: &[String]) -> std::io::Result<bool> {
    let existing = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let missing: Vec<&String> = lines.iter().filter(|l| !has_line(&existing, l)).collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    fs::write(path, text)?;
    Ok(true)
}

/// Runs `ensure_lines` over several files; the check's verdict names the files fixed.
fn ensure_files(name: &'static str, what: &str, files: &[(PathBuf, Vec<String>)]) -> Check {
    let mut fixed = Vec::new();
    for (path, lines) in files {
        match ensure_lines(path, lines) {
            Ok(true) => fixed.push(path),
            Ok(false) => {}
            Err(e) => {
                return Check::new(
                    name,
                    Status::Error,
                    format!("{what} — cannot write {}", path.display()),
                )
                .with([
                    e.to_string(),
                    format!("Add these lines to it by hand: {}", lines.join(" | ")),
                ])
            }
        }
    }
    if fixed.is_empty() {
        return Check::ok(name, format!("{what} files"));
    }
    let n = fixed.len();
    Check::new(
        name,
        Status::Fixed,
        format!("{what} — fixed {n} file{}", if n == 1 { "" } else { "s" }),
    )
    .with(fixed.iter().map(|p| format!("  updated: {}", p.display())))
}

/// The tracker root relative to the repository top, `/`-separated (`.agent`).
pub fn root_in_repo(ctx: &Context) -> Option<String> {
    let rel = ctx.root.strip_prefix(ctx.repo.as_ref()?).ok()?;
    Some(rel.to_string_lossy().into_owned())
}

/// Check 3: op files merge by union and diff through the `tracker` driver:
/// `*.ops merge=union` and `*.ops diff=tracker` in each committed tier's
/// `.gitattributes`, and the repository-root lines for the same paths.
pub fn gitattributes(ctx: &mut Context) -> Check {
    let tier_lines = vec![
        "*.ops merge=union".to_string(),
        "*.ops diff=tracker".to_string(),
    ];
    let mut files: Vec<(PathBuf, Vec<String>)> = [Tier::Canonical, Tier::Workspace]
        .iter()
        .map(|t| (t.dir(&ctx.root).join(".gitattributes"), tier_lines.clone()))
        .collect();
    if let (Some(repo), Some(rel)) = (&ctx.repo, root_in_repo(ctx)) {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        files.push((
            repo.join(".gitattributes"),
            vec![
                format!("{prefix}tracker/.ops/.*.ops             linguist-generated  merge=union  diff=tracker"),
                format!("{prefix}tracker-workspace/.ops/.*.ops   linguist-generated  merge=union  diff=tracker"),
            ],
        ));
    }
    ensure_files("gitattributes", ".gitattributes", &files)
}

/// Check 4: the human's `config.yaml` and stealth items stay out of git.
pub fn gitignore(ctx: &mut Context) -> Check {
    let files = vec![
        (
            ctx.root.join("tracker").join(".gitignore"),
            vec!["config.yaml".to_string()],
        ),
        (
            Tier::Stealth.dir(&ctx.root).join(".gitignore"),
            vec!["*.ops".to_string()],
        ),
    ];
    ensure_files("gitignore", ".gitignore", &files)
}

/// Check 5: the tracked template (`config.yaml.template`), from the built-in defaults.
pub fn config_template(ctx: &mut Context) -> Check {
    let name = "config_template";
    let path = ctx.template_path();
    if path.exists() {
        return Check::ok(name, "config.yaml.template found");
    }
    match fs::write(&path, DEFAULT_CONFIG_YAML) {
        Ok(()) => Check::new(
            name,
            Status::Fixed,
            "config.yaml.template created from built-in defaults",
        ),
        Err(e) => Check::new(
            name,
            Status::Error,
            format!("Cannot create {}", path.display()),
        )
        .with([e.to_string()]),
    }
}

/// Check 6: the human's `config.yaml` exists (copied from the template,
/// mode 0444). An agent does not create it: the file would be the agent's.
pub fn config_yaml(ctx: &mut Context) -> Check {
    let name = "config_yaml";
    let path = ctx.config_path();
    if path.exists() {
        return Check::ok(name, "config.yaml");
    }
    if ctx.is_agent() {
        let human = ctx.human_name().unwrap_or_else(|| "<human>".into());
        return Check::new(
            name,
            Status::Warn,
            "config.yaml not found (an agent does not create the human's config)",
        )
        .with([
            "htrac reads config.yaml.template until then.".to_string(),
            "As the human, run:".to_string(),
            format!(
                "  sudo -u {human} htrac setup --root {}",
                os::sh_path(&ctx.root)
            ),
        ]);
    }
    let copied = match fs::read(ctx.template_path()) {
        Ok(bytes) => fs::write(&path, bytes),
        Err(_) => fs::write(&path, DEFAULT_CONFIG_YAML),
    }
    .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(0o444)));
    match copied {
        Ok(()) => Check::new(
            name,
            Status::Fixed,
            "config.yaml — copied from template (read-only, 0444)",
        ),
        Err(e) => Check::new(
            name,
            Status::Error,
            format!("Cannot create {}", path.display()),
        )
        .with([e.to_string()]),
    }
}

/// Check 7: the configuration htrac will read is valid.
pub fn config_validation(ctx: &mut Context) -> Check {
    let name = "config_validation";
    // Ownership is `trust_root`'s (after the ownership fixes).
    match Config::load_unchecked(&ctx.root) {
        Ok(c) => {
            let from = match &c.source {
                crate::config::Source::File(p) => p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                crate::config::Source::Defaults => "built-in defaults".into(),
            };
            Check::ok(name, format!("Config validation passed ({from})"))
        }
        Err(e) => {
            let file = e
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the config".into());
            Check::new(
                name,
                Status::Error,
                format!("Config validation failed: {e}"),
            )
            .with([
                format!(
                    "Fix '{}' in {file} (see config.yaml.template for the format).",
                    e.key
                ),
                "config.yaml is read-only: the human edits it with chmod u+w, then chmod 444."
                    .to_string(),
            ])
        }
    }
}

/// Check 8: who is running. An agent is expected in a two-user set-up;
/// on a single-user box it is worth a warning.
pub fn actor_resolution(ctx: &mut Context) -> Check {
    let name = "actor_resolution";
    let user = &ctx.me.name;
    if !ctx.is_agent() {
        return Check::ok(name, format!("Actor resolution: '{user}' is human"));
    }
    let blocked = "Human-only commands (lock, freeze, stealth, delete, discuss --clear, fork-setup) are refused.";
    if ctx.shared.is_some() {
        return Check::ok(
            name,
            format!("Actor resolution: '{user}' is the agent account (two-user setup)"),
        )
        .with([blocked, "Run those from the human account."]);
    }
    Check::new(
        name,
        Status::Warn,
        format!("Current user '{user}' matches an agent pattern"),
    )
    .with([
        blocked.to_string(),
        "No shared group was detected, so this looks like a single-user set-up".to_string(),
        "under an agent-shaped user name. If that is wrong, the human edits".to_string(),
        format!(
            "actor_resolution.agent_usernames in {}",
            ctx.config_path().display()
        ),
    ])
}

/// Check 15: every item file compiles.
pub fn existing_data(ctx: &mut Context) -> Check {
    let name = "existing_data";
    let tracker = match Tracker::open(&ctx.root) {
        Ok(t) => t,
        Err(_) => {
            return Check::ok(
                name,
                "Data check skipped (the config is invalid; see config_validation)",
            )
        }
    };
    let files = match tracker.files() {
        Ok(f) => f,
        Err(e) => {
            return Check::new(name, Status::Error, "Cannot list the item files")
                .with([e.to_string()])
        }
    };
    if files.is_empty() {
        return Check::ok(name, "No existing data to check");
    }
    let snap = match tracker.snapshot() {
        Ok(s) => s,
        Err(e) => {
            return Check::new(name, Status::Error, "Cannot read the item files")
                .with([e.to_string()])
        }
    };
    let mut details = Vec::new();
    for b in snap.broken.iter().take(10) {
        details.push(format!(
            "  {} [{}]: {}",
            b.file.id,
            b.file.tier.as_str(),
            b.error
        ));
    }
    if snap.broken.len() > 10 {
        details.push(format!("  ... and {} more", snap.broken.len() - 10));
    }
    for w in snap.warnings.iter().take(10) {
        details.push(format!("  {w}"));
    }
    if !snap.broken.is_empty() {
        details
            .push("Inspect one with 'htrac log ID'; 'htrac validate' lists every problem.".into());
        return Check::new(
            name,
            Status::Error,
            format!(
                "{} of {} item file(s) cannot be read",
                snap.broken.len(),
                files.len()
            ),
        )
        .with(details);
    }
    if !snap.warnings.is_empty() {
        return Check::new(
            name,
            Status::Warn,
            format!("{} item file(s) read, with warnings", files.len()),
        )
        .with(details);
    }
    Check::ok(
        name,
        format!("Existing data: {} item file(s) compile", files.len()),
    )
}

/// The last check: the host configuration (`/etc/htrac/config.yaml`, see
/// [`crate::governance::trustroot`]) is trusted, or absent (advised in a two-user
/// set-up), and the tracker's config is one no agent could have written.
pub fn trust_root(ctx: &mut Context) -> Check {
    use crate::governance::trustroot::{load_system, system_paths, SYSTEM_CONFIG};
    let name = "trust_root";
    let sys = match load_system(&system_paths()) {
        Ok(s) => s,
        Err(e) => {
            let p = e
                .file
                .as_deref()
                .map(os::sh_path)
                .unwrap_or_else(|| SYSTEM_CONFIG.into());
            return Check::new(
                name,
                Status::Error,
                format!("Host configuration refused: {e}"),
            )
            .with([
                "htrac refuses to run until it is fixed. As root:".to_string(),
                format!("  sudo chown root:root {p} && sudo chmod 644 {p}"),
                "  (and every directory above it: owned by root, not group- or world-writable)"
                    .to_string(),
            ]);
        }
    };
    if let Err(e) = Config::load(&ctx.root) {
        if e.key == "(ownership)" {
            return Check::new(
                name,
                Status::Error,
                format!("Tracker config refused: {}", e.message),
            )
            .with([format!(
                "File: {}",
                e.file.as_deref().map(os::sh_path).unwrap_or_default()
            )]);
        }
    }
    match sys {
        Some(s) => Check::ok(
            name,
            format!(
                "Host configuration in force ({}): agent patterns {:?}, signing {}",
                s.files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                s.agent_usernames,
                s.authority.signing.as_str()
            ),
        ),
        None if ctx.shared.is_some() => {
            let pats: Vec<String> = ctx.patterns().iter().map(|p| format!("\"{p}\"")).collect();
            Check::new(
                name,
                Status::Warn,
                format!("No host configuration ({SYSTEM_CONFIG}): who is an agent rests on the tracker's config"),
            )
            .with([
                "A root-owned host file keeps the agent patterns in force whatever the repository holds.".to_string(),
                "As root:".to_string(),
                "  sudo mkdir -p /etc/htrac && sudo chmod 755 /etc/htrac".to_string(),
                format!(
                    "  printf 'actor_resolution:\\n  agent_usernames: [{}]\\n' | sudo tee {SYSTEM_CONFIG} >/dev/null && sudo chmod 644 {SYSTEM_CONFIG}",
                    pats.join(", ")
                ),
            ])
        }
        None => Check::ok(
            name,
            format!("No host configuration ({SYSTEM_CONFIG}); optional on a single-user machine"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_compare_without_spacing() {
        assert!(has_line("a  b\n", "a b"));
        assert!(!has_line("config.yaml.template\n", "config.yaml"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".gitignore");
        fs::write(&p, "x").unwrap();
        assert!(ensure_lines(&p, &["y".into()]).unwrap());
        assert!(!ensure_lines(&p, &["y".into(), "x".into()]).unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "x\ny\n");
    }
}
