//! `htrac add`: the command line's flags as a [`NewItem`]; prints the new
//! ID, and the action's warnings (near-duplicates, deprecated tags) on stderr.

use htrac::actions::{self, Transaction};
use htrac::write::NewItem;
use htrac::{Error, Result, Tier};

use crate::args::Parsed;
use crate::Output;

pub fn run(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let t = tx.tracker();
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
    let done = actions::add(tx, &new)?;
    for w in &done.warnings {
        out.warn(w);
    }
    if p.json {
        out.line(htrac::jsonfmt::compact(&done.to_add_json()));
    } else {
        out.line(&done.id);
    }
    Ok(())
}
