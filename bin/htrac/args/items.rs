//! The arguments of the commands that write or read items: `add`,
//! `update`, `show`, `list`, `ready`, `discuss`, `log`, `deps`.

use htrac::Tier;

use super::{parsed, pos, switch, text, Cmd, Flag, ItemArg, Set, Spec, ITEM_ARG};

/// Where a description comes from: at most one of these may be given.
#[derive(Debug, Default, PartialEq)]
pub struct Description {
    pub text: Option<String>,
    pub file: Option<String>,
    pub stdin: bool,
}

/// Typed arguments that carry a description.
pub trait HasDescription {
    fn description_mut(&mut self) -> &mut Description;
}

/// `--description`, `--description-file`, `--description-stdin`.
const fn description_flags<A: HasDescription>() -> [Flag<A>; 3] {
    [
        text("description", "TEXT", "description text", |a, v| {
            a.description_mut().text = Some(v)
        }),
        text(
            "description-file",
            "FILE",
            "read the description from FILE",
            |a, v| a.description_mut().file = Some(v),
        ),
        switch(
            "description-stdin",
            "read the description from standard input",
            |a| a.description_mut().stdin = true,
        ),
    ]
}

#[derive(Debug, Default, PartialEq)]
pub struct AddArgs {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    /// A whole number; the library checks the range.
    pub priority: Option<i64>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub isbefore: Vec<String>,
    pub description: Description,
    pub pr_ref: Option<String>,
    pub fields: Vec<(String, String)>,
    pub force_field_key: bool,
    pub tier: Option<Tier>,
}

impl HasDescription for AddArgs {
    fn description_mut(&mut self) -> &mut Description {
        &mut self.description
    }
}

const ADD_DESCRIPTION: [Flag<AddArgs>; 3] = description_flags();

pub const ADD: Spec<AddArgs> = Spec {
    name: "add",
    summary: "Add a new item; prints its ID",
    args: &[],
    flags: &[
        text(
            "kind",
            "KIND",
            "item kind (work_item, invariant, ... from the config)",
            |a, v| a.kind = Some(v),
        ),
        text("title", "TITLE", "item title", |a, v| a.title = Some(v)),
        text(
            "status",
            "STATUS",
            "initial status (default: the kind's first blocking status)",
            |a, v| a.status = Some(v),
        ),
        parsed(
            "priority",
            "0-4",
            "priority, 0 highest (default 2)",
            |a, v| v.whole().map(|x| a.priority = Some(x)),
        ),
        text("parent", "ITEM", "parent item", |a, v| a.parent = Some(v)),
        text("tag", "TAG", "add a tag (repeatable)", |a, v| {
            a.tags.push(v)
        }),
        text(
            "isbefore",
            "ITEM",
            "this item must be done before ITEM (repeatable)",
            |a, v| a.isbefore.push(v),
        ),
        ADD_DESCRIPTION[0],
        ADD_DESCRIPTION[1],
        ADD_DESCRIPTION[2],
        text("pr-ref", "REF", "pull request reference", |a, v| {
            a.pr_ref = Some(v)
        }),
        parsed(
            "field",
            "KEY=VALUE",
            "set a custom field (repeatable)",
            |a, v| v.key_value().map(|kv| a.fields.push(kv)),
        ),
        switch(
            "force-field-key",
            "allow a field key that differs from a declared one only in spelling",
            |a| a.force_field_key = true,
        ),
        parsed(
            "tier",
            "TIER",
            "canonical, workspace (default) or stealth",
            |a, v| v.tier().map(|x| a.tier = Some(x)),
        ),
    ],
    wrap: Cmd::Add,
};

#[derive(Debug, Default, PartialEq)]
pub struct UpdateArgs {
    pub item: String,
    pub status: Option<String>,
    /// A whole number; the library checks the range.
    pub priority: Option<i64>,
    pub title: Option<String>,
    pub parent: Option<String>,
    pub pr_ref: Option<String>,
    pub description: Description,
    pub add_tag: Vec<String>,
    pub remove_tag: Vec<String>,
    pub add_isbefore: Vec<String>,
    pub remove_isbefore: Vec<String>,
    pub add_duplicate_of: Vec<String>,
    pub remove_duplicate_of: Vec<String>,
    pub add_not_duplicate_of: Vec<String>,
    pub remove_not_duplicate_of: Vec<String>,
    pub add_blocked_by: Vec<String>,
    pub remove_blocked_by: Vec<String>,
    /// `--field` pairs (exclusive with `--add-field`/`--remove-field`).
    pub field: Vec<(String, String)>,
    pub add_field: Vec<(String, String)>,
    pub remove_field: Vec<String>,
    pub force_field_key: bool,
    pub note: Option<String>,
}

