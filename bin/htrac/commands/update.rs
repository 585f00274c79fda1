//! `htrac update`: one `update` op on the item (if anything changes), a
//! `discuss` op for `--note`, and an `isbefore` op on each `--add/remove-
//! blocked-by` item. Every reference is resolved before anything is written.

use htrac::item::Item;
use htrac::tracker::ItemFile;
use htrac::write::Changes;
use htrac::{Error, Result, Tracker};
use serde_json::{json, Map, Value};

use crate::args::Parsed;
use crate::render::{label, py_repr_str, py_str, short_id};
use crate::Output;

/// Set-valued fields and their add/remove flags.
const SET_FLAGS: &[(&str, &str, &str)] = &[
    ("tags", "add-tag", "remove-tag"),
    ("isbefore", "add-isbefore", "remove-isbefore"),
    ("duplicate_of", "add-duplicate-of", "remove-duplicate-of"),
    (
        "not_duplicate_of",
        "add-not-duplicate-of",
        "remove-not-duplicate-of",
    ),
];

/// The items `specs` name (the library checks what they may point at).
fn resolve_refs(t: &Tracker, specs: &[String], flag: &str) -> Result<Vec<ItemFile>> {
    specs
        .iter()
        .map(|s| t.resolve_ref(s, &format!("--{flag}")))
        .collect()
}

pub fn run(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let file = t.resolve(p.positional(0).unwrap_or(""))?;
    let mut ch = Changes {
        force_field_key: p.has("force-field-key"),
        ..Default::default()
    };
    if let Some(s) = p.one("status") {
        ch.set.insert("status".into(), json!(s));
    }
    if let Some(pr) = p.int("priority")? {
        ch.set.insert("priority".into(), json!(pr));
    }
    if let Some(title) = p.one("title") {
        if title.trim().is_empty() {
            return Err(Error::user("--title must not be empty"));
        }
        ch.set.insert("title".into(), json!(title));
    }
    if let Some(parent) = p.one("parent") {
        let v = if parent.is_empty() {
            Value::Null
        } else {
            Value::String(
                resolve_refs(t, &[parent.to_string()], "parent")?
                    .remove(0)
                    .id,
            )
        };
        ch.set.insert("parent".into(), v);
    }
    if let Some(r) = p.one("pr-ref") {
        ch.set.insert(
            "pr_ref".into(),
            if r.is_empty() { Value::Null } else { json!(r) },
        );
    }
    // An empty description clears it (the reference ignores an empty one).
    if let Some(d) = super::description(p)? {
        ch.set.insert("description".into(), json!(d));
    }
    let mut fields = Map::new();
    if p.has("field") && (p.has("add-field") || p.has("remove-field")) {
        return Err(Error::user(
            "--field and --add-field/--remove-field are mutually exclusive",
        ));
    }
    super::key_values(p, "field", &mut fields)?;
    super::key_values(p, "add-field", &mut fields)?;
    for k in p.all("remove-field") {
        fields.insert(k.clone(), Value::Null);
    }
    if !fields.is_empty() {
        ch.set.insert("fields".into(), Value::Object(fields));
    }
    for (field, add_flag, remove_flag) in SET_FLAGS {
        for (flag, adding) in [(add_flag, true), (remove_flag, false)] {
            let values = p.all(flag);
            if values.is_empty() {
                continue;
            }
            let list: Vec<Value> = if *field == "tags" {
                values.iter().map(|v| json!(v)).collect()
            } else {
                resolve_refs(t, values, flag)?
                    .into_iter()
                    .map(|f| json!(f.id))
                    .collect()
            };
            let target = if adding { &mut ch.add } else { &mut ch.remove };
            target.insert(field.to_string(), Value::Array(list));
        }
    }
    // Resolve every blocked-by reference before writing anything.
    let mut blocked_by = Vec::new();
    for (flag, adding) in [("add-blocked-by", true), ("remove-blocked-by", false)] {
        for spec in p.all(flag) {
            let blocker = t.resolve_ref(spec, &format!("--{flag}"))?;
            if adding && blocker.tier != htrac::Tier::Stealth && file.tier == htrac::Tier::Stealth {
                return Err(Error::user(format!(
                    "--{flag} {spec} would make {} (tier {}) block stealth-tier {}; stealth items are never synced",
                    short_id(&blocker.id),
                    blocker.tier.as_str(),
                    short_id(&file.id)
                )));
            }
            blocked_by.push((blocker, adding));
        }
    }

    // git reads the item's other copies while it is loaded here.
    let pending = (!ch.is_empty()).then(|| t.prefetch_branch_copies(&file.path));
    let before = t.load(&file)?;
    super::tags::warn_deprecated(t, p.all("add-tag"), out);
    if let Some(pending) = pending {
        t.update_prefetched(&file, &ch, pending)?;
        // The tag catalog's last_used follows every tag added or removed.
        let touched: Vec<String> = [p.all("add-tag"), p.all("remove-tag")].concat();
        super::tags::touch(t, &touched, out);
    }
    if let Some(note) = super::nonempty(p, "note") {
        let item = t.load(&file)?;
        if !item.unread_human().is_empty() {
            let notice = crate::render::unread_notice(&item, &short_id(&file.id));
            // With --json, stdout stays one JSON document.
            if p.json {
                out.stderr.push_str(&notice);
            } else {
                out.stdout.push_str(&notice);
            }
        }
        t.discuss(&file, note, false)?;
    }
    let after = t.load(&file)?;
    let mut changes = describe(t, &before, &after);
    for (blocker, adding) in blocked_by {
        let mut c = Changes::default();
        let target = if adding { &mut c.add } else { &mut c.remove };
        target.insert("isbefore".into(), json!([file.id]));
        t.update(&blocker, &c)?;
        let verb = if adding {
            "now blocks"
        } else {
            "no longer blocks"
        };
        changes.push(format!(
            "blocked-by: {} {verb} {}",
            label(&blocker.id, title_of(t, &blocker.id).as_deref()),
            short_id(&file.id)
        ));
    }
    if p.json {
        let mut result = Map::new();
        result.insert("ok".into(), json!(true));
        if !changes.is_empty() {
            let list: Vec<Value> = changes
                .iter()
                .map(|c| {
                    let (f, d) = c.split_once(": ").unwrap_or((c, ""));
                    json!({"field": f, "detail": d})
                })
                .collect();
            result.insert("changes".into(), Value::Array(list));
        }
        out.line(htrac::jsonfmt::compact(&Value::Object(result)));
    } else if changes.is_empty() {
        out.line("updated");
    } else {
        out.line(format!(
            "updated {}: {}",
            short_id(&file.id),
            changes.join("; ")
        ));
    }
    Ok(())
}

