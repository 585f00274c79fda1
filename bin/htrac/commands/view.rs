//! Read-only commands: `show`, `list`, `ready`, `log`. They never call git.

use htrac::items::ready::ready as ready_items;
use htrac::{Error, Item, Result, Tracker};
use serde_json::{json, Map, Value};

use crate::args::{Globals, ItemArg, ListArgs, ReadyArgs, ShowArgs};
use crate::render;
use crate::Output;

/// Statuses `--open` selects (whether or not the config defines them).
const OPEN_STATUSES: &[&str] = &[
    "todo_hard",
    "todo_soft",
    "violated",
    "pending_validation",
    "needs_human_review",
];

pub fn show(a: &ShowArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ShowArgs {
        item,
        include_deleted,
        include_history,
    } = a;
    let file = t.resolve(item)?;
    let item = t.load(&file)?;
    let (deleted, history) = (*include_deleted, *include_history);
    if g.json {
        out.line(htrac::py::json::pretty(&item.to_json(deleted, history)));
    } else {
        out.stdout.push_str(&render::show(&item, deleted, history));
        if t.drifted(&file) == Some(true) {
            out.line(format!(
                "  *** DRIFTED: the op log differs from its freeze sentinel; a human may run 'htrac repair-drift {}' ***",
                item.id
            ));
        }
        if item.cross_tier_conflict {
            out.line(format!(
                "  (in {}; a human clears this with 'htrac reconcile-reset {}')",
                t.tiers_of(&item.id)
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" and "),
                item.id
            ));
        }
    }
    Ok(())
}

fn rows(items: &[&Item], out: &mut Output) {
    for (i, item) in items.iter().enumerate() {
        out.line(render::row(i + 1, item));
    }
}

pub fn list(a: &ListArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ListArgs {
        status,
        open,
        kind,
        tag,
        tier,
        limit,
    } = a;
    let mut statuses: Vec<String> = status.clone();
    if *open {
        statuses.extend(OPEN_STATUSES.iter().map(|s| s.to_string()));
    }
    let (tier, limit) = (*tier, *limit);
    let kind = kind.as_deref();
    if let Some(k) = kind {
        if t.config.kind(k).is_none() {
            return Err(Error::user(format!(
                "Unknown kind '{k}'. Valid kinds: {}",
                t.config.kind_names().join(", ")
            )));
        }
    }
    let tag = tag.as_deref();
    // The text listing prints no long texts: a summary read is enough.
    let snap = if g.json {
        t.snapshot()?
    } else {
        t.snapshot_summary()?
    }
    .sorted();
    super::report_broken(&snap, out);
    let items: Vec<&Item> = snap
        .items
        .iter()
        .filter(|i| statuses.is_empty() || statuses.contains(&i.status))
        .filter(|i| kind.is_none_or(|k| i.kind == k))
        .filter(|i| tag.is_none_or(|g| i.has_tag(g)))
        .filter(|i| tier.is_none_or(|tr| i.tier == tr))
        .collect();
    htrac::alias::save(
        &t.root,
        &items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
    );
    let shown = &items[..limit.unwrap_or(items.len()).min(items.len())];
    if g.json {
        let arr: Vec<Value> = shown.iter().map(|i| i.to_json(false, false)).collect();
        out.line(htrac::py::json::pretty(&Value::Array(arr)));
    } else {
        if shown.is_empty() && snap.broken.is_empty() {
            out.line("(no items)");
        }
        rows(shown, out);
        // Unreadable items are listed too, marked, so nobody mistakes them for gone.
        for b in snap
            .broken
            .iter()
            .filter(|b| tier.is_none_or(|tr| b.file.tier == tr))
        {
            out.line(format!(
                " !  {}  {:<12} P?  {:<12} {}",
                b.file.id,
                "UNREADABLE",
                format!("[{}]", b.file.tier.as_str()),
                b.error
            ));
        }
    }
    snap.discard();
    Ok(())
}

pub fn ready(a: &ReadyArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ReadyArgs { limit } = *a;
    let snap = if g.json {
        t.snapshot()?
    } else {
        t.snapshot_summary()?
    };
    super::report_broken(&snap, out);
    let items = ready_items(&snap.items, &t.config);
    htrac::alias::save(
        &t.root,
        &items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
    );
    let shown = &items[..limit.unwrap_or(items.len()).min(items.len())];
    // Borrowed, not cloned: with_unread_human's filter and order, on references.
    let mut unread: Vec<&Item> = htrac::stophook::scope::in_scope(&snap.items, &t.config)
        .into_iter()
        .filter(|i| !i.unread_human().is_empty())
        .collect();
    unread.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    unread.sort_by(|a, b| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
    if g.json {
        let mut m = Map::new();
        m.insert(
            "ready".into(),
            Value::Array(shown.iter().map(|i| i.to_json(false, false)).collect()),
        );
        if !unread.is_empty() {
            let list: Vec<Value> = unread
                .iter()
                .map(|i| {
                    json!({"id": i.id, "title": i.title, "status": i.status, "priority": i.priority, "unread_count": i.unread_human().len()})
                })
                .collect();
            m.insert("items_with_unread_messages".into(), Value::Array(list));
        }
        out.line(htrac::py::json::pretty(&Value::Object(m)));
        snap.discard();
        return Ok(());
    }
    if shown.is_empty() {
        out.line("(no ready items)");
    } else {
        rows(shown, out);
    }
    if !unread.is_empty() {
        out.line("");
        out.line(format!(
            "--- {} item(s) with unread human message(s) ---",
            unread.len()
        ));
        for i in &unread {
            out.line(format!(
                "  {}  [{}]  {}  ({} unread)",
                i.id,
                i.status,
                i.title,
                i.unread_human().len()
            ));
        }
        out.line("");
        out.line("  View:  htrac show <ID>");
        out.line("  Reply: htrac discuss <ID> \"your reply\"");
    }
    snap.discard();
    Ok(())
}

pub fn log(a: &ItemArg, t: &Tracker, out: &mut Output) -> Result<()> {
    let ItemArg { item } = a;
    let file = t.resolve(item)?;
    let bytes = htrac::oplog::read_bytes(&file.path)
        .map_err(|e| Error::internal(format!("cannot read {}: {e}", file.path.display())))?;
    out.stdout.push_str(&String::from_utf8_lossy(&bytes));
    Ok(())
}
