//! `sync`: send pending tracker ops to the remote by hand; `--status`, `--prune`.

use htrac::py::json::pretty;
use htrac::{Error, Result, Tracker};
use serde_json::{json, Value};

use crate::args::{Globals, SyncArgs};
use crate::Output;

pub fn run(a: &SyncArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let SyncArgs {
        dry_run,
        status,
        prune,
        ref base_branch,
        timeout,
    } = *a;
    let over = htrac::sync::Overrides {
        base_branch: base_branch.clone(),
        timeout_seconds: timeout,
    };
    let chosen = [dry_run, status, prune]
        .into_iter()
        .filter(|on| *on)
        .count();
    if chosen > 1 {
        return Err(
            Error::user("--dry-run, --status and --prune cannot be combined")
                .with_hint("pass one of them, or none to sync now"),
        );
    }
    if status {
        let s = htrac::sync::status(t)?;
        if g.json {
            out.line(pretty(&s));
        } else {
            status_text(&s, out);
        }
        return Ok(());
    }
    if prune {
        let deleted = htrac::sync::prune(t)?;
        if g.json {
            out.line(pretty(&json!({"ok": true, "pruned": deleted})));
        } else if deleted.is_empty() {
            out.line("no tracker-sync branches to prune");
        } else {
            for d in &deleted {
                out.line(format!("pruned {d}"));
            }
        }
        return Ok(());
    }
    let report = if dry_run {
        htrac::sync::dry_run_with(t, &over)?
    } else {
        let mut notes = Vec::new();
        let r = htrac::sync::sync_now_with(t, &over, &mut |m| notes.push(m.to_string()));
        for n in notes {
            out.warn(n);
        }
        r?
    };
    if g.json {
        out.line(pretty(&report.to_json()));
        return Ok(());
    }
    out.line(report.summary());
    if report.dry_run {
        for f in &report.paths {
            out.line(format!("  {f}"));
        }
    }
    if let Some(l) = &report.local {
        out.line(l.describe(&report.base_branch));
    }
    for n in &report.notes {
        out.line(n);
    }
    Ok(())
}

fn status_text(s: &Value, out: &mut Output) {
    let threshold = s["threshold"].as_i64().unwrap_or(0);
    out.line(format!(
        "pending: {} line(s) (threshold {}; counted against {})",
        s["pending_lines"],
        if threshold > 0 {
            threshold.to_string()
        } else {
            "off".into()
        },
        s["counted_against"].as_str().unwrap_or("?")
    ));
    out.line(format!(
        "mode: {} -> {}/{}",
        s["mode"].as_str().unwrap_or("?"),
        s["remote"].as_str().unwrap_or("?"),
        s["base_branch"].as_str().unwrap_or("?")
    ));
    let b = &s["breaker"];
    let auto = match b["state"].as_str() {
        _ if threshold <= 0 => "off (threshold ≤ 0)".to_string(),
        Some("off") => format!(
            "OFF after {} consecutive failures; run 'htrac sync' (a success turns it back on)",
            b["consecutive_failures"]
        ),
        Some("cooling") => format!(
            "on, but cooling down after a failure ({} s left; {} of {} failures)",
            b["cooldown_remaining_seconds"], b["consecutive_failures"], b["max_failures"]
        ),
        _ => "on".to_string(),
    };
    out.line(format!("auto-sync: {auto}"));
    if let Some(e) = b["last_error"].as_str() {
        out.line(format!("last error: {e}"));
    }
    match s["last"].as_object() {
        Some(last) => out.line(format!(
            "last sync: {} at {}: {}",
            if last.get("ok") == Some(&Value::Bool(true)) {
                "ok"
            } else {
                "FAILED"
            },
            last.get("at").and_then(Value::as_str).unwrap_or("?"),
            last.get("message").and_then(Value::as_str).unwrap_or("")
        )),
        None => out.line("last sync: never"),
    }
    match s["lock"].as_object() {
        Some(l) => out.line(format!(
            "lock: held by {}",
            l.get("holder").and_then(Value::as_str).unwrap_or("?")
        )),
        None => out.line("lock: free"),
    }
}
