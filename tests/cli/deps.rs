//! `deps ITEM` (text and JSON, the `:N` stash) and `deps --graph` (DOT and
//! JSON of the open dependency graph) in real repositories.

use crate::common::{self, Env};
use serde_json::Value;

fn short(id: &str) -> String {
    id.splitn(3, '-').take(2).collect::<Vec<_>>().join("-")
}

/// parent P with children A and B; X blocks A; Done (resolved) blocks A; A blocks B.
struct Fixture {
    env: Env,
    p: String,
    a: String,
    b: String,
    x: String,
    done: String,
}

fn fixture() -> Fixture {
    let env = Env::new();
    let p = env.add("the parent", &["--priority", "1"]);
    let a = env.add("child a", &["--parent", &p]);
    let b = env.add("child b", &["--parent", &p]);
    let x = env.add("blocker x", &["--priority", "0", "--isbefore", &a]);
    let done = env.add("finished blocker", &["--status", "done", "--isbefore", &a]);
    env.run(&["update", &a, "--add-isbefore", &b]).ok();
    Fixture {
        env,
        p,
        a,
        b,
        x,
        done,
    }
}

#[test]
fn item_text_shows_parent_children_blocks_and_blockers() {
    let f = fixture();
    let out = f.env.run(&["deps", &f.a]).ok().stdout;
    let expected = format!(
        "{a}  child a  [todo_hard]\n  parent: {p} (the parent)\n  blocks (1):\n    → {b}  child b  [todo_hard]\n  blocked by (2):\n    ← {x}  blocker x  [todo_hard]\n    ← {d}  finished blocker  [done]\n",
        a = short(&f.a),
        p = short(&f.p),
        b = short(&f.b),
        x = short(&f.x),
        d = short(&f.done)
    );
    assert_eq!(out, expected);
    // Children come in tier, then ID (file name) order.
    let mut kids = [(f.a.clone(), "child a"), (f.b.clone(), "child b")];
    kids.sort();
    let rows: String = kids
        .iter()
        .map(|(id, t)| format!("    {}  {t}  [todo_hard]\n", short(id)))
        .collect();
    let out = f.env.run(&["deps", &f.p]).ok().stdout;
    assert_eq!(
        out,
        format!(
            "{}  the parent  [todo_hard]\n  children (2):\n{rows}",
            short(&f.p)
        )
    );
}

#[test]
fn item_json_has_only_the_non_empty_keys() {
    let f = fixture();
    let v = f.env.run(&["--json", "deps", &f.a]).ok().json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["id", "title", "status", "parent", "blocks", "blocked_by"]
    );
    assert_eq!(
        v["parent"],
        serde_json::json!({"id": f.p, "title": "the parent"})
    );
    assert_eq!(v["blocks"][0]["id"], f.b.as_str());
    let blockers: Vec<&str> = v["blocked_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    // Sorted as `list`: priority 0 before priority 2.
    assert_eq!(blockers, [f.x.as_str(), f.done.as_str()]);
    // A lone item has just its three keys; the JSON is one line.
    let lone = f.env.add("lone", &[]);
    let out = f.env.run(&["--json", "deps", &lone]).ok().stdout;
    assert_eq!(
        out,
        format!("{{\"id\": \"{lone}\", \"title\": \"lone\", \"status\": \"todo_hard\"}}\n")
    );
}

#[test]
fn item_deps_reset_the_alias_stash_to_the_full_list() {
    let f = fixture();
    // A filtered list leaves a one-row stash...
    f.env.run(&["list", "--status", "done"]).ok();
    assert_eq!(
        f.env.run(&["--json", "show", ":1"]).ok().json()["id"],
        f.done.as_str()
    );
    // ...deps lists everything, as the reference does: :1 is now the P0 item.
    f.env.run(&["deps", &f.a]).ok();
    assert_eq!(
        f.env.run(&["--json", "show", ":1"]).ok().json()["id"],
        f.x.as_str()
    );
    // And :N works as deps' own argument.
    let v = f.env.run(&["--json", "deps", ":1"]).ok().json();
    assert_eq!(v["id"], f.x.as_str());
    assert_eq!(v["blocks"][0]["id"], f.a.as_str());
}

