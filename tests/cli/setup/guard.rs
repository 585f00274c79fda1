//! Issue 17, human authority that binds: the host trust root (ownership
//! checks, never widened by the tracker's config), a tracker root of
//! symbolic links refused, and `htrac setup` putting git's and htrac's
//! configuration, hooks and freeze sentinels out of the agent's reach — with
//! a real agent OS user trying.

use super::*;
use htrac::config::SigningMode;
use htrac::config::{Config, Source};
use htrac::governance::trustroot;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn host_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("config.yaml");
    std::fs::write(&p, text).unwrap();
    chmod(&p, 0o644);
    p
}

/// A host file is read only when no one but root (or a non-agent) can write
/// it or any directory above it.
#[test]
fn the_host_config_is_trusted_only_when_no_agent_can_write_it() {
    if two_users().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = host_file(
        dir.path(),
        "actor_resolution:\n  agent_usernames: [\"bot-*\"]\n",
    );
    let sys = trustroot::load_system(std::slice::from_ref(&p))
        .unwrap()
        .unwrap();
    assert_eq!(sys.agent_usernames, vec!["bot-*"]);
    assert_eq!(sys.files, vec![p.clone()]);

    chmod(&p, 0o664);
    let e = trustroot::load_system(std::slice::from_ref(&p)).unwrap_err();
    assert_eq!(e.key, "(ownership)");
    assert!(e.message.contains("writable by its group"), "{e}");
    chmod(&p, 0o644);

    // Owned by the agent user: refused, whatever the file says.
    assert!(sh("chown", &[AGENT, p.to_str().unwrap()]));
    let e = trustroot::load_system(std::slice::from_ref(&p)).unwrap_err();
    assert!(
        e.message
            .contains(&format!("owned by agent user '{AGENT}'")),
        "{e}"
    );
    assert!(sh("chown", &["root", p.to_str().unwrap()]));

    // A directory above it others can write (no sticky bit): refused.
    chmod(dir.path(), 0o777);
    let e = trustroot::load_system(std::slice::from_ref(&p)).unwrap_err();
    assert!(e.message.contains("without the sticky bit"), "{e}");
    chmod(dir.path(), 0o1777);
    assert!(trustroot::load_system(std::slice::from_ref(&p)).is_ok());

    // Keys other than actor_resolution and authority are refused.
    std::fs::write(&p, "statuses: [a]\n").unwrap();
    let e = trustroot::load_system(std::slice::from_ref(&p)).unwrap_err();
    assert_eq!(e.key, "statuses");
}

/// Agent patterns from the host are always in force; the signing mode is
/// the stricter; the host's allowed-signers file wins.
#[test]
fn the_tracker_config_cannot_widen_the_host_config() {
    let dir = tempfile::tempdir().unwrap();
    let p = host_file(
        dir.path(),
        "actor_resolution:\n  agent_usernames: [\"bot-*\"]\nauthority:\n  signing: warn\n  allowed_signers: /etc/htrac/allowed_signers\n",
    );
    let sys = trustroot::load_system(&[p]).unwrap().unwrap();
    let text = htrac::config::DEFAULT_CONFIG_YAML.replace("\"*_agent\"", "\"ci_*\"")
        + "\nauthority:\n  signing: off\n  allowed_signers: /tmp/mine\n";
    let mut c = Config::parse(&text, Source::Defaults).unwrap();
    assert_eq!(c.agent_usernames, vec!["ci_*"]);
    assert_eq!(c.authority.signing, SigningMode::Off);
    trustroot::apply(&mut c, Some(&sys)).unwrap();
    assert_eq!(c.agent_usernames, vec!["ci_*", "bot-*"]);
    assert_eq!(c.authority.signing, SigningMode::Warn);
    assert_eq!(
        c.authority.allowed_signers.as_deref(),
        Some(Path::new("/etc/htrac/allowed_signers"))
    );
    // A stricter tracker config stays stricter.
    let mut c = Config::parse(
        &(htrac::config::DEFAULT_CONFIG_YAML.to_string() + "\nauthority: {signing: required}\n"),
        Source::Defaults,
    )
    .unwrap();
    trustroot::apply(&mut c, Some(&sys)).unwrap();
    assert_eq!(c.authority.signing, SigningMode::Required);
    assert!(c.agent_usernames.contains(&"*_agent".to_string()));
}

