//! `htrac ready`: isbefore and blocked-by, duplicates, resolved items and
//! priority order, as text and JSON.

use crate::common::{self, Env};

#[test]
fn ready_respects_isbefore_duplicates_and_priority() {
    let env = Env::new();
    let first = env.add("first", &["--priority", "2"]);
    let second = env.add("second", &["--priority", "0", "--status", "todo_soft"]);
    let done = env.add("done already", &["--priority", "0", "--status", "done"]);
    // `first` must be done before `second`: second is blocked.
    env.run(&["update", &first, "--add-isbefore", &second]).ok();
    // A resolved item blocks nothing.
    let third = env.add("third", &["--priority", "3"]);
    env.run(&["update", &done, "--add-isbefore", &third]).ok();
    let dup = env.add("dup", &["--priority", "0"]);
    env.run(&["update", &dup, "--add-duplicate-of", &first])
        .ok();
    let ready = env.run(&["ready", "--json"]).ok().json();
    assert_eq!(common::ids(&ready["ready"]), [first.clone(), third.clone()]);
    // Finishing `first` unblocks `second`, which then sorts first (P0).
    env.run(&["update", &first, "--status", "done"]).ok();
    let ready = env.run(&["ready", "--json"]).ok().json();
    assert_eq!(
        common::ids(&ready["ready"]),
        [second.clone(), third.clone()]
    );
    // --add-blocked-by writes the other item's isbefore.
    env.run(&["update", &third, "--add-blocked-by", &second])
        .ok();
    assert_eq!(
        env.run(&["show", &second, "--json"]).ok().json()["isbefore"],
        serde_json::json!([third])
    );
    let plain = env.run(&["ready"]).ok().stdout;
    assert_eq!(plain.lines().count(), 1, "{plain}");
    assert!(
        plain.starts_with(&format!(
            " 1  {second}  todo_soft    P0  [workspace]  second"
        )),
        "{plain}"
    );
}
