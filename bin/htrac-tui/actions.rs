//! Writes: opening the form for a write key, turning a submitted form into
//! the request of an `htrac::actions` action (the one every front end
//! runs) in a transaction, and showing the result with its warnings.
//! Every check happens before the first write, so a refused form changes
//! nothing; refusals come back as `htrac::Error` and are shown in a toast.

use htrac::actions::{self, Discuss, Discussed, Freeze, LockChange, Outcome, Transaction, Update};
use htrac::tracker::authority::normalize_field;
use htrac::tracker::create::NewItem;
use htrac::tracker::moves::Move;
use htrac::{Item, Tier};

use crate::app::{Action, App, Modal};
use crate::forms::{split_list, Confirm, Field, Form, Purpose};

/// The statuses a kind allows (all statuses when it does not restrict them).
fn statuses_for(app: &App, kind: &str) -> Vec<String> {
    app.tracker
        .config
        .kind(kind)
        .and_then(|k| k.allowed_statuses.clone())
        .unwrap_or_else(|| app.tracker.config.statuses.clone())
}

const TIERS: [&str; 3] = ["workspace", "canonical", "stealth"];

/// Opens the form (or confirmation, or does the toggle) for a write key.
pub fn start(app: &mut App, action: Action) {
    if action == Action::New {
        let kinds: Vec<String> = app
            .tracker
            .config
            .kind_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let k = kinds.iter().position(|k| k == "work_item").unwrap_or(0);
        let statuses = statuses_for(app, kinds.get(k).map(String::as_str).unwrap_or(""));
        let form = Form::new(
            "New item",
            Purpose::New,
            vec![
                Field::choice("Kind", kinds, k),
                Field::text("Title", ""),
                Field::choice("Status", statuses, 0),
                Field::text("Priority", "2"),
                Field::choice("Tier", TIERS.iter().map(|s| s.to_string()).collect(), 0),
                Field::lines("Description", ""),
            ],
            "←→ choose · Tab next field · Enter create (in Description a new line) · Ctrl+S create · Esc cancel",
        );
        app.modal = Some(Modal::Form(form));
        return;
    }
    let Some(item) = app.selected().cloned() else {
        app.toast("no item selected");
        return;
    };
    let id = item.id.clone();
    let form = match action {
        Action::Edit => edit_form(app, &item),
        Action::Discuss => Form::new(
            &format!("Discuss {}", app.short_id(&id)),
            Purpose::Discuss(id),
            vec![Field::text("Message", "")],
            "Enter send · Esc cancel",
        ),
        Action::Parent => Form::new(
            &format!("Parent of {}", app.short_id(&id)),
            Purpose::Parent(id),
            vec![Field::text("Parent", item.parent.as_deref().unwrap_or(""))],
            "an ID or unique prefix; empty clears · Enter save · Esc cancel",
        ),
        Action::Before => Form::new(
            &format!("Before-links of {}", app.short_id(&id)),
            Purpose::Before(id),
            vec![Field::text("Add", ""), Field::text("Remove", "")],
            &format!(
                "now before: {} · comma-separated IDs or prefixes",
                none_if_empty(&item.isbefore_ids().join(", "))
            ),
        ),
        Action::Lock => Form::new(
            &format!("Lock fields of {}", app.short_id(&id)),
            Purpose::Lock(id),
            vec![Field::text("Lock", ""), Field::text("Unlock", "")],
            &format!(
                "locked: {} · comma-separated, e.g. status, title, discussion",
                none_if_empty(&item.locked_fields.join(", "))
            ),
        ),
        Action::MoveTier => {
            let options: Vec<String> = match item.tier {
                Tier::Canonical => vec!["Demote to workspace".into()],
                Tier::Workspace => vec!["Promote to canonical".into(), "Stealth".into()],
                Tier::Stealth => vec!["Unstealth to workspace".into()],
            };
            Form::new(
                &format!("Move {} ({})", app.short_id(&id), item.tier.as_str()),
                Purpose::Move(id),
                vec![Field::choice("Move", options, 0)],
                "←→ choose · Enter move · Esc cancel",
            )
        }
        Action::ClearDiscussion => {
            let text = format!(
                "Clear the discussion of '{}' ({} entries)?",
                item.title,
                item.discussion.len()
            );
            app.modal = Some(Modal::Confirm(Confirm::ClearDiscussion(id), text));
            return;
        }
        Action::Repair => {
            if !item.frozen {
                app.toast(format!(
                    "{} is not frozen; nothing to repair",
                    app.short_id(&id)
                ));
                return;
            }
            let text = format!("Revert '{}' to its frozen state?", item.title);
            app.modal = Some(Modal::Confirm(Confirm::RepairDrift(id), text));
            return;
        }
        Action::Freeze => {
            let (what, word) = if item.frozen {
                (Freeze::Unfreeze, "unfrozen")
            } else {
                (Freeze::Freeze, "frozen")
            };
            let (result, warnings) = transact(app, |tx| {
                let o = actions::freeze(tx, &id, what)?;
                Ok((format!("{} {word}", app.short_id(&id)), vec![o]))
            });
            done(app, result, warnings, None);
            return;
        }
        _ => return,
    };
    app.modal = Some(Modal::Form(form));
}

