//! Writes: opening the form for a write key, turning a submitted form into
//! one htrac library call, and showing the result. Every check happens
//! before the first write, so a refused form changes nothing; governance
//! refusals come back as `htrac::Error` and are shown in a toast.

use serde_json::{json, Map, Value};

use htrac::authority::normalize_field;
use htrac::moves::Move;
use htrac::tracker::ItemFile;
use htrac::write::{Changes, NewItem};
use htrac::{Item, Tier};

use crate::app::{Action, App, Modal};
use crate::forms::{split_list, Confirm, Field, Form, Purpose};

/// The file of an item as the library resolves it.
fn file_of(app: &App, id: &str) -> htrac::Result<ItemFile> {
    app.tracker.resolve(id)
}

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
                Field::text("Description", ""),
            ],
            "←→ choose · Tab next field · Enter create · Esc cancel",
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
            let result = file_of(app, &id).and_then(|f| {
                if item.frozen {
                    app.tracker.unfreeze(&f).map(|_| "unfrozen")
                } else {
                    app.tracker.freeze(&f).map(|_| "frozen")
                }
            });
            done(
                app,
                result.map(|w| format!("{} {w}", app.short_id(&id))),
                None,
            );
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
        "Enter save (only changed fields) · Esc cancel".to_string()
    } else {
        format!(
            "status '{}' is deprecated for {} · Enter save · Esc cancel",
            item.status, item.kind
        )
    };
    Form::new(
        &format!("Edit {}", app.short_id(&item.id)),
        Purpose::Edit(item.id.clone()),
        vec![
            Field::choice("Status", statuses, chosen),
            Field::text("Priority", &htrac::item::value_text(&item.priority)),
            Field::text("Title", &item.title),
            Field::text("Tags", &Item::string_list(&item.tags).join(", ")),
            Field::text("Description", &item.description),
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

/// Shows a write's outcome, reloads, and selects `select` if given.
fn done(app: &mut App, result: htrac::Result<String>, select: Option<&str>) {
    match result {
        Ok(msg) => {
            app.reload();
            if let Some(id) = select {
                app.refilter(Some(id));
            }
            app.toast(msg);
        }
        Err(e) => {
            app.reload();
            app.error(&e);
        }
    }
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
    let result: htrac::Result<(String, Option<String>)> = (|| match &form.purpose {
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
            let id = app.tracker.add(&new)?;
            Ok((format!("created {id}"), Some(id)))
        }
        Purpose::Edit(id) => {
            let item = app.items.iter().find(|i| &i.id == id).cloned();
            let Some(item) = item else {
                return Err(htrac::Error::user(format!("{id} is gone")));
            };
            let changes = edit_changes(&item, &form)?;
            if changes.is_empty() {
                return Ok(("no changes".into(), None));
            }
            app.tracker.update(&file_of(app, id)?, &changes)?;
            Ok((format!("updated {}", app.short_id(id)), None))
        }
        Purpose::Discuss(id) => {
            let msg = form.get("Message").trim();
            if msg.is_empty() {
                return Ok(("nothing sent".into(), None));
            }
            app.tracker.discuss(&file_of(app, id)?, msg, false)?;
            Ok(("message sent".into(), None))
        }
        Purpose::Parent(id) => {
            let file = file_of(app, id)?;
            let spec = form.get("Parent").trim();
            let parent = if spec.is_empty() {
                Value::Null
            } else {
                json!(app.tracker.resolve_ref(spec, "parent")?.id)
            };
            let mut changes = Changes::default();
            changes.set.insert("parent".into(), parent);
            app.tracker.update(&file, &changes)?;
            Ok(("parent set".into(), None))
        }
        Purpose::Before(id) => {
            let file = file_of(app, id)?;
            let mut changes = Changes::default();
            for (label, map) in [("Add", &mut changes.add), ("Remove", &mut changes.remove)] {
                let mut ids = Vec::new();
                for spec in split_list(form.get(label)) {
                    ids.push(json!(app.tracker.resolve_ref(&spec, "before")?.id));
                }
                if !ids.is_empty() {
                    map.insert("isbefore".into(), Value::Array(ids));
                }
            }
            if changes.is_empty() {
                return Ok(("no changes".into(), None));
            }
            app.tracker.update(&file, &changes)?;
            Ok(("before-links updated".into(), None))
        }
        Purpose::Lock(id) => {
            let file = file_of(app, id)?;
            let lock = split_list(form.get("Lock"));
            let unlock = split_list(form.get("Unlock"));
            // Validate every name first: nothing is written if one is wrong.
            for f in lock.iter().chain(&unlock) {
                normalize_field(f)?;
            }
            app.tracker.require_human("lock")?;
            let mut said = Vec::new();
            if !lock.is_empty() {
                said.push(format!(
                    "locked {}",
                    app.tracker.lock(&file, &lock, false)?.join(", ")
                ));
            }
            if !unlock.is_empty() {
                said.push(format!(
                    "unlocked {}",
                    app.tracker.lock(&file, &unlock, true)?.join(", ")
                ));
            }
            Ok((
                none_if_empty(&said.join("; ")).replace("(none)", "no changes"),
                None,
            ))
        }
        Purpose::Move(id) => {
            let file = file_of(app, id)?;
            let mv = match form.get("Move") {
                "Demote to workspace" => Move::Demote,
                "Promote to canonical" => Move::Promote,
                "Stealth" => Move::Stealth,
                _ => Move::Unstealth,
            };
            let moved = app.tracker.move_tier(&file, mv)?;
            Ok((
                format!("{} moved to {}", app.short_id(id), moved.tier.as_str()),
                None,
            ))
        }
    })();
    match result {
        Ok((msg, select)) => done(app, Ok(msg), select.as_deref()),
        Err(e) => {
            app.error(&e);
            // Keep what was typed: the human can fix it or press Esc.
            app.modal = Some(Modal::Form(form));
        }
    }
}

/// The `update` an edit form asks for: only the fields that changed.
pub fn edit_changes(item: &Item, form: &Form) -> htrac::Result<Changes> {
    let mut c = Changes::default();
    if form.get("Status") != item.status {
        c.set.insert("status".into(), json!(form.get("Status")));
    }
    let prio = form.get("Priority");
    if prio.trim() != htrac::item::value_text(&item.priority) {
        c.set
            .insert("priority".into(), json!(parse_priority(prio)?));
    }
    let title = form.get("Title").trim();
    if title != item.title {
        if title.is_empty() {
            return Err(htrac::Error::user("the title cannot be empty"));
        }
        c.set.insert("title".into(), json!(title));
    }
    if form.get("Description") != item.description {
        c.set
            .insert("description".into(), json!(form.get("Description")));
    }
    let old = Item::string_list(&item.tags);
    let new = split_list(form.get("Tags"));
    let added: Vec<Value> = new
        .iter()
        .filter(|t| !old.contains(t))
        .map(|t| json!(t))
        .collect();
    let removed: Vec<Value> = old
        .iter()
        .filter(|t| !new.contains(t))
        .map(|t| json!(t))
        .collect();
    for t in &added {
        htrac::write::check_tag(t.as_str().unwrap_or(""))?;
    }
    let put = |m: &mut Map<String, Value>, v: Vec<Value>| {
        if !v.is_empty() {
            m.insert("tags".into(), Value::Array(v));
        }
    };
    put(&mut c.add, added);
    put(&mut c.remove, removed);
    Ok(c)
}

/// A confirmed destructive action.
pub fn confirm(app: &mut App, what: Confirm) {
    let result = match &what {
        Confirm::ClearDiscussion(id) => file_of(app, id)
            .and_then(|f| app.tracker.discuss_clear(&f))
            .map(|_| "discussion cleared".to_string()),
        Confirm::RepairDrift(id) => file_of(app, id)
            .and_then(|f| app.tracker.repair_drift(&f))
            .map(|n| format!("reverted to the frozen state ({n} bytes dropped)")),
    };
    done(app, result, None);
}

/// Sends the wide layout's inline message to the item it was opened for.
pub fn send_chat(app: &mut App, id: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let result = file_of(app, id)
        .and_then(|f| app.tracker.discuss(&f, text, false))
        .map(|_| format!("message sent to {}", app.short_id(id)));
    if result.is_err() {
        app.chat = Some((id.to_string(), text.to_string()));
    }
    done(app, result, None);
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
