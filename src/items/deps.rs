//! The dependency graph: parents and children, `isbefore` links (what an
//! item blocks and what blocks it), and the open graph as Graphviz DOT.
//!
//! `X.isbefore = [Y]` means "finish X before Y": X blocks Y. Everything here
//! works on the items of one [`crate::tracker::load::Snapshot`] (tier order, then
//! ID), so lookups follow the same first-tier-wins rule as `show`.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::config::Config;
use crate::items::item::Item;

/// The first item with this ID (tier order: canonical, workspace, stealth).
fn find<'a>(items: &'a [Item], id: &str) -> Option<&'a Item> {
    items.iter().find(|i| i.id == id)
}

/// An item's parent: found, or named but absent (a dangling reference).
#[derive(Debug, Clone, Copy)]
pub enum Parent<'a> {
    Found(&'a Item),
    Missing(&'a str),
}

/// What `deps ITEM` shows.
#[derive(Debug)]
pub struct Deps<'a> {
    pub item: &'a Item,
    pub parent: Option<Parent<'a>>,
    /// Items (every tier, every copy) whose parent is this item, in tier then ID order.
    pub children: Vec<&'a Item>,
    /// The items in this item's `isbefore`, in its order (dangling IDs skipped).
    pub blocks: Vec<&'a Item>,
    /// Other items whose `isbefore` names this item, sorted as `list` sorts.
    pub blocked_by: Vec<&'a Item>,
}

/// The dependencies of `item`, which must be one of `items` (or a copy of one).
pub fn deps<'a>(items: &'a [Item], item: &'a Item) -> Deps<'a> {
    let parent = item
        .parent
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| match find(items, p) {
            Some(found) => Parent::Found(found),
            None => Parent::Missing(p),
        });
    let children = items
        .iter()
        .filter(|i| i.parent.as_deref() == Some(item.id.as_str()))
        .collect();
    let blocks = item
        .isbefore_ids()
        .iter()
        .filter_map(|id| find(items, id))
        .collect();
    let mut blocked_by: Vec<&Item> = items
        .iter()
        .filter(|o| o.id != item.id && o.isbefore_ids().contains(&item.id))
        .collect();
    blocked_by.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Deps {
        item,
        parent,
        children,
        blocks,
        blocked_by,
    }
}

/// `{"id", "title", "status"}` of an item.
fn brief(i: &Item) -> Value {
    json!({"id": i.id, "title": i.title, "status": i.status})
}

impl Deps<'_> {
    /// The reference's `deps --json` object: id, title, status, then
    /// parent, children, blocks and blocked_by only when non-empty.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.item.id));
        m.insert("title".into(), json!(self.item.title));
        m.insert("status".into(), json!(self.item.status));
        match self.parent {
            Some(Parent::Found(p)) => {
                m.insert("parent".into(), json!({"id": p.id, "title": p.title}));
            }
            Some(Parent::Missing(id)) => {
                m.insert("parent".into(), json!({"id": id, "title": "?"}));
            }
            None => {}
        }
        for (key, list) in [
            ("children", &self.children),
            ("blocks", &self.blocks),
            ("blocked_by", &self.blocked_by),
        ] {
            if !list.is_empty() {
                m.insert(
                    key.into(),
                    Value::Array(list.iter().map(|i| brief(i)).collect()),
                );
            }
        }
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------
// The whole open graph
// ---------------------------------------------------------------------------

/// A node of the open graph: an unresolved item, or an ID that an open
/// item names but that no item has (`item` is `None`).
#[derive(Debug)]
pub struct Node<'a> {
    pub id: String,
    pub item: Option<&'a Item>,
    /// Would `ready` offer it now?
    pub ready: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// `from` must be done before `to` (`from.isbefore` contains `to`).
    Isbefore,
    /// `from` is the parent of `to`.
    Parent,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Isbefore => "isbefore",
            EdgeKind::Parent => "parent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
}

/// The open dependency graph.
#[derive(Debug)]
pub struct Graph<'a> {
    pub nodes: Vec<Node<'a>>,
    pub edges: Vec<Edge>,
}

/// Builds the graph of every unresolved item: one node per ID (an item in
/// several tiers is one node, drawn as a conflict), `isbefore` edges
/// between open items (every copy's links), parent edges between open
/// items, and placeholder nodes for IDs that open items name but no item
/// has. Links to resolved items are left out: they constrain nothing.
pub fn open_graph<'a>(items: &'a [Item], config: &Config) -> Graph<'a> {
    let ready: HashSet<&str> = crate::items::ready::ready(items, config)
        .into_iter()
        .map(|i| i.id.as_str())
        .collect();
    let known: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let open: Vec<&Item> = items
        .iter()
        .filter(|i| !config.is_resolved(&i.status))
        .collect();
    let open_ids: HashSet<&str> = open.iter().map(|i| i.id.as_str()).collect();

    let mut seen = HashSet::new();
    let mut firsts: Vec<&Item> = open
        .iter()
        .copied()
        .filter(|i| seen.insert(i.id.as_str()))
        .collect();
    firsts.sort_by(|a, b| (a.sort_key(), &a.id).cmp(&(b.sort_key(), &b.id)));
    let mut nodes: Vec<Node> = firsts
        .iter()
        .map(|i| Node {
            id: i.id.clone(),
            item: Some(i),
            ready: ready.contains(i.id.as_str()),
        })
        .collect();

    let mut edges = Vec::new();
    let mut edge_set = HashSet::new();
    let mut missing: Vec<String> = Vec::new();
    let mut push = |edge: Edge, edges: &mut Vec<Edge>| {
        if edge_set.insert(edge.clone()) {
            edges.push(edge);
        }
    };
    for node in &firsts {
        // Every open copy of this ID contributes its links.
        for copy in open.iter().filter(|i| i.id == node.id) {
            for target in copy.isbefore_ids() {
                let dangling = !known.contains(target.as_str());
                if !dangling && !open_ids.contains(target.as_str()) {
                    continue;
                }
                if dangling && !missing.contains(&target) {
                    missing.push(target.clone());
                }
                push(
                    Edge {
                        from: node.id.clone(),
                        to: target,
                        kind: EdgeKind::Isbefore,
                    },
                    &mut edges,
                );
            }
            if let Some(parent) = copy.parent.as_deref().filter(|p| !p.is_empty()) {
                let dangling = !known.contains(parent);
                if !dangling && !open_ids.contains(parent) {
                    continue;
                }
                if dangling && !missing.iter().any(|m| m == parent) {
                    missing.push(parent.to_string());
                }
                push(
                    Edge {
                        from: parent.to_string(),
                        to: node.id.clone(),
                        kind: EdgeKind::Parent,
                    },
                    &mut edges,
                );
            }
        }
    }
    nodes.extend(missing.into_iter().map(|id| Node {
        id,
        item: None,
        ready: false,
    }));
    Graph { nodes, edges }
}

