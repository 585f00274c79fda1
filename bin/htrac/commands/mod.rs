//! One module per subcommand: each maps parsed arguments to library calls
//! and the results to text or JSON.

pub mod add;
pub mod batch;
pub mod cache;
pub mod claim;
pub mod config;
pub mod deps;
pub mod discuss;
pub mod editmode;
pub mod govern;
pub mod init;
pub mod insight;
pub mod listmemo;
pub mod mcp;
pub mod messages;
pub mod migrate;
pub mod prime;
pub mod reconcile;
pub mod repairtail;
pub mod serve;
pub mod setup;
pub mod stop;
pub mod sync;
pub mod tags;
pub mod textconv;
pub mod tui;
pub mod update;
pub mod validate;
pub mod view;
pub mod watch;

use std::io::Read;

use htrac::{Error, Result};
use serde_json::{Map, Value};

use crate::args::Description;

/// The description from `--description` (as given), `--description-file`
/// (newlines normalised as Python's text mode does, trailing newlines
/// removed) or `--description-stdin` (trailing newlines removed) — at most
/// one. `None` when none is given.
pub fn description(d: &Description) -> Result<Option<String>> {
    let given: Vec<&str> = [
        ("description", d.text.is_some()),
        ("description-file", d.file.is_some()),
        ("description-stdin", d.stdin),
    ]
    .into_iter()
    .filter_map(|(f, on)| on.then_some(f))
    .collect();
    if given.len() > 1 {
        return Err(Error::user(format!(
            "only one of --description, --description-file, --description-stdin may be specified (got --{})",
            given.join(", --")
        ))
        .with_hint("keep one of them"));
    }
    let text = if let Some(t) = &d.text {
        t.clone()
    } else if let Some(path) = &d.file {
        let raw = std::fs::read_to_string(path)
            .map_err(|e| Error::user(format!("cannot read --description-file {path}: {e}")))?;
        raw.replace("\r\n", "\n")
            .replace('\r', "\n")
            .trim_end_matches('\n')
            .to_string()
    } else if d.stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Error::user(format!(
                "cannot read the description from standard input: {e}"
            ))
        })?;
        s.trim_end_matches('\n').to_string()
    } else {
        return Ok(None);
    };
    Ok(Some(text))
}

/// A flag's value, with an empty string meaning "not given" (as the reference reads them).
pub fn nonempty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|v| !v.is_empty())
}

/// `KEY=VALUE` pairs as custom fields (values are strings, as the reference stores them).
pub fn fields(pairs: &[(String, String)], into: &mut Map<String, Value>) {
    for (k, v) in pairs {
        into.insert(k.clone(), Value::String(v.clone()));
    }
}

/// Prints warnings collected while reading (torn ops, broken items).
pub fn report_broken<T: htrac::items::slim::Listable>(
    snap: &htrac::tracker::load::Snapshot<T>,
    out: &mut crate::Output,
) {
    for w in snap.notes() {
        out.warn(w);
    }
}
