//! `htrac migrate`: import the reference's legacy markdown ledgers.

use std::path::PathBuf;

use htrac::migrate::{self, Options};
use htrac::{Error, Result, Tracker};

use crate::args::{Globals, MigrateArgs};
use crate::Output;

/// A path flag that, when given, must name an existing file.
fn given(value: &Option<String>, flag: &str) -> Result<Option<PathBuf>> {
    match value.as_deref() {
        None => Ok(None),
        Some(v) if std::path::Path::new(v).is_file() => Ok(Some(PathBuf::from(v))),
        Some(v) => Err(
            Error::user(format!("--{flag} {v}: no such file")).with_hint(format!(
                "pass the path of the markdown file to import with --{flag}"
            )),
        ),
    }
}

pub fn run(a: &MigrateArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let MigrateArgs {
        ledger,
        work_items,
        dry_run,
    } = a;
    let dry_run = *dry_run;
    let opts = Options {
        ledger: given(ledger, "ledger")?.unwrap_or_else(|| migrate::default_ledger(&t.root)),
        work_items: given(work_items, "work-items")?.or_else(migrate::default_work_items),
        dry_run,
    };
    let report = migrate::migrate(t, &opts)?;
    out.refused = !report.errors.is_empty();
    for w in &report.warnings {
        out.warn(format!("warning: {w}"));
    }
    if g.json {
        out.line(htrac::py::json::pretty(&report.to_json(dry_run)));
        return Ok(());
    }
    let action = if dry_run { "would create" } else { "created" };
    out.line(format!(
        "{action} {} items, skipped {}",
        report.items_created, report.items_skipped
    ));
    let mut kinds: Vec<(&String, &serde_json::Value)> = report.items_by_kind.iter().collect();
    kinds.sort_by(|a, b| a.0.cmp(b.0));
    for (kind, n) in kinds {
        out.line(format!("  {kind}: {n}"));
    }
    if report.parents_linked > 0 {
        out.line(format!(
            "  linked {} pending generalization(s) to their entries",
            report.parents_linked
        ));
    }
    if !report.id_map.is_empty() {
        out.line("id map:");
        for (source, id) in &report.id_map {
            out.line(format!("  {source}  {}", id.as_str().unwrap_or_default()));
        }
    }
    for e in &report.errors {
        out.warn(format!("  ERROR: {e}"));
    }
    Ok(())
}
