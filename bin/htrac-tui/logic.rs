//! Pure list logic of the TUI: which layout a terminal size gets, the
//! shortest unique ID length, the filter pipeline and custom order, the
//! tree arrangement by parent, and the dependency chain of one item.
//! Nothing here draws or writes; everything is unit-tested.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use htrac::Item;

/// The layout a terminal size gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    TooSmall,
    Compact,
    Standard,
    Wide,
}

/// The reference's `_compute_tier`: too small below 40×16, compact below
/// 60 wide or 20 high, wide above 120×38, standard otherwise.
pub fn layout_for(w: u16, h: u16) -> Layout {
    if w < 40 || h < 16 {
        Layout::TooSmall
    } else if w < 60 || h < 20 {
        Layout::Compact
    } else if w > 120 && h > 38 {
        Layout::Wide
    } else {
        Layout::Standard
    }
}

/// The shortest length at which every ID's prefix is unique (raw
/// characters, before snapping). 0 for no IDs.
#[cfg(test)]
pub fn unique_len(ids: &[&str]) -> usize {
    let max_len = ids.iter().map(|i| i.len()).max().unwrap_or(0);
    for len in 1..=max_len {
        let mut seen = HashSet::new();
        if ids
            .iter()
            .all(|id| seen.insert(id.get(..len).unwrap_or(id)))
        {
            return len;
        }
    }
    max_len
}

/// The shown length of `id`: `unique` snapped up to the end of a proquint
/// syllable, never shorter than the kind prefix plus one syllable
/// (`WI-fohog`).
pub fn snap(id: &str, unique: usize) -> usize {
    let parts: Vec<&str> = id.split('-').collect();
    if parts.len() <= 1 {
        return unique.min(id.len());
    }
    let floor = parts[0].len() + 1 + parts[1].len();
    let mut end = parts[0].len();
    for part in &parts[1..] {
        end += 1 + part.len();
        if end >= unique {
            return end.max(floor);
        }
    }
    id.len()
}

/// The shown length of every ID: the shortest prefix that tells it from
/// every other ID, snapped to a syllable (so `INV-zumov` stays short even
/// when two WI- IDs share their first syllable).
pub fn short_lens(ids: &[&str]) -> HashMap<String, usize> {
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let lcp = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut out = HashMap::new();
    for (i, id) in sorted.iter().enumerate() {
        let mut need = 1;
        if i > 0 {
            need = need.max(lcp(id, sorted[i - 1]) + 1);
        }
        if i + 1 < sorted.len() {
            need = need.max(lcp(id, sorted[i + 1]) + 1);
        }
        out.insert(id.to_string(), snap(id, need.min(id.len())));
    }
    out
}

#[cfg(test)]
/// The longest shown ID length over `ids`.
pub fn short_id_len(ids: &[&str]) -> usize {
    let unique = unique_len(ids);
    ids.iter().map(|id| snap(id, unique)).max().unwrap_or(0)
}

/// `id` cut to `len` characters (whole when shorter).
pub fn shorten(id: &str, len: usize) -> &str {
    id.get(..len).unwrap_or(id)
}

/// A manual read/unread mark, valid while the discussion keeps its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMark {
    pub read: bool,
    pub discussion_len: usize,
}

/// Unread for the human: the last discussion entry is not the human's,
/// unless a mark made at the current discussion length says otherwise.
pub fn human_unread(item: &Item, marks: &BTreeMap<String, ReadMark>) -> bool {
    if let Some(m) = marks.get(&item.id) {
        if m.discussion_len == item.discussion.len() {
            return !m.read;
        }
    }
    item.discussion
        .iter()
        .rev()
        .find(|e| !e.is_tombstoned)
        .is_some_and(|e| !e.is_human())
}

/// What the filters hide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub hidden_statuses: BTreeSet<String>,
    pub hidden_kinds: BTreeSet<String>,
    /// Tier names (`canonical`, `workspace`, `stealth`).
    pub hidden_tiers: BTreeSet<String>,
    pub hidden_tags: BTreeSet<String>,
    pub hide_tagged: bool,
    /// The live text filter (`/`), matched case-insensitively against
    /// title, status, kind, ID and tags.
    pub text: String,
}

impl Filters {
    pub fn active(&self) -> usize {
        self.hidden_statuses.len()
            + self.hidden_kinds.len()
            + self.hidden_tiers.len()
            + self.hidden_tags.len()
            + usize::from(self.hide_tagged)
            + usize::from(!self.text.is_empty())
    }

