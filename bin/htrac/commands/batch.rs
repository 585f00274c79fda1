//! `batch FILE|-`: runs many mutations, one per line (format: `htrac::batch`),
//! in order, each on its own; a failed line does not stop the others. With
//! `--json` every line's `output` is the JSON its command printed — never a
//! raw string. Exit 1 if any line failed. A file whose quoting is broken
//! runs nothing.

use std::io::Read;

use htrac::actions::Transaction;
use htrac::batch::{self, ALLOWED};
use htrac::{Error, Result};
use serde_json::{json, Map, Value};

use crate::args::{self, BatchArgs, Globals, Request};
use crate::Output;

/// What one line did.
struct Outcome {
    line: usize,
    command: String,
    result: std::result::Result<Option<Value>, String>,
}

pub fn run(a: &BatchArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let source = a.file.as_str();
    let text = if source == "-" || source.is_empty() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::user(format!("cannot read the batch from standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(source).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::user(format!("batch file not found: {source}")),
            _ => Error::user(format!("cannot read batch file {source}: {e}")),
        })?
    };
    let lines = batch::parse(&text);
    // Broken quoting anywhere: nothing runs (as the reference, which splits
    // every line first).
    if let Some((n, e)) = lines
        .iter()
        .find_map(|l| l.words.as_ref().err().map(|e| (l.number, e)))
    {
        return Err(Error::user(format!("line {n}: {e}")).with_hint(
            "quote words with spaces as a shell would: discuss WI-x \"text with spaces\"",
        ));
    }
    if lines.is_empty() {
        if g.json {
            out.line(htrac::py::json::compact(
                &json!({"ok": true, "results": []}),
            ));
        } else {
            out.line("batch: 0 operations (nothing to do)");
        }
        return Ok(());
    }
    let mut outcomes = Vec::new();
    for line in &lines {
        let words = line.words.as_ref().expect("checked above");
        let command = line.command().to_string();
        let result = run_line(tx, words, g.json, out);
        if let Err(e) = &result {
            out.warn(format!("  FAIL line {}: {e}", line.number));
        }
        outcomes.push(Outcome {
            line: line.number,
            command,
            result,
        });
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    let total = outcomes.len();
    if g.json {
        let results: Vec<Value> = outcomes.iter().map(outcome_json).collect();
        out.line(htrac::py::json::compact(&json!({
            "ok": failed == 0,
            "total": total,
            "succeeded": total - failed,
            "failed": failed,
            "results": results,
        })));
    } else {
        let status = if failed == 0 { "ok" } else { "FAIL" };
        out.line(format!(
            "batch: {}/{total} succeeded ({status})",
            total - failed
        ));
        for o in &outcomes {
            if let Err(e) = &o.result {
                out.warn(format!("  line {}: {} — {e}", o.line, o.command));
            }
        }
    }
    out.refused = failed > 0;
    Ok(())
}

fn outcome_json(o: &Outcome) -> Value {
    let mut m = Map::new();
    m.insert("line".into(), json!(o.line));
    m.insert("command".into(), json!(o.command));
    m.insert("ok".into(), json!(o.result.is_ok()));
    match &o.result {
        Ok(Some(v)) => {
            m.insert("output".into(), v.clone());
        }
        Ok(None) => {}
        Err(e) => {
            m.insert("error".into(), json!(e));
        }
    }
    Value::Object(m)
}

/// Runs one line; its text output goes to `out`, its JSON (with `json`) is returned.
fn run_line(
    tx: &mut Transaction,
    words: &[String],
    json: bool,
    out: &mut Output,
) -> std::result::Result<Option<Value>, String> {
    let n = words.first().map(String::as_str).unwrap_or("");
    if !ALLOWED.contains(&n) {
        return Err(format!(
            "'{n}' not allowed in batch (allowed: {})",
            ALLOWED.join(", ")
        ));
    }
    let argv = words.iter().map(std::ffi::OsString::from).collect();
    let mut inv = match args::parse(argv) {
        Ok(Request::Run(inv)) => inv,
        Ok(_) => return Err(format!("invalid arguments for '{n}'")),
        Err(e) => {
            return Err(format!(
                "invalid arguments for '{n}': {}",
                crate::message(&e)
            ))
        }
    };
    inv.global.json = json;
    let mut sub = Output::default();
    // Every line runs in the batch's transaction: what follows writes
    // (tag stamps, auto-sync) happens once, after the last line.
    let ran = crate::run_on(tx, &mut inv, &mut sub);
    out.stderr.push_str(&sub.stderr);
    if let Err(e) = ran {
        return Err(crate::message(&e));
    }
    if sub.refused {
        // The unread-message gate: its notice (stderr with --json) is the reason.
        let notice = if json { &sub.stderr } else { &sub.stdout };
        return Err(notice.trim().to_string());
    }
    if !json {
        out.stdout.push_str(&sub.stdout);
        return Ok(None);
    }
    let text = sub.stdout.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str(text) {
        Ok(v) => Ok(Some(v)),
        // Never a raw string: text that is not JSON is wrapped.
        Err(_) => Ok(Some(json!({"text": text}))),
    }
}
