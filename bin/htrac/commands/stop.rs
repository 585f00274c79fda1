//! `count-todos`, `hash-todos`, `guidance`: what the stop hook asks, for
//! scripts and shell stop hooks. They fail closed: any failure is
//! `error: <command> failed: ...` and exit 1, never a count of zero.

use std::path::Path;

use htrac::stophook::{guidance, scope, todos};
use htrac::{Error, Result, Tracker};
use serde_json::json;

use crate::args::{CountTodosArgs, Globals, GuidanceArgs};
use crate::Output;

/// What the stop hook asks.
pub enum Query<'a> {
    Count(&'a CountTodosArgs),
    Hash,
    Guidance(&'a GuidanceArgs),
}

/// Answers `query`; `name` is the command's, for the error.
pub fn run(name: &str, query: Query, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    inner(&query, g, t, out).map_err(|e| Error {
        message: format!("{name} failed: {}", e.message),
        kind: match e.kind.exit_code() {
            2 => htrac::ErrorKind::Unavailable,
            _ => e.kind,
        },
        ..e
    })
}

fn inner(query: &Query, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    // Counts and the fingerprint read no long texts (a slim read); the
    // guidance may.
    if !matches!(query, Query::Guidance(_)) {
        let snap = t.snapshot_slim()?;
        super::report_broken(&snap, out);
        let items = scope::in_scope(&snap.items, &t.config);
        match query {
            Query::Count(CountTodosArgs { hard, soft }) => {
                let strength = todos::Strength::from_flags(*hard, *soft);
                let n = todos::count(&items, &t.config, strength);
                if g.json {
                    out.line(htrac::py::json::compact(&todos::count_json(n)));
                } else {
                    out.line(n.to_string());
                }
            }
            _ => answer(g, out, "hash", json!(todos::hash(&items, &t.config))),
        }
        snap.discard();
        return Ok(());
    }
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let items = scope::in_scope(&snap.items, &t.config);
    let (key, value) = match query {
        Query::Count(_) | Query::Hash => unreachable!("answered from a slim read"),
        Query::Guidance(GuidanceArgs { guidance_dir }) => {
            let cwd = std::env::current_dir()?;
            let dir = guidance::choose_dir(guidance_dir.as_deref().map(Path::new), &cwd, t)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let doc = guidance::render(&items, &t.config, now);
            for note in &doc.notes {
                out.warn(format!("warning: {note}"));
            }
            let path = guidance::write(&dir, &doc)?;
            ("path", json!(path.to_string_lossy()))
        }
    };
    answer(g, out, key, value);
    snap.discard();
    Ok(())
}

/// `{"key": value}` with `--json`, else the value alone.
fn answer(g: &Globals, out: &mut Output, key: &str, value: serde_json::Value) {
    if g.json {
        out.line(htrac::py::json::compact(&json!({ key: value })));
    } else {
        match value {
            serde_json::Value::String(s) => out.line(s),
            other => out.line(other.to_string()),
        }
    }
}
