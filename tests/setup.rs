//! `htrac setup` and `htrac fork-setup` against real git repositories: what
//! a first run fixes, that a second run changes no byte, the pre-commit
//! hook it installs, and (as root, with a real second OS user and a shared
//! group) the two-user checks and the agent's refusals.

mod common;
#[path = "setup/guard.rs"]
mod guard;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git_init, Env, Run};
use sha2::{Digest, Sha256};

/// A scratch repository whose git global config is a private file, so
/// setup's global fallbacks never touch the machine's.
struct Repo {
    env: Env,
    global: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let env = Env::bare();
        git_init(env.path());
        Repo {
            env,
            global: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.env.path()
    }

    fn root(&self) -> PathBuf {
        self.env.root()
    }

    fn global_config(&self) -> PathBuf {
        self.global.path().join("gitconfig")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.env.command(args);
        c.env("GIT_CONFIG_GLOBAL", self.global_config())
            // htrac is not on PATH here, so hooks and git use this binary's path.
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("htrac runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn setup_json(&self) -> (i32, serde_json::Value) {
        let r = self.run(&["--json", "setup"]);
        let code = r.code;
        (code, r.json())
    }

    fn git_cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", self.global_config())
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .output()
            .unwrap()
    }
}

/// Every path under `dir` with its mode, owner, group and content hash.
fn fingerprint(dir: &Path, extra: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        let content = if meta.is_file() {
            format!("{:x}", Sha256::digest(std::fs::read(p).unwrap()))
        } else {
            String::new()
        };
        out.insert(
            p.to_path_buf(),
            format!("{:o} {}:{} {content}", meta.mode(), meta.uid(), meta.gid()),
        );
        if meta.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    for e in extra {
        walk(e, &mut out);
    }
    out
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn details(c: &serde_json::Value) -> String {
    c["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

const CHECKS: [&str; 23] = [
    "git_repo",
    "directory_structure",
    "gitattributes",
    "gitignore",
    "config_template",
    "config_yaml",
    "config_validation",
    "actor_resolution",
    "config_ownership",
    "config_permissions",
    "home_traversable",
    "group_permissions",
    "shared_repository",
    "ops_writable",
    "textconv",
    "existing_data",
    "agents_md",
    "stop_hook",
    "precommit_hook",
    "journal_hooks",
    "hooks_path",
    "agent_guard",
    "trust_root",
];

#[test]
fn a_fresh_repository_is_set_up_and_a_second_run_changes_nothing() {
    let repo = Repo::new();
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    let names: Vec<String> = statuses(&first).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, CHECKS);
    for fixed in [
        "directory_structure",
        "gitattributes",
        "gitignore",
        "config_template",
        "config_yaml",
        "textconv",
        "precommit_hook",
        "journal_hooks",
        "agents_md",
    ] {
        assert_eq!(
            check(&first, fixed)["status"],
            "fixed",
            "{fixed}: {first:#}"
        );
    }
    assert_eq!(first["summary"]["fixed"], 9);
    assert_eq!(first["summary"]["error"], 0);

    // The layout is the tracker `init` makes, plus the diff driver.
    let root = repo.root();
    let config = root.join("tracker/config.yaml");
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert_eq!(
        std::fs::read(&config).unwrap(),
        std::fs::read(root.join("tracker/config.yaml.template")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n*.ops diff=tracker\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/stealth/.gitignore")).unwrap(),
        "*.ops\n"
    );
    let top = std::fs::read_to_string(repo.path().join(".gitattributes")).unwrap();
    assert!(
        top.contains(
            ".agent/tracker-workspace/.ops/.*.ops   linguist-generated  merge=union  diff=tracker"
        ),
        "{top}"
    );
    let driver = String::from_utf8(
        repo.git_cmd(&["config", "--local", "diff.tracker.textconv"])
            .stdout,
    )
    .unwrap();
    assert_eq!(driver.trim(), format!("{} textconv", common::bin()));
    // git sees the attributes on a real op-log path.
    let attrs = String::from_utf8(
        repo.git_cmd(&[
            "check-attr",
            "merge",
            "diff",
            "--",
            ".agent/tracker-workspace/.ops/.WI-x.ops",
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        attrs.contains("merge: union") && attrs.contains("diff: tracker"),
        "{attrs}"
    );

    // An item, so the data and driver checks have something to look at.
    repo.run(&["add", "--kind", "work_item", "--title", "first"])
        .ok();
    let extra = [repo.global_config()];
    let before = fingerprint(repo.path(), &extra);
    let (code, second) = repo.setup_json();
    assert_eq!(code, 0, "{second:#}");
    assert_eq!(second["summary"]["fixed"], 0, "{second:#}");
    assert_eq!(check(&second, "existing_data")["status"], "ok");
    assert_eq!(fingerprint(repo.path(), &extra), before);
    // And the plain report says the same.
    let text = repo.run(&["setup"]).ok().stdout;
    let rule = "-".repeat(47);
    assert!(
        text.starts_with(&format!("{rule}\n[ok]    Git repository detected\n")),
        "{text}"
    );
    assert!(text.contains("\n[warn]  No stop hook found\n"), "{text}");
    assert!(!text.contains("[fixed]"), "{text}");
    assert!(
        text.ends_with(&format!("{rule}\nSetup complete. {}.\n", {
            let w = second["summary"]["warn"].as_u64().unwrap();
            format!("{w} warning{}", if w == 1 { "" } else { "s" })
        })),
        "{text}"
    );
    assert_eq!(fingerprint(repo.path(), &extra), before);
}

#[test]
fn setup_after_init_adds_only_what_init_leaves_out() {
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "directory_structure")["status"], "ok");
    assert_eq!(check(&r, "config_yaml")["status"], "ok");
    assert_eq!(check(&r, "gitignore")["status"], "ok");
    // The tier files gain the diff line; the repository gets its root lines.
    assert_eq!(check(&r, "gitattributes")["status"], "fixed");
    // Found from a subdirectory too, with --root relative to it.
    let sub = repo.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let r = repo
        .command(&["--json", "setup", "--root", "../../.agent"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["summary"]["fixed"], 0, "{v:#}");
    let r = repo
        .command(&["--json", "setup"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["summary"]["fixed"], 0, "{v:#}");
    assert!(!sub.join(".agent").exists());
}

#[test]
fn problems_it_cannot_fix_are_errors_with_exit_1() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("scope: all", "scope: everything");
    std::fs::write(&config, text).unwrap();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 1);
    let c = check(&r, "config_validation");
    assert_eq!(c["status"], "error");
    assert!(
        c["message"].as_str().unwrap().contains("stop_hook.scope"),
        "{c}"
    );
    // The mode is still put back.
    assert_eq!(check(&r, "config_permissions")["status"], "fixed");
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );

    // A broken item file is an error naming the item.
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let id = id.trim();
    let path = repo.env.workspace_ops(id);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("- op: update\n  set: [unclosed\n");
    std::fs::write(&path, text).unwrap();
    let r = repo.run(&["setup"]).fails(1);
    assert!(
        r.stdout
            .contains("[error] 1 of 1 item file(s) cannot be read"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(id), "{}", r.stdout);
    assert!(r.stdout.contains(" 1 error.\n"), "{}", r.stdout);
}

#[test]
fn an_existing_pre_commit_hook_is_left_alone_with_the_line_to_add() {
    let repo = Repo::new();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nmake lint\n").unwrap();
    let (_, r) = repo.setup_json();
    let c = check(&r, "precommit_hook");
    assert_eq!(c["status"], "warn");
    assert!(
        details(c).contains("htrac --tracker-root .agent validate --check-locks $f || exit 1"),
        "{c}"
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nmake lint\n"
    );
}

#[test]
fn a_githooks_directory_gets_the_hook_and_core_hooks_path() {
    let repo = Repo::new();
    std::fs::create_dir(repo.path().join(".githooks")).unwrap();
    std::fs::write(
        repo.path().join(".githooks/agent-stop.sh"),
        "#!/bin/sh\n[ \"$(htrac count-todos)\" = 0 ]\n",
    )
    .unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "precommit_hook")["status"], "fixed");
    assert_eq!(check(&r, "hooks_path")["status"], "fixed");
    assert_eq!(check(&r, "stop_hook")["status"], "ok");
    let hook = repo.path().join(".githooks/pre-commit");
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    let hp = String::from_utf8(repo.git_cmd(&["config", "core.hooksPath"]).stdout).unwrap();
    assert_eq!(hp.trim(), ".githooks");
    let (_, r) = repo.setup_json();
    assert_eq!(r["summary"]["fixed"], 0, "{r:#}");

    // A stop hook that never asks the tracker is worth a warning.
    std::fs::write(repo.path().join(".githooks/agent-stop.sh"), "#!/bin/sh\n").unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "stop_hook")["status"], "warn");
    assert!(r.to_string().contains("htrac-hook stop"), "{r:#}");
    // A Claude Code Stop hook running htrac-hook is recognised.
    std::fs::create_dir(repo.path().join(".claude")).unwrap();
    std::fs::write(
        repo.path().join(".claude/settings.json"),
        r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "htrac-hook stop"}]}]}}"#,
    )
    .unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(check(&r, "stop_hook")["status"], "ok", "{r:#}");
}

