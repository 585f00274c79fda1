//! Human authority: `lock`/`unlock`, `freeze`/`unfreeze`/`repair-drift`,
//! `delete`, tier moves, `reconcile-reset` and `signing-cutover`. Each prints one word (or
//! `{"ok": true}`), as the reference does.

use htrac::actions::{self, Freeze, LockChange, Transaction};
use htrac::tracker::moves::Move;
use htrac::{Error, Result, Tracker};
use serde_json::{json, Value};

use crate::args::Parsed;
use crate::Output;

fn done(p: &Parsed, out: &mut Output, word: &str, json: Value) {
    if p.json {
        out.line(htrac::py::json::compact(&json));
    } else {
        out.line(word);
    }
}

fn ok() -> Value {
    json!({"ok": true})
}

pub fn lock(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let unlock = p.command.name == "unlock";
    actions::lock(
        tx,
        &LockChange {
            item: p.positional(0).unwrap_or("").to_string(),
            fields: p.rest(1).to_vec(),
            unlock,
        },
    )?;
    done(p, out, if unlock { "unlocked" } else { "locked" }, ok());
    Ok(())
}

pub fn freeze(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let (what, word) = match p.command.name {
        "freeze" => (Freeze::Freeze, "frozen"),
        "unfreeze" => (Freeze::Unfreeze, "unfrozen"),
        _ => (Freeze::RepairDrift, "drift repaired"),
    };
    let outcome = actions::freeze(tx, p.positional(0).unwrap_or(""), what)?;
    done(p, out, word, ok());
    for w in outcome.warnings {
        out.warn(w);
    }
    Ok(())
}

pub fn delete(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let outcome = actions::delete(tx, p.positional(0).unwrap_or(""))?;
    let n = outcome.changes.len();
    if p.json {
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

pub fn move_tier(p: &Parsed, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let mv = Move::parse(p.command.name)
        .ok_or_else(|| Error::internal(format!("'{}' is not a tier move", p.command.name)))?;
    let outcome = actions::move_tier(tx, p.positional(0).unwrap_or(""), mv)?;
    let word = match mv {
        Move::Promote => "promoted",
        Move::Demote => "demoted",
        Move::Stealth => "stealthed",
        Move::Unstealth => "unstealthed",
    };
    done(p, out, word, ok());
    for w in outcome.warnings {
        out.warn(w);
    }
    Ok(())
}

pub fn reconcile_reset(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    t.require_human("reconcile-reset")?;
    let file = t.resolve(p.positional(0).unwrap_or(""))?;
    let from = t.reconcile_reset(&file.id)?;
    done(p, out, "reconciled", ok());
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

pub fn signing_cutover(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let n = t.signing_cutover()?;
    let path = htrac::governance::signing::trusted_ops_path(&t.config.authority, &t.root);
    if p.json {
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
