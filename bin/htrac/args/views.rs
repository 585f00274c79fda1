//! The arguments of the commands that read items or their threads:
//! `show`, `list`, `ready`, `log`, `deps`, and `discuss` (which reads a
//! thread or adds to it).

use htrac::Tier;

use super::{parsed, pos, switch, text, Cmd, ItemArg, Set, Spec, ITEM_ARG};

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
    /// Claim the first ready item instead (`htrac claim`).
    pub claim: bool,
}

pub const READY: Spec<ReadyArgs> = Spec {
    name: "ready",
    summary: "Items to work on next (blocking, unblocked, not claimed), and unread human messages",
    args: &[],
    flags: &[
        parsed("limit", "N", "show at most N rows", |a, v| {
            v.limit().map(|x| a.limit = x)
        }),
        switch(
            "claim",
            "claim the first free ready item (as 'htrac claim')",
            |a| a.claim = true,
        ),
    ],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::testing::{cmd, err};

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn show_list_ready() {
        assert_eq!(
            cmd(&["show", "WI-x", "--include-deleted", "--include-history"]),
            Cmd::Show(ShowArgs {
                item: s("WI-x"),
                include_deleted: true,
                include_history: true,
            })
        );
        assert_eq!(
            cmd(&[
                "list",
                "--status",
                "a",
                "--status=b",
                "--open",
                "--kind",
                "invariant",
                "--tag",
                "t",
                "--tier",
                "canonical",
                "--limit",
                "3",
            ]),
            Cmd::List(ListArgs {
                status: vec![s("a"), s("b")],
                open: true,
                kind: Some(s("invariant")),
                tag: Some(s("t")),
                tier: Some(Tier::Canonical),
                limit: Some(3),
            })
        );
        // 0 is no limit; a negative one is refused.
        assert_eq!(
            cmd(&["ready", "--limit", "0"]),
            Cmd::Ready(ReadyArgs {
                limit: None,
                claim: false
            })
        );
        assert_eq!(
            err(&["list", "--limit", "-1"]),
            "error: --limit must be positive, got -1\n"
        );
        assert_eq!(
            err(&["ready", "--limit", "x"]),
            "error: --limit takes a whole number, got 'x'\nhint: e.g. --limit 2\n"
        );
    }

    #[test]
    fn discuss_log_deps() {
        assert_eq!(
            cmd(&["discuss", "WI-x", "hello", "--ack-thread"]),
            Cmd::Discuss(DiscussArgs {
                item: s("WI-x"),
                message: Some(s("hello")),
                ack_thread: true,
                ..Default::default()
            })
        );
        assert_eq!(
            cmd(&["discuss", "WI-x", "--clear", "--summarize", "S"]),
            Cmd::Discuss(DiscussArgs {
                item: s("WI-x"),
                clear: true,
                summarize: Some(s("S")),
                ..Default::default()
            })
        );
        assert_eq!(cmd(&["log", "WI-x"]), Cmd::Log(ItemArg { item: s("WI-x") }));
        assert_eq!(
            cmd(&["deps", "--graph"]),
            Cmd::Deps(DepsArgs {
                item: None,
                graph: true,
            })
        );
        assert_eq!(
            cmd(&["deps", "WI-x"]),
            Cmd::Deps(DepsArgs {
                item: Some(s("WI-x")),
                graph: false,
            })
        );
    }
}