/// End to end through `HTRAC_SYSTEM_CONFIG`: a host pattern makes root an
/// agent although the tracker's config does not; a host file that is not
/// protected stops every command.
#[test]
fn htrac_system_config_adds_patterns_and_is_checked() {
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .stdout;
    let id = id.trim().to_string();
    let host = tempfile::tempdir().unwrap();
    let p = host_file(
        host.path(),
        "actor_resolution:\n  agent_usernames: [root]\n",
    );
    let run = |args: &[&str]| {
        let out = repo
            .command(args)
            .env(trustroot::SYSTEM_CONFIG_ENV, &p)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["lock", &id, "status"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("requires human authority"), "{err}");
    chmod(&p, 0o666);
    let (code, err) = run(&["list"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a trusted host configuration"), "{err}");
    // Without the variable, root is human again.
    repo.run(&["lock", &id, "status"]).ok();
}

/// Attack 2: a tracker root of the agent's own, with a config that names no
/// agent, linking to (or hard-linking) the real items.
#[test]
fn a_fake_tracker_root_never_grants_human_authority() {
    if two_users().is_none() {
        return;
    }
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .stdout;
    let id = id.trim().to_string();
    repo.run(&["lock", &id, "status"]).ok();
    common::agent::open_up(repo.path());
    let fake_dir = tempfile::tempdir().unwrap();
    chmod(fake_dir.path(), 0o777);
    let fake = fake_dir.path().join(".agent");
    let real = repo.root();
    let script = format!(
        "set -e; mkdir -p {f}/tracker {f}/tracker-workspace; \
         sed 's/\"\\*_agent\"/\"nobody_at_all\"/' {r}/tracker/config.yaml > {f}/tracker/config.yaml; \
         ln -s {r}/tracker/.ops {f}/tracker/.ops; \
         ln -s {r}/tracker-workspace/.ops {f}/tracker-workspace/.ops; \
         ln -s {r}/tracker-workspace/stealth {f}/tracker-workspace/stealth",
        f = fake.display(),
        r = real.display()
    );
    let agent = Agent::new();
    assert!(agent
        .command(&repo, &["sh", "-c", &script])
        .status()
        .unwrap()
        .success());
    let before = fingerprint(&real, &[]);
    let root_flag = fake.to_str().unwrap();
    let r = agent.run(
        &repo,
        &["--tracker-root", root_flag, "unlock", &id, "status"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    let r = agent.run(
        &repo,
        &[
            "--tracker-root",
            root_flag,
            "update",
            &id,
            "--status",
            "done",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(fingerprint(&real, &[]), before);
    // Root is refused the same way: no tracker of symlinked tiers.
    let r = repo.run(&["--tracker-root", root_flag, "list"]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    // Real directories, hard links to the real op file: the config is the
    // agent's, so the agent stays an agent.
    let ops = repo
        .root()
        .join(format!("tracker-workspace/.ops/.{id}.ops"));
    let script = format!(
        "set -e; rm {f}/tracker/.ops {f}/tracker-workspace/.ops {f}/tracker-workspace/stealth; \
         mkdir {f}/tracker/.ops {f}/tracker-workspace/.ops {f}/tracker-workspace/stealth; \
         ln {o} {f}/tracker-workspace/.ops/",
        f = fake.display(),
        o = ops.display()
    );
    assert!(agent
        .command(&repo, &["sh", "-c", &script])
        .status()
        .unwrap()
        .success());
    let r = agent.run(
        &repo,
        &["--tracker-root", root_flag, "unlock", &id, "status"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("requires human authority"),
        "{}",
        r.stderr
    );
    assert_eq!(fingerprint(&real, &[]), before);
    // And root will not take governance from a config the agent owns.
    let r = repo.run(&["--tracker-root", root_flag, "list"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("an agent could have written"),
        "{}",
        r.stderr
    );
}

/// The README's loose two-user set-up (`chmod -R g+rwX`): setup names each
/// path the agent could use and why, fixes what the human owns, refuses to
/// take over a hook the agent planted, and afterwards the agent can neither
/// run code as the human nor lift a freeze — while its own work goes on.
#[test]
fn setup_puts_git_and_htrac_configuration_out_of_the_agents_reach() {
    if two_users().is_none() {
        return;
    }
    let repo = Repo::new();
    chmod(repo.path(), 0o2775);
    repo.run(&["init"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "frozen"])
        .stdout;
    let id = id.trim().to_string();
    repo.run(&["freeze", &id]).ok();
    let top = repo.path().to_str().unwrap();
    assert!(sh("chgrp", &["-R", GROUP, top]));
    assert!(sh("chmod", &["-R", "g+rwX", top]));
    assert!(sh(
        "sh",
        &["-c", &format!("find {top} -type d -exec chmod g+s {{}} +")]
    ));
    let agent = Agent::new();
    std::fs::write(&agent.global, "[safe]\n\tdirectory = *\n").unwrap();
    let git_dir = repo.path().join(".git");
    // The agent plants a hook while it still can.
    let hook = git_dir.join("hooks/post-checkout");
    let plant = format!(
        "printf '#!/bin/sh\\n' > {} && chmod 755 {0}",
        hook.display()
    );
    assert!(agent
        .command(&repo, &["sh", "-c", &plant])
        .status()
        .unwrap()
        .success());

    let (code, r) = repo.setup_json();
    assert_eq!(code, 1, "{r:#}");
    let guard = check(&r, "agent_guard");
    assert_eq!(guard["status"], "error", "{guard:#}");
    let text = details(guard);
    assert!(
        text.contains(&format!(
            "{}: owned by agent user '{AGENT}'",
            hook.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: writable by the group or others",
            git_dir.join("config").display()
        )),
        "{text}"
    );
    assert!(text.contains(".git/hooks: writable by the group"), "{text}");
    assert!(text.contains("Fixed 27 path(s):"), "{text}");
    // The planted hook is reported, not taken over.
    assert_eq!(
        std::fs::metadata(&hook).unwrap().uid(),
        htrac::users::user_by_name(AGENT).unwrap().uid
    );
    std::fs::remove_file(&hook).unwrap();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "agent_guard")["status"], "ok", "{r:#}");
    let (_, again) = repo.setup_json();
    assert_eq!(again["summary"]["fixed"], 0, "{again:#}");

    for p in [".git/config", ".git/hooks", ".git/info", ".agent/tracker"] {
        assert_eq!(mode(&repo.path().join(p)) & 0o022, 0, "{p}");
    }
    for p in [
        ".git",
        ".agent/tracker/.ops",
        ".agent/tracker-workspace/.ops",
    ] {
        assert_eq!(
            mode(&repo.path().join(p)) & 0o1020,
            0o1020,
            "{p} sticky, g+w"
        );
    }
    assert_eq!(
        std::fs::read_link(git_dir.join("index")).unwrap(),
        Path::new("shared/index")
    );
    assert_eq!(
        std::fs::read_to_string(git_dir.join("commondir")).unwrap(),
        ".\n"
    );
    let catalog = repo.root().join("tracker/tag_catalog.yaml");
    assert_eq!(mode(&catalog), 0o664);

    // The attacks, as the agent.
    let sentinel = repo
        .root()
        .join(format!("tracker-workspace/.ops/.{id}.frozen"));
    let attacks = [
        format!("git -c safe.directory='*' -C {top} config core.fsmonitor /tmp/evil"),
        format!("echo '[core] fsmonitor = /tmp/evil' >> {top}/.git/config"),
        format!("mv {top}/.git/config {top}/.git/config.old"),
        format!("mv {top}/.git/hooks {top}/.git/hooks.old"),
        format!("echo /tmp > {top}/.git/commondir"),
        format!("printf '#!/bin/sh\\n' > {top}/.git/hooks/pre-commit"),
        format!("rm -f {}", sentinel.display()),
        format!("mv {0} {0}.old", sentinel.display()),
        format!(
            "mv {0}/tracker/config.yaml {0}/tracker/config.old",
            repo.root().display()
        ),
        format!("mv {0}/tracker {0}/tracker.old", repo.root().display()),
    ];
    let before = fingerprint(repo.path(), &[]);
    for a in &attacks {
        let st = agent.command(&repo, &["sh", "-c", a]).status().unwrap();
        assert!(!st.success(), "the agent could: {a}");
    }
    assert_eq!(fingerprint(repo.path(), &[]), before);

    // Its day-to-day work: add (with a tag), update, discuss, git commit.
    let r = agent.run(
        &repo,
        &[
            "--json",
            "add",
            "--kind",
            "work_item",
            "--title",
            "mine",
            "--tag",
            "agentwork",
        ],
    );
    let mine = r.json()["id"].as_str().unwrap().to_string();
    agent.run(&repo, &["update", &mine, "--priority", "1"]).ok();
    agent.run(&repo, &["discuss", &mine, "hello"]).ok();
    assert!(std::fs::read_to_string(&catalog)
        .unwrap()
        .contains("agentwork"));
    assert_eq!(std::fs::metadata(&catalog).unwrap().uid(), 0);
    let commit = format!(
        "umask 002 && git -c safe.directory='*' -C {top} add -A .agent && git -c safe.directory='*' -c user.name=a -c user.email=a@x -C {top} commit -q -m agent"
    );
    let out = agent
        .command(&repo, &["sh", "-c", &commit])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The agent may not move the human's item (sticky): refused up front.
    let before = fingerprint(&repo.root(), &[]);
    let r = agent.run(&repo, &["promote", &id]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(fingerprint(&repo.root(), &[]), before);
}
