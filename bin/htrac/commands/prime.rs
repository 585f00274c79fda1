//! `htrac prime`: the session-start briefing (see `htrac::prime`).

use std::io::IsTerminal;

use htrac::prime::Audience;
use htrac::{Error, Result, Tracker};

use crate::args::{Globals, PrimeArgs};
use crate::Output;

pub fn run(a: &PrimeArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let audience = match a.audience.as_deref() {
        Some("agent") => Audience::Agent,
        Some("human") => Audience::Human,
        Some(other) => {
            return Err(
                Error::user(format!("--for must be agent or human, not '{other}'"))
                    .with_hint("htrac prime --for agent (what an agent reads) or --for human"),
            )
        }
        // A human at a terminal is the supervisor; anything else (an agent,
        // or a harness running as the human's user) gets the agent's brief.
        None if !t.actor.is_agent() && std::io::stdout().is_terminal() => Audience::Human,
        None => Audience::Agent,
    };
    // The process exits right after: what it read is left for the exit
    // to reclaim, not freed item by item.
    let prime = htrac::prime::gather_then(t, std::mem::forget)?;
    for w in &prime.warnings {
        out.warn(w);
    }
    if g.json {
        out.line(htrac::py::json::pretty(&prime.to_json()));
    } else {
        out.stdout.push_str(&prime.to_text(audience));
    }
    Ok(())
}
