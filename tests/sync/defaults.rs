//! Sync with nothing configured: the base branch is the one the committed
//! template names, else the remote's default branch, and auto-sync says
//! which — so a repository on `main` syncs on its first write.

use crate::synchelp::{git, Net};

#[test]
fn a_repository_on_main_syncs_to_the_remotes_default_branch_unconfigured() {
    let net = Net::on_branch("main");
    let a = net.clone_on("a", "main");
    let id = a.add("first on main");
    // Auto-sync on the next write (threshold 1) goes to origin/main and says why.
    let r = a
        .run_env(
            &["update", &id, "--priority", "1"],
            &[("TRACKER_AUTO_SYNC_THRESHOLD", "1")],
        )
        .ok();
    assert!(
        r.stderr
            .contains("syncing to origin/main (the remote's default branch)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("sync failed"), "{}", r.stderr);
    let on_remote = net.remote_git(&["ls-tree", "-r", "--name-only", "main"]);
    assert!(on_remote.contains(&format!(".{id}.ops")), "{on_remote}");
    // And `htrac sync --status` names the branch.
    let s = a.run(&["--json", "sync", "--status"]).ok().json();
    assert_eq!(s["base_branch"], "main");
}

#[test]
fn a_committed_template_names_the_base_branch_for_every_clone() {
    let net = Net::on_branch("main");
    let a = net.clone_on("a", "main");
    let template = a.path.join(".agent/tracker/config.yaml.template");
    let plain = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        format!("{plain}\nsync:\n  base_branch: release\n"),
    )
    .unwrap();
    git(&a.path, &["commit", "-q", "-am", "sync to release"]);
    git(&a.path, &["push", "-q", "origin", "main", "main:release"]);
    // A clone with a config of its own that names no base branch.
    let b = net.clone_on("b", "main");
    let config = b.path.join(".agent/tracker/config.yaml");
    std::fs::write(&config, &plain).unwrap();
    let id = b.add("for release");
    b.run(&["sync"]).ok();
    let release = net.remote_git(&["ls-tree", "-r", "--name-only", "release"]);
    assert!(release.contains(&format!(".{id}.ops")), "{release}");
    let main = net.remote_git(&["ls-tree", "-r", "--name-only", "main"]);
    assert!(!main.contains(&format!(".{id}.ops")), "{main}");
}
