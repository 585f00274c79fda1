//! `htrac config get KEY` / `htrac config set KEY VALUE`: one configuration
//! key, through [`htrac::settings`].

use htrac::{Error, Result, Tracker};
use serde_json::{json, Value};

use crate::args::{ConfigArgs, Globals};
use crate::Output;

/// A value as a line of text: strings bare, the rest as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn run(a: &ConfigArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ConfigArgs { action, key, value } = a;
    match (action.as_str(), value) {
        ("get", None) => {
            let v = htrac::settings::get(&t.config, key)?;
            out.line(if g.json {
                htrac::py::json::compact(&v)
            } else {
                text(&v)
            });
        }
        ("set", Some(value)) => {
            let v = htrac::settings::set(&t.root, &t.actor, key, value)?;
            if g.json {
                out.line(htrac::py::json::compact(
                    &json!({"ok": true, "key": key, "value": v}),
                ));
            } else {
                out.line(format!("{key} = {}", text(&v)));
            }
        }
        ("get", Some(_)) => {
            return Err(Error::user("'config get' takes a KEY only")
                .with_hint("e.g. htrac config get sync.base_branch"))
        }
        ("set", None) => {
            return Err(Error::user("'config set' needs a KEY and a VALUE")
                .with_hint("e.g. htrac config set sync.base_branch main"))
        }
        (other, _) => {
            return Err(
                Error::user(format!("unknown action '{other}' for 'config'"))
                    .with_hint("use 'htrac config get KEY' or 'htrac config set KEY VALUE'"),
            )
        }
    }
    Ok(())
}