fn title_of(t: &Tracker, id: &str) -> Option<String> {
    let f = t.resolve(id).ok()?;
    t.load(&f).ok().map(|i| i.title)
}

fn ids(values: &[Value]) -> Vec<String> {
    Item::string_list(values)
}

/// Human-readable lines for what changed between two states of an item.
pub fn describe(t: &Tracker, old: &Item, new: &Item) -> Vec<String> {
    let mut out = Vec::new();
    let lbl = |id: &str| label(id, title_of(t, id).as_deref());
    if old.status != new.status {
        out.push(format!("status: {} → {}", old.status, new.status));
    }
    if old.priority != new.priority {
        out.push(format!(
            "priority: P{} → P{}",
            py_str(&old.priority),
            py_str(&new.priority)
        ));
    }
    if old.title != new.title {
        out.push(format!(
            "title: {} → {}",
            py_repr_str(&old.title),
            py_repr_str(&new.title)
        ));
    }
    if old.parent != new.parent {
        match &new.parent {
            Some(p) => out.push(format!("parent: now child of {}", lbl(p))),
            None => out.push("parent: removed".into()),
        }
    }
    if old.pr_ref != new.pr_ref {
        match &new.pr_ref {
            Value::Null => out.push("pr_ref: removed".into()),
            v => out.push(format!("pr_ref: {}", py_str(v))),
        }
    }
    let (old_tags, new_tags) = (ids(&old.tags), ids(&new.tags));
    let mut added: Vec<&String> = new_tags.iter().filter(|x| !old_tags.contains(x)).collect();
    let mut removed: Vec<&String> = old_tags.iter().filter(|x| !new_tags.contains(x)).collect();
    added.sort();
    removed.sort();
    for (sign, tags) in [('+', added), ('-', removed)] {
        if !tags.is_empty() {
            let list: Vec<String> = tags.iter().map(|t| format!("{sign}{t}")).collect();
            out.push(format!("tags: {}", list.join(", ")));
        }
    }
    let (ob, nb) = (ids(&old.isbefore), ids(&new.isbefore));
    for x in nb.iter().filter(|x| !ob.contains(x)) {
        out.push(format!(
            "isbefore: {} now blocks {}",
            short_id(&new.id),
            lbl(x)
        ));
    }
    for x in ob.iter().filter(|x| !nb.contains(x)) {
        out.push(format!(
            "isbefore: {} no longer blocks {}",
            short_id(&new.id),
            lbl(x)
        ));
    }
    for (name, o, n) in [
        (
            "duplicate_of",
            ids(&old.duplicate_of),
            ids(&new.duplicate_of),
        ),
        (
            "not_duplicate_of",
            ids(&old.not_duplicate_of),
            ids(&new.not_duplicate_of),
        ),
    ] {
        for x in n.iter().filter(|x| !o.contains(x)) {
            out.push(format!("{name}: +{}", lbl(x)));
        }
        for x in o.iter().filter(|x| !n.contains(x)) {
            out.push(format!("{name}: removed {}", lbl(x)));
        }
    }
    // Field changes in a stable order: the new item's keys, then removed keys.
    for (k, v) in &new.fields {
        if old.fields.get(k) != Some(v) {
            out.push(format!("fields.{k}: {}", py_str(v)));
        }
    }
    for k in old.fields.keys().filter(|k| !new.fields.contains_key(*k)) {
        out.push(format!("fields.{k}: removed"));
    }
    out
}
