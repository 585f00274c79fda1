//! `htrac freeze` / `unfreeze`: the sentinel follows the human and drift is
//! repaired.

use std::os::unix::fs::PermissionsExt;

use crate::common::Env;
use crate::{frozen, show};

#[test]
fn freeze_keeps_a_sentinel_that_follows_the_human_and_repairs_drift() {
    let env = Env::new();
    let id = env.add("frozen item", &[]);
    assert_eq!(env.run(&["freeze", &id]).ok().stdout, "frozen\n");
    let ops = env.workspace_ops(&id);
    let sentinel = frozen(&env, &id);
    assert_eq!(
        std::fs::read(&ops).unwrap(),
        std::fs::read(&sentinel).unwrap()
    );
    let mode = std::fs::metadata(&sentinel).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_eq!(show(&env, &id)["frozen"], true);
    let r = env.run(&["freeze", &id]).fails(1);
    assert!(r.stderr.contains("already frozen"), "{}", r.stderr);

    // A human's write is approved: the sentinel follows it.
    env.run(&["update", &id, "--priority", "0"]).ok();
    assert_eq!(
        std::fs::read(&ops).unwrap(),
        std::fs::read(&sentinel).unwrap()
    );

    // Drift (an edit behind htrac's back) is undone by repair-drift.
    let approved = std::fs::read(&sentinel).unwrap();
    let mut drifted = approved.clone();
    drifted.extend_from_slice(b"- op: update  # beef\n  at: '2026-01-01T00:00:00Z'  # beef\n  by: agent  # beef\n  actor: x_agent  # beef\n  clock: 99  # beef\n  nonce: beef  # beef\n  set:  # beef\n    priority: 4  # beef\n");
    std::fs::write(&ops, &drifted).unwrap();
    // The agent's op written behind htrac's back has no effect on the
    // frozen item: it is shown as rejected, not applied.
    let shown = show(&env, &id);
    assert_eq!(shown["priority"], 0);
    assert_eq!(shown["rejected_ops"][0]["nonce"], "beef");
    let reason = shown["rejected_ops"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("frozen item"), "{reason}");
    let r = env.run(&["show", &id]).ok();
    assert!(r.stdout.contains("*** DRIFTED"), "{}", r.stdout);
    assert!(r.stdout.contains("rejected ops: 1"), "{}", r.stdout);
    let r = env.run(&["repair-drift", &id]).ok();
    assert_eq!(r.stdout, "drift repaired\n");
    assert_eq!(std::fs::read(&ops).unwrap(), approved);
    assert_eq!(show(&env, &id)["priority"], 0);
    assert!(!env.run(&["show", &id]).ok().stdout.contains("DRIFTED"));
    let leftovers: Vec<_> = std::fs::read_dir(ops.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");

    assert_eq!(env.run(&["unfreeze", &id]).ok().stdout, "unfrozen\n");
    assert!(!sentinel.exists());
    assert_eq!(show(&env, &id)["frozen"], false);
    env.run(&["unfreeze", &id]).fails(1);
    env.run(&["repair-drift", &id]).fails(1);
}