fn none_if_empty(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

fn edit_form(app: &App, item: &Item) -> Form {
    let mut statuses = statuses_for(app, &item.kind);
    if !statuses.contains(&item.status) {
        statuses.push(item.status.clone());
    }
    let chosen = statuses.iter().position(|s| s == &item.status).unwrap_or(0);
    let hint = if statuses_for(app, &item.kind).contains(&item.status) {
        "Enter save (in Description a new line) · Ctrl+S save · only changed fields are written · Esc cancel".to_string()
    } else {
        format!(
            "status '{}' is deprecated for {} · Ctrl+S save · Esc cancel",
            item.status, item.kind
        )
    };
    Form::new(
        &format!("Edit {}", app.short_id(&item.id)),
        Purpose::Edit(item.id.clone()),
        vec![
            Field::choice("Status", statuses, chosen),
            Field::text("Priority", &htrac::items::item::value_text(&item.priority)),
            Field::text("Title", &item.title),
            Field::text("Tags", &Item::string_list(&item.tags).join(", ")),
            Field::lines("Description", &item.description),
        ],
        &hint,
    )
}

/// A choice changed: the new-item form limits statuses to the kind's.
pub fn form_changed(app: &App, form: &mut Form, field: usize) {
    if form.purpose == Purpose::New && form.fields[field].label == "Kind" {
        let statuses = statuses_for(app, form.get("Kind"));
        if let Some(f) = form.field_mut("Status") {
            *f = Field::choice("Status", statuses, 0);
        }
    }
}

/// Shows a write's outcome (with the warnings the write had), reloads, and
/// selects `select` if given.
fn done(app: &mut App, result: htrac::Result<String>, warnings: Vec<String>, select: Option<&str>) {
    match result {
        Ok(msg) => {
            app.reload();
            if let Some(id) = select {
                app.refilter(Some(id));
            }
            let mut text = msg;
            for w in warnings {
                text.push('\n');
                text.push_str(&w);
            }
            app.toast(text);
        }
        Err(e) => {
            app.reload();
            app.error(&e);
        }
    }
}

/// Runs `f`'s actions in one transaction and finishes it (tag stamps,
/// auto-sync): its result, and the warnings of its outcomes and finish.
fn transact<T>(
    app: &App,
    f: impl FnOnce(&mut Transaction) -> htrac::Result<(T, Vec<Outcome>)>,
) -> (htrac::Result<T>, Vec<String>) {
    let mut tx = Transaction::new(&app.tracker, true);
    let result = f(&mut tx);
    let mut warnings = Vec::new();
    let result = result.map(|(value, outcomes)| {
        for o in outcomes {
            warnings.extend(o.warnings);
        }
        value
    });
    warnings.extend(tx.finish().warnings);
    (result, warnings)
}

fn parse_priority(s: &str) -> htrac::Result<i64> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|p| (0..=4).contains(p))
        .ok_or_else(|| {
            htrac::Error::user(format!("priority '{s}' is not an integer from 0 to 4"))
                .with_hint("0 is the highest priority, 4 the lowest")
        })
}

