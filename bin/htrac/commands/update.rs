//! `htrac update`: the command line's flags as an [`Update`] request, and
//! its outcome as the `updated ...` line or `{"ok": true, "changes": [...]}`.

use htrac::actions::{self, Transaction, Update};
use htrac::{Error, Result};
use serde_json::Map;

use crate::args::Parsed;
use crate::render::short_id;
use crate::Output;

/// The request the command line asks for.
fn request(p: &Parsed) -> Result<Update> {
    if p.has("field") && (p.has("add-field") || p.has("remove-field")) {
        return Err(Error::user(
            "--field and --add-field/--remove-field are mutually exclusive",
        ));
    }
    let mut fields = Map::new();
    super::key_values(p, "field", &mut fields)?;
    super::key_values(p, "add-field", &mut fields)?;
    let all = |f: &str| p.all(f).to_vec();
    Ok(Update {
        item: p.positional(0).unwrap_or("").to_string(),
        status: p.one("status").map(str::to_string),
        priority: p.int("priority")?,
        title: p.one("title").map(str::to_string),
        parent: p.one("parent").map(str::to_string),
        pr_ref: p.one("pr-ref").map(str::to_string),
        // An empty description clears it (the reference ignores an empty one).
        description: super::description(p)?,
        tags: None,
        add_tags: all("add-tag"),
        remove_tags: all("remove-tag"),
        add_isbefore: all("add-isbefore"),
        remove_isbefore: all("remove-isbefore"),
        add_duplicate_of: all("add-duplicate-of"),
        remove_duplicate_of: all("remove-duplicate-of"),
        add_not_duplicate_of: all("add-not-duplicate-of"),
        remove_not_duplicate_of: all("remove-not-duplicate-of"),
        add_blocked_by: all("add-blocked-by"),
        remove_blocked_by: all("remove-blocked-by"),
        fields,
        remove_fields: all("remove-field"),
        force_field_key: p.has("force-field-key"),
        note: super::nonempty(p, "note").map(str::to_string),
    })
}

pub fn run(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let done = actions::update(tx, &request(p)?)?;
    for w in &done.warnings {
        out.warn(w);
    }
    if let (false, Some(before)) = (done.unread.is_empty(), &done.before) {
        let notice = crate::render::unread_notice(before, &short_id(&done.id));
        // With --json, stdout stays one JSON document.
        if p.json {
            out.stderr.push_str(&notice);
        } else {
            out.stdout.push_str(&notice);
        }
    }
    if p.json {
        out.line(htrac::jsonfmt::compact(&done.to_update_json()));
    } else if done.changes.is_empty() {
        out.line("updated");
    } else {
        let list: Vec<String> = done.changes.iter().map(|c| c.to_string()).collect();
        out.line(format!(
            "updated {}: {}",
            short_id(&done.id),
            list.join("; ")
        ));
    }
    Ok(())
}
