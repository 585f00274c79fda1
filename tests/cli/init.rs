//! `htrac init`: the tier directories, the git attributes and ignore files
//! and the read-only configuration it lays out; a second run is harmless.

use crate::common::Env;

#[test]
fn init_lays_out_tiers_and_governance_files() {
    let env = Env::new();
    let root = env.root();
    for d in [
        "tracker/.ops",
        "tracker-workspace/.ops",
        "tracker-workspace/stealth",
    ] {
        assert!(root.join(d).is_dir(), "{d}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/stealth/.gitignore")).unwrap(),
        "*.ops\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.gitignore")).unwrap(),
        "config.yaml\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root.join("tracker/config.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
    // Idempotent.
    env.run(&["init"]).ok();
}

#[test]
fn init_outside_a_git_repository_is_refused_unless_insisted() {
    let env = Env::bare();
    let r = env.run(&["init"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("is not in a git repository; nothing was created"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: htrac keeps its state in git"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("'htrac init --no-git'"), "{}", r.stderr);
    assert!(!env.root().exists());
    // Insisting works, and the tracker is usable.
    env.run(&["init", "--no-git"]).ok();
    env.add("without git", &[]);
    // A command with no tracker at all points at setup, as the quickstart does.
    let other = Env::bare();
    let r = other.run(&["ready"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Run 'htrac setup' first"), "{}", r.stderr);
}