/// Performs a submitted form. A form that cannot be written stays open.
pub fn submit(app: &mut App, form: Form) {
    type Said = (String, Option<String>);
    let (result, warnings) = transact(app, |tx| -> htrac::Result<(Said, Vec<Outcome>)> {
        match &form.purpose {
            Purpose::New => {
                let title = form.get("Title").trim().to_string();
                if title.is_empty() {
                    return Err(htrac::Error::user("a new item needs a title")
                        .with_hint("type a title, or press Esc to cancel"));
                }
                let mut new = NewItem::new(form.get("Kind"), &title);
                new.status = Some(form.get("Status").to_string()).filter(|s| !s.is_empty());
                new.priority = parse_priority(form.get("Priority"))?;
                new.tier = Tier::parse(form.get("Tier")).unwrap_or(Tier::Workspace);
                new.description = form.get("Description").to_string();
                let o = actions::add(tx, &new)?;
                Ok(((format!("created {}", o.id), Some(o.id.clone())), vec![o]))
            }
            Purpose::Edit(id) => {
                let item = app.items.iter().find(|i| &i.id == id).cloned();
                let Some(item) = item else {
                    return Err(htrac::Error::user(format!("{id} is gone")));
                };
                let req = edit_request(&item, &form)?;
                if req.is_empty() {
                    return Ok((("no changes".into(), None), vec![]));
                }
                let o = actions::update(tx, &req)?;
                Ok(((format!("updated {}", app.short_id(id)), None), vec![o]))
            }
            Purpose::Discuss(id) => {
                let msg = form.get("Message").trim();
                if msg.is_empty() {
                    return Ok((("nothing sent".into(), None), vec![]));
                }
                let o = written(actions::discuss(tx, &message(id, msg))?);
                Ok((("message sent".into(), None), vec![o]))
            }
            Purpose::Parent(id) => {
                let req = Update {
                    item: id.clone(),
                    parent: Some(form.get("Parent").trim().to_string()),
                    ..Update::default()
                };
                let o = actions::update(tx, &req)?;
                Ok((("parent set".into(), None), vec![o]))
            }
            Purpose::Before(id) => {
                let req = Update {
                    item: id.clone(),
                    add_isbefore: split_list(form.get("Add")),
                    remove_isbefore: split_list(form.get("Remove")),
                    ..Update::default()
                };
                if req.is_empty() {
                    return Ok((("no changes".into(), None), vec![]));
                }
                let o = actions::update(tx, &req)?;
                Ok((("before-links updated".into(), None), vec![o]))
            }
            Purpose::Lock(id) => {
                let lock = split_list(form.get("Lock"));
                let unlock = split_list(form.get("Unlock"));
                // Validate every name first: nothing is written if one is wrong.
                for f in lock.iter().chain(&unlock) {
                    normalize_field(f)?;
                }
                let mut said = Vec::new();
                let mut outcomes = Vec::new();
                for (fields, unlock, verb) in [(lock, false, "locked"), (unlock, true, "unlocked")]
                {
                    if fields.is_empty() {
                        continue;
                    }
                    let o = actions::lock(
                        tx,
                        &LockChange {
                            item: id.clone(),
                            fields,
                            unlock,
                        },
                    )?;
                    let names: Vec<&str> = o.changes.iter().map(|c| c.field.as_str()).collect();
                    said.push(format!("{verb} {}", names.join(", ")));
                    outcomes.push(o);
                }
                let text = none_if_empty(&said.join("; ")).replace("(none)", "no changes");
                Ok(((text, None), outcomes))
            }
            Purpose::Move(id) => {
                let mv = match form.get("Move") {
                    "Demote to workspace" => Move::Demote,
                    "Promote to canonical" => Move::Promote,
                    "Stealth" => Move::Stealth,
                    _ => Move::Unstealth,
                };
                let o = actions::move_tier(tx, id, mv)?;
                let tier = o.after.as_ref().map(|i| i.tier.as_str()).unwrap_or("?");
                Ok((
                    (format!("{} moved to {tier}", app.short_id(id)), None),
                    vec![o],
                ))
            }
        }
    });
    match result {
        Ok((msg, select)) => done(app, Ok(msg), warnings, select.as_deref()),
        Err(e) => {
            app.error(&e);
            // Keep what was typed: the human can fix it or press Esc.
            app.modal = Some(Modal::Form(form));
        }
    }
}

