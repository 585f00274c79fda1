//! The item actions of the web API, shared by REST routes and WebSocket
//! commands: JSON request bodies become the requests of
//! [`crate::actions`] — the ones every front end runs, under the same
//! rules — and answers are the CLI's `--json` item objects, with the
//! action's `changes` and `warnings`. Library errors become HTTP statuses
//! with codes, from their kind.

use serde_json::{json, Map, Value};

use crate::actions::{self, Discuss, Discussed, Freeze, LockChange, Transaction, Update};
use crate::error::{Error, ErrorKind};
use crate::governance::actor::Actor;
use crate::items::item::Item;
use crate::items::tiers::Tier;
use crate::tracker::create::NewItem;
use crate::tracker::moves::Move;
use crate::tracker::{ItemFile, Tracker};

/// An API error: HTTP status, a stable code, and a message (with the
/// library's hint, if any).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "bad_request", message)
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "invalid_field", message)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        // The page shows `error` verbatim: it carries the hint too.
        let text = match &self.hint {
            Some(h) => format!("{} (hint: {h})", self.message),
            None => self.message.clone(),
        };
        m.insert("error".into(), json!(text));
        m.insert("code".into(), json!(self.code));
        if let Some(h) = &self.hint {
            m.insert("hint".into(), json!(h));
        }
        Value::Object(m)
    }
}

/// The HTTP status of each kind of library error.
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Invalid => 400,
        ErrorKind::HumanOnly => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Ambiguous | ErrorKind::Locked | ErrorKind::Frozen | ErrorKind::Conflict => 409,
        ErrorKind::Unavailable => 503,
        ErrorKind::Corrupt | ErrorKind::Internal => 500,
    }
}

/// Maps a library error to a status and code by its kind (never by what
/// its message says).
pub fn classify(e: Error) -> ApiError {
    ApiError {
        status: status_of(e.kind),
        code: e.kind.code(),
        message: e.text(key),
        hint: e.hint,
    }
}

/// A request field as the API's JSON bodies name it (errors about a field
/// name it so): `'add_before'` for the action's `add_isbefore`.
fn key(field: &str) -> String {
    let name = match field {
        "add_isbefore" => "add_before",
        "remove_isbefore" => "remove_before",
        f => f,
    };
    format!("'{name}'")
}

type ApiResult<T> = std::result::Result<T, ApiError>;

/// The tracker a web user acts through: a human server acts as the logged-in
/// user (a human named after the login, whose ops are signed with
/// `authority.server_key` when signing is on, unless the name matches
/// `actor_resolution.agent_usernames`: then an agent of that name); an
/// agent's server keeps its agent's authority whoever logs in.
pub fn acting_as(base: &Tracker, user: &str) -> Tracker {
    let mut t = base.clone();
    if !base.actor.is_agent() {
        t.actor = Actor {
            role: Actor::for_name(user, &base.config.agent_usernames).role,
            name: user.to_string(),
        };
        // Its ops are signed with the server's key (authority.server_key),
        // which allowed_signers lists for the web users' names.
        if let Some(k) = &base.config.authority.server_key {
            t.signing_key = Some(crate::config::Authority::path(&base.root, k));
        }
    }
    t
}

fn item_json(i: &Item) -> Value {
    i.to_json(false, false)
}

/// Whether `id` may be an item ID or prefix (no path characters).
fn check_id(id: &str) -> ApiResult<()> {
    if id.is_empty()
        || id.len() > 200
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::new(404, "not_found", format!("no item '{id}'")));
    }
    Ok(())
}

fn resolve(t: &Tracker, id: &str) -> ApiResult<ItemFile> {
    check_id(id)?;
    t.resolve(id).map_err(classify)
}

fn load(t: &Tracker, file: &ItemFile) -> ApiResult<Value> {
    t.load(file).map(|i| item_json(&i)).map_err(classify)
}

/// The body as an object (an empty body is `{}`).
pub fn object(body: &Value) -> ApiResult<&Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| ApiError::new(400, "bad_json", "the request body must be a JSON object"))
}

fn opt_str(b: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!("'{key}' must be a string"))),
    }
}

fn opt_list(b: &Map<String, Value>, key: &str) -> ApiResult<Option<Vec<String>>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("'{key}' must be a list of strings")))
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(_) => Err(ApiError::invalid(format!(
            "'{key}' must be a list of strings"
        ))),
    }
}

fn opt_priority(b: &Map<String, Value>) -> ApiResult<Option<i64>> {
    match b.get("priority") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid("'priority' must be an integer from 0 to 4")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid("'priority' must be an integer from 0 to 4")),
        Some(_) => Err(ApiError::invalid(
            "'priority' must be an integer from 0 to 4",
        )),
    }
}

