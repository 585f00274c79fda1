//! Read-only commands: `show`, `list`, `ready`, `log`. They never call git.

use htrac::items::filter::{self, Filter};
use htrac::items::ready::Ready;
use htrac::items::slim::Listable;
use htrac::{Error, Result, Tracker};

use crate::args::{Globals, ItemArg, ListArgs, ReadyArgs, ShowArgs};
use crate::render;
use crate::Output;

pub fn show(a: &ShowArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ShowArgs {
        item,
        include_deleted,
        include_history,
    } = a;
    let file = t.resolve(item)?;
    let item = t.load_for_view(&file)?;
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

fn rows<T: Listable>(items: &[&T], out: &mut Output) {
    // About what a row takes: no reallocations as the rows are added.
    out.stdout.reserve(items.len() * 128);
    for (i, item) in items.iter().enumerate() {
        render::push_row(&mut out.stdout, i + 1, *item);
        out.stdout.push('\n');
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
    let filter = Filter {
        statuses: status.clone(),
        open: *open,
        kind: kind.clone(),
        tag: tag.clone(),
        tier: *tier,
    };
    filter.check(&t.config)?;
    let limit = *limit;
    if g.json {
        let snap = t.snapshot()?.sorted();
        super::report_broken(&snap, out);
        let items = filter.apply(&snap.items);
        save_aliases(t, &items);
        out.line(htrac::py::json::pretty_array(
            filter::first(&items, limit)
                .iter()
                .map(|i| i.to_json(false, false)),
        ));
        snap.discard();
        return Ok(());
    }
    // The text listing prints no long texts: a slim read is enough — or
    // none, when the tracker is as it was when this listing was last made.
    let Some(miss) = super::listmemo::lookup(a, t, out)? else {
        return Ok(());
    };
    let snap = &miss.snap;
    super::report_broken(snap, out);
    // Kept items are sorted (a stable sort: the same order as sorting all).
    let mut items = filter.apply(&snap.items);
    htrac::items::slim::sort_listed(&mut items);
    let stash = htrac::alias::stash_text(&items.iter().map(|i| i.id()).collect::<Vec<_>>());
    htrac::alias::save_text(&t.root, &stash);
    let shown = filter::first(&items, limit);
    {
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
    drop(items);
    // The process exits right after: what it read is left for the exit to
    // reclaim, not freed item by item.
    std::mem::forget(miss.keep(t, out, &stash));
    Ok(())
}

/// Remembers a listing's rows for `:N` aliases.
fn save_aliases<T: Listable>(t: &Tracker, items: &[&T]) {
    htrac::alias::save(&t.root, &items.iter().map(|i| i.id()).collect::<Vec<_>>());
}

pub fn ready(a: &ReadyArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ReadyArgs { limit, claim: _ } = *a;
    if g.json {
        let snap = t.snapshot()?;
        super::report_broken(&snap, out);
        let found = Ready::gather(&snap.items, &t.config);
        save_aliases(t, &found.ready);
        out.line(found.to_pretty_json(limit));
        snap.discard();
        return Ok(());
    }
    // The text listing prints no long texts: a slim read is enough.
    let snap = t.snapshot_slim()?;
    super::report_broken(&snap, out);
    let found = Ready::gather(&snap.items, &t.config);
    save_aliases(t, &found.ready);
    let (shown, unread) = (found.shown(limit), &found.unread);
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
        for i in unread {
            out.line(format!(
                "  {}  [{}]  {}  ({} unread)",
                i.id(),
                i.status(),
                i.title(),
                i.unread_count()
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
