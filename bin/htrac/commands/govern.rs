//! Human authority: `lock`/`unlock`, `freeze`/`unfreeze`/`repair-drift`,
//! `delete`, tier moves, `reconcile-reset` and `signing-cutover`. Each prints one word (or
//! `{"ok": true}`), as the reference does.

use htrac::actions::{self, Freeze, LockChange, Transaction};
use htrac::tracker::moves::Move;
use htrac::{Result, Tracker};
use serde_json::{json, Value};

use crate::args::{Globals, ItemArg, LockArgs};
use crate::Output;

fn done(g: &Globals, out: &mut Output, word: &str, json: Value) {
    if g.json {
        out.line(htrac::py::json::compact(&json));
    } else {
        out.line(word);
    }
}

fn ok() -> Value {
    json!({"ok": true})
}

pub fn lock(
    a: &LockArgs,
    unlock: bool,
    g: &Globals,
    tx: &mut Transaction,
    out: &mut Output,
) -> Result<()> {
    let LockArgs { item, fields } = a;
    actions::lock(
        tx,
        &LockChange {
            item: item.clone(),
            fields: fields.clone(),
            unlock,
        },
    )?;
    done(g, out, if unlock { "unlocked" } else { "locked" }, ok());
    Ok(())
}

pub fn freeze(
    a: &ItemArg,
    what: Freeze,
    g: &Globals,
    tx: &mut Transaction,
    out: &mut Output,
) -> Result<()> {
    let word = match what {
        Freeze::Freeze => "frozen",
        Freeze::Unfreeze => "unfrozen",
        Freeze::RepairDrift => "drift repaired",
    };
    let outcome = actions::freeze(tx, &a.item, what)?;
    done(g, out, word, ok());
    for w in outcome.warnings {
        out.warn(w);
    }
    Ok(())
}

pub fn delete(a: &ItemArg, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let outcome = actions::delete(tx, &a.item)?;
    let n = outcome.changes.len();
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"ok": true, "inbound_isbefore_cleared": n}),
        ));
    } else {
        out.line("deleted");
        if n > 0 {
            let word = if n == 1 { "reference" } else { "references" };
            out.line(format!("Cleared {n} inbound isbefore {word}."));
        }
    }
    for w in outcome.warnings {
        out.warn(w);
    }
    Ok(())
}

pub fn move_tier(
    a: &ItemArg,
    mv: Move,
    g: &Globals,
    tx: &mut Transaction,
    out: &mut Output,
) -> Result<()> {
    let outcome = actions::move_tier(tx, &a.item, mv)?;
    let word = match mv {
        Move::Promote => "promoted",
        Move::Demote => "demoted",
        Move::Stealth => "stealthed",
        Move::Unstealth => "unstealthed",
    };
    done(g, out, word, ok());
    for w in outcome.warnings {
        out.warn(w);
    }
    Ok(())
}

pub fn reconcile_reset(a: &ItemArg, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    t.require_human("reconcile-reset")?;
    let file = t.resolve(&a.item)?;
    let from = t.reconcile_reset(&file.id)?;
    done(g, out, "reconciled", ok());
    out.warn(format!(
        "{}: merged the {} copy into canonical",
        file.id,
        from.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    Ok(())
}

pub fn signing_cutover(g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let n = t.signing_cutover()?;
    let path = htrac::governance::signing::trusted_ops_path(&t.config.authority, &t.root);
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"ok": true, "trusted_ops": n, "path": path.display().to_string()}),
        ));
    } else {
        out.line(format!(
            "{n} human op(s) trusted in {} (commit it with the tracker)",
            path.display()
        ));
    }
    Ok(())
}