fn opt_fields(b: &Map<String, Value>) -> ApiResult<Option<Map<String, Value>>> {
    match b.get("fields") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::invalid("'fields' must be an object")),
    }
}

/// Refuses keys a body may not carry (a typo must not be silently ignored).
fn only_keys(b: &Map<String, Value>, allowed: &[&str]) -> ApiResult<()> {
    for k in b.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::invalid(format!(
                "unknown key '{k}'; allowed: {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// `GET /api/items` filters (query parameters, values comma-separated).
pub fn list(t: &Tracker, query: &[(String, String)]) -> ApiResult<Value> {
    let mut statuses: Vec<String> = Vec::new();
    let (mut kind, mut tier, mut tag, mut parent, mut q) = (None, None, None, None, None);
    for (k, v) in query {
        match k.as_str() {
            "status" => statuses.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string)),
            "kind" if !v.is_empty() => {
                if t.config.kind(v).is_none() {
                    return Err(classify(t.config.unknown_kind(v)));
                }
                kind = Some(v.clone());
            }
            "tier" if !v.is_empty() => {
                tier = Some(Tier::parse(v).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "unknown tier '{v}'; use canonical, workspace or stealth"
                    ))
                })?);
            }
            "tag" if !v.is_empty() => tag = Some(v.clone()),
            "parent" if !v.is_empty() => parent = Some(v.clone()),
            "q" if !v.is_empty() => q = Some(v.to_lowercase()),
            "kind" | "tier" | "tag" | "parent" | "q" => {}
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown filter '{other}'; use status, kind, tier, tag, parent or q"
                )))
            }
        }
    }
    let snap = t.snapshot().map_err(classify)?.sorted();
    let items: Vec<Value> = snap
        .items
        .iter()
        .filter(|i| statuses.is_empty() || statuses.contains(&i.status))
        .filter(|i| kind.as_ref().is_none_or(|k| &i.kind == k))
        .filter(|i| tier.is_none_or(|tr| i.tier == tr))
        .filter(|i| tag.as_ref().is_none_or(|g| i.has_tag(g)))
        .filter(|i| {
            parent.as_ref().is_none_or(|p| {
                i.parent
                    .as_ref()
                    .is_some_and(|ip| ip == p || ip.ends_with(&format!("-{p}")))
            })
        })
        .filter(|i| {
            q.as_ref().is_none_or(|q| {
                i.title.to_lowercase().contains(q) || i.id.to_lowercase().contains(q)
            })
        })
        .map(item_json)
        .collect();
    Ok(json!({ "items": items }))
}

/// `GET /api/ready`: `htrac ready --json`'s items, in its order.
pub fn ready(t: &Tracker) -> ApiResult<Value> {
    let snap = t.snapshot().map_err(classify)?;
    let items: Vec<Value> = crate::items::ready::ready(&snap.items, &t.config)
        .into_iter()
        .map(item_json)
        .collect();
    Ok(json!({ "items": items }))
}

pub fn show(t: &Tracker, id: &str) -> ApiResult<Value> {
    let file = resolve(t, id)?;
    load(t, &file)
}

/// The priority series `htrac priority-trend` draws, over all history.
fn trend_points(t: &Tracker) -> ApiResult<Vec<crate::insight::trend::Point>> {
    let (points, _) = crate::insight::trend::tracker_series(t, None, None).map_err(classify)?;
    Ok(points)
}

/// `GET /api/priority-trend`: `{"resolved_statuses", "points": [{day, open,
/// mean_priority}…]}`, as `htrac --json priority-trend` reports them.
pub fn priority_trend(t: &Tracker) -> ApiResult<Value> {
    Ok(json!({
        "resolved_statuses": t.config.resolved_statuses,
        "points": crate::insight::trend::points_json(&trend_points(t)?),
    }))
}

/// `GET /api/priority-trend.svg`: the chart `htrac priority-trend` writes.
pub fn priority_trend_svg(t: &Tracker) -> ApiResult<String> {
    Ok(crate::insight::svg::trend_svg(&trend_points(t)?))
}

