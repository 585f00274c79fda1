//! `htrac sync --base-branch B --timeout S` and `htrac reconcile` with the
//! same flags, as in the reference: reconcile first sends pending ops and
//! brings the local branch up to date, then restores from the journal;
//! `recover` is its deprecated old name.

use std::os::unix::fs::PermissionsExt;

use crate::synchelp::{git, Net};

#[test]
fn sync_base_branch_delivers_to_that_branch() {
    let net = Net::new();
    let a = net.clone_named("a");
    a.git(&["push", "-q", "origin", "dev:release"]);
    let id = a.add("for release");
    let r = a.run(&["sync", "--base-branch", "release"]).ok();
    assert!(r.stdout.contains("origin/release"), "{}", r.stdout);
    let release = net.remote_git(&["ls-tree", "-r", "--name-only", "release"]);
    assert!(release.contains(&format!(".{id}.ops")), "{release}");
    let dev = net.remote_git(&["ls-tree", "-r", "--name-only", "dev"]);
    assert!(!dev.contains(&format!(".{id}.ops")), "{dev}");
}

#[test]
fn sync_timeout_bounds_the_wait_for_a_pull_request() {
    let net = Net::new();
    let a = net.clone_named("a");
    // A forge whose checks stay pending; the config would wait 10 minutes.
    let script = net.dir.path().join("forge");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$1\" in\n  open) echo 'https://forge.example/o/r/pull/9';;\n  status) exit 8;;\n  *) exit 0;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = script.display();
    a.config(&format!(
        "sync:\n  mode: pr\n  pr:\n    open: \"{s} open\"\n    status: \"{s} status\"\n    merge: \"{s} merge\"\n    close: \"{s} close\"\n    poll_seconds: 0\n    timeout_seconds: 600\n"
    ));
    a.add("waits for checks");
    let started = std::time::Instant::now();
    let r = a.run(&["sync", "--timeout", "1s"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "--timeout was not applied"
    );
}

#[test]
fn reconcile_sends_pending_ops_then_restores_and_recover_says_it_is_deprecated() {
    let net = Net::new();
    let a = net.clone_named("a");
    let id = a.add("pending"); // auto-sync is off in these clones (threshold 0)
    let r = a.run(&["reconcile"]).ok();
    assert!(r.stderr.contains("reconcile: synced"), "{}", r.stderr);
    let dev = net.remote_git(&["ls-tree", "-r", "--name-only", "dev"]);
    assert!(dev.contains(&format!(".{id}.ops")), "{dev}");
    // An op git dropped is restored after the sync.
    a.run(&["update", &id, "--note", "not committed"]).ok();
    git(&a.path, &["checkout", "--", "."]);
    let r = a.run(&["recover"]).ok();
    assert!(r.stderr.contains("'recover' is deprecated"), "{}", r.stderr);
    assert!(r.stdout.contains("restored 1 op(s)"), "{}", r.stdout);
    assert!(a.run(&["show", &id]).ok().stdout.contains("not committed"));
}
