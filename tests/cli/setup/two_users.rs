//! `htrac setup` as root for a real second OS user and a shared group: the
//! two-user checks pass and the agent's refusals hold.

use super::*;

use crate::common;

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
    // The agent cannot reach the tracker through the private directory:
    // an error, not "All checks passed".
    assert_eq!(code, 1, "{r:#}");
    let can = check(&r, "agent_can_write");
    assert_eq!(can["status"], "error", "{r:#}");
    assert!(
        details(can).contains(&format!("cannot pass through {}", repo.path().display())),
        "{can}"
    );
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
    // The stop hook, htrac not on PATH (as this harness runs it), and no
    // host configuration (advised in a two-user set-up).
    assert_eq!(r["summary"]["warn"], 3, "{r:#}");
    assert_eq!(check(&r, "install_provenance")["status"], "warn", "{r:#}");
    assert_eq!(check(&r, "trust_root")["status"], "warn", "{r:#}");
    // The proof from the agent's side: its account can write what it must.
    let can = check(&r, "agent_can_write");
    assert_eq!(can["status"], "ok", "{r:#}");
    assert!(
        can["message"]
            .as_str()
            .unwrap()
            .contains("htrac_setup_agent"),
        "{can}"
    );

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
    // And the tag catalog every --add-tag rewrites: no group write.
    let catalog = repo.root().join("tracker/tag_catalog.yaml");
    std::fs::set_permissions(&catalog, std::fs::Permissions::from_mode(0o644)).unwrap();
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
    // And the proof names both paths from the agent's account.
    assert!(
        r.stdout
            .contains("[error] The agent cannot write 2 path(s) it needs"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "htrac_setup_agent → {}: cannot write it:",
            catalog.display()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(" 3 errors.\n"), "{}", r.stdout);
    // The human's setup puts it right; the proof passes again.
    let (_, v) = repo.setup_json();
    assert_eq!(check(&v, "agent_can_write")["status"], "ok", "{v:#}");

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
