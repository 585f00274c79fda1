//! Items against each other, always against the whole tracker: an ID in
//! two tiers, references (parent, isbefore, duplicate_of, not_duplicate_of)
//! to no item or from a committed tier into stealth, ID prefix vs kind,
//! `isbefore` cycles; and the kinds of `config.yaml` vs its template.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::schema::writer_line;
use super::{Checked, Finding, Level, Role, Target};
use crate::cache::listing::Listing;
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

/// Which tiers hold a file of each item of the tracker: ID → one bit per
/// tier (in [`Tier::ALL`] order). References are resolved against it.
pub(super) struct Index<'a> {
    tiers_of: HashMap<&'a str, u8, foldhash::fast::RandomState>,
}

impl<'a> Index<'a> {
    pub(super) fn of(listing: &'a Listing) -> Index<'a> {
        let mut tiers_of: HashMap<&str, u8, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(listing.files.len(), Default::default());
        for f in &listing.files {
            *tiers_of.entry(listing.id(f)).or_default() |= bit(f.tier);
        }
        Index { tiers_of }
    }

    /// Is `id` in more than one tier?
    pub(super) fn in_many_tiers(&self, id: &str) -> bool {
        self.tiers_of.get(id).is_some_and(|b| b.count_ones() > 1)
    }

    fn in_tier(&self, id: &str, tier: Tier) -> bool {
        self.tiers_of.get(id).is_some_and(|b| b & bit(tier) != 0)
    }

    /// The tiers holding a file of `id`, in [`Tier::ALL`] order.
    fn tiers(&self, id: &str) -> Option<impl Iterator<Item = Tier>> {
        let b = *self.tiers_of.get(id)?;
        Some(Tier::ALL.into_iter().filter(move |t| b & bit(*t) != 0))
    }
}

fn bit(tier: Tier) -> u8 {
    1 << crate::cache::tier_index(tier)
}

/// The checks of one file against the whole tracker: its ID in another
/// tier, its references, its ID prefix (cycles are [`cycles`]). Returns
/// what [`judge`] needs of the file to judge its references again (the
/// validation memo keeps it).
pub(super) fn check(tracker: &Tracker, index: &Index<'_>, c: &mut Checked) -> Option<Refs> {
    let refs = refs_of(tracker, c);
    let mut findings = std::mem::take(&mut c.findings);
    judge(tracker, index, &c.target, refs.as_ref(), &mut findings);
    c.findings = findings;
    refs
}

/// What one file's item refers to, with the lines of the ops that wrote
/// each reference, and what its ID prefix says against its kind: the
/// checks of [`check`] that need the file's ops and item, done once.
pub(super) struct Refs {
    /// (index in [`REF_FIELDS`], target, line of the op that wrote it).
    pub(super) refs: Vec<(u8, String, Option<usize>)>,
    /// Found after the references are judged (the ID prefix against the kind).
    pub(super) tail: Vec<Finding>,
}

/// The reference fields, in the order they are checked.
pub(super) const REF_FIELDS: [&str; 4] = ["parent", "isbefore", "duplicate_of", "not_duplicate_of"];

/// [`Refs`] of `c`'s item (`None` without one).
pub(super) fn refs_of(tracker: &Tracker, c: &Checked) -> Option<Refs> {
    let item = c.item.as_ref()?;
    let id = item.id.as_str();
    let mut out = Refs {
        refs: Vec::new(),
        tail: Vec::new(),
    };
    for (field, targets) in refs(item) {
        let at = REF_FIELDS.iter().position(|f| *f == field).unwrap_or(0) as u8;
        for target in targets.into_iter().filter(|t| !t.is_empty()) {
            let line = writer_line(c, |op| wrote_ref(op, field, &target));
            out.refs.push((at, target, line));
        }
    }
    let (prefix, _) = split_id(id);
    if let Some(kind) = tracker.config.kind(&item.kind) {
        if !prefix.is_empty() && prefix != kind.prefix {
            out.tail.push(Finding {
                level: Level::Error,
                line: writer_line(c, |op| op.kind == "create"),
                message: format!(
                    "ID prefix '{prefix}' does not match kind '{}' (prefix '{}')",
                    kind.name, kind.prefix
                ),
            });
        }
    }
    Some(out)
}

/// Judges the file `target` against the tracker as `index` lists it: its
/// ID in another tier, then its references (`refs`, when it compiled to an
/// item), each problem added to `out`.
pub(super) fn judge(
    tracker: &Tracker,
    index: &Index<'_>,
    target: &Target,
    refs: Option<&Refs>,
    out: &mut Vec<Finding>,
) {
    let error = |line, message| Finding {
        level: Level::Error,
        line,
        message,
    };
    if let (Role::Item, Some(id), Some(tier)) = (target.role, &target.id, target.tier) {
        if let Some(places) = index.tiers(id) {
            let others: Vec<String> = places
                .filter(|t| *t != tier)
                .map(|t| {
                    let path = tracker.tier_dir(t).join(format!(".{id}.ops"));
                    format!("{} ({})", t.as_str(), super::shown_path(tracker, &path))
                })
                .collect();
            if !others.is_empty() {
                let msg = format!(
                    "{id} is also in tier {}: an item must live in exactly one tier",
                    others.join(", ")
                );
                out.push(error(None, msg));
            }
        }
    }
    let Some(refs) = refs else { return };
    // The item's ID is its file's (the compiled item's, which is the same).
    let id = target.id.as_deref().unwrap_or_default();
    let committed = target.tier != Some(Tier::Stealth);
    for (at, target, line) in &refs.refs {
        let field = REF_FIELDS[usize::from(*at)];
        let line = *line;
        if target == id {
            out.push(error(
                line,
                format!("{field}: '{target}' is the item itself"),
            ));
            continue;
        }
        let visible =
            index.in_tier(target, Tier::Canonical) || index.in_tier(target, Tier::Workspace);
        if visible || (!committed && index.in_tier(target, Tier::Stealth)) {
            continue;
        }
        if index.in_tier(target, Tier::Stealth) {
            out.push(error(line, format!(
                "{field}: '{target}' is a stealth item: stealth is not committed, so other clones (and CI) cannot resolve it"
            )));
        } else {
            out.push(error(
                line,
                format!("{field}: dangling reference '{target}' (no such item)"),
            ));
        }
    }
    out.extend(refs.tail.iter().cloned());
}

/// What [`cycles`] needs of one validated file: its item's `isbefore`
/// links, and where ops wrote `isbefore` values (to point at). (The item's
/// ID is its file's: [`cycles`] is given it beside.)
pub(super) struct Links {
    isbefore: Vec<String>,
    writers: Vec<Writer>,
}

/// An op that wrote `isbefore` values: its line, its sort key
/// ([`Op::sort_key`]) and the values' texts ([`value_text`]).
struct Writer {
    line: usize,
    key: (i64, String, u8, String),
    wrote: Vec<String>,
}

impl Links {
    /// The links of `c`'s item (`None` without one).
    pub(super) fn of(c: &Checked) -> Option<Links> {
        let item = c.item.as_ref()?;
        // What `op` wrote into `isbefore`, as [`wrote_ref`] reads it.
        let wrote = |op: &Op| -> Vec<String> {
            let maps: &[&str] = match op.kind.as_str() {
                "create" => &["data"],
                "update" => &["set", "add"],
                _ => return Vec::new(),
            };
            let mut out = Vec::new();
            for m in maps {
                let Some(map) = op.get_map(m) else { continue };
                for (_, v) in map.iter().filter(|(k, _)| canonical_field(k) == "isbefore") {
                    match v {
                        Value::Array(a) => out.extend(a.iter().map(value_text)),
                        other => out.push(value_text(other)),
                    }
                }
            }
            out
        };
        // Kept even when the item has no `isbefore` now (a later file of
        // the same ID may close a cycle through it, reported here).
        let writers = c
            .ops
            .iter()
            .filter_map(|(line, op)| {
                let wrote = wrote(op);
                let (clock, at, rank, nonce) = op.sort_key();
                (!wrote.is_empty()).then(|| Writer {
                    line: *line,
                    key: (clock, at.to_string(), rank, nonce.to_string()),
                    wrote,
                })
            })
            .collect();
        Some(Links {
            isbefore: item.isbefore_ids(),
            writers,
        })
    }

