//! `tags`: list, count, rename, describe and deprecate tags.

use htrac::items::tags::{self, status};
use htrac::{Error, Result, Tracker};
use serde_json::{json, Map, Value};

use crate::args::{Globals, TagsArgs};
use crate::Output;

const ACTIONS: &str = "rename OLD NEW | describe TAG [TEXT] | deprecate TAG [--in-favor-of NEW]";

fn usage(msg: String) -> Error {
    Error::user(msg).with_hint(format!(
        "htrac tags [--count] lists tags; the actions are: {ACTIONS}"
    ))
}

pub fn run(a: &TagsArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let TagsArgs {
        action,
        args,
        count,
        in_favor_of,
    } = a;
    let action = action.as_deref();
    if in_favor_of.is_some() && action != Some("deprecate") {
        return Err(usage("--in-favor-of goes with 'tags deprecate TAG'".into()));
    }
    if *count && action.is_some() {
        return Err(usage(
            "--count goes with the plain listing ('htrac tags --count')".into(),
        ));
    }
    let want = |n: std::ops::RangeInclusive<usize>, shape: &str| -> Result<()> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(usage(format!("usage: htrac tags {shape}")))
        }
    };
    match action {
        None => list(*count, g, t, out),
        Some("rename") => {
            want(2..=2, "rename OLD NEW")?;
            rename(g, t, &args[0], &args[1], out)
        }
        Some("describe") => {
            want(1..=2, "describe TAG [TEXT]")?;
            describe(g, t, &args[0], args.get(1).map(String::as_str), out)
        }
        Some("deprecate") => {
            want(1..=1, "deprecate TAG [--in-favor-of NEW]")?;
            deprecate(g, t, &args[0], in_favor_of.as_deref(), out)
        }
        Some(other) => Err(usage(format!("unknown tags action '{other}'"))),
    }
}

fn list(count: bool, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let mut warnings = Vec::new();
    let catalog = tags::ensure(t, &mut warnings)?;
    for w in warnings {
        out.warn(w);
    }
    let counts = tags::counts(&snap.items);
    if g.json {
        let mut names: Vec<&String> = counts.keys().chain(catalog.keys()).collect();
        names.sort();
        names.dedup();
        let mut obj = Map::new();
        for name in names {
            let count = counts.get(name).copied().unwrap_or(0);
            let e = catalog.get(name);
            let deprecated = e.is_some_and(|e| e.deprecated);
            // Keys sorted, as the reference's json.dumps(sort_keys=True).
            obj.insert(
                name.clone(),
                json!({
                    "count": count,
                    "created_on": e.and_then(|e| e.created_on.clone()),
                    "deprecated": deprecated,
                    "description": e.map(|e| e.description.clone()).unwrap_or_default(),
                    "in_favor_of": e.and_then(|e| e.redirect().map(str::to_string)),
                    "last_modified": e.and_then(|e| e.last_modified.clone()),
                    "last_used": e.and_then(|e| e.last_used.clone()),
                    "status": status(count, deprecated),
                }),
            );
        }
        out.line(htrac::py::json::pretty(&Value::Object(obj)));
    } else if count {
        let mut rows: Vec<(&str, usize, &str)> = counts
            .iter()
            .map(|(n, c)| {
                let dep = catalog.get(n).is_some_and(|e| e.deprecated);
                (n.as_str(), *c, status(*c, dep))
            })
            .collect();
        rows.extend(
            catalog
                .iter()
                .filter(|(n, _)| !counts.contains_key(*n))
                .map(|(n, e)| (n.as_str(), 0, status(0, e.deprecated))),
        );
        rows.sort_by(|a, b| (std::cmp::Reverse(a.1), a.0).cmp(&(std::cmp::Reverse(b.1), b.0)));
        for (name, count, st) in rows {
            out.line(format!("{name}\t{count}\t{st}"));
        }
    } else {
        for name in counts.keys() {
            out.line(name);
        }
    }
    Ok(())
}

fn rename(g: &Globals, t: &Tracker, old: &str, new: &str, out: &mut Output) -> Result<()> {
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let n = t.rename_tag(&snap.items, old, new)?;
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"renamed": n, "old": old, "new": new}),
        ));
    } else {
        out.line(format!("renamed {old} → {new} on {n} item(s)"));
    }
    Ok(())
}

fn describe(
    g: &Globals,
    t: &Tracker,
    tag: &str,
    text: Option<&str>,
    out: &mut Output,
) -> Result<()> {
    let description = tags::describe(&t.root, tag, text)?;
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"tag": tag, "description": description}),
        ));
    } else if text.is_none() {
        out.line(description);
    } else {
        out.line(format!("described {tag}"));
    }
    Ok(())
}

fn deprecate(
    g: &Globals,
    t: &Tracker,
    tag: &str,
    in_favor_of: Option<&str>,
    out: &mut Output,
) -> Result<()> {
    let e = tags::deprecate(&t.root, tag, in_favor_of)?;
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"tag": tag, "deprecated": true, "in_favor_of": e.in_favor_of}),
        ));
    } else {
        let suffix = e
            .in_favor_of
            .as_deref()
            .map(|f| format!(" (in favor of {f})"))
            .unwrap_or_default();
        out.line(format!("deprecated {tag}{suffix}"));
    }
    Ok(())
}
