//! One module per subcommand: each maps parsed arguments to library calls
//! and the results to text or JSON.

pub mod add;
pub mod batch;
pub mod cache;
pub mod deps;
pub mod discuss;
pub mod editmode;
pub mod govern;
pub mod init;
pub mod insight;
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

use std::io::Read;

use htrac::{Error, Result, Tier};
use serde_json::{Map, Value};

use crate::args::Parsed;

/// The description from `--description` (as given), `--description-file`
/// (newlines normalised as Python's text mode does, trailing newlines
/// removed) or `--description-stdin` (trailing newlines removed) — at most
/// one. `None` when none is given or the text is empty, as the reference.
pub fn description(p: &Parsed) -> Result<Option<String>> {
    let given: Vec<&str> = ["description", "description-file", "description-stdin"]
        .into_iter()
        .filter(|f| p.has(f))
        .collect();
    if given.len() > 1 {
        return Err(Error::user(format!(
            "only one of --description, --description-file, --description-stdin may be specified (got --{})",
            given.join(", --")
        )));
    }
    let text = if let Some(d) = p.one("description") {
        d.to_string()
    } else if let Some(path) = p.one("description-file") {
        let raw = std::fs::read_to_string(path)
            .map_err(|e| Error::user(format!("cannot read --description-file {path}: {e}")))?;
        raw.replace("\r\n", "\n")
            .replace('\r', "\n")
            .trim_end_matches('\n')
            .to_string()
    } else if p.has("description-stdin") {
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
pub fn nonempty<'a>(p: &'a Parsed, flag: &str) -> Option<&'a str> {
    p.one(flag).filter(|v| !v.is_empty())
}

/// `KEY=VALUE` pairs of a repeatable flag (values are strings, as the reference stores them).
pub fn key_values(p: &Parsed, flag: &str, into: &mut Map<String, Value>) -> Result<()> {
    for kv in p.all(flag) {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(
                Error::user(format!("--{flag} must be key=value, got '{kv}'"))
                    .with_hint(format!("write --{flag} name=value")),
            );
        };
        into.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(())
}

pub fn tier(p: &Parsed) -> Result<Option<Tier>> {
    match p.one("tier") {
        None => Ok(None),
        Some(t) => Tier::parse(t).map(Some).ok_or_else(|| {
            Error::user(format!("unknown tier '{t}'"))
                .with_hint("use canonical, workspace or stealth")
        }),
    }
}

/// Prints warnings collected while reading (torn ops, broken items).
pub fn report_broken(snap: &htrac::tracker::Snapshot, out: &mut crate::Output) {
    for w in snap.notes() {
        out.warn(w);
    }
}