    /// Spelled out for the validation memo ([`Links::decode`] reads it back).
    pub(super) fn encode(&self, e: &mut crate::cache::codec::Enc<'_>) {
        e.u32(self.isbefore.len() as u32);
        for t in &self.isbefore {
            e.str(t);
        }
        e.u32(self.writers.len() as u32);
        for w in &self.writers {
            e.u64(w.line as u64);
            e.u64(w.key.0 as u64);
            e.str(&w.key.1);
            e.u8(w.key.2);
            e.str(&w.key.3);
            e.u32(w.wrote.len() as u32);
            for t in &w.wrote {
                e.str(t);
            }
        }
    }

    pub(super) fn decode(d: &mut crate::cache::codec::Dec<'_>) -> Option<Links> {
        let strings = |d: &mut crate::cache::codec::Dec<'_>| -> Option<Vec<String>> {
            let n = d.u32()? as usize;
            let mut out = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                out.push(d.string()?);
            }
            Some(out)
        };
        let isbefore = strings(d)?;
        let n = d.u32()? as usize;
        let mut writers = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let line = d.u64()? as usize;
            let key = (d.u64()? as i64, d.string()?, d.u8()?, d.string()?);
            writers.push(Writer {
                line,
                key,
                wrote: strings(d)?,
            });
        }
        Some(Links { isbefore, writers })
    }

    /// Does the item have `isbefore` links?
    pub(super) fn has_edges(&self) -> bool {
        !self.isbefore.is_empty()
    }

    /// The line of the op that last wrote `target` into `isbefore` (as
    /// [`writer_line`] finds it among all the file's ops).
    fn writer_line(&self, target: &str) -> Option<usize> {
        self.writers
            .iter()
            .filter(|w| w.wrote.iter().any(|t| t == target))
            .max_by(|a, b| a.key.cmp(&b.key))
            .map(|w| w.line)
    }
}

