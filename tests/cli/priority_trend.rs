//! `htrac priority-trend` on small fixed trackers, asserting the numbers:
//! daily means and open counts, CSV, JSON, the SVG chart, bad flags.

use crate::common::Env;
use htrac::oplog::emit::emit_op;
use htrac::oplog::op::{Op, Role};
use serde_json::{json, Value};

/// One op of a hand-made log.
fn op(kind: &str, at: &str, clock: i64, nonce: &str, key: &str, body: Value) -> Op {
    Op::new(kind, at, Role::Human, "tester", clock, nonce).with(key, body)
}

fn create_data(title: &str, status: &str, priority: i64) -> Value {
    json!({"kind": "work_item", "title": title, "status": status, "priority": priority,
        "parent": null, "tags": [], "isbefore": [], "duplicate_of": [], "not_duplicate_of": [],
        "pr_ref": null, "description": "", "fields": {}})
}

/// Writes an item file of `ops` into the workspace tier; returns its ID.
fn write_item(env: &Env, ops: &[Op]) -> String {
    let data = ops
        .iter()
        .find(|o| o.kind == "create")
        .and_then(|o| o.body.get("data"))
        .expect("a create op");
    let id = htrac::items::ids::compute_id("WI", data, "");
    let text: String = ops.iter().map(emit_op).collect();
    std::fs::write(env.workspace_ops(&id), text).unwrap();
    id
}

fn set(fields: Value) -> Value {
    fields
}

/// A: open P1 from day 1, P3 from day 3, done on day 5.
/// B: created done on day 2, reopened (P2) on day 4.
/// C: created P0 on day 2, but an update stamped day 1 (clock 2) makes it
///    P4: it does not exist on day 1 (no create yet) and is P4 from day 2.
fn trend_tracker() -> Env {
    let env = Env::new();
    write_item(
        &env,
        &[
            op(
                "create",
                "2026-01-01T10:00:00Z",
                1,
                "a001",
                "data",
                create_data("A", "todo_hard", 1),
            ),
            op(
                "update",
                "2026-01-03T10:00:00Z",
                2,
                "a002",
                "set",
                set(json!({"priority": 3})),
            ),
            op(
                "update",
                "2026-01-05T23:59:59Z",
                3,
                "a003",
                "set",
                set(json!({"status": "done"})),
            ),
        ],
    );
    write_item(
        &env,
        &[
            op(
                "create",
                "2026-01-02T00:00:00Z",
                1,
                "b001",
                "data",
                create_data("B", "done", 2),
            ),
            op(
                "update",
                "2026-01-04T12:00:00Z",
                2,
                "b002",
                "set",
                set(json!({"status": "todo_soft"})),
            ),
        ],
    );
    write_item(
        &env,
        &[
            op(
                "create",
                "2026-01-02T08:00:00Z",
                1,
                "c001",
                "data",
                create_data("C", "todo_hard", 0),
            ),
            op(
                "update",
                "2026-01-01T08:00:00Z",
                2,
                "c002",
                "set",
                set(json!({"priority": 4})),
            ),
        ],
    );
    env
}

