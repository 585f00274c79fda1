//! `add`: creates an item, warning about deprecated tags and about existing
//! items it nearly duplicates (never refused for that).

use serde_json::json;

use super::{deprecated_tags, Outcome, Transaction};
use crate::error::Result;
use crate::insight::dupes::{self, NearDuplicate};
use crate::insight::simhash;
use crate::tracker::create::NewItem;

/// Runs an `add`: the new item's ID is the outcome's `id`.
pub fn add(tx: &mut Transaction, new: &NewItem) -> Result<Outcome> {
    let t = tx.tracker;
    let mut out = Outcome::default();
    deprecated_tags(t, &new.tags, &mut out.warnings);
    // The scan for near-duplicates reads only other items' files, so it
    // runs while `add` waits on git for the clock; the new item itself is
    // left out of its answer.
    let (similar, id) = std::thread::scope(|s| {
        let scan = s.spawn(|| near_duplicates(t, new));
        let id = t.add(new);
        (scan.join().unwrap_or_default(), id)
    });
    let id = id?;
    tx.touched_tags(&new.tags);
    for d in similar.into_iter().filter(|d| d.id != id) {
        out.warnings.push(format!(
            "warning: {id} is similar to existing {old} (SimHash distance: {dist} bits). Creating anyway. \
             Use 'htrac update {id} --add-duplicate-of {old}' to mark as duplicate, \
             or 'htrac update {id} --add-not-duplicate-of {old}' to suppress.",
            old = d.id,
            dist = d.distance
        ));
    }
    let file = t.resolve(&id)?;
    let it = t.open_item(&file)?;
    out.ops = it.ops().to_vec();
    out.after = Some(it.item);
    out.id = id;
    Ok(tx.close(out))
}

/// Existing items of the new item's tier whose SimHash is close to its
/// (the reference's near-duplicate check).
fn near_duplicates(t: &crate::tracker::Tracker, new: &NewItem) -> Vec<NearDuplicate> {
    let mut data = serde_json::Map::new();
    data.insert("title".into(), json!(new.title));
    data.insert("description".into(), json!(new.description));
    data.insert(
        "fields".into(),
        serde_json::Value::Object(new.fields.clone()),
    );
    let fp = simhash::fingerprint(&simhash::create_text(&data));
    dupes::near_duplicates(t, new.tier, fp, &new.not_duplicate_of)
}
