//! Convergence: three clones of one bare remote, scripted agents appending
//! ops (creates, updates of the same items, discussions) and syncing in
//! seeded random interleavings. At the end, after a final sync everywhere,
//! every clone compiles to the same state byte for byte, and the number of
//! ops equals the number written: nothing lost, nothing doubled.

use std::collections::BTreeSet;

use crate::synchelp::{self, remote_op_count, Net, Rng};

fn converge(seed: u64, steps: usize, threshold: &str) {
    let net = Net::new();
    let mut clones: Vec<_> = ["a", "b", "c"].iter().map(|n| net.clone_named(n)).collect();
    for c in &mut clones {
        c.env[0].1 = threshold.to_string();
    }
    let mut rng = Rng::new(seed);
    // Items each clone certainly has (created there or present when it synced).
    let mut known: Vec<BTreeSet<String>> = vec![BTreeSet::new(); 3];
    let mut on_remote: BTreeSet<String> = BTreeSet::new();
    let mut written = 0usize;
    let mut created = 0usize;
    let mut auto_synced = 0usize;
    let mut note = |r: synchelp::Run| {
        assert!(!r.stderr.contains("sync failed"), "{}", r.stderr);
        auto_synced += r.stderr.matches("auto-sync: synced").count();
        r
    };
    for step in 0..steps {
        let i = rng.below(3) as usize;
        let c = &clones[i];
        let pick = |rng: &mut Rng, set: &BTreeSet<String>| -> Option<String> {
            if set.is_empty() {
                return None;
            }
            set.iter()
                .nth(rng.below(set.len() as u64) as usize)
                .cloned()
        };
        match rng.below(10) {
            0..=2 => {
                created += 1;
                let r = note(c.run(&[
                    "add",
                    "--kind",
                    "work_item",
                    "--title",
                    &format!("seed {seed} item {created} from clone {i}"),
                ]))
                .ok();
                let id = r.stdout.trim().to_string();
                known[i].insert(id);
                written += 1;
            }
            3..=5 => {
                if let Some(id) = pick(&mut rng, &known[i]) {
                    let p = rng.below(5).to_string();
                    note(c.run(&[
                        "update",
                        &id,
                        "--priority",
                        &p,
                        "--add-tag",
                        &format!("t{i}"),
                    ]))
                    .ok();
                    written += 1;
                }
            }
            6..=7 => {
                if let Some(id) = pick(&mut rng, &known[i]) {
                    note(c.run(&[
                        "discuss",
                        &id,
                        &format!("step {step} from clone {i}"),
                        "--ack-thread",
                    ]))
                    .ok();
                    written += 1;
                }
            }
            _ => {
                c.run(&["sync"]).ok();
                on_remote.extend(known[i].iter().cloned());
                known[i] = on_remote.clone();
            }
        }
    }
    if threshold != "0" {
        assert!(auto_synced > 0, "seed {seed}: auto-sync never ran");
    }
    // Final round: every clone sends, then every clone receives.
    for c in &clones {
        c.run(&["sync"]).ok();
    }
    for c in &clones {
        let r = c.run(&["sync"]).ok();
        assert!(
            r.stdout.contains("nothing to sync"),
            "second round still had ops to send:\n{}",
            r.stdout
        );
        // (tag_catalog.yaml, written by --add-tag, lies outside the op dirs.)
        let dirty = c.git(&[
            "status",
            "--porcelain",
            "--",
            ".agent/tracker/.ops",
            ".agent/tracker-workspace/.ops",
        ]);
        assert_eq!(dirty, "", "op files left differing from HEAD");
    }
    let states: Vec<String> = clones.iter().map(|c| c.state()).collect();
    assert_eq!(states[0], states[1], "seed {seed}: clones a and b differ");
    assert_eq!(states[0], states[2], "seed {seed}: clones a and c differ");
    for c in &clones {
        assert_eq!(c.op_count(), written, "seed {seed}: ops lost or doubled");
        assert_eq!(c.status()["pending_lines"], 0);
    }
    assert_eq!(
        remote_op_count(&net),
        written,
        "seed {seed}: remote op count"
    );
    let items: usize = serde_json::from_str::<serde_json::Value>(&states[0])
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(items, created, "seed {seed}: item count");
}

#[test]
fn three_clones_converge_with_manual_syncs() {
    for seed in [1, 2, 3] {
        converge(seed, 36, "0");
    }
}

#[test]
fn three_clones_converge_with_auto_sync() {
    // A low threshold: most mutations sync by themselves.
    for seed in [11, 12] {
        converge(seed, 30, "25");
    }
}
