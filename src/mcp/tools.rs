//! The MCP tools: one table, from which each tool's JSON Schemas
//! (`inputSchema`, `outputSchema`) are made and against which a call's
//! arguments are checked ([`super::args`]); [`super::run`] says what each
//! tool does.

use serde_json::{json, Map, Value};

/// An argument's type.
#[derive(Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    /// A list of strings.
    Strs,
    /// An object of string values (custom fields, name to value).
    Fields,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub help: &'static str,
}

const fn p(name: &'static str, ty: Ty, help: &'static str) -> Param {
    Param {
        name,
        ty,
        required: false,
        help,
    }
}

const fn req(name: &'static str, ty: Ty, help: &'static str) -> Param {
    Param {
        name,
        ty,
        required: true,
        help,
    }
}

pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub params: &'static [Param],
    /// Reads only (the `readOnlyHint` annotation).
    pub read_only: bool,
    /// The key under which `structuredContent` holds an array output.
    pub wrap: &'static str,
}

const ID: Param = req(
    "id",
    Ty::Str,
    "item ID: the full ID or any unique prefix (WI-foh, foh)",
);
const TIERS: &[&str] = &["canonical", "workspace", "stealth"];
const LIMIT: Param = p("limit", Ty::Int, "at most this many items");

pub const TOOLS: &[Tool] = &[
    Tool {
        name: "prime",
        title: "Session briefing",
        description: "What to know at the start of a session: the workflow, items with unread human messages, items in progress, the top ready items, locked fields, and whether the stop hook is active.",
        params: &[],
        read_only: true,
        wrap: "",
    },
    Tool {
        name: "ready",
        title: "Ready items",
        description: "Items to work on next (blocking status, not waiting on another item), best first, and the items whose discussion ends with unread human messages.",
        params: &[LIMIT],
        read_only: true,
        wrap: "",
    },
    Tool {
        name: "list",
        title: "List items",
        description: "Items sorted by priority then age, optionally filtered.",
        params: &[
            p("status", Ty::Strs, "only these statuses"),
            p("open", Ty::Bool, "only open statuses"),
            p("kind", Ty::Str, "only this kind (work_item, invariant, ...)"),
            p("tag", Ty::Str, "only items with this tag"),
            p("tier", Ty::OneOf(TIERS), "only this tier"),
            LIMIT,
        ],
        read_only: true,
        wrap: "items",
    },
    Tool {
        name: "show",
        title: "Show an item",
        description: "One item in full: fields, description, locked fields, discussion.",
        params: &[
            ID,
            p("include_deleted", Ty::Bool, "also show deleted messages"),
            p("include_history", Ty::Bool, "show earlier texts of edited messages"),
        ],
        read_only: true,
        wrap: "",
    },
    Tool {
        name: "add",
        title: "Add an item",
        description: "Create an item; answers its ID.",
        params: &[
            req("kind", Ty::Str, "item kind: work_item, invariant, ... (from the config)"),
            req("title", Ty::Str, "title"),
            p("status", Ty::Str, "initial status (default: the kind's first blocking status)"),
            p("priority", Ty::Int, "0 (highest) to 4; default 2"),
            p("parent", Ty::Str, "parent item"),
            p("tags", Ty::Strs, "tags"),
            p("isbefore", Ty::Strs, "items this one must be done before"),
            p("description", Ty::Str, "description"),
            p("pr_ref", Ty::Str, "pull request reference"),
            p("fields", Ty::Fields, "custom fields, name to value"),
            p("force_field_key", Ty::Bool, "allow a field name that differs from a declared one only in spelling"),
            p("tier", Ty::OneOf(TIERS), "tier (default workspace)"),
        ],
        read_only: false,
        wrap: "",
    },
    Tool {
        name: "update",
        title: "Update an item",
        description: "Change an item's fields; answers what changed. Locked fields and human-only statuses are refused to agents.",
        params: &[
            ID,
            p("status", Ty::Str, "new status"),
            p("priority", Ty::Int, "new priority, 0 (highest) to 4"),
            p("title", Ty::Str, "new title"),
            p("parent", Ty::Str, "new parent (\"\" removes it)"),
            p("pr_ref", Ty::Str, "pull request reference (\"\" removes it)"),
            p("description", Ty::Str, "new description"),
            p("add_tags", Ty::Strs, "tags to add"),
            p("remove_tags", Ty::Strs, "tags to remove"),
            p("add_isbefore", Ty::Strs, "items this one must be done before"),
            p("remove_isbefore", Ty::Strs, "isbefore links to remove"),
            p("add_blocked_by", Ty::Strs, "items that must be done before this one"),
            p("remove_blocked_by", Ty::Strs, "blocked-by links to remove"),
            p("add_duplicate_of", Ty::Strs, "mark as a duplicate of these items"),
            p("remove_duplicate_of", Ty::Strs, "unmark duplicates"),
            p("add_not_duplicate_of", Ty::Strs, "mark as not a duplicate of these items"),
            p("remove_not_duplicate_of", Ty::Strs, "remove not-duplicate marks"),
            p("fields", Ty::Fields, "custom fields to set, name to value (others kept)"),
            p("remove_fields", Ty::Strs, "custom fields to delete"),
            p("force_field_key", Ty::Bool, "allow a field name that differs from a declared one only in spelling"),
            p("note", Ty::Str, "also add this text to the discussion"),
        ],
        read_only: false,
        wrap: "",
    },
    Tool {
        name: "claim",
        title: "Claim an item",
        description: "Take an item for this agent session for a lease: without id, the best ready item no live claim holds; with id, that item, or a refusal (isError) naming its holder and when the lease ends. The item becomes in_progress. Claiming an item you hold renews the lease. The session is HTRAC_SESSION, else USER@HOST:WORKTREE.",
        params: &[
            p("id", Ty::Str, "item ID (default: the best free ready item)"),
            p("lease", Ty::Str, "how long the claim holds unless renewed: 90s, 45m, 4h, 2d (default: config claims.lease, else 4h)"),
        ],
        read_only: false,
        wrap: "",
    },
    Tool {
        name: "release",
        title: "Release a claim",
        description: "Give up this session's claim on an item; its status goes back to what it was before the claim. A human may break another session's claim with break: true.",
        params: &[
            ID,
            p("break", Ty::Bool, "release another session's claim (human only)"),
        ],
        read_only: false,
        wrap: "",
    },
    Tool {
        name: "discuss",
        title: "Read or add to a discussion",
        description: "Without a message: the item's discussion. With one: add it. A message after unread human messages is refused (isError, with the unread messages) until you pass ack_thread: true, confirming you read them.",
        params: &[
            ID,
            p("message", Ty::Str, "the message to add"),
            p("ack_thread", Ty::Bool, "confirm you have read the unread human messages, and write anyway"),
            p("summarize", Ty::Str, "replace the discussion with this one summary entry"),
            p("clear", Ty::Bool, "clear the discussion (human only)"),
        ],
        read_only: false,
        wrap: "discussion",
    },
    Tool {
        name: "deps",
        title: "Dependencies",
        description: "An item's parent, children, what it blocks and what blocks it; or, with graph: true and no id, the whole open dependency graph.",
        params: &[
            p("id", Ty::Str, "item ID (or use graph)"),
            p("graph", Ty::Bool, "the whole open graph as nodes and edges"),
        ],
        read_only: true,
        wrap: "",
    },
    Tool {
        name: "check_messages",
        title: "Unread human messages",
        description: "Items whose discussion ends with unread human messages, with context.",
        params: &[p("autolimit", Ty::Int, "at most this many unread messages per item")],
        read_only: true,
        wrap: "items",
    },
    Tool {
        name: "count_todos",
        title: "Count blocking items",
        description: "How many blocking items remain in the stop hook's scope (the agent may not stop while any remain).",
        params: &[
            p("hard", Ty::Bool, "only blocking statuses whose name contains 'hard'"),
            p("soft", Ty::Bool, "only the other blocking statuses"),
        ],
        read_only: true,
        wrap: "",
    },
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

fn schema_of(ty: Ty) -> Value {
    match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Int => json!({"type": "integer"}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Strs => json!({"type": "array", "items": {"type": "string"}}),
        Ty::Fields => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Ty::OneOf(values) => json!({"type": "string", "enum": values}),
    }
}

/// A tool's `inputSchema`.
pub fn input_schema(tool: &Tool) -> Value {
    let mut props = Map::new();
    for p in tool.params {
        let mut s = schema_of(p.ty);
        s["description"] = json!(p.help);
        props.insert(p.name.into(), s);
    }
    let required: Vec<&str> = tool
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    let mut schema = json!({"type": "object", "properties": props, "additionalProperties": false});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// A tool's `outputSchema`: the shape of its answer, the matching CLI
/// command's `--json` output (an array output sits under the tool's `wrap`
/// key).
pub fn output_schema(tool: &Tool) -> Value {
    let arr = json!({"type": "array", "items": {"type": "object"}});
    let (props, required): (Value, Vec<&str>) = match tool.name {
        "prime" => (
            json!({"actor": {"type": "object"}, "workflow": arr, "unread_messages": arr, "in_progress": arr, "ready": arr, "locked": arr, "blocking_count": {"type": "integer"}, "stop_hook": {"type": "object"}}),
            vec!["actor", "ready"],
        ),
        "ready" => (
            json!({"ready": arr, "items_with_unread_messages": arr}),
            vec!["ready"],
        ),
        "show" => (
            json!({"id": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"}, "locked_fields": {"type": "array"}, "discussion": arr}),
            vec!["id"],
        ),
        "add" => (json!({"id": {"type": "string"}}), vec!["id"]),
        "update" => (
            json!({"ok": {"type": "boolean"}, "changes": arr}),
            vec!["ok"],
        ),
        "discuss" => (
            json!({"ok": {"type": "boolean"}, "reason": {"type": "string"}, "unread": arr, "discussion": arr}),
            vec![],
        ),
        "deps" => (
            json!({"id": {"type": "string"}, "children": arr, "blocks": arr, "blocked_by": arr, "nodes": arr, "edges": arr}),
            vec![],
        ),
        "count_todos" => (json!({"count": {"type": "integer"}}), vec!["count"]),
        "claim" => (
            json!({"ok": {"type": "boolean"}, "id": {"type": "string"}, "title": {"type": "string"}, "claim": {"type": "object"}, "renewed": {"type": "boolean"}, "reason": {"type": "string"}, "holder": {"type": "object"}}),
            vec!["ok", "id"],
        ),
        "release" => (
            json!({"ok": {"type": "boolean"}, "id": {"type": "string"}, "released": {"type": "object"}, "status": {"type": "string"}}),
            vec!["ok", "id"],
        ),
        _ => (json!({ tool.wrap: arr }), vec![tool.wrap]),
    };
    json!({"type": "object", "properties": props, "required": required})
}

/// `tools/list`'s tools (with output schemas when `structured`).
pub fn list(structured: bool) -> Vec<Value> {
    TOOLS
        .iter()
        .map(|t| {
            let mut v = json!({
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "inputSchema": input_schema(t),
                "annotations": {
                    "title": t.title,
                    "readOnlyHint": t.read_only,
                    "destructiveHint": false,
                    "openWorldHint": false,
                },
            });
            if structured {
                v["outputSchema"] = output_schema(t);
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_list_every_parameter() {
        for t in TOOLS {
            let s = input_schema(t);
            assert_eq!(
                s["properties"].as_object().unwrap().len(),
                t.params.len(),
                "{}",
                t.name
            );
            assert_eq!(output_schema(t)["type"], "object");
        }
        let show = input_schema(find("show").unwrap());
        assert_eq!(show["required"], json!(["id"]));
    }
}
