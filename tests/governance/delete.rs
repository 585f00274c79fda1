//! `htrac delete`: the item goes and isbefore links to it are cleared both
//! ways.

use crate::common::{self, Env};
use crate::show;

#[test]
fn delete_clears_isbefore_both_ways() {
    let env = Env::new();
    let last = env.add("last", &[]);
    let doomed = env.add("doomed", &["--isbefore", &last]);
    let a = env.add("waits for doomed a", &[]);
    let b = env.add("waits for doomed b", &["--tier", "canonical"]);
    env.run(&["update", &a, "--add-isbefore", &doomed]).ok();
    env.run(&["update", &b, "--add-isbefore", &doomed]).ok();
    assert!(show(&env, &a)["isbefore"] == serde_json::json!([doomed]));

    let r = env.run(&["delete", &doomed]).ok();
    assert_eq!(
        r.stdout,
        "deleted\nCleared 2 inbound isbefore references.\n"
    );
    let d = show(&env, &doomed);
    assert_eq!(d["status"], "deleted");
    assert_eq!(d["isbefore"], serde_json::json!([]));
    assert_eq!(show(&env, &a)["isbefore"], serde_json::json!([]));
    assert_eq!(show(&env, &b)["isbefore"], serde_json::json!([]));
    let ready = env.run(&["--json", "ready"]).ok().json();
    let ids = common::ids(&ready["ready"]);
    assert!(!ids.contains(&doomed) && ids.contains(&last), "{ids:?}");

    let other = env.add("deleted alone", &[]);
    let r = env.run(&["--json", "delete", &other]).ok();
    assert_eq!(
        r.stdout,
        "{\"ok\": true, \"inbound_isbefore_cleared\": 0}\n"
    );
}