impl HasDescription for UpdateArgs {
    fn description_mut(&mut self) -> &mut Description {
        &mut self.description
    }
}

impl UpdateArgs {
    /// The item and every flag value that names an item.
    pub fn items_mut(&mut self) -> Vec<&mut String> {
        let mut v = vec![&mut self.item];
        v.extend(self.parent.as_mut());
        for list in [
            &mut self.add_isbefore,
            &mut self.remove_isbefore,
            &mut self.add_duplicate_of,
            &mut self.remove_duplicate_of,
            &mut self.add_not_duplicate_of,
            &mut self.remove_not_duplicate_of,
            &mut self.add_blocked_by,
            &mut self.remove_blocked_by,
        ] {
            v.extend(list.iter_mut());
        }
        v
    }
}

const UPDATE_DESCRIPTION: [Flag<UpdateArgs>; 3] = description_flags();

pub const UPDATE: Spec<UpdateArgs> = Spec {
    name: "update",
    summary: "Change an item's fields",
    args: &[pos("ITEM", true, false, Set::Text(|a, v| a.item = v))],
    flags: &[
        text("status", "STATUS", "new status", |a, v| a.status = Some(v)),
        parsed("priority", "0-4", "new priority", |a, v| {
            v.whole().map(|x| a.priority = Some(x))
        }),
        text("title", "TITLE", "new title", |a, v| a.title = Some(v)),
        text("parent", "ITEM", "new parent", |a, v| a.parent = Some(v)),
        text("pr-ref", "REF", "pull request reference", |a, v| {
            a.pr_ref = Some(v)
        }),
        UPDATE_DESCRIPTION[0],
        UPDATE_DESCRIPTION[1],
        UPDATE_DESCRIPTION[2],
        text("add-tag", "TAG", "add a tag (repeatable)", |a, v| {
            a.add_tag.push(v)
        }),
        text("remove-tag", "TAG", "remove a tag (repeatable)", |a, v| {
            a.remove_tag.push(v)
        }),
        text(
            "add-isbefore",
            "ITEM",
            "this item must be done before ITEM (repeatable)",
            |a, v| a.add_isbefore.push(v),
        ),
        text(
            "remove-isbefore",
            "ITEM",
            "remove an isbefore link (repeatable)",
            |a, v| a.remove_isbefore.push(v),
        ),
        text(
            "add-duplicate-of",
            "ITEM",
            "mark as a duplicate of ITEM (repeatable)",
            |a, v| a.add_duplicate_of.push(v),
        ),
        text(
            "remove-duplicate-of",
            "ITEM",
            "unmark a duplicate (repeatable)",
            |a, v| a.remove_duplicate_of.push(v),
        ),
        text(
            "add-not-duplicate-of",
            "ITEM",
            "mark as not a duplicate of ITEM (repeatable)",
            |a, v| a.add_not_duplicate_of.push(v),
        ),
        text(
            "remove-not-duplicate-of",
            "ITEM",
            "remove a not-duplicate mark (repeatable)",
            |a, v| a.remove_not_duplicate_of.push(v),
        ),
        text(
            "add-blocked-by",
            "ITEM",
            "ITEM must be done before this one (writes ITEM's isbefore)",
            |a, v| a.add_blocked_by.push(v),
        ),
        text(
            "remove-blocked-by",
            "ITEM",
            "remove a blocked-by link (writes ITEM's isbefore)",
            |a, v| a.remove_blocked_by.push(v),
        ),
        parsed(
            "field",
            "KEY=VALUE",
            "set a custom field, other fields kept (repeatable)",
            |a, v| v.key_value().map(|kv| a.field.push(kv)),
        ),
        parsed(
            "add-field",
            "KEY=VALUE",
            "set a custom field (repeatable)",
            |a, v| v.key_value().map(|kv| a.add_field.push(kv)),
        ),
        text(
            "remove-field",
            "KEY",
            "delete a custom field (repeatable)",
            |a, v| a.remove_field.push(v),
        ),
        switch(
            "force-field-key",
            "allow a field key that differs from a declared one only in spelling",
            |a| a.force_field_key = true,
        ),
        text("note", "TEXT", "also add TEXT to the discussion", |a, v| {
            a.note = Some(v)
        }),
    ],
    wrap: Cmd::Update,
};