/// `GET /api/config`: what the page's forms offer.
pub fn config(t: &Tracker) -> Value {
    let c = &t.config;
    let kinds: Vec<Value> = c
        .kinds
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "prefix": k.prefix,
                "description": k.description,
                "allowed_statuses": k.allowed_statuses,
                // What `add` picks when no status is given (as Tracker::add does).
                "default_status": match &k.allowed_statuses {
                    Some(allowed) => c
                        .blocking_statuses
                        .iter()
                        .find(|s| allowed.contains(s))
                        .or(allowed.first())
                        .or(c.blocking_statuses.first()),
                    None => c.blocking_statuses.first(),
                },
                "fields_schema": k.fields_schema.iter().map(|f| json!({
                    "name": f.name, "type": f.ty, "required": f.required, "description": f.description
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "statuses": c.statuses,
        "kinds": kinds,
        "tags": c.well_known_tags,
        "tiers": Tier::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "ready_statuses": c.blocking_statuses,
        "resolved_statuses": c.resolved_statuses,
        "human_only_statuses": c.human_only_statuses,
        "lockable_fields": crate::oplog::op::lockable().collect::<Vec<_>>(),
    })
}

/// An action's answer: `ok`, the item after it, what changed, warnings.
fn answer(t: &Tracker, done: &actions::Outcome) -> ApiResult<Value> {
    let mut m = Map::new();
    m.insert("ok".into(), json!(true));
    let item = match &done.after {
        Some(item) => item_json(item),
        None => load(t, &t.resolve(&done.id).map_err(classify)?)?,
    };
    m.insert("item".into(), item);
    if !done.changes.is_empty() {
        let list = done.changes.iter().map(|c| c.to_json()).collect();
        m.insert("changes".into(), Value::Array(list));
    }
    if !done.warnings.is_empty() {
        m.insert("warnings".into(), json!(done.warnings));
    }
    Ok(Value::Object(m))
}

/// `POST /api/items`.
pub fn add(tx: &mut Transaction, body: &Value) -> ApiResult<Value> {
    let b = object(body)?;
    only_keys(
        b,
        &[
            "kind",
            "title",
            "priority",
            "status",
            "description",
            "tags",
            "parent",
            "before",
            "isbefore",
            "tier",
            "pr_ref",
            "fields",
        ],
    )?;
    let kind = opt_str(b, "kind")?.ok_or_else(|| ApiError::invalid("'kind' is required"))?;
    let title = opt_str(b, "title")?.ok_or_else(|| ApiError::invalid("'title' is required"))?;
    let mut new = NewItem::new(&kind, &title);
    new.status = opt_str(b, "status")?.filter(|s| !s.is_empty());
    if let Some(p) = opt_priority(b)? {
        new.priority = p;
    }
    new.description = opt_str(b, "description")?.unwrap_or_default();
    new.tags = opt_list(b, "tags")?.unwrap_or_default();
    new.parent = opt_str(b, "parent")?.filter(|s| !s.is_empty());
    new.isbefore = opt_list(b, "before")?.unwrap_or_default();
    new.isbefore
        .extend(opt_list(b, "isbefore")?.unwrap_or_default());
    new.pr_ref = opt_str(b, "pr_ref")?.filter(|s| !s.is_empty());
    if let Some(f) = opt_fields(b)? {
        new.fields = f;
    }
    if let Some(tier) = opt_str(b, "tier")? {
        new.tier = Tier::parse(&tier).ok_or_else(|| {
            ApiError::invalid(format!(
                "unknown tier '{tier}'; use canonical, workspace or stealth"
            ))
        })?;
    }
    let done = actions::add(tx, &new).map_err(classify)?;
    let mut a = answer(tx.tracker(), &done)?;
    a["id"] = json!(done.id);
    Ok(a)
}

/// `POST /api/items/{id}/update`.
pub fn update(tx: &mut Transaction, id: &str, body: &Value) -> ApiResult<Value> {
    let b = object(body)?;
    only_keys(
        b,
        &[
            "status",
            "priority",
            "title",
            "description",
            "tags",
            "add_tags",
            "remove_tags",
            "parent",
            "add_before",
            "remove_before",
            "add_blocked_by",
            "remove_blocked_by",
            "pr_ref",
            "fields",
        ],
    )?;
    check_id(id)?;
    let list = |key: &str| -> ApiResult<Vec<String>> { Ok(opt_list(b, key)?.unwrap_or_default()) };
    let req = Update {
        item: id.to_string(),
        status: opt_str(b, "status")?,
        priority: opt_priority(b)?,
        title: opt_str(b, "title")?,
        description: opt_str(b, "description")?,
        tags: opt_list(b, "tags")?,
        add_tags: list("add_tags")?,
        remove_tags: list("remove_tags")?,
        // A present `parent` or `pr_ref` that is null or "" removes it.
        parent: b
            .contains_key("parent")
            .then(|| opt_str(b, "parent"))
            .transpose()?
            .map(Option::unwrap_or_default),
        pr_ref: b
            .contains_key("pr_ref")
            .then(|| opt_str(b, "pr_ref"))
            .transpose()?
            .map(Option::unwrap_or_default),
        add_isbefore: list("add_before")?,
        remove_isbefore: list("remove_before")?,
        add_blocked_by: list("add_blocked_by")?,
        remove_blocked_by: list("remove_blocked_by")?,
        fields: opt_fields(b)?.unwrap_or_default(),
        ..Update::default()
    };
    if req.is_empty() {
        return Err(ApiError::invalid(
            "nothing to update: name at least one field",
        ));
    }
    let done = actions::update(tx, &req).map_err(classify)?;
    answer(tx.tracker(), &done)
}

/// `POST /api/items/{id}/discuss`. The page shows the thread as one
/// writes, so the unread human messages are read.
pub fn discuss(tx: &mut Transaction, id: &str, body: &Value) -> ApiResult<Value> {
    let b = object(body)?;
    only_keys(b, &["message"])?;
    let msg = opt_str(b, "message")?
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("'message' is required"))?;
    check_id(id)?;
    let req = Discuss::Message {
        item: id.to_string(),
        text: msg,
        ack_thread: true,
    };
    match actions::discuss(tx, &req).map_err(classify)? {
        Discussed::Written(done) | Discussed::Unacknowledged(done) => answer(tx.tracker(), &done),
    }
}

