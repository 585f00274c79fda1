//! `htrac clusters` on a small fixed tracker: memberships and flags of the
//! topic groups.

use crate::common::Env;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// clusters
// ---------------------------------------------------------------------------

const GROUPS: [(&str, [&str; 5]); 3] = [
    (
        "lamport",
        [
            "Lamport clock skips a tick after rebase",
            "Lamport clock must read the other branches",
            "Branch peek for the Lamport clock is slow",
            "Clock tick ordering breaks on rebase of branches",
            "Rebase resets the clock tick on other branches",
        ],
    ),
    (
        "tui",
        [
            "TUI layout wraps the detail pane badly",
            "Narrow terminal layout hides the detail pane",
            "TUI pane focus keys in narrow terminal",
            "Detail pane scrolls past the end in TUI layout",
            "Terminal resize breaks the pane layout",
        ],
    ),
    (
        "yaml",
        [
            "YAML emitter quotes unicode scalars wrongly",
            "Emitter drops the nonce comment on unicode lines",
            "Quote style of YAML scalars differs from the reference emitter",
            "Nonce comment placement in YAML emitter output",
            "Unicode escapes in quoted YAML scalars",
        ],
    ),
];

fn cluster_tracker() -> (Env, Vec<(String, &'static str)>) {
    let env = Env::new();
    let mut ids = Vec::new();
    for (group, titles) in GROUPS {
        for (n, title) in titles.iter().enumerate() {
            let p = (n % 3).to_string();
            let id = env.add(title, &["--priority", &p]);
            ids.push((id, group));
        }
    }
    // Noise, and a finished item that only feeds the vocabulary.
    env.add("Budget spreadsheet export", &[]);
    let done = env.add("Lamport clock documentation for rebase", &[]);
    env.run(&["update", &done, "--status", "done"]).ok();
    (env, ids)
}

fn members(v: &Value) -> Vec<Vec<String>> {
    v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut ids: Vec<String> = c["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        })
        .collect()
}

#[test]
fn clusters_find_the_topic_groups() {
    let (env, ids) = cluster_tracker();
    let v = env.run(&["--json", "clusters"]).ok().json();
    assert_eq!(v["k"], 6);
    assert_eq!(v["shared"], 3);
    assert_eq!(v["items"], 16, "open items: 15 in groups + the changelog");
    assert_eq!(v["fit_items"], 17, "the finished item is in the fit corpus");
    let mut got = members(&v);
    got.sort();
    let mut want: Vec<Vec<String>> = GROUPS
        .iter()
        .map(|(g, _)| {
            let mut m: Vec<String> = ids
                .iter()
                .filter(|(_, x)| x == g)
                .map(|(id, _)| id.clone())
                .collect();
            m.sort();
            m
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Ranked by mean similarity, descending; members by (priority, id).
    let clusters = v["clusters"].as_array().unwrap();
    let means: Vec<f64> = clusters
        .iter()
        .map(|c| c["mean_similarity"].as_f64().unwrap())
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    for (n, c) in clusters.iter().enumerate() {
        assert_eq!(c["rank"], n + 1);
        assert_eq!(c["size"], 5);
        let keys: Vec<(i64, String)> = c["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["priority"].as_i64().unwrap(),
                    m["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(c["mean_similarity"].as_f64().unwrap() > 0.0);
    }

    let text = env.run(&["clusters", "--limit", "2"]).ok().stdout;
    assert!(
        text.starts_with("2 cluster(s) over 10 of 16 item(s)  (k=6, shared=3; fit on 17 items)\n\n#1  size 5  mean similarity "),
        "{text}"
    );
    assert_eq!(text.matches("\n    WI-").count(), 10);

    let none = env.run(&["clusters", "--min-size", "6"]).ok().stdout;
    assert_eq!(
        none,
        "(no clusters)  16 item(s) considered; k=6, shared=3\n"
    );
    let v = env
        .run(&["--json", "clusters", "--status", "done"])
        .ok()
        .json();
    assert_eq!(v["items"], 1);
    assert_eq!(v["clusters"], json!([]));
    let v = env.run(&["--json", "clusters", "--all"]).ok().json();
    assert_eq!(v["items"], 17);
    let r = env.run(&["clusters", "--k", "0"]).fails(1);
    assert!(r.stderr.contains("--k must be at least 1"), "{}", r.stderr);
}