/// Commits `path` (relative) in `repo`; the git output.
fn commit(repo: &Repo, path: &str, msg: &str) -> std::process::Output {
    let out = repo.git_cmd(&["add", "-f", path]);
    assert!(out.status.success());
    repo.git_cmd(&["commit", "-q", "-m", msg])
}

#[test]
fn the_pre_commit_hook_blocks_a_malformed_staged_op_log() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    // Nothing of the tracker staged: the hook stays out of the way.
    std::fs::write(repo.path().join("README"), "hello\n").unwrap();
    let out = commit(&repo, "README", "docs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let path = repo.env.workspace_ops(id.trim());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("this is not an op\n  - [\n");
    std::fs::write(&path, text).unwrap();
    let rel = path
        .strip_prefix(repo.path())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = commit(&repo, &rel, "bad op log");
    assert!(!out.status.success(), "the commit went through");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Tracker validation failed"), "{stderr}");
    let head = repo.git_cmd(&["log", "--format=%s", "-1"]);
    assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), "docs");
}

#[test]
fn the_pre_commit_hook_lets_a_valid_op_log_through() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let path = repo.env.workspace_ops(id.trim());
    let rel = path
        .strip_prefix(repo.path())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = commit(&repo, &rel, "tracker: add x");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fork_setup_sets_the_scope_keeping_the_humans_comments() {
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let config = repo.root().join("tracker/config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    let r = repo.run(&["fork-setup"]).ok();
    assert_eq!(r.stdout, "scope set to 'workspace'\n");
    let after = std::fs::read_to_string(&config).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed, [("  scope: all", "  scope: workspace")]);
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let c = htrac::config::Config::load(&repo.root()).unwrap();
    assert_eq!(c.scope, htrac::config::Scope::Workspace);
    // Again: nothing to do, same answer, same bytes.
    let r = repo.run(&["--json", "fork-setup"]).ok();
    assert_eq!(r.stdout, "{\"ok\": true, \"scope\": \"workspace\"}\n");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    // No config.yaml: it is made from the template first.
    std::fs::remove_file(&config).unwrap();
    repo.run(&["fork-setup"]).ok();
    let made = std::fs::read_to_string(&config).unwrap();
    assert_eq!(made, after);
}

