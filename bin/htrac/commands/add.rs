//! `htrac add`: create an item and print its ID; warn (on stderr) about
//! existing items it nearly duplicates.

use htrac::insight::dupes::{self, NearDuplicate};
use htrac::insight::simhash;
use htrac::write::NewItem;
use htrac::{Error, Result, Tier, Tracker};
use serde_json::json;

use crate::args::Parsed;
use crate::Output;

pub fn run(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let kinds = t.config.kind_names().join(", ");
    let kind = p.one("kind").ok_or_else(|| {
        Error::user("add needs --kind").with_hint(format!(
            "e.g. htrac add --kind work_item --title \"...\" (kinds: {kinds})"
        ))
    })?;
    let title = p.one("title").ok_or_else(|| {
        Error::user("add needs --title")
            .with_hint(format!("e.g. htrac add --kind {kind} --title \"...\""))
    })?;
    let mut new = NewItem::new(kind, title);
    new.status = super::nonempty(p, "status").map(str::to_string);
    if let Some(pr) = p.int("priority")? {
        new.priority = pr;
    }
    new.parent = super::nonempty(p, "parent").map(str::to_string);
    new.tags = p.all("tag").to_vec();
    new.isbefore = p.all("isbefore").to_vec();
    new.pr_ref = super::nonempty(p, "pr-ref").map(str::to_string);
    new.description = super::description(p)?.unwrap_or_default();
    super::key_values(p, "field", &mut new.fields)?;
    new.force_field_key = p.has("force-field-key");
    new.tier = super::tier(p)?.unwrap_or(Tier::Workspace);
    super::tags::warn_deprecated(t, &new.tags, out);
    // The scan for near-duplicates reads only other items' files, so it
    // runs while `add` waits on git for the clock; the new item itself is
    // left out of its answer.
    let (similar, id) = std::thread::scope(|s| {
        let scan = s.spawn(|| near_duplicates(t, &new));
        let id = t.add(&new);
        (scan.join().unwrap_or_default(), id)
    });
    let id = id?;
    let similar = similar.into_iter().filter(|d| d.id != id);
    super::tags::touch(t, &new.tags, out);
    for d in similar {
        out.warn(format!(
            "warning: {id} is similar to existing {old} (SimHash distance: {dist} bits). Creating anyway. \
             Use 'htrac update {id} --add-duplicate-of {old}' to mark as duplicate, \
             or 'htrac update {id} --add-not-duplicate-of {old}' to suppress.",
            old = d.id,
            dist = d.distance
        ));
    }
    if p.json {
        out.line(htrac::jsonfmt::compact(&json!({"id": id})));
    } else {
        out.line(id);
    }
    Ok(())
}

/// Existing items of the new item's tier whose SimHash is close to its
/// (the reference's near-duplicate check; warned about, never refused).
fn near_duplicates(t: &Tracker, new: &NewItem) -> Vec<NearDuplicate> {
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
