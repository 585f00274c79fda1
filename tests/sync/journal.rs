//! The sync engine and the journal together: a successful sync prunes the
//! journal of every op that reached the base branch, and a destructive git
//! command after a sync loses nothing that `reconcile` cannot restore.

use std::path::Path;

use crate::synchelp::Net;

/// `- op:` lines in every journal file under `dir`.
fn journalled_ops(dir: &Path) -> usize {
    let mut n = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            n += journalled_ops(&p);
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            n += t.lines().filter(|l| l.starts_with("- op: ")).count();
        }
    }
    n
}

#[test]
fn a_sync_prunes_what_reached_the_base_and_reconcile_restores_the_rest() {
    let net = Net::new();
    let c = net.clone_named("a");
    let journal = net.dir.path().join("a-home/state/htrac/journal");
    let first = c.add("synced item");
    c.run(&["update", &first, "--priority", "1"]).ok();
    assert_eq!(journalled_ops(&journal), 2, "each op is journalled");
    c.run(&["sync"]).ok();
    assert_eq!(journalled_ops(&journal), 0, "synced ops are pruned");

    // An op written after the sync, then wiped by a hard reset.
    c.run(&["discuss", &first, "not yet synced", "--ack-thread"])
        .ok();
    assert_eq!(journalled_ops(&journal), 1);
    let before = c.op_count();
    c.git(&["reset", "-q", "--hard"]);
    assert_eq!(c.op_count(), before - 1, "the reset removed the op");
    let r = c.run(&["reconcile"]).ok();
    assert!(r.stdout.contains("restored 1 op(s)"), "{}", r.stdout);
    assert_eq!(c.op_count(), before);
}
