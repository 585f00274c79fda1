//! `htrac prime`: the session-start briefing (see `htrac::prime`).

use htrac::{Result, Tracker};

use crate::args::Globals;
use crate::Output;

pub fn run(g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let prime = htrac::prime::gather(t)?;
    for w in &prime.warnings {
        out.warn(w);
    }
    if g.json {
        out.line(htrac::py::json::pretty(&prime.to_json()));
    } else {
        out.stdout.push_str(&prime.to_text());
    }
    Ok(())
}