#[test]
fn deps_argument_errors() {
    let f = fixture();
    let r = f.env.run(&["deps"]).fails(1);
    assert!(r.stderr.contains("deps needs ITEM"), "{}", r.stderr);
    let r = f.env.run(&["deps", &f.a, "--graph"]).fails(1);
    assert!(r.stderr.contains("not both"), "{}", r.stderr);
    let r = f.env.run(&["deps", "WI-nosuchthing"]).fails(1);
    assert!(r.stderr.contains("No items match"), "{}", r.stderr);
}

/// Every line of a DOT body is a statement: a node or an edge, each string
/// quoted with balanced, escaped quotes.
fn check_dot_shape(dot: &str) {
    assert!(dot.contains("digraph htrac {\n"), "{dot}");
    assert!(dot.ends_with("}\n"), "{dot}");
    let body = dot.split("digraph htrac {\n").nth(1).unwrap();
    for line in body.lines().filter(|l| *l != "}") {
        assert!(line.starts_with("  ") && line.ends_with(';'), "{line:?}");
        // Unescaped quotes pair up.
        let mut quotes = 0;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => quotes += 1,
                _ => {}
            }
        }
        assert_eq!(quotes % 2, 0, "unbalanced quotes in {line:?}");
    }
}

fn dot_available() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Renders with Graphviz (when installed) as `-Tplain`: the laid-out graph
/// with each node's final label text.
fn render_plain(dot: &str) -> Option<String> {
    use std::io::Write;
    if !dot_available() {
        common::missing("Graphviz 'dot'", "apt-get install graphviz");
    }
    let mut child = std::process::Command::new("dot")
        .arg("-Tplain")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot rejected the graph:\n{}\n{dot}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn graph_is_the_open_work_as_dot() {
    let f = fixture();
    let dot = f.env.run(&["deps", "--graph"]).ok().stdout;
    check_dot_shape(&dot);
    let q = |id: &str| format!("\"{id}\"");
    // Open items are nodes; the resolved blocker is not.
    for id in [&f.p, &f.a, &f.b, &f.x] {
        assert!(dot.contains(&format!("  {} [label=", q(id))), "{id}\n{dot}");
    }
    assert!(!dot.contains(&f.done), "{dot}");
    // isbefore edges, solid: X before A, A before B.
    assert!(
        dot.contains(&format!("  {} -> {};\n", q(&f.x), q(&f.a))),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("  {} -> {};\n", q(&f.a), q(&f.b))),
        "{dot}"
    );
    // Parent edges, dashed, parent -> child.
    let parent_edge = format!(
        "  {} -> {} [style=dashed, color=gray50, arrowhead=none];\n",
        q(&f.p),
        q(&f.a)
    );
    assert!(dot.contains(&parent_edge), "{dot}");
    // Labels: short ID, title, status, priority, tier; ready items filled.
    let x_line = dot
        .lines()
        .find(|l| l.starts_with(&format!("  {}", q(&f.x))))
        .unwrap();
    assert!(
        x_line.contains(&format!(
            "label=\"{}\\nblocker x\\ntodo_hard  P0  [workspace]\"",
            short(&f.x)
        )),
        "{x_line}"
    );
    assert!(x_line.contains("filled"), "ready item not filled: {x_line}");
    let a_line = dot
        .lines()
        .find(|l| l.starts_with(&format!("  {}", q(&f.a))))
        .unwrap();
    assert!(!a_line.contains("filled"), "blocked item filled: {a_line}");
    if let Some(plain) = render_plain(&dot) {
        assert_eq!(
            plain.lines().filter(|l| l.starts_with("node ")).count(),
            4,
            "{plain}"
        );
        assert_eq!(
            plain.lines().filter(|l| l.starts_with("edge ")).count(),
            4,
            "{plain}"
        );
    }
}

