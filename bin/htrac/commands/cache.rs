//! `cache-rebuild`: throws the read cache away and builds it again.

use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::Parsed;
use crate::Output;

pub fn rebuild(p: &Parsed, t: &Tracker, out: &mut Output) -> Result<()> {
    let snap = t.rebuild_cache()?;
    super::report_broken(&snap, out);
    if p.json {
        out.line(htrac::py::json::compact(
            &json!({"ok": true, "items": snap.items.len()}),
        ));
    } else {
        out.line("cache rebuilt");
    }
    Ok(())
}
