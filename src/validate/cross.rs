//! Items against each other, always against the whole tracker: an ID in
//! two tiers, references (parent, isbefore, duplicate_of, not_duplicate_of)
//! to no item or from a committed tier into stealth, ID prefix vs kind,
//! `isbefore` cycles; and the kinds of `config.yaml` vs its template.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_json::Value;

use super::schema::writer_line;
use super::{Checked, Role};
use crate::error::Result;
use crate::items::ids::split_id;
use crate::items::item::{value_text, Item};
use crate::items::tiers::Tier;
use crate::oplog::op::{canonical_field, Op};
use crate::tracker::Tracker;

/// The reference fields of an item, with their values.
fn refs(item: &Item) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("parent", item.parent.iter().cloned().collect()),
        ("isbefore", Item::string_list(&item.isbefore)),
        ("duplicate_of", Item::string_list(&item.duplicate_of)),
        (
            "not_duplicate_of",
            Item::string_list(&item.not_duplicate_of),
        ),
    ]
}

/// Whether `op` wrote `target` into reference field `field`.
fn wrote_ref(op: &Op, field: &str, target: &str) -> bool {
    let has = |v: &Value| match v {
        Value::Array(a) => a.iter().any(|x| value_text(x) == target),
        other => value_text(other) == target,
    };
    let maps: &[&str] = match op.kind.as_str() {
        "create" => &["data"],
        "update" => &["set", "add"],
        _ => return false,
    };
    maps.iter().any(|m| {
        op.get_map(m).is_some_and(|map| {
            map.iter()
                .any(|(k, v)| canonical_field(k) == field && has(v))
        })
    })
}

pub(super) fn check(tracker: &Tracker, checked: &mut [Checked], whole: bool) -> Result<()> {
    let files = tracker.files()?;
    let mut tiers_of: HashMap<&str, Vec<(Tier, &Path)>> = HashMap::new();
    for f in &files {
        tiers_of
            .entry(f.id.as_str())
            .or_default()
            .push((f.tier, f.path.as_path()));
    }
    let in_tier = |id: &str, tier: Tier| {
        tiers_of
            .get(id)
            .is_some_and(|v| v.iter().any(|(t, _)| *t == tier))
    };
    for c in checked.iter_mut() {
        if c.target.role != Role::Item {
            continue;
        }
        let (Some(id), Some(tier)) = (c.target.id.clone(), c.target.tier) else {
            continue;
        };
        if let Some(places) = tiers_of.get(id.as_str()) {
            let others: Vec<String> = places
                .iter()
                .filter(|(t, _)| *t != tier)
                .map(|(t, p)| format!("{} ({})", t.as_str(), super::shown_path(tracker, p)))
                .collect();
            if !others.is_empty() {
                c.error(
                    None,
                    format!(
                        "{id} is also in tier {}: an item must live in exactly one tier",
                        others.join(", ")
                    ),
                );
            }
        }
    }
    for c in checked.iter_mut() {
        let Some(item) = c.item.clone() else { continue };
        let id = item.id.clone();
        let committed = c.target.tier != Some(Tier::Stealth);
        for (field, targets) in refs(&item) {
            for target in targets.iter().filter(|t| !t.is_empty()) {
                let line = writer_line(c, |op| wrote_ref(op, field, target));
                if *target == id {
                    c.error(line, format!("{field}: '{target}' is the item itself"));
                    continue;
                }
                let visible = in_tier(target, Tier::Canonical) || in_tier(target, Tier::Workspace);
                if visible || (!committed && in_tier(target, Tier::Stealth)) {
                    continue;
                }
                if in_tier(target, Tier::Stealth) {
                    c.error(line, format!(
                        "{field}: '{target}' is a stealth item: stealth is not committed, so other clones (and CI) cannot resolve it"
                    ));
                } else {
                    c.error(
                        line,
                        format!("{field}: dangling reference '{target}' (no such item)"),
                    );
                }
            }
        }
        let (prefix, _) = split_id(&id);
        if let Some(kind) = tracker.config.kind(&item.kind) {
            if !prefix.is_empty() && prefix != kind.prefix {
                c.error(
                    writer_line(c, |op| op.kind == "create"),
                    format!(
                        "ID prefix '{prefix}' does not match kind '{}' (prefix '{}')",
                        kind.name, kind.prefix
                    ),
                );
            }
        }
    }
    cycles(tracker, checked, whole)
}

