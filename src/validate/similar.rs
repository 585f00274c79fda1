//! Near-duplicate reports of `validate --similar` (SimHash) and
//! `--deep-similar` (embeddings, which htrac does not have), worded as the
//! reference words them.
//!
//! `--similar` compares every item of every tier that compiled, whatever
//! its status: the item's title, description and custom fields as they are
//! now (not as created) are fingerprinted ([`crate::insight::simhash`]),
//! and each pair within [`simhash::THRESHOLD`] bits is a warning, unless
//! either item already names the other in `duplicate_of` or
//! `not_duplicate_of`. Pairs come in the order of their IDs (first ID, then
//! second), each once, the smaller ID first. An ID in two tiers counts once,
//! as the item of the first tier (canonical, workspace, stealth).
//!
//! `--deep-similar` is the reference's check with dense embeddings from a
//! model its optional `dedup` extra downloads at run time. htrac has no
//! such model, so it always reports what the reference reports without its
//! extra: one warning that the check was skipped.

use std::collections::{HashMap, HashSet};

use super::Kept;
use crate::insight::simhash::{self, Hasher};
use crate::items::item::Item;

/// The warning `--deep-similar` gives: the reference's own when its
/// embedding extra is not installed (the extra does nothing for htrac).
pub const DEEP_SIMILAR_SKIPPED: &str =
    "deep-similar: skipped (install dedup extras: pip install hypergumbo-tracker[dedup])";

/// The compiled items validate read, one per ID (the first tier's): those
/// of item files in a tier's directory ([`Kept::similar`]).
pub(super) fn items_of(kept: &[Kept]) -> Vec<&Item> {
    let mut seen = HashSet::new();
    kept.iter()
        .filter_map(|k| k.similar.as_deref())
        .filter(|item| seen.insert(item.id.as_str()))
        .collect()
}

/// One warning per near-duplicate pair of `items` (each ID once) not
/// already marked as duplicate or not, in the order of their IDs.
pub fn simhash_warnings(items: &[&Item]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    let mut hasher = Hasher::new();
    let fps: Vec<u64> = items
        .iter()
        .map(|i| {
            hasher.fingerprint(&simhash::item_text(
                &i.title,
                &i.description,
                Some(&i.fields),
            ))
        })
        .collect();
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.as_str(), n))
        .collect();
    // Pairs either item marks, as (smaller index, larger index).
    let mut marked: HashSet<(usize, usize)> = HashSet::new();
    for (a, item) in items.iter().enumerate() {
        for v in item.duplicate_of.iter().chain(&item.not_duplicate_of) {
            if let Some(&b) = v.as_str().and_then(|id| index.get(id)) {
                marked.insert((a.min(b), a.max(b)));
            }
        }
    }
    simhash::near_pairs(&fps)
        .into_iter()
        .filter(|(a, b, _)| !marked.contains(&(*a, *b)))
        .map(|(a, b, d)| {
            format!(
                "near-duplicate: {} and {} (SimHash distance: {d} bits)",
                items[a].id, items[b].id
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::tiers::Tier;
    use serde_json::{json, Value};

    fn item(id: &str, title: &str) -> Item {
        Item {
            id: id.into(),
            kind: "work_item".into(),
            title: title.into(),
            status: "todo_hard".into(),
            priority: json!(2),
            parent: None,
            tags: vec![],
            isbefore: vec![],
            duplicate_of: vec![],
            not_duplicate_of: vec![],
            pr_ref: Value::Null,
            description: String::new(),
            fields: Default::default(),
            locked_fields: vec![],
            discussion: vec![],
            created_at: String::new(),
            updated_at: String::new(),
            tier: Tier::Workspace,
            frozen: false,
            cross_tier_conflict: false,
            op_count: 1,
            rejected_ops: vec![],
            unverified_ops: vec![],
        }
    }

    #[test]
    fn no_items_or_one_item_has_no_pairs() {
        assert!(simhash_warnings(&[]).is_empty());
        assert!(simhash_warnings(&[&item("WI-a", "fix the parser")]).is_empty());
    }

    #[test]
    fn empty_titles_are_all_near_duplicates_of_each_other() {
        // No tokens: fingerprint 0, so distance 0 to each other, and to any
        // text whose fingerprint has at most 8 bits set.
        let (b, a, c) = (item("WI-b", ""), item("WI-a", "--"), item("WI-c", ""));
        let w = simhash_warnings(&[&c, &b, &a]);
        // In the order of the IDs, whatever the order given.
        assert_eq!(
            w,
            [
                "near-duplicate: WI-a and WI-b (SimHash distance: 0 bits)",
                "near-duplicate: WI-a and WI-c (SimHash distance: 0 bits)",
                "near-duplicate: WI-b and WI-c (SimHash distance: 0 bits)",
            ]
        );
    }

    #[test]
    fn marked_pairs_are_left_out_whichever_side_marks_them() {
        let mut a = item("WI-a", "cache invalidation after rebase");
        let b = item("WI-b", "cache invalidation after rebase");
        let mut c = item("WI-c", "cache invalidation after rebase");
        a.not_duplicate_of = vec![json!("WI-b")];
        c.duplicate_of = vec![json!("WI-a"), json!(7)];
        assert_eq!(
            simhash_warnings(&[&a, &b, &c]),
            ["near-duplicate: WI-b and WI-c (SimHash distance: 0 bits)"]
        );
    }

    #[test]
    fn custom_fields_count_as_text() {
        let a = item("WI-a", "alpha beta gamma delta");
        let mut b = item("WI-b", "alpha beta gamma delta");
        b.fields.insert(
            "notes".into(),
            json!("epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho"),
        );
        assert!(simhash_warnings(&[&a, &b]).is_empty());
    }
}
