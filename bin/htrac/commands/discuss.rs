//! `htrac discuss`: view an item's thread, or add to it. A message written
//! after unread human messages is refused until the writer passes
//! `--ack-thread` (proof that the agent read them).

use htrac::actions::{self, Discuss, Discussed, Transaction};
use htrac::Result;

use crate::args::{DiscussArgs, Globals};
use crate::render;
use crate::Output;

pub fn run(a: &DiscussArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let DiscussArgs {
        item,
        message,
        clear,
        summarize,
        ack_thread,
    } = a;
    let typed = item.clone();
    let message = message.as_deref().unwrap_or("");
    let req = if *clear {
        Discuss::Clear {
            item: typed.clone(),
        }
    } else if let Some(summary) = summarize {
        Discuss::Summarize {
            item: typed.clone(),
            text: summary.to_string(),
        }
    } else if message.is_empty() {
        let t = tx.tracker();
        return view(g, &t.load(&t.resolve(&typed)?)?, out);
    } else {
        Discuss::Message {
            item: typed.clone(),
            text: message.to_string(),
            ack_thread: *ack_thread,
        }
    };
    let answer = actions::discuss(tx, &req)?;
    let written = matches!(answer, Discussed::Written(_));
    let done = answer.outcome();
    for w in &done.warnings {
        out.warn(w);
    }
    if let (false, Some(before)) = (done.unread.is_empty(), &done.before) {
        if written {
            // Acknowledged: the messages were read; one line says so.
            out.warn(htrac::items::messages::acknowledged(done.unread.len()));
        } else {
            let notice = render::unread_notice(before, &typed);
            if g.json {
                // stdout stays one JSON document: the notice goes to
                // stderr, and the refusal is JSON too.
                out.stderr.push_str(&notice);
                out.line(htrac::py::json::compact(&answer.to_json()));
            } else {
                out.stdout.push_str(&notice);
            }
            return Err(render::unread_refusal(before, &typed));
        }
    }
    if g.json {
        out.line(htrac::py::json::compact(&answer.to_json()));
    } else {
        out.line("discussed");
    }
    Ok(())
}

fn view(g: &Globals, item: &htrac::Item, out: &mut Output) -> Result<()> {
    if g.json {
        out.line(htrac::py::json::pretty(&item.discussion_json()));
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
