//! `deps`: an item's dependencies, or the whole open graph as DOT.

use htrac::items::deps::{deps, open_graph, Parent};
use htrac::{Error, Result, Tracker};

use crate::args::{DepsArgs, Globals};
use crate::render::short_id;
use crate::Output;

pub fn run(a: &DepsArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let DepsArgs {
        item: spec,
        graph: draw,
    } = a;
    match (spec, *draw) {
        (None, true) => graph(g, t, out),
        (Some(spec), false) => item(g, t, spec, out),
        (Some(_), true) => Err(Error::user("deps takes either ITEM or --graph, not both")
            .with_hint(
                "htrac deps ITEM shows one item's links; htrac deps --graph draws all open work",
            )),
        (None, false) => Err(Error::user("deps needs ITEM (or --graph)")
            .with_hint("e.g. htrac deps WI-foh, or htrac deps --graph > deps.dot")),
    }
}

fn item(g: &Globals, t: &Tracker, spec: &str, out: &mut Output) -> Result<()> {
    let file = t.resolve(spec)?;
    // Tier then ID order: links resolve to an ID's first tier, as `show` does.
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let items = &snap.items;
    // As the reference, `deps` lists every item internally, which resets
    // the `:N` stash to the full `list` order.
    let mut listed: Vec<&htrac::Item> = items.iter().collect();
    listed.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    htrac::alias::save(
        &t.root,
        &listed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
    );
    let item = snap.item_of(t, &file)?;
    let d = deps(items, &item);
    if g.json {
        out.line(htrac::py::json::compact(&d.to_json()));
        return Ok(());
    }
    out.line(format!(
        "{}  {}  [{}]",
        short_id(&d.item.id),
        d.item.title,
        d.item.status
    ));
    match d.parent {
        Some(Parent::Found(parent)) => out.line(format!(
            "  parent: {} ({})",
            short_id(&parent.id),
            parent.title
        )),
        Some(Parent::Missing(id)) => out.line(format!("  parent: {} (?)", short_id(id))),
        None => {}
    }
    for (heading, arrow, list) in [
        ("children", "", &d.children),
        ("blocks", "→ ", &d.blocks),
        ("blocked by", "← ", &d.blocked_by),
    ] {
        if list.is_empty() {
            continue;
        }
        out.line(format!("  {heading} ({}):", list.len()));
        for i in list {
            out.line(format!(
                "    {arrow}{}  {}  [{}]",
                short_id(&i.id),
                i.title,
                i.status
            ));
        }
    }
    Ok(())
}

fn graph(g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let graph = open_graph(&snap.items, &t.config);
    if g.json {
        out.line(htrac::py::json::pretty(&graph.to_json()));
    } else {
        out.stdout.push_str(&graph.to_dot());
    }
    Ok(())
}