// ---------------------------------------------------------------------------
// Two users: root is the human, a real OS user matching `*_agent` the agent.

const AGENT: &str = "htrac_setup_agent";
const GROUP: &str = "htrac_ci_shared";

fn sh(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Creates the shared group and the agent user (a member) once; `None` when not root.
fn two_users() -> Option<()> {
    if rustix::process::getuid().as_raw() != 0 {
        common::missing(
            &format!("root, to create the OS user {AGENT} and group {GROUP}"),
            "sudo make test",
        );
    }
    if !sh("getent", &["group", GROUP]) && !sh("groupadd", &[GROUP]) {
        assert!(sh("getent", &["group", GROUP]), "groupadd {GROUP} failed");
    }
    if !sh("id", &[AGENT])
        && !sh(
            "useradd",
            &["--create-home", "--shell", "/bin/sh", "-G", GROUP, AGENT],
        )
    {
        assert!(sh("id", &[AGENT]), "useradd {AGENT} failed");
    }
    if !String::from_utf8_lossy(
        &Command::new("id")
            .args(["-nG", AGENT])
            .output()
            .unwrap()
            .stdout,
    )
    .split_whitespace()
    .any(|g| g == GROUP)
    {
        assert!(sh("usermod", &["-aG", GROUP, AGENT]));
    }
    Some(())
}

struct Agent {
    global: PathBuf,
    cache: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn new() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let global = dir.path().join("gitconfig");
        std::fs::write(&global, "").unwrap();
        std::fs::set_permissions(&global, std::fs::Permissions::from_mode(0o666)).unwrap();
        Agent {
            global,
            cache: dir.path().join("cache"),
            _dir: dir,
        }
    }

    fn command(&self, repo: &Repo, args: &[&str]) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", AGENT, "--"])
            .args(args)
            .current_dir(repo.path())
            .env("GIT_CONFIG_GLOBAL", &self.global)
            .env("HTRAC_CACHE_DIR", &self.cache)
            .env("HTRAC_STATE_DIR", self.cache.join("state"))
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        c
    }

    fn run(&self, repo: &Repo, args: &[&str]) -> Run {
        let mut full = vec![common::bin()];
        full.extend_from_slice(args);
        let out = self.command(repo, &full).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn two_users_share_the_tracker_through_a_group() {
    if two_users().is_none() {
        return;
    }
    let repo = Repo::new();
    // A private directory above the repository, as a home directory often is.
    std::fs::set_permissions(repo.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    repo.run(&["init"]).ok();
    for p in [repo.root(), repo.path().join(".git")] {
        assert!(sh("chgrp", &["-R", GROUP, p.to_str().unwrap()]));
    }

    // The human's first run: group write and setgid on what root owns,
    // git told to share, and the private temp dir named as a barrier.
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "group_permissions")["status"], "fixed", "{r:#}");
    assert!(check(&r, "group_permissions")["message"]
        .as_str()
        .unwrap()
        .contains(GROUP));
    assert_eq!(check(&r, "shared_repository")["status"], "fixed");
    let home = check(&r, "home_traversable");
    assert_eq!(home["status"], "warn", "{home}");
    assert!(
        details(home).contains(&format!("sudo chmod o+x {}", repo.path().display())),
        "{home}"
    );
    for d in [
        ".agent/tracker/.ops",
        ".agent/tracker-workspace/.ops",
        ".agent/tracker-workspace/stealth",
        ".git",
        ".git/objects",
    ] {
        let m = std::fs::metadata(repo.path().join(d)).unwrap();
        assert_eq!(m.mode() & 0o2070, 0o2070, "{d}: {:o}", m.mode());
    }
    let shared =
        String::from_utf8(repo.git_cmd(&["config", "core.sharedRepository"]).stdout).unwrap();
    assert_eq!(shared.trim(), "group");

    std::fs::set_permissions(repo.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (_, r) = repo.setup_json();
    assert_eq!(r["summary"]["fixed"], 0, "{r:#}");
    // The stop hook, and no host configuration (advised in a two-user set-up).
    assert_eq!(r["summary"]["warn"], 2, "{r:#}");
    assert_eq!(check(&r, "trust_root")["status"], "warn", "{r:#}");

    // The agent: git distrusts a repository root owns until setup adds it
    // to safe.directory; everything else is already right.
    let agent = Agent::new();
    let r = agent.run(&repo, &["--json", "setup"]);
    let v = r.json();
    assert_eq!(r.code, 0, "{v:#}");
    assert_eq!(check(&v, "git_repo")["status"], "fixed", "{v:#}");
    assert_eq!(check(&v, "actor_resolution")["status"], "ok");
    assert!(check(&v, "actor_resolution")["message"]
        .as_str()
        .unwrap()
        .contains("agent account (two-user setup)"));
    assert_eq!(check(&v, "group_permissions")["status"], "ok", "{v:#}");
    let global = std::fs::read_to_string(&agent.global).unwrap();
    assert!(
        global.contains(&format!(
            "[safe]\n\tdirectory = {}\n",
            repo.path().display()
        )),
        "{global}"
    );
    let extra = [agent.global.clone()];
    let before = fingerprint(repo.path(), &extra);
    let v = agent.run(&repo, &["--json", "setup"]).json();
    assert_eq!(v["summary"]["fixed"], 0, "{v:#}");
    assert_eq!(fingerprint(repo.path(), &extra), before);
    // And the agent can write items there.
    agent
        .run(
            &repo,
            &["add", "--kind", "work_item", "--title", "agent work"],
        )
        .ok();

    // A directory the agent does not own loses group write: the agent
    // cannot fix it and is told the exact commands, naming the group.
    let ws = repo.root().join("tracker-workspace/.ops");
    let mode = std::fs::metadata(&ws).unwrap().mode();
    std::fs::set_permissions(&ws, std::fs::Permissions::from_mode(mode & !0o020 & 0o7777)).unwrap();
    let r = agent.run(&repo, &["setup"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "[error] Two-user group setup (group '{GROUP}') has"
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("{}: no group write", ws.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "sudo chgrp -R {GROUP} {} {}",
            repo.root().join("tracker").display(),
            repo.root().join("tracker-workspace").display()
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("-type d -exec chmod g+s {} +"),
        "{}",
        r.stdout
    );
    // ops_writable says the same from the agent's side.
    assert!(
        r.stdout
            .contains("[error] 1 tier directory is not writable by 'htrac_setup_agent'"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(" 2 errors.\n"), "{}", r.stdout);

    // fork-setup is the human's: refused, naming the rule, nothing changed.
    let before = fingerprint(repo.path(), &[]);
    let r = agent.run(&repo, &["fork-setup"]).fails(1);
    assert!(
        r.stderr.contains("fork-setup requires human authority"),
        "{}",
        r.stderr
    );
    assert_eq!(fingerprint(repo.path(), &[]), before);

    // On a terminal the agent is first told how to run setup as the human,
    // and declining changes nothing.
    if sh("script", &["--version"]) {
        let line = format!(
            "printf 'n\\n' | script -qec '{} setup' /dev/null",
            common::bin()
        );
        let out = agent.command(&repo, &["sh", "-c", &line]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("Continue as agent? [y/N]"), "{stdout}");
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(&format!("sudo -u root {} setup --root", common::bin())),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("sudo chgrp -R {GROUP}")),
            "{stdout}"
        );
        assert!(!stdout.contains("Setup complete"), "{stdout}");
        assert_eq!(fingerprint(repo.path(), &[]), before);
    } else {
        common::missing("script(1)", "apt-get install bsdutils");
    }
}

/// The managed AGENTS.md block: inserted once, refreshed in place, never
/// duplicated, the user's text kept byte for byte, CLAUDE.md handled too.
#[test]
fn agents_md_block_is_inserted_once_and_kept_current_in_place() {
    use htrac::setup::agentsmd::{block, BEGIN, END};
    let repo = Repo::new();
    let agents = repo.path().join("AGENTS.md");
    let claude = repo.path().join("CLAUDE.md");
    let user = "# Our agents\r\n\nRule one: be kind.\nNo trailing newline";
    std::fs::write(&agents, user).unwrap();
    // CLAUDE.md holds an older block between the user's own text.
    let (head, tail) = ("# Claude\n\nBefore.\n", "\nAfter, untouched.\n");
    std::fs::write(
        &claude,
        format!("{head}{BEGIN}\nan old version of the block\n{END}{tail}"),
    )
    .unwrap();
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    let c = check(&first, "agents_md");
    assert_eq!(c["status"], "fixed", "{c:#}");
    assert_eq!(c["details"].as_array().unwrap().len(), 2, "{c:#}");
    let b = block();
    assert_eq!(
        std::fs::read_to_string(&agents).unwrap(),
        format!("{user}\n\n{b}\n")
    );
    assert_eq!(
        std::fs::read_to_string(&claude).unwrap(),
        format!("{head}{b}{tail}")
    );

    // Run again: nothing changes; the user edits around the block, still nothing.
    let (_, second) = repo.setup_json();
    assert_eq!(check(&second, "agents_md")["status"], "ok");
    let edited = format!("{user}\n\n{b}\n\nMore rules below the block.\n");
    std::fs::write(&agents, &edited).unwrap();
    let (_, third) = repo.setup_json();
    assert_eq!(check(&third, "agents_md")["status"], "ok");
    assert_eq!(std::fs::read_to_string(&agents).unwrap(), edited);

    // A stale block (someone edited inside it) is replaced where it is.
    std::fs::write(&agents, edited.replace("htrac prime", "htrac PRIME")).unwrap();
    let (_, fourth) = repo.setup_json();
    assert_eq!(check(&fourth, "agents_md")["status"], "fixed");
    let now = std::fs::read_to_string(&agents).unwrap();
    assert_eq!(now, edited);
    assert_eq!(now.matches(BEGIN).count(), 1);
    assert_eq!(now.matches(END).count(), 1);
}

#[test]
fn agents_md_is_created_left_alone_when_unclear_and_can_be_turned_off() {
    use htrac::setup::agentsmd::{block, BEGIN};
    let repo = Repo::new();
    let agents = repo.path().join("AGENTS.md");
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(check(&first, "agents_md")["status"], "fixed");
    assert_eq!(
        std::fs::read_to_string(&agents).unwrap(),
        format!("{}\n", block())
    );
    // No CLAUDE.md is made when there is none.
    assert!(!repo.path().join("CLAUDE.md").exists());

    // Two begin markers: left alone, with a warning saying why.
    let doubled = format!("{BEGIN}\nx\n{BEGIN}\n");
    std::fs::write(&agents, &doubled).unwrap();
    let (_, r) = repo.setup_json();
    let c = check(&r, "agents_md");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(details(c).contains("there must be one of each"), "{c:#}");
    assert_eq!(std::fs::read_to_string(&agents).unwrap(), doubled);

    // The human opts out in the config: nothing is written any more.
    std::fs::remove_file(&agents).unwrap();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\nagents_md: false\n");
    std::fs::write(&config, &text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    let c = check(&r, "agents_md");
    assert_eq!(c["status"], "ok");
    assert!(c["message"].as_str().unwrap().contains("agents_md: false"));
    assert!(!agents.exists());
    // The key breaks nothing else: the config still validates.
    assert_eq!(check(&r, "config_validation")["status"], "ok", "{r:#}");
    repo.run(&["add", "--kind", "work_item", "--title", "still works"])
        .ok();
}