#[derive(Debug, Default, PartialEq)]
pub struct ShowArgs {
    pub item: String,
    pub include_deleted: bool,
    pub include_history: bool,
}

pub const SHOW: Spec<ShowArgs> = Spec {
    name: "show",
    summary: "Show one item in full",
    args: &[pos("ITEM", true, false, Set::Text(|a, v| a.item = v))],
    flags: &[
        switch(
            "include-deleted",
            "also show deleted (tombstoned) messages",
            |a| a.include_deleted = true,
        ),
        switch(
            "include-history",
            "show earlier texts of edited messages",
            |a| a.include_history = true,
        ),
    ],
    wrap: Cmd::Show,
};

#[derive(Debug, Default, PartialEq)]
pub struct ListArgs {
    /// `--status` values, then `--open`'s statuses.
    pub status: Vec<String>,
    pub open: bool,
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub tier: Option<Tier>,
    /// At most this many rows (`None`: all).
    pub limit: Option<usize>,
}

pub const LIST: Spec<ListArgs> = Spec {
    name: "list",
    summary: "List items, sorted by priority then age",
    args: &[],
    flags: &[
        text("status", "STATUS", "only this status (repeatable)", |a, v| a.status.push(v)),
        switch("open", "only open statuses (todo_hard, todo_soft, violated, pending_validation, needs_human_review)", |a| a.open = true),
        text("kind", "KIND", "only this kind", |a, v| a.kind = Some(v)),
        text("tag", "TAG", "only items with this tag", |a, v| a.tag = Some(v)),
        parsed("tier", "TIER", "only this tier", |a, v| v.tier().map(|x| a.tier = Some(x))),
        parsed("limit", "N", "show at most N rows", |a, v| v.limit().map(|x| a.limit = x)),
    ],
    wrap: Cmd::List,
};

#[derive(Debug, Default, PartialEq)]
pub struct ReadyArgs {
    /// At most this many rows (`None`: all).
    pub limit: Option<usize>,
}

pub const READY: Spec<ReadyArgs> = Spec {
    name: "ready",
    summary: "Items to work on next (blocking, unblocked), and unread human messages",
    args: &[],
    flags: &[parsed("limit", "N", "show at most N rows", |a, v| {
        v.limit().map(|x| a.limit = x)
    })],
    wrap: Cmd::Ready,
};

#[derive(Debug, Default, PartialEq)]
pub struct DiscussArgs {
    pub item: String,
    /// The message to add (none, or empty: show the discussion).
    pub message: Option<String>,
    pub clear: bool,
    pub summarize: Option<String>,
    pub ack_thread: bool,
}

pub const DISCUSS: Spec<DiscussArgs> = Spec {
    name: "discuss",
    summary: "Read an item's discussion, or add to it",
    args: &[
        pos("ITEM", true, false, Set::Text(|a, v| a.item = v)),
        pos(
            "MESSAGE",
            false,
            false,
            Set::Text(|a, v| a.message = Some(v)),
        ),
    ],
    flags: &[
        switch("clear", "clear the discussion (human only)", |a| {
            a.clear = true
        }),
        text(
            "summarize",
            "TEXT",
            "replace the discussion with one summary entry",
            |a, v| a.summarize = Some(v),
        ),
        switch(
            "ack-thread",
            "confirm you have read unread human messages, and write anyway",
            |a| a.ack_thread = true,
        ),
    ],
    wrap: Cmd::Discuss,
};

pub const LOG: Spec<ItemArg> = Spec {
    name: "log",
    summary: "Print an item's raw op log",
    args: ITEM_ARG,
    flags: &[],
    wrap: Cmd::Log,
};

#[derive(Debug, Default, PartialEq)]
pub struct DepsArgs {
    pub item: Option<String>,
    pub graph: bool,
}

pub const DEPS: Spec<DepsArgs> = Spec {
    name: "deps",
    summary: "An item's parent, children, what it blocks and what blocks it; --graph: DOT of all open work",
    args: &[pos("ITEM", false, false, Set::Text(|a, v| a.item = Some(v)))],
    flags: &[switch("graph", "print the whole open dependency graph as Graphviz DOT", |a| a.graph = true)],
    wrap: Cmd::Deps,
};
