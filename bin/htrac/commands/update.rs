//! `htrac update`: the command line's flags as an [`Update`] request, and
//! its outcome as the `updated ...` line or `{"ok": true, "changes": [...]}`.

use htrac::actions::{self, Transaction, Update};
use htrac::{Error, Result};
use serde_json::Map;

use crate::args::{Globals, UpdateArgs};
use crate::render::short_id;
use crate::Output;

/// The request the command line asks for.
fn request(a: &UpdateArgs) -> Result<Update> {
    // Every argument named: a new one must be handled here.
    let UpdateArgs {
        item,
        status,
        priority,
        title,
        parent,
        pr_ref,
        description,
        add_tag,
        remove_tag,
        add_isbefore,
        remove_isbefore,
        add_duplicate_of,
        remove_duplicate_of,
        add_not_duplicate_of,
        remove_not_duplicate_of,
        add_blocked_by,
        remove_blocked_by,
        field,
        add_field,
        remove_field,
        force_field_key,
        note,
    } = a;
    if !field.is_empty() && (!add_field.is_empty() || !remove_field.is_empty()) {
        return Err(Error::user(
            "--field and --add-field/--remove-field are mutually exclusive",
        )
        .with_hint("--field KEY=VALUE replaces all custom fields; --add-field/--remove-field change one each"));
    }
    let mut fields = Map::new();
    super::fields(field, &mut fields);
    super::fields(add_field, &mut fields);
    Ok(Update {
        item: item.clone(),
        status: status.clone(),
        priority: *priority,
        title: title.clone(),
        parent: parent.clone(),
        pr_ref: pr_ref.clone(),
        // An empty description clears it (the reference ignores an empty one).
        description: super::description(description)?,
        tags: None,
        add_tags: add_tag.clone(),
        remove_tags: remove_tag.clone(),
        add_isbefore: add_isbefore.clone(),
        remove_isbefore: remove_isbefore.clone(),
        add_duplicate_of: add_duplicate_of.clone(),
        remove_duplicate_of: remove_duplicate_of.clone(),
        add_not_duplicate_of: add_not_duplicate_of.clone(),
        remove_not_duplicate_of: remove_not_duplicate_of.clone(),
        add_blocked_by: add_blocked_by.clone(),
        remove_blocked_by: remove_blocked_by.clone(),
        fields,
        remove_fields: remove_field.clone(),
        force_field_key: *force_field_key,
        note: super::nonempty(note),
    })
}

pub fn run(a: &UpdateArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let done = actions::update(tx, &request(a)?)?;
    for w in &done.warnings {
        out.warn(w);
    }
    if let (false, Some(before)) = (done.unread.is_empty(), &done.before) {
        let notice =
            htrac::items::messages::unread_notice(before, htrac::items::messages::Gate::Written);
        // With --json, stdout stays one JSON document.
        if g.json {
            out.stderr.push_str(&notice);
        } else {
            out.stdout.push_str(&notice);
        }
    }
    if g.json {
        out.line(htrac::py::json::compact(&done.to_update_json()));
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