/// Reports each `isbefore` cycle once, on the file of its first item; with
/// named files, only cycles through one of them (the rest of the tracker is
/// compiled only when a named item has isbefore links at all). `files`:
/// each validated file's item ID and links; returns (index in `files`,
/// line, message) of each error.
pub(super) fn cycles(
    tracker: &Tracker,
    files: &[Option<(&str, &Links)>],
    whole: bool,
) -> Result<Vec<(usize, Option<usize>, String)>> {
    let mut out = Vec::new();
    let linked = || {
        files
            .iter()
            .flatten()
            .filter(|(_, l)| !l.isbefore.is_empty())
    };
    if !whole && linked().next().is_none() {
        return Ok(out);
    }
    // The IDs of the validated files (only asked for when there is a cycle,
    // in a whole-tracker run).
    let ids = || -> HashSet<&str> { files.iter().flatten().map(|(id, _)| *id).collect() };
    let mut mine: Option<HashSet<&str>> = (!whole).then(ids);
    // The rest of the tracker, for named files: (ID, isbefore) of each item.
    let mut others: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(mine) = &mine {
        for item in tracker.snapshot()?.items {
            if !mine.contains(item.id.as_str()) {
                let edges = item.isbefore_ids();
                others.push((item.id, edges));
            }
        }
    }
    // Only an item with links can be on a cycle: of the rest of the
    // tracker, the graph holds the IDs that have links there (the first
    // item of an ID counts). Every validated file given goes in, a later
    // file of an ID replacing an earlier one (a whole-tracker run gives
    // only the files with links, and those whose ID is in two tiers).
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    if !others.is_empty() {
        let wanted: HashSet<&str> = others
            .iter()
            .filter(|(_, edges)| !edges.is_empty())
            .map(|(id, _)| id.as_str())
            .collect();
        for (id, edges) in others.iter().filter(|(id, _)| wanted.contains(id.as_str())) {
            graph
                .entry(id.as_str())
                .or_insert_with(|| edges.iter().map(String::as_str).collect());
        }
    }
    for (id, l) in files.iter().flatten() {
        graph.insert(id, l.isbefore.iter().map(String::as_str).collect());
    }
    // An item without links is on no cycle (and the search finds the same
    // cycles, in the same order, without it).
    graph.retain(|_, edges| !edges.is_empty());
    for edges in graph.values_mut() {
        edges.sort_unstable();
        edges.dedup();
    }
    let found = find_cycles(&graph);
    if found.is_empty() {
        return Ok(out);
    }
    let mine = mine.get_or_insert_with(ids);
    let mut seen: BTreeSet<Vec<&str>> = BTreeSet::new();
    for cycle in found {
        if !whole && !cycle.iter().any(|id| mine.contains(id)) {
            continue;
        }
        // One report per cycle, however it was entered.
        let body = &cycle[..cycle.len() - 1];
        let start = (0..body.len()).min_by_key(|&i| &body[i]).unwrap_or(0);
        let mut key: Vec<&str> = body[start..].to_vec();
        key.extend_from_slice(&body[..start]);
        if !seen.insert(key.clone()) {
            continue;
        }
        let mut path = key.clone();
        path.push(key[0]);
        let Some(owner) = key.iter().find(|id| mine.contains(*id)) else {
            continue;
        };
        if let Some((i, l)) = files.iter().enumerate().find_map(|(i, f)| {
            f.as_ref()
                .filter(|(id, _)| id == owner)
                .map(|(_, l)| (i, l))
        }) {
            let next = path[path.iter().position(|p| p == owner).unwrap_or(0) + 1];
            out.push((
                i,
                l.writer_line(next),
                format!("isbefore cycle: {}", path.join(" -> ")),
            ));
        }
    }
    Ok(out)
}