/// A message to `id`: the TUI shows the thread while one writes, so its
/// unread human messages count as read.
fn message(id: &str, text: &str) -> Discuss {
    Discuss::Message {
        item: id.to_string(),
        text: text.to_string(),
        ack_thread: true,
    }
}

fn written(d: Discussed) -> Outcome {
    match d {
        Discussed::Written(o) | Discussed::Unacknowledged(o) => o,
    }
}

/// The `update` an edit form asks for: only the fields that changed.
pub fn edit_request(item: &Item, form: &Form) -> htrac::Result<Update> {
    let mut req = Update {
        item: item.id.clone(),
        ..Update::default()
    };
    if form.get("Status") != item.status {
        req.status = Some(form.get("Status").to_string());
    }
    let prio = form.get("Priority");
    if prio.trim() != htrac::items::item::value_text(&item.priority) {
        req.priority = Some(parse_priority(prio)?);
    }
    let title = form.get("Title").trim();
    if title != item.title {
        if title.is_empty() {
            return Err(htrac::Error::user("the title cannot be empty"));
        }
        req.title = Some(title.to_string());
    }
    if form.get("Description") != item.description {
        req.description = Some(form.get("Description").to_string());
    }
    let old = Item::string_list(&item.tags);
    let new = split_list(form.get("Tags"));
    req.add_tags = new.iter().filter(|t| !old.contains(t)).cloned().collect();
    req.remove_tags = old.iter().filter(|t| !new.contains(t)).cloned().collect();
    Ok(req)
}

/// A confirmed destructive action.
pub fn confirm(app: &mut App, what: Confirm) {
    let (result, warnings) = transact(app, |tx| match &what {
        Confirm::ClearDiscussion(id) => {
            let d = actions::discuss(tx, &Discuss::Clear { item: id.clone() })?;
            Ok(("discussion cleared".to_string(), vec![written(d)]))
        }
        Confirm::RepairDrift(id) => {
            let o = actions::freeze(tx, id, Freeze::RepairDrift)?;
            Ok(("reverted to the frozen state".to_string(), vec![o]))
        }
    });
    done(app, result, warnings, None);
}

/// Sends the wide layout's inline message to the item it was opened for.
pub fn send_chat(app: &mut App, id: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let (result, warnings) = transact(app, |tx| {
        let o = written(actions::discuss(tx, &message(id, text))?);
        Ok((format!("message sent to {}", app.short_id(id)), vec![o]))
    });
    if result.is_err() {
        app.chat = Some((id.to_string(), text.to_string()));
    }
    done(app, result, warnings, None);
}

/// Writes the annotated screenshot and says where.
pub fn save_screenshot(app: &mut App, a: &crate::annotate::Annotator) {
    let svg = crate::svg::render(&a.frame, &a.shapes);
    let name = a.id.clone().unwrap_or_else(|| "screen".into());
    match crate::svg::save(&app.tracker.root, &name, &svg) {
        Ok(path) => app.toast(format!("screenshot saved: {}", path.display())),
        Err(e) => app.error(&htrac::Error::internal(format!(
            "screenshot not saved: {e}"
        ))),
    }
}

/// Ctrl+E: opens the edit-mode window (the CLI's default 30 minutes and
/// 500 edits) when it is closed, closes it when it is open. Human only:
/// the library refuses an agent.
pub fn toggle_edit_mode(app: &mut App) {
    use htrac::tracker::editmode::{DEFAULT_CAP, DEFAULT_TTL};
    let open = app.edit_mode_left().is_some();
    let result = if open {
        app.tracker.edit_mode_off()
    } else {
        app.tracker.edit_mode_on(DEFAULT_TTL, DEFAULT_CAP)
    };
    app.reload();
    match result {
        Ok(()) if open => app.toast("edit mode OFF"),
        Ok(()) => app.toast(format!(
            "edit mode ON for {} min (up to {DEFAULT_CAP} message edits); Ctrl+E ends it",
            DEFAULT_TTL / 60
        )),
        Err(e) => app.error(&e),
    }
}
