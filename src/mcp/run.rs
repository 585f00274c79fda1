//! What each tool does: its arguments as the library request the matching
//! CLI command makes (the same actions, in the call's [`Transaction`]),
//! and the answer as that command's `--json` value, from the same
//! functions. Warnings and notices are collected for the result.

use crate::actions::{self, Discuss, Discussed, Transaction, Update};
use crate::error::{Error, Result};
use crate::items::deps::{deps, open_graph};
use crate::items::filter::{self, Filter};
use crate::items::ids::short_id;
use crate::items::item::Item;
use crate::items::ready::Ready;
use crate::items::tiers::Tier;
use crate::stophook::{scope, todos};
use crate::tracker::create::NewItem;
use serde_json::Value;

use super::args::Args;

/// A tool's answer.
pub struct Reply {
    /// The answer, as the CLI's `--json` has it.
    pub value: Value,
    /// Laid out indented, as the CLI prints it (else on one line).
    pub pretty: bool,
    /// The call ran but was refused (the unread-message gate): `isError`.
    pub refused: bool,
}

impl Reply {
    fn pretty(value: Value) -> Reply {
        Reply {
            value,
            pretty: true,
            refused: false,
        }
    }

    fn compact(value: Value) -> Reply {
        Reply {
            value,
            pretty: false,
            refused: false,
        }
    }
}

/// Notes for the result's second text: warnings, one a line, and notices.
#[derive(Default)]
pub struct Notes(pub String);

impl Notes {
    fn warn(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }

    fn warn_all(&mut self, lines: impl IntoIterator<Item = String>) {
        for l in lines {
            self.warn(l);
        }
    }

    /// The notice for a writer after unread human messages, in the tool's
    /// terms: the messages and how to go on when `refused`, the messages
    /// when an update's note went through, one line when acknowledged.
    fn unread_notice(&mut self, done: &actions::Outcome, gate: Option<bool>) {
        use crate::items::messages::{acknowledged, unread_notice, Gate};
        if let (false, Some(before)) = (done.unread.is_empty(), &done.before) {
            let again = format!(
                "discuss {{\"id\": \"{}\", \"message\": \"<your reply>\", \"ack_thread\": true}}",
                short_id(&done.id)
            );
            let text = match gate {
                Some(true) => unread_notice(
                    before,
                    Gate::Refused {
                        ack: "ack_thread: true",
                        example: &again,
                    },
                ),
                Some(false) => acknowledged(done.unread.len()) + "\n",
                None => unread_notice(before, Gate::Written),
            };
            self.0.push_str(&text);
        }
    }
}

/// Runs tool `name` (from the table) with checked arguments.
pub fn run(name: &str, tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let t = tx.tracker();
    match name {
        "prime" => {
            let prime = crate::prime::gather(t)?;
            notes.warn_all(prime.warnings.iter().cloned());
            Ok(Reply::pretty(prime.to_json()))
        }
        "ready" => {
            let limit = filter::limit(a.int("limit"))?;
            let snap = t.snapshot()?;
            notes.warn_all(snap.notes());
            Ok(Reply::pretty(
                Ready::gather(&snap.items, &t.config).to_json(limit),
            ))
        }
        "list" => {
            let f = Filter {
                statuses: a.strs("status"),
                open: a.flag("open"),
                kind: a.str("kind").map(str::to_string),
                tag: a.str("tag").map(str::to_string),
                tier: a.tier("tier"),
            };
            f.check(&t.config)?;
            let limit = filter::limit(a.int("limit"))?;
            let snap = t.snapshot()?.sorted();
            notes.warn_all(snap.notes());
            let items = f.apply(&snap.items);
            Ok(Reply::pretty(Item::list_json(filter::first(&items, limit))))
        }
        "show" => {
            let item = t.load_for_view(&t.resolve(a.str("id").unwrap_or(""))?)?;
            let value = item.to_json(a.flag("include_deleted"), a.flag("include_history"));
            Ok(Reply::pretty(value))
        }
        "deps" => deps_of(tx, a, notes),
        "check_messages" => {
            // As the CLI: 0 or a negative N means no limit.
            let autolimit = a.int("autolimit").filter(|n| *n > 0).map(|n| n as usize);
            let snap = t.snapshot()?;
            notes.warn_all(snap.notes());
            let found = crate::items::messages::unread(
                &snap.items,
                scope::tiers(t.config.scope),
                autolimit,
            );
            Ok(Reply::pretty(crate::items::messages::list_json(&found)))
        }
        "count_todos" => {
            let snap = t.snapshot_summary()?;
            notes.warn_all(snap.notes());
            let items = scope::in_scope(&snap.items, &t.config);
            let strength = todos::Strength::from_flags(a.flag("hard"), a.flag("soft"));
            let n = todos::count(&items, &t.config, strength);
            Ok(Reply::compact(todos::count_json(n)))
        }
        "add" => add(tx, a, notes),
        "update" => update(tx, a, notes),
        "discuss" => discuss(tx, a, notes),
        "claim" => claim(tx, a, notes),
        "release" => release(tx, a, notes),
        other => Err(Error::internal(format!("tool '{other}' has no handler"))),
    }
}