#[test]
fn graph_escapes_titles_and_marks_duplicates_conflicts_and_dangling_links() {
    let env = Env::new();
    let nasty = env.add(r#"say "hi" \N and \l {x} -> y; // not a comment"#, &[]);
    let orig = env.add("original", &[]);
    let dup = env.add("copy", &[]);
    env.run(&["update", &dup, "--add-duplicate-of", &orig]).ok();
    let gone = env.add("soon gone", &[]);
    let pointing = env.add("points at a deleted file", &["--isbefore", &gone]);
    std::fs::remove_file(env.workspace_ops(&gone)).unwrap();
    // The same item in two tiers: a cross-tier conflict.
    let twin = env.add("twin", &[]);
    let canon = env.root().join("tracker/.ops");
    std::fs::create_dir_all(&canon).unwrap();
    std::fs::copy(env.workspace_ops(&twin), canon.join(format!(".{twin}.ops"))).unwrap();

    let dot = env.run(&["deps", "--graph"]).ok().stdout;
    check_dot_shape(&dot);
    let line = |id: &str| {
        dot.lines()
            .find(|l| l.starts_with(&format!("  \"{id}\" [")))
            .unwrap_or_else(|| panic!("no node {id}:\n{dot}"))
            .to_string()
    };
    assert!(
        line(&nasty).contains(r#"\nsay \"hi\" \\N and \\l {x} -> y; // not a comment\n"#),
        "{}",
        line(&nasty)
    );
    let d = line(&dup);
    assert!(
        d.contains("dashed") && d.contains(&format!("duplicate of {}", short(&orig))),
        "{d}"
    );
    let t = line(&twin);
    assert!(
        t.contains("color=red") && t.contains("CROSS-TIER CONFLICT"),
        "{t}"
    );
    let g = line(&gone);
    assert!(
        g.contains("style=dotted") && g.contains("(not found)"),
        "{g}"
    );
    assert!(
        dot.contains(&format!("  \"{pointing}\" -> \"{gone}\";\n")),
        "{dot}"
    );
    assert_eq!(
        dot.matches(&format!("  \"{twin}\" [")).count(),
        1,
        "one node per ID"
    );

    if let Some(plain) = render_plain(&dot) {
        // Graphviz keeps the title literal (`-Tplain` re-escapes it): no
        // `\N` (node name) or `\l` expansion.
        assert!(
            plain.contains(r#"\nsay \"hi\" \\N and \\l {x} -> y; // not a comment\n"#),
            "{plain}"
        );
    }
}

#[test]
fn graph_json_lists_nodes_and_edges() {
    let f = fixture();
    let v = f.env.run(&["--json", "deps", "--graph"]).ok().json();
    let nodes = v["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    // Sorted by (priority, created_at): X (P0), P (P1), then A and B.
    assert_eq!(&ids[..2], [f.x.as_str(), f.p.as_str()]);
    assert_eq!(ids.len(), 4);
    let x = &nodes[0];
    assert_eq!(x["ready"], true);
    assert_eq!(x["tier"], "workspace");
    assert_eq!(x["missing"], false);
    let keys: Vec<&str> = x.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "status",
            "priority",
            "tier",
            "ready",
            "duplicate_of",
            "cross_tier_conflict",
            "missing"
        ]
    );
    let edges: Vec<(String, String, String)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("kind"))
        })
        .collect();
    for want in [
        (f.x.clone(), f.a.clone(), "isbefore".to_string()),
        (f.a.clone(), f.b.clone(), "isbefore".to_string()),
        (f.p.clone(), f.a.clone(), "parent".to_string()),
        (f.p.clone(), f.b.clone(), "parent".to_string()),
    ] {
        assert!(edges.contains(&want), "{want:?} not in {edges:?}");
    }
    assert_eq!(edges.len(), 4, "the resolved blocker's edge is left out");
    let empty = Env::new();
    let v: Value = empty.run(&["--json", "deps", "--graph"]).ok().json();
    assert_eq!(v, serde_json::json!({"nodes": [], "edges": []}));
    let dot = empty.run(&["deps", "--graph"]).ok().stdout;
    check_dot_shape(&dot);
    render_plain(&dot);
}
