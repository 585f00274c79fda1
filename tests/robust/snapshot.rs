//! Loading a large tracker (read in parallel) gives exactly what loading
//! each file one by one gives, in the same order.

use htrac::tracker::create::NewItem;
use htrac::{Tier, Tracker};

#[test]
fn parallel_snapshot_equals_file_by_file_loading() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(".agent");
    htrac::init::init(&root).unwrap();
    let t = Tracker::open(&root).unwrap();
    for i in 0..700 {
        let mut new = NewItem::new("work_item", &format!("item {i}"));
        new.priority = i % 5;
        new.tier = if i % 7 == 0 {
            Tier::Canonical
        } else {
            Tier::Workspace
        };
        t.add(&new).unwrap();
    }
    let snap = t.snapshot().unwrap();
    assert_eq!(snap.items.len(), 700);
    assert!(snap.broken.is_empty());
    let one_by_one: Vec<htrac::Item> = t
        .files()
        .unwrap()
        .iter()
        .map(|f| t.load(f).unwrap())
        .collect();
    assert_eq!(snap.items, one_by_one);
}