/// `POST /api/items/{id}/lock` and `/unlock`.
pub fn lock(tx: &mut Transaction, id: &str, body: &Value, unlock: bool) -> ApiResult<Value> {
    let b = object(body)?;
    only_keys(b, &["fields"])?;
    check_id(id)?;
    let req = LockChange {
        item: id.to_string(),
        fields: opt_list(b, "fields")?.unwrap_or_default(),
        unlock,
    };
    let done = actions::lock(tx, &req).map_err(classify)?;
    let mut a = answer(tx.tracker(), &done)?;
    let names: Vec<&str> = done.changes.iter().map(|c| c.field.as_str()).collect();
    a["fields"] = json!(names);
    Ok(a)
}

/// `POST /api/items/{id}/freeze` and `/unfreeze`.
pub fn freeze(tx: &mut Transaction, id: &str, body: &Value, unfreeze: bool) -> ApiResult<Value> {
    only_keys(object(body)?, &[])?;
    check_id(id)?;
    let what = if unfreeze {
        Freeze::Unfreeze
    } else {
        Freeze::Freeze
    };
    let done = actions::freeze(tx, id, what).map_err(classify)?;
    answer(tx.tracker(), &done)
}

/// `POST /api/items/{id}/move` `{"to": "promote"|"demote"|"stealth"|"unstealth"}`.
pub fn move_tier(tx: &mut Transaction, id: &str, body: &Value) -> ApiResult<Value> {
    let b = object(body)?;
    only_keys(b, &["to"])?;
    let to = opt_str(b, "to")?.unwrap_or_default();
    let mv = Move::parse(&to).ok_or_else(|| {
        ApiError::invalid(format!(
            "'to' must be promote, demote, stealth or unstealth, not '{to}'"
        ))
    })?;
    check_id(id)?;
    let done = actions::move_tier(tx, id, mv).map_err(classify)?;
    answer(tx.tracker(), &done)
}

pub use super::dispatch::{dispatch, dispatch_noting_writes, is_write};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_its_status_and_code_whatever_the_message() {
        let want = [
            (ErrorKind::Invalid, 400, "invalid_field"),
            (ErrorKind::NotFound, 404, "not_found"),
            (ErrorKind::Ambiguous, 409, "ambiguous"),
            (ErrorKind::HumanOnly, 403, "human_required"),
            (ErrorKind::Locked, 409, "locked"),
            (ErrorKind::Frozen, 409, "frozen"),
            (ErrorKind::Conflict, 409, "conflict"),
            (ErrorKind::Unavailable, 503, "unavailable"),
            (ErrorKind::Corrupt, 500, "corrupt"),
            (ErrorKind::Internal, 500, "internal"),
        ];
        assert_eq!(want.len(), ErrorKind::ALL.len());
        for (kind, status, code) in want {
            assert!(ErrorKind::ALL.contains(&kind));
            // The same words under every kind: only the kind decides.
            let a = classify(Error::new(kind, "Field 'status' on WI-x is locked"));
            assert_eq!((a.status, a.code), (status, code), "{kind:?}");
        }
    }

    #[test]
    fn ids_with_path_characters_are_refused() {
        for bad in ["", "../x", "a/b", "WI-x.ops", "a b"] {
            assert_eq!(check_id(bad).unwrap_err().status, 404, "{bad}");
        }
        assert!(check_id("WI-fohab").is_ok());
    }
}
