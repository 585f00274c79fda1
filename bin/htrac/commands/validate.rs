//! `validate`: checks op logs before they are committed (see `htrac::validate`).

use htrac::validate::{validate, Options};
use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::Parsed;
use crate::Output;

pub fn run(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let opts = Options {
        check_locks: p.has("check-locks"),
        strict: p.has("strict"),
    };
    let report = validate(t, &cwd, p.rest(0), opts)?;
    if p.json {
        let v = json!({"errors": report.errors, "warnings": report.warnings});
        out.line(htrac::py::json::compact(&v));
    } else {
        for e in &report.errors {
            out.line(format!("ERROR: {e}"));
        }
        for w in &report.warnings {
            out.line(format!("WARNING: {w}"));
        }
        if report.ok() {
            out.line("validation passed");
        }
    }
    out.refused = !report.ok();
    Ok(())
}
