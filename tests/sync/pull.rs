//! After `htrac sync` on a base branch with commits the remote lacks, the
//! advice "run 'git pull'" is true: sync commits the synced op files on the
//! local branch, so the pull merges instead of refusing over local changes.

use crate::synchelp::Net;

#[test]
fn git_pull_after_sync_merges_when_the_local_branch_has_its_own_commits() {
    let net = Net::on_branch("main");
    let seed = net.clone_on("first", "main");
    let shared = seed.add("shared");
    seed.run(&["sync"]).ok();
    seed.git(&["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"]);
    let (a, b) = (net.clone_on("a", "main"), net.clone_on("b", "main"));
    // a: a commit of its own the remote lacks, and a new item.
    std::fs::write(a.path.join("notes.txt"), "local work\n").unwrap();
    a.git(&["add", "notes.txt"]);
    a.git(&["commit", "-q", "-m", "local work"]);
    let from_a = a.add("from a");
    a.run(&["update", &shared, "--note", "a was here"]).ok();
    // b moves the remote on meanwhile, in the same item's file too.
    let from_b = b.add("from b");
    b.run(&["update", &shared, "--note", "b was here"]).ok();
    b.run(&["sync"]).ok();
    let r = a.run(&["sync"]).ok();
    assert!(
        r.stdout.contains("the synced ops are committed on it"),
        "{}",
        r.stdout
    );
    // The working tree holds no tracker changes now; a plain pull merges.
    let status = a.git(&["status", "--porcelain", "--", ".agent"]);
    assert_eq!(status.trim(), "", "tracker files still changed: {status}");
    a.git(&["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"]);
    let list = a.run(&["list"]).ok().stdout;
    assert!(list.contains("from a") && list.contains("from b"), "{list}");
    assert!(a
        .run(&["validate"])
        .ok()
        .stdout
        .contains("validation passed"));
    assert!(std::fs::read_to_string(a.path.join("notes.txt")).unwrap() == "local work\n");
    // Nothing was lost or doubled: each item once, in a's tree and on the remote.
    let show = a.run(&["--json", "show", &from_a]).ok().json();
    assert_eq!(show["title"], "from a");
    let show = a.run(&["--json", "show", &from_b]).ok().json();
    assert_eq!(show["title"], "from b");
    let show = a.run(&["--json", "show", &shared]).ok().json();
    let notes: Vec<&str> = show["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.contains(&"a was here") && notes.contains(&"b was here"));
}