    pub fn shows(&self, item: &Item) -> bool {
        if self.hidden_statuses.contains(&item.status)
            || self.hidden_kinds.contains(&item.kind)
            || self.hidden_tiers.contains(item.tier.as_str())
        {
            return false;
        }
        let tags = Item::string_list(&item.tags);
        if tags.iter().any(|t| self.hidden_tags.contains(t)) {
            return false;
        }
        if self.hide_tagged && !tags.is_empty() {
            return false;
        }
        if !self.text.is_empty() {
            let needle = self.text.to_lowercase();
            let hay = [&item.title, &item.status, &item.kind, &item.id]
                .iter()
                .any(|s| s.to_lowercase().contains(&needle))
                || tags.iter().any(|t| t.to_lowercase().contains(&needle));
            if !hay {
                return false;
            }
        }
        true
    }
}

/// One row of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Index into the item list.
    pub idx: usize,
    /// Nesting depth in the tree view (0 in the table).
    pub depth: usize,
    /// Shown only because the human has unread messages on it (the
    /// filters would hide it).
    pub forced: bool,
    /// A chain member the filters hide, appended for the highlight.
    pub ghost: bool,
}

/// Sorts item indices by the custom order (listed IDs first, in that
/// order), then priority and creation time.
pub fn apply_order(items: &[Item], idxs: &mut [usize], order: &[String]) {
    let pos: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    idxs.sort_by(|&a, &b| {
        let (ia, ib) = (&items[a], &items[b]);
        let pa = pos.get(ia.id.as_str()).copied().unwrap_or(usize::MAX);
        let pb = pos.get(ib.id.as_str()).copied().unwrap_or(usize::MAX);
        pa.cmp(&pb)
            .then_with(|| ia.sort_key().cmp(&ib.sort_key()))
            .then_with(|| ia.id.cmp(&ib.id))
    });
}

/// The filter pipeline: statuses, tags, "Tagged", the text filter, then
/// the custom order; items with unread human messages are appended even
/// when filtered out. In tree mode the rows are nested under their parents.
pub fn rows(
    items: &[Item],
    filters: &Filters,
    order: &[String],
    marks: &BTreeMap<String, ReadMark>,
    tree: bool,
) -> Vec<Row> {
    let mut shown: Vec<usize> = (0..items.len())
        .filter(|&i| filters.shows(&items[i]))
        .collect();
    apply_order(items, &mut shown, order);
    let mut forced: Vec<usize> = (0..items.len())
        .filter(|&i| !filters.shows(&items[i]) && human_unread(&items[i], marks))
        .collect();
    apply_order(items, &mut forced, order);
    let forced_set: HashSet<usize> = forced.iter().copied().collect();
    let mut all = shown;
    all.extend(forced);
    let flat = |idx: usize, depth: usize| Row {
        idx,
        depth,
        forced: forced_set.contains(&idx),
        ghost: false,
    };
    if !tree {
        return all.into_iter().map(|i| flat(i, 0)).collect();
    }
    let present: HashMap<&str, usize> = all.iter().map(|&i| (items[i].id.as_str(), i)).collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for &i in &all {
        match items[i]
            .parent
            .as_deref()
            .and_then(|p| present.get(p))
            .filter(|&&p| p != i)
        {
            Some(&p) => children.entry(p).or_default().push(i),
            None => roots.push(i),
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    fn walk(
        i: usize,
        depth: usize,
        children: &HashMap<usize, Vec<usize>>,
        seen: &mut HashSet<usize>,
        out: &mut Vec<(usize, usize)>,
    ) {
        if !seen.insert(i) {
            return;
        }
        out.push((i, depth));
        for &c in children.get(&i).into_iter().flatten() {
            walk(c, depth + 1, children, seen, out);
        }
    }
    let mut pairs = Vec::new();
    for &r in &roots {
        walk(r, 0, &children, &mut seen, &mut pairs);
    }
    // Parent cycles have no root: show their members flat at the end.
    for &i in &all {
        walk(i, 0, &children, &mut seen, &mut pairs);
    }
    out.extend(pairs.into_iter().map(|(i, d)| flat(i, d)));
    out
}

/// The dependency chain of one item: who blocks it (and who blocks them),
/// and whom it blocks (and whom they block). `X.isbefore = [Y]`: X blocks Y.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub blockers: Vec<String>,
    pub dependents: Vec<String>,
    pub up_transitive: Vec<String>,
    pub down_transitive: Vec<String>,
}

/// Which part of a chain an ID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Selected,
    Blocker,
    Dependent,
    Transitive,
}

