//! `htrac discuss`: view an item's thread, or add to it. A message written
//! after unread human messages is refused until the writer passes
//! `--ack-thread` (proof that the agent read them).

use htrac::{Result, Tracker};
use serde_json::{json, Value};

use crate::args::Parsed;
use crate::render;
use crate::Output;

pub fn run(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let typed = p.positional(0).unwrap_or("");
    let file = t.resolve(typed)?;
    let message = p.positional(1).unwrap_or("");
    let ok = |out: &mut Output, json: bool| {
        if json {
            out.line(htrac::jsonfmt::compact(&json!({"ok": true})));
        } else {
            out.line("discussed");
        }
    };
    if p.has("clear") {
        t.require_human("discuss --clear")?;
        t.discuss_clear(&file)?;
        ok(out, p.json);
        return Ok(());
    }
    if let Some(summary) = p.one("summarize") {
        t.discuss(&file, summary, true)?;
        ok(out, p.json);
        return Ok(());
    }
    let item = t.load(&file)?;
    if message.is_empty() {
        return view(p, &item, out);
    }
    let unread = item.unread_human();
    if !unread.is_empty() {
        let notice = render::unread_notice(&item, typed);
        let acked = p.has("ack-thread");
        if p.json {
            // stdout stays one JSON document: the notice goes to stderr, and
            // a refusal is JSON too.
            out.stderr.push_str(&notice);
            if !acked {
                let entries: Vec<Value> = unread.iter().map(|e| e.to_json(false)).collect();
                out.line(htrac::jsonfmt::compact(&json!({
                    "ok": false,
                    "reason": "unread_human_messages",
                    "unread": entries,
                })));
            }
        } else {
            out.stdout.push_str(&notice);
        }
        if !acked {
            out.refused = true;
            return Ok(());
        }
    }
    t.discuss(&file, message, false)?;
    ok(out, p.json);
    Ok(())
}

fn view(p: &Parsed, item: &htrac::Item, out: &mut Output) -> Result<()> {
    if p.json {
        let arr: Vec<Value> = item
            .discussion
            .iter()
            .map(|e| {
                let mut v = e.to_json(false);
                v["edit_history"] = json!(e.edit_history);
                v
            })
            .collect();
        out.line(htrac::jsonfmt::pretty(&Value::Array(arr)));
        return Ok(());
    }
    out.line(format!("{} — {}", item.id, item.title));
    if item.discussion.is_empty() {
        out.line("Discussion: (no entries)");
        return Ok(());
    }
    out.line(format!("Discussion ({} entries):", item.discussion.len()));
    for (i, e) in item.discussion.iter().enumerate() {
        out.line("");
        out.line(format!("  [{}] {}  {}  {}", i + 1, e.at, e.by, e.actor));
        for l in e.message.lines() {
            out.line(format!("      {l}"));
        }
    }
    Ok(())
}
