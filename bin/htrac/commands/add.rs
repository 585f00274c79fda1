//! `htrac add`: the command line's flags as a [`NewItem`]; prints the new
//! ID, and the action's warnings (near-duplicates, deprecated tags) on stderr.

use htrac::actions::{self, Transaction};
use htrac::tracker::create::NewItem;
use htrac::{Error, Result, Tier};

use crate::args::{AddArgs, Globals};
use crate::Output;

pub fn run(a: &AddArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    // Every argument named: a new one must be handled here.
    let AddArgs {
        kind,
        title,
        status,
        priority,
        parent,
        tags,
        isbefore,
        description,
        pr_ref,
        fields,
        force_field_key,
        tier,
    } = a;
    let t = tx.tracker();
    let kinds = t.config.kind_names().join(", ");
    let kind = kind.as_deref().ok_or_else(|| {
        Error::user("add needs --kind").with_hint(format!(
            "e.g. htrac add --kind work_item --title \"...\" (kinds: {kinds})"
        ))
    })?;
    let title = title.as_deref().ok_or_else(|| {
        Error::user("add needs --title")
            .with_hint(format!("e.g. htrac add --kind {kind} --title \"...\""))
    })?;
    let mut new = NewItem::new(kind, title);
    new.status = super::nonempty(status);
    if let Some(pr) = *priority {
        new.priority = pr;
    }
    new.parent = super::nonempty(parent);
    new.tags = tags.clone();
    new.isbefore = isbefore.clone();
    new.pr_ref = super::nonempty(pr_ref);
    new.description = super::description(description)?.unwrap_or_default();
    super::fields(fields, &mut new.fields);
    new.force_field_key = *force_field_key;
    new.tier = tier.unwrap_or(Tier::Workspace);
    let done = actions::add(tx, &new)?;
    for w in &done.warnings {
        out.warn(w);
    }
    if g.json {
        out.line(htrac::py::json::compact(&done.to_add_json()));
    } else {
        out.line(&done.id);
    }
    Ok(())
}