impl Chain {
    pub fn role(&self, id: &str, selected: &str) -> Option<Role> {
        let has = |v: &[String]| v.iter().any(|x| x == id);
        if id == selected {
            Some(Role::Selected)
        } else if has(&self.blockers) {
            Some(Role::Blocker)
        } else if has(&self.dependents) {
            Some(Role::Dependent)
        } else if has(&self.up_transitive) || has(&self.down_transitive) {
            Some(Role::Transitive)
        } else {
            None
        }
    }

    pub fn members(&self) -> impl Iterator<Item = &String> {
        self.blockers
            .iter()
            .chain(&self.dependents)
            .chain(&self.up_transitive)
            .chain(&self.down_transitive)
    }

    pub fn is_empty(&self) -> bool {
        self.blockers.is_empty() && self.dependents.is_empty()
    }
}

/// The IDs an item blocks (its `isbefore`) and the IDs that block it.
pub struct Links {
    pub blocks: HashMap<String, Vec<String>>,
    pub blocked_by: HashMap<String, Vec<String>>,
}

impl Links {
    pub fn new(items: &[Item]) -> Links {
        let mut blocks: HashMap<String, Vec<String>> = HashMap::new();
        let mut blocked_by: HashMap<String, Vec<String>> = HashMap::new();
        let known: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
        for item in items {
            for target in item.isbefore_ids() {
                if target == item.id || !known.contains(target.as_str()) {
                    continue;
                }
                let b = blocks.entry(item.id.clone()).or_default();
                if !b.contains(&target) {
                    b.push(target.clone());
                }
                let bb = blocked_by.entry(target).or_default();
                if !bb.contains(&item.id) {
                    bb.push(item.id.clone());
                }
            }
        }
        Links { blocks, blocked_by }
    }

