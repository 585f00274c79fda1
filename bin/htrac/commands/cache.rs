//! `cache-rebuild`: throws the read cache away and builds it again.

use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::Globals;
use crate::Output;

pub fn rebuild(g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let snap = t.rebuild_cache()?;
    super::report_broken(&snap, out);
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"ok": true, "items": snap.items.len()}),
        ));
    } else {
        out.line("cache rebuilt");
    }
    Ok(())
}