#[test]
fn priority_trend_replays_each_day() {
    let env = trend_tracker();
    let csv = env.run(&["priority-trend", "--csv"]).ok().stdout;
    assert_eq!(
        csv,
        "day,open,mean_priority\n\
         2026-01-01,1,1.0\n\
         2026-01-02,2,2.5\n\
         2026-01-03,2,3.5\n\
         2026-01-04,3,3.0\n\
         2026-01-05,2,3.0\n"
    );
    assert!(
        !env.path().join("tracker-priority-trend.svg").exists(),
        "--csv writes no SVG unless --out"
    );

    // A window: state from before it carries in, quiet days repeat it.
    let v = env
        .run(&[
            "--json",
            "priority-trend",
            "--since",
            "2026-01-03",
            "--until",
            "2026-01-07",
        ])
        .ok()
        .json();
    assert_eq!(v["svg"], Value::Null);
    assert_eq!(
        v["resolved_statuses"],
        json!(["done", "wont_do", "deleted"])
    );
    let rows: Vec<(String, u64, f64)> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["day"].as_str().unwrap().to_string(),
                p["open"].as_u64().unwrap(),
                p["mean_priority"].as_f64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("2026-01-03", 2, 3.5),
        ("2026-01-04", 3, 3.0),
        ("2026-01-05", 2, 3.0),
        ("2026-01-06", 2, 3.0),
        ("2026-01-07", 2, 3.0),
    ];
    assert_eq!(
        rows,
        want.iter()
            .map(|(d, n, m)| (d.to_string(), *n as u64, *m))
            .collect::<Vec<_>>()
    );

    // A window before any item was open: points with a null mean.
    let v = env
        .run(&[
            "--json",
            "priority-trend",
            "--since",
            "2025-12-30",
            "--until",
            "2025-12-31",
        ])
        .ok()
        .json();
    assert_eq!(
        v["points"],
        json!([{"day": "2025-12-30", "open": 0, "mean_priority": null},
               {"day": "2025-12-31", "open": 0, "mean_priority": null}])
    );
    let csv = env
        .run(&[
            "priority-trend",
            "--csv",
            "--since",
            "2025-12-31",
            "--until",
            "2025-12-31",
        ])
        .ok()
        .stdout;
    assert_eq!(csv, "day,open,mean_priority\n2025-12-31,0,\n");
}

#[test]
fn priority_trend_writes_a_readable_svg_chart() {
    let env = trend_tracker();
    let r = env.run(&["priority-trend"]).ok();
    assert_eq!(
        r.stdout,
        "wrote tracker-priority-trend.svg: 5 day(s), 2026-01-01 to 2026-01-05; \
         mean priority of open items 1.00 (1 open) on 2026-01-01 -> 3.00 (2 open) on 2026-01-05\n"
    );
    let svg = std::fs::read_to_string(env.path().join("tracker-priority-trend.svg")).unwrap();
    let texts = svg_texts(&svg);
    for want in [
        "Mean priority of open tracker items",
        "mean priority",
        "open items",
        "2026-01-01",
        "2026-01-05",
        "2026-01-03: mean 3.50 over 2 open",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "no text {want:?} in {texts:?}"
        );
    }
    assert_eq!(svg.matches("<circle").count(), 5, "one point per day");
    assert_eq!(
        svg.matches("<polyline").count(),
        2,
        "a mean line and an open-count line"
    );

    let out = env.path().join("sub dir");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("t.svg");
    let r = env
        .run(&[
            "--json",
            "priority-trend",
            "--out",
            target.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(r.json()["svg"], json!(target.to_str().unwrap()));
    assert!(target.is_file());
}

/// Every text node of an SVG (parsing it proves it is well-formed XML).
fn svg_texts(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Text(t) => {
                let s = t.unescape().unwrap().trim().to_string();
                if !s.is_empty() {
                    out.push(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn svg_escapes_text_and_handles_empty_series() {
    use htrac::insight::{svg, trend::Point};
    let points = [
        Point {
            day: 20000,
            open: 2,
            mean_priority: Some(1.5),
        },
        Point {
            day: 20001,
            open: 0,
            mean_priority: None,
        },
        Point {
            day: 20002,
            open: 1,
            mean_priority: Some(4.0),
        },
    ];
    let doc = svg::trend_svg_titled(&points, "<script>alert('x')</script> & \"more\"");
    assert!(!doc.contains("<script>"));
    assert!(svg_texts(&doc).contains(&"<script>alert('x')</script> & \"more\"".to_string()));
    // A day with nothing open breaks the mean line into two runs of one point: no line drawn.
    assert_eq!(doc.matches("<polyline").count(), 1);
    assert_eq!(doc.matches("<circle").count(), 2);
    let empty = svg::trend_svg(&[]);
    assert!(svg_texts(&empty).contains(&"no history in this window".to_string()));
}

#[test]
fn priority_trend_rejects_bad_flags() {
    let env = trend_tracker();
    let r = env.run(&["--json", "priority-trend", "--csv"]).fails(1);
    assert!(r.stderr.contains("mutually exclusive"), "{}", r.stderr);
    let r = env
        .run(&["priority-trend", "--since", "2026-02-30"])
        .fails(1);
    assert!(r.stderr.contains("YYYY-MM-DD"), "{}", r.stderr);
}