    fn walk(map: &HashMap<String, Vec<String>>, start: &str) -> (Vec<String>, Vec<String>) {
        let direct: Vec<String> = map.get(start).cloned().unwrap_or_default();
        let mut seen: HashSet<String> = direct.iter().cloned().collect();
        seen.insert(start.to_string());
        let mut queue: VecDeque<String> = direct.iter().cloned().collect();
        let mut transitive = Vec::new();
        while let Some(id) = queue.pop_front() {
            for next in map.get(&id).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    transitive.push(next.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        (direct, transitive)
    }

    pub fn chain(&self, id: &str) -> Chain {
        let (blockers, up_transitive) = Self::walk(&self.blocked_by, id);
        let (dependents, down_transitive) = Self::walk(&self.blocks, id);
        Chain {
            blockers,
            dependents,
            up_transitive,
            down_transitive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_reference_thresholds() {
        assert_eq!(layout_for(30, 10), Layout::TooSmall);
        assert_eq!(layout_for(39, 30), Layout::TooSmall);
        assert_eq!(layout_for(40, 16), Layout::Compact);
        assert_eq!(layout_for(59, 40), Layout::Compact);
        assert_eq!(layout_for(80, 19), Layout::Compact);
        assert_eq!(layout_for(80, 24), Layout::Standard);
        assert_eq!(layout_for(120, 45), Layout::Standard);
        assert_eq!(layout_for(121, 39), Layout::Wide);
        assert_eq!(layout_for(160, 38), Layout::Standard);
    }

    #[test]
    fn short_ids_snap_to_syllables() {
        let ids = [
            "WI-fohog-bozim-aaaaa",
            "WI-fohog-bakim-aaaaa",
            "INV-lipal-kasad",
        ];
        // Unique after "WI-fohog-bo" (11 chars) → snapped to "WI-fohog-bozim"
        // (14); the reference applies 11 to every ID, so INV gets 15.
        assert_eq!(short_id_len(&ids), 15);
        assert_eq!(shorten(ids[0], snap(ids[0], 11)), "WI-fohog-bozim");
        // Per ID, INV needs only its first syllable.
        let per = short_lens(&ids);
        assert_eq!(per["INV-lipal-kasad"], 9);
        assert_eq!(per["WI-fohog-bakim-aaaaa"], 14);
        // One ID: floor is prefix + one syllable.
        assert_eq!(short_id_len(&["INV-lipal-kasad"]), 9);
        assert_eq!(short_id_len(&[]), 0);
        // Identical prefixes up to the end: the full ID.
        assert_eq!(short_id_len(&["WI-a", "WI-a"]), 4);
    }

    fn item(id: &str, status: &str, tags: &[&str]) -> Item {
        let mut i = htrac::items::compile::compile(
            id,
            htrac::Tier::Workspace,
            &htrac::oplog::parse(
                "x.ops".as_ref(),
                "- op: create  # 0001\n  at: '2026-01-01T00:00:00Z'  # 0001\n  by: human  # 0001\n  actor: a  # 0001\n  clock: 1  # 0001\n  nonce: '0001'  # 0001\n  data:  # 0001\n    kind: work_item  # 0001\n    title: t  # 0001\n    status: todo_hard  # 0001\n    priority: 2  # 0001\n",
            )
            .unwrap()
            .ops
            .into_iter()
            .map(|(_, o)| o)
            .collect::<Vec<_>>(),
        )
        .unwrap();
        i.status = status.into();
        i.tags = tags.iter().map(|t| serde_json::json!(t)).collect();
        i.title = format!("title of {id}");
        i
    }

    #[test]
    fn filters_order_and_forced_unread() {
        let mut items = vec![
            item("WI-a", "todo_hard", &[]),
            item("WI-b", "done", &[]),
            item("WI-c", "todo_hard", &["ui"]),
        ];
        items[1].discussion.push(htrac::items::item::Entry {
            by: "agent".into(),
            actor: "x".into(),
            at: String::new(),
            message: "hi".into(),
            is_summary: false,
            nonce: "n".into(),
            is_tombstoned: false,
            edit_history: vec![],
        });
        let mut f = Filters::default();
        f.hidden_statuses.insert("done".into());
        f.hidden_tags.insert("ui".into());
        let marks = BTreeMap::new();
        let r = rows(&items, &f, &[], &marks, false);
        // b is hidden by status but unread: appended, marked forced.
        assert_eq!(r.iter().map(|r| r.idx).collect::<Vec<_>>(), vec![0, 1]);
        assert!(r[1].forced && !r[0].forced);
        // Marked read at the current length: no longer forced in.
        let mut marks = BTreeMap::new();
        marks.insert(
            "WI-b".to_string(),
            ReadMark {
                read: true,
                discussion_len: 1,
            },
        );
        assert_eq!(rows(&items, &f, &[], &marks, false).len(), 1);
        // Custom order puts c first; the text filter matches tags.
        let f = Filters {
            text: "UI".into(),
            ..Filters::default()
        };
        let r = rows(&items, &f, &[], &marks, false);
        assert_eq!(r.iter().map(|r| r.idx).collect::<Vec<_>>(), vec![2]);
        let r = rows(&items, &Filters::default(), &["WI-c".into()], &marks, false);
        assert_eq!(r.iter().map(|r| r.idx).collect::<Vec<_>>(), vec![2, 0, 1]);
    }

    #[test]
    fn tree_nests_children_and_survives_cycles() {
        let mut items = vec![
            item("WI-a", "todo_hard", &[]),
            item("WI-b", "todo_hard", &[]),
            item("WI-c", "todo_hard", &[]),
            item("WI-d", "todo_hard", &[]),
            item("WI-e", "todo_hard", &[]),
        ];
        items[2].parent = Some("WI-a".into());
        items[3].parent = Some("WI-e".into());
        items[4].parent = Some("WI-d".into());
        let r = rows(&items, &Filters::default(), &[], &BTreeMap::new(), true);
        let got: Vec<(usize, usize)> = r.iter().map(|r| (r.idx, r.depth)).collect();
        assert_eq!(got, vec![(0, 0), (2, 1), (1, 0), (3, 0), (4, 1)]);
    }

    #[test]
    fn chains_are_transitive_both_ways() {
        let mut items = vec![
            item("WI-a", "todo_hard", &[]),
            item("WI-b", "todo_hard", &[]),
            item("WI-c", "todo_hard", &[]),
            item("WI-d", "todo_hard", &[]),
        ];
        // a blocks b, b blocks c, c blocks d.
        items[0].isbefore = vec![serde_json::json!("WI-b")];
        items[1].isbefore = vec![serde_json::json!("WI-c")];
        items[2].isbefore = vec![serde_json::json!("WI-d")];
        let links = Links::new(&items);
        let c = links.chain("WI-b");
        assert_eq!(c.blockers, vec!["WI-a"]);
        assert_eq!(c.dependents, vec!["WI-c"]);
        assert_eq!(c.down_transitive, vec!["WI-d"]);
        assert!(c.up_transitive.is_empty());
        assert_eq!(c.role("WI-d", "WI-b"), Some(Role::Transitive));
        assert_eq!(c.role("WI-b", "WI-b"), Some(Role::Selected));
        assert_eq!(c.role("WI-x", "WI-b"), None);
    }
}
