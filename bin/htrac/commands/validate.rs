//! `validate`: checks op logs before they are committed (see `htrac::validate`).

use htrac::validate::{validate, Options};
use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::{Globals, ValidateArgs};
use crate::Output;

pub fn run(a: &ValidateArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let ValidateArgs {
        files,
        check_locks,
        strict,
        similar,
        deep_similar,
    } = a;
    let opts = Options {
        check_locks: *check_locks,
        strict: *strict,
        similar: *similar,
        deep_similar: *deep_similar,
    };
    let report = validate(t, &cwd, files, opts)?;
    if g.json {
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