/// Reports each `isbefore` cycle once, on the file of its first item; with
/// named files, only cycles through one of them (the rest of the tracker is
/// compiled only when a named item has isbefore links at all).
fn cycles(tracker: &Tracker, checked: &mut [Checked], whole: bool) -> Result<()> {
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mine: BTreeSet<String> = checked
        .iter()
        .filter_map(|c| c.item.as_ref().map(|i| i.id.clone()))
        .collect();
    if !whole
        && !checked
            .iter()
            .any(|c| c.item.as_ref().is_some_and(|i| !i.isbefore.is_empty()))
    {
        return Ok(());
    }
    if !whole {
        for item in tracker.snapshot()?.items {
            if !mine.contains(&item.id) {
                graph.entry(item.id.clone()).or_insert(item.isbefore_ids());
            }
        }
    }
    for c in checked.iter() {
        if let Some(item) = &c.item {
            graph.insert(item.id.clone(), item.isbefore_ids());
        }
    }
    for edges in graph.values_mut() {
        edges.sort();
        edges.dedup();
    }
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    for cycle in find_cycles(&graph) {
        if !whole && !cycle.iter().any(|id| mine.contains(id)) {
            continue;
        }
        // One report per cycle, however it was entered.
        let body = &cycle[..cycle.len() - 1];
        let start = (0..body.len()).min_by_key(|&i| &body[i]).unwrap_or(0);
        let mut key: Vec<String> = body[start..].to_vec();
        key.extend_from_slice(&body[..start]);
        if !seen.insert(key.clone()) {
            continue;
        }
        let mut path = key.clone();
        path.push(key[0].clone());
        let owner = key.iter().find(|id| mine.contains(*id)).cloned();
        if let Some(c) = checked
            .iter_mut()
            .find(|c| c.item.as_ref().map(|i| &i.id) == owner.as_ref() && owner.is_some())
        {
            let next = path[path
                .iter()
                .position(|p| Some(p) == owner.as_ref())
                .unwrap_or(0)
                + 1]
            .clone();
            let line = writer_line(c, |op| wrote_ref(op, "isbefore", &next));
            c.error(line, format!("isbefore cycle: {}", path.join(" -> ")));
        }
    }
    Ok(())
}

/// Cycles found by depth-first search: one per back edge, as the path from
/// the edge's target round to itself.
fn find_cycles(graph: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = graph.keys().map(|k| (k.as_str(), Mark::New)).collect();
    let mut out = Vec::new();
    for root in graph.keys() {
        if mark[root.as_str()] != Mark::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(&str, usize)> = vec![(root.as_str(), 0)];
        mark.insert(root.as_str(), Mark::Open);
        while let Some((node, i)) = stack.last().copied() {
            let edges = &graph[node];
            if i == edges.len() {
                mark.insert(node, Mark::Done);
                stack.pop();
                continue;
            }
            stack.last_mut().expect("non-empty").1 += 1;
            let next = edges[i].as_str();
            match mark.get(next) {
                None | Some(Mark::Done) => {}
                Some(Mark::New) => {
                    mark.insert(next, Mark::Open);
                    stack.push((next, 0));
                }
                Some(Mark::Open) => {
                    let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                    cycle.push(next.to_string());
                    out.push(cycle);
                }
            }
        }
    }
    out
}

/// Kinds defined in `config.yaml` but not in the tracked template, and the
/// other way round: a clone without the local config reads other kinds.
pub(super) fn config_kinds(root: &Path) -> Vec<String> {
    let dir = root.join("tracker");
    let kinds = |name: &str| -> Option<BTreeSet<String>> {
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        let v: Value = serde_norway::from_str(&text).ok()?;
        Some(
            v.get("kinds")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        )
    };
    let (Some(config), Some(template)) = (kinds("config.yaml"), kinds("config.yaml.template"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for k in config.difference(&template) {
        out.push(format!(
            "kind '{k}' is in config.yaml but not in config.yaml.template"
        ));
    }
    for k in template.difference(&config) {
        out.push(format!(
            "kind '{k}' is in config.yaml.template but not in config.yaml"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn finds_cycles_not_diamonds() {
        let g = graph(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert!(find_cycles(&g).is_empty());
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("x", &["x2"])]);
        assert_eq!(find_cycles(&g), vec![vec!["a", "b", "c", "a"]]);
    }
}
