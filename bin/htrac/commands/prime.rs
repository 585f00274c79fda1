//! `htrac prime`: the session-start briefing (see `htrac::prime`).

use htrac::{Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn run(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let prime = htrac::prime::gather(t)?;
    for w in &prime.warnings {
        out.warn(w);
    }
    if p.json {
        out.line(htrac::py::json::pretty(&prime.to_json()));
    } else {
        out.stdout.push_str(&prime.to_text());
    }
    Ok(())
}