/// Longest title shown in a DOT label (the tooltip has the whole title).
const LABEL_TITLE_CHARS: usize = 60;

/// A DOT double-quoted string: `"` and `\` escaped (so no label escape
/// like `\N` or `\l` fires by accident), line breaks as `\n` (a centred
/// line break in a label), other control characters as spaces.
pub fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn short_title(title: &str) -> String {
    if title.chars().count() <= LABEL_TITLE_CHARS {
        return title.to_string();
    }
    let cut: String = title.chars().take(LABEL_TITLE_CHARS - 3).collect();
    format!("{cut}...")
}

/// The first two dash-separated parts of an ID (`WI-zusuh`).
fn short_id(id: &str) -> String {
    id.splitn(3, '-').take(2).collect::<Vec<_>>().join("-")
}

fn priority_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Graph<'_> {
    /// Graphviz DOT. Node names are full IDs; labels show the short ID,
    /// title, status, priority and tier. Ready items are filled green,
    /// duplicates dashed, cross-tier conflicts red, dangling IDs dotted.
    /// `isbefore` edges are solid (`A -> B`: A before B); parent edges run
    /// parent -> child, dashed grey, without arrowheads.
    pub fn to_dot(&self) -> String {
        let mut s = String::new();
        s.push_str(
            "// htrac: the open dependency graph. A -> B (solid): A must be done before B.\n",
        );
        s.push_str("// Dashed grey lines run from a parent to its child. Green: ready now;\n");
        s.push_str(
            "// dashed box: marked duplicate; red: in cross-tier conflict; dotted: not found.\n",
        );
        s.push_str("digraph htrac {\n");
        s.push_str("  rankdir=LR;\n");
        s.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n");
        s.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for n in &self.nodes {
            let _ = writeln!(s, "  {} [{}];", dot_quote(&n.id), node_attrs(n));
        }
        for e in &self.edges {
            let attrs = match e.kind {
                EdgeKind::Isbefore => String::new(),
                EdgeKind::Parent => " [style=dashed, color=gray50, arrowhead=none]".to_string(),
            };
            let _ = writeln!(
                s,
                "  {} -> {}{attrs};",
                dot_quote(&e.from),
                dot_quote(&e.to)
            );
        }
        s.push_str("}\n");
        s
    }

    /// `{"nodes": [...], "edges": [...]}` (see the README for the shape).
    pub fn to_json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| match n.item {
                Some(i) => json!({
                    "id": n.id,
                    "title": i.title,
                    "status": i.status,
                    "priority": i.priority,
                    "tier": i.tier.as_str(),
                    "ready": n.ready,
                    "duplicate_of": i.duplicate_of,
                    "cross_tier_conflict": i.cross_tier_conflict,
                    "missing": false,
                }),
                None => json!({
                    "id": n.id,
                    "title": null,
                    "status": null,
                    "priority": null,
                    "tier": null,
                    "ready": false,
                    "duplicate_of": [],
                    "cross_tier_conflict": false,
                    "missing": true,
                }),
            })
            .collect();
        let edges: Vec<Value> = self
            .edges
            .iter()
            .map(|e| json!({"from": e.from, "to": e.to, "kind": e.kind.as_str()}))
            .collect();
        json!({"nodes": nodes, "edges": edges})
    }
}

fn node_attrs(n: &Node) -> String {
    let Some(i) = n.item else {
        return format!(
            "label={}, style=dotted, tooltip={}",
            dot_quote(&format!("{}\n(not found)", short_id(&n.id))),
            dot_quote(&n.id)
        );
    };
    let mut label = vec![
        short_id(&i.id),
        short_title(&i.title),
        format!(
            "{}  P{}  [{}]",
            i.status,
            priority_text(&i.priority),
            i.tier.as_str()
        ),
    ];
    let mut style = vec!["rounded"];
    let mut extra = String::new();
    if n.ready {
        style.push("filled");
        extra.push_str(", fillcolor=\"#d8f0d8\"");
    }
    if !i.duplicate_of.is_empty() {
        style.push("dashed");
        let of: Vec<String> = Item::string_list(&i.duplicate_of)
            .iter()
            .map(|d| short_id(d))
            .collect();
        label.push(format!("duplicate of {}", of.join(", ")));
    }
    if i.cross_tier_conflict {
        extra.push_str(", color=red, penwidth=2");
        label.push("CROSS-TIER CONFLICT".into());
    }
    format!(
        "label={}, style={}{extra}, tooltip={}",
        dot_quote(&label.join("\n")),
        dot_quote(&style.join(",")),
        dot_quote(&format!("{} — {}", i.id, i.title))
    )
}
