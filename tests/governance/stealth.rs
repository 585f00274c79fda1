//! No synced (canonical or workspace) item may point into stealth, whatever
//! the front end.

use crate::common::Env;

#[test]
fn no_canonical_or_workspace_item_may_point_into_stealth() {
    let env = Env::new();
    let target = env.add("secret", &[]);
    let holder = env.add("public", &["--isbefore", &target]);
    let before = env.tree();
    let r = env.run(&["stealth", &target]).fails(1);
    assert!(
        r.stderr.contains(&holder) && r.stderr.contains("isbefore"),
        "{}",
        r.stderr
    );
    assert_eq!(env.tree(), before, "a refused move changes nothing");

    env.run(&["update", &holder, "--remove-isbefore", &target])
        .ok();
    env.run(&["stealth", &target]).ok();
    let r = env
        .run(&["update", &holder, "--add-isbefore", &target])
        .fails(1);
    assert!(r.stderr.contains("stealth"), "{}", r.stderr);

    // A stealth item pointing at another stealth item cannot leave alone.
    let other = env.add("also secret", &["--tier", "stealth", "--parent", &target]);
    let r = env.run(&["unstealth", &other]).fails(1);
    assert!(
        r.stderr.contains("parent") && r.stderr.contains(&target),
        "{}",
        r.stderr
    );
}

/// The stealth-link rule is the library's (`Tracker::update`), so every
/// front end — the CLI here, the TUI through the same call — refuses a link
/// from a synced item into stealth, and writes nothing.
#[test]
fn no_synced_item_may_point_into_stealth_whatever_the_front_end() {
    let env = Env::new();
    let hidden = env.add("hidden", &[]);
    env.run(&["stealth", &hidden]).ok();
    let open = env.add("open", &[]);
    let before = env.tree();
    for flag in [
        "--parent",
        "--add-isbefore",
        "--add-duplicate-of",
        "--add-not-duplicate-of",
    ] {
        let r = env.run(&["update", &open, flag, &hidden]).fails(1);
        assert!(
            r.stderr.contains("points at a stealth item"),
            "{flag}: {}",
            r.stderr
        );
    }
    assert_eq!(env.tree(), before);
    let t = htrac::Tracker::open(&env.root()).unwrap();
    let file = t.resolve(&open).unwrap();
    let mut ch = htrac::tracker::update::Changes::default();
    ch.set.insert("parent".into(), serde_json::json!(hidden));
    let e = t.update(&file, &ch).unwrap_err();
    assert_eq!(e.kind, htrac::ErrorKind::Invalid);
    assert_eq!(env.tree(), before);
    // The other way round is fine: a stealth item may point at a synced one.
    env.run(&["update", &hidden, "--parent", &open]).ok();
}