/// Cycles found by depth-first search: one per back edge, as the path from
/// the edge's target round to itself.
fn find_cycles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    // The nodes by number (in key order), each edge as the number of its
    // target (`None`: no such node).
    let nodes: Vec<&str> = graph.keys().copied().collect();
    let number: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<Option<usize>>> = graph
        .values()
        .map(|e| e.iter().map(|t| number.get(t).copied()).collect())
        .collect();
    let mut mark = vec![Mark::New; nodes.len()];
    let mut out = Vec::new();
    for root in 0..nodes.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Open;
        while let Some((node, i)) = stack.last().copied() {
            if i == edges[node].len() {
                mark[node] = Mark::Done;
                stack.pop();
                continue;
            }
            stack.last_mut().expect("non-empty").1 += 1;
            let Some(next) = edges[node][i] else {
                continue;
            };
            match mark[next] {
                Mark::Done => {}
                Mark::New => {
                    mark[next] = Mark::Open;
                    stack.push((next, 0));
                }
                Mark::Open => {
                    let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let mut cycle: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| nodes[*n]).collect();
                    cycle.push(nodes[next]);
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

    fn graph<'a>(edges: &[(&'a str, &[&'a str])]) -> BTreeMap<&'a str, Vec<&'a str>> {
        edges.iter().map(|(k, v)| (*k, v.to_vec())).collect()
    }

    #[test]
    fn finds_cycles_not_diamonds() {
        let g = graph(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert!(find_cycles(&g).is_empty());
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("x", &["x2"])]);
        assert_eq!(find_cycles(&g), vec![vec!["a", "b", "c", "a"]]);
    }
}