fn deps_of(tx: &Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let t = tx.tracker();
    let spec = a.nonempty("id");
    match (spec, a.flag("graph")) {
        (Some(_), true) => {
            return Err(Error::user(
                "is not taken with id: deps shows one item's links, or the whole open graph",
            )
            .on_field("graph"))
        }
        (None, false) => {
            return Err(
                Error::user("is needed (or graph: true for the whole open graph)").on_field("id"),
            )
        }
        _ => {}
    }
    let file = spec.map(|s| t.resolve(s)).transpose()?;
    let snap = t.snapshot()?;
    notes.warn_all(snap.notes());
    let Some(file) = file else {
        return Ok(Reply::pretty(open_graph(&snap.items, &t.config).to_json()));
    };
    // Tier then ID order: links resolve to an ID's first tier, as `show` does.
    let item = snap.item_of(t, &file)?;
    Ok(Reply::compact(deps(&snap.items, &item).to_json()))
}

fn add(tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let mut new = NewItem::new(a.str("kind").unwrap_or(""), a.str("title").unwrap_or(""));
    new.status = a.nonempty("status").map(str::to_string);
    if let Some(p) = a.int("priority") {
        new.priority = p;
    }
    new.parent = a.nonempty("parent").map(str::to_string);
    new.tags = a.strs("tags");
    new.isbefore = a.strs("isbefore");
    new.pr_ref = a.nonempty("pr_ref").map(str::to_string);
    new.description = a.str("description").unwrap_or("").to_string();
    new.fields = a.fields("fields");
    new.force_field_key = a.flag("force_field_key");
    new.tier = a.tier("tier").unwrap_or(Tier::Workspace);
    let done = actions::add(tx, &new)?;
    notes.warn_all(done.warnings.iter().cloned());
    Ok(Reply::compact(done.to_add_json()))
}

fn update(tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let own = |name: &str| a.str(name).map(str::to_string);
    let req = Update {
        item: a.str("id").unwrap_or("").to_string(),
        status: own("status"),
        priority: a.int("priority"),
        title: own("title"),
        parent: own("parent"),
        pr_ref: own("pr_ref"),
        // An empty description clears it.
        description: own("description"),
        tags: None,
        add_tags: a.strs("add_tags"),
        remove_tags: a.strs("remove_tags"),
        add_isbefore: a.strs("add_isbefore"),
        remove_isbefore: a.strs("remove_isbefore"),
        add_duplicate_of: a.strs("add_duplicate_of"),
        remove_duplicate_of: a.strs("remove_duplicate_of"),
        add_not_duplicate_of: a.strs("add_not_duplicate_of"),
        remove_not_duplicate_of: a.strs("remove_not_duplicate_of"),
        add_blocked_by: a.strs("add_blocked_by"),
        remove_blocked_by: a.strs("remove_blocked_by"),
        fields: a.fields("fields"),
        remove_fields: a.strs("remove_fields"),
        force_field_key: a.flag("force_field_key"),
        note: a.nonempty("note").map(str::to_string),
    };
    let done = actions::update(tx, &req)?;
    notes.warn_all(done.warnings.iter().cloned());
    notes.unread_notice(&done, None);
    Ok(Reply::compact(done.to_update_json()))
}

fn discuss(tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let item = a.str("id").unwrap_or("").to_string();
    let req = if a.flag("clear") {
        Discuss::Clear { item }
    } else if let Some(text) = a.str("summarize") {
        Discuss::Summarize {
            item,
            text: text.to_string(),
        }
    } else if let Some(text) = a.nonempty("message") {
        Discuss::Message {
            item,
            text: text.to_string(),
            ack_thread: a.flag("ack_thread"),
        }
    } else {
        // No message: the thread.
        let t = tx.tracker();
        let read = t.load(&t.resolve(&item)?)?;
        return Ok(Reply::pretty(read.discussion_json()));
    };
    let answer = actions::discuss(tx, &req)?;
    notes.warn_all(answer.outcome().warnings.iter().cloned());
    let refused = matches!(answer, Discussed::Unacknowledged(_));
    notes.unread_notice(answer.outcome(), Some(refused));
    Ok(Reply {
        refused: matches!(answer, Discussed::Unacknowledged(_)),
        ..Reply::compact(answer.to_json())
    })
}

fn claim(tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let lease = a
        .nonempty("lease")
        .map(|l| crate::claims::parse_lease(l).map_err(|e| e.on_field("lease")))
        .transpose()?;
    let req = actions::ClaimRequest {
        item: a.nonempty("id").map(str::to_string),
        lease,
        session: actions::session_of(tx.tracker()),
    };
    let done = actions::claim(tx, &req)?;
    let value = done.to_json(crate::claims::now());
    match &done {
        actions::Claimed::Taken { outcome, .. } => {
            notes.warn_all(outcome.warnings.iter().cloned());
            Ok(Reply::compact(value))
        }
        actions::Claimed::Held { id, holder, .. } => {
            notes.warn(actions::Claimed::held_error(id, holder).message);
            Ok(Reply {
                refused: true,
                ..Reply::compact(value)
            })
        }
    }
}

fn release(tx: &mut Transaction, a: &Args, notes: &mut Notes) -> Result<Reply> {
    let req = actions::Release {
        item: a.str("id").unwrap_or("").to_string(),
        session: actions::session_of(tx.tracker()),
        breaking: a.flag("break"),
    };
    let (outcome, claim) = actions::release(tx, &req)?;
    notes.warn_all(outcome.warnings.iter().cloned());
    Ok(Reply::compact(actions::released_json(
        &outcome,
        &claim,
        crate::claims::now(),
    )))
}
