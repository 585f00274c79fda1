//! The arguments of the commands that report on the tracker: `prime`,
//! `check-messages`, `clusters`, `priority-trend`, `tags`, and the stop
//! hook's `count-todos`, `hash-todos` and `guidance`.

use htrac::insight::clusters::{DEFAULT_K, DEFAULT_SHARED};

use super::{parsed, pos, switch, text, Cmd, NoArgs, Set, Spec};

#[derive(Debug, Default, PartialEq)]
pub struct PrimeArgs {
    /// `agent` or `human` (default: human for a human on a terminal).
    pub audience: Option<String>,
}

pub const PRIME: Spec<PrimeArgs> = Spec {
    name: "prime",
    summary: "What an agent needs at session start (workflow, unread messages, ready and locked items, stop hook); for a human on a terminal, what the agents are doing and what waits for you",
    args: &[],
    flags: &[text(
        "for",
        "WHOM",
        "agent or human: whom the text speaks to (default: human when a human runs it on a terminal, else agent)",
        |a, v| a.audience = Some(v),
    )],
    wrap: Cmd::Prime,
};

#[derive(Debug, Default, PartialEq)]
pub struct CheckMessagesArgs {
    /// The last N unread messages per item (`None`: all; 0 or less is none).
    pub autolimit: Option<usize>,
}

pub const CHECK_MESSAGES: Spec<CheckMessagesArgs> = Spec {
    name: "check-messages",
    summary: "Items whose latest discussion is an unread human message, with context",
    args: &[],
    flags: &[parsed(
        "autolimit",
        "N",
        "show at most the last N unread messages per item",
        |a, v| {
            // As the reference: 0 or a negative N means no limit.
            v.whole()
                .map(|n| a.autolimit = usize::try_from(n).ok().filter(|n| *n > 0))
        },
    )],
    wrap: Cmd::CheckMessages,
};

#[derive(Debug, PartialEq)]
pub struct ClustersArgs {
    pub k: usize,
    pub shared: usize,
    /// Cluster the items with these statuses instead of the open ones.
    pub status: Option<Vec<String>>,
    pub all: bool,
    pub min_size: usize,
    /// Show only the best N clusters (0: all).
    pub limit: usize,
}

impl Default for ClustersArgs {
    fn default() -> Self {
        ClustersArgs {
            k: DEFAULT_K,
            shared: DEFAULT_SHARED,
            status: None,
            all: false,
            min_size: 2,
            limit: 0,
        }
    }
}

pub const CLUSTERS: Spec<ClustersArgs> = Spec {
    name: "clusters",
    summary: "Predicted clusters of open items (TF-IDF cosine kNN, Jarvis-Patrick)",
    args: &[],
    flags: &[
        parsed("k", "N", "neighbours per item (default 6)", |a, v| {
            v.at_least(1, DEFAULT_K).map(|n| a.k = n)
        }),
        parsed(
            "shared",
            "N",
            "neighbours two linked items must share (default 3)",
            |a, v| v.at_least(0, DEFAULT_SHARED).map(|n| a.shared = n),
        ),
        text(
            "status",
            "S1,S2",
            "cluster the items with these statuses instead of the open ones",
            |a, v| {
                a.status = Some(
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            },
        ),
        switch("all", "cluster every item (except deleted ones)", |a| {
            a.all = true
        }),
        parsed(
            "min-size",
            "N",
            "show clusters of at least N items (default 2)",
            |a, v| v.at_least(0, 2).map(|n| a.min_size = n),
        ),
        parsed("limit", "N", "show only the best N clusters", |a, v| {
            v.at_least(0, 0).map(|n| a.limit = n)
        }),
    ],
    wrap: Cmd::Clusters,
};

#[derive(Debug, Default, PartialEq)]
pub struct TrendArgs {
    pub out: Option<String>,
    pub csv: bool,
    /// First and last UTC day numbers.
    pub since: Option<i64>,
    pub until: Option<i64>,
}

pub const PRIORITY_TREND: Spec<TrendArgs> = Spec {
    name: "priority-trend",
    summary: "Mean priority and count of open items per day: an SVG chart, CSV or JSON",
    args: &[],
    flags: &[
        text("out", "FILE.svg", "write the chart here (default tracker-priority-trend.svg; with --csv/--json only when given)", |a, v| a.out = Some(v)),
        switch("csv", "print day,open,mean_priority lines", |a| a.csv = true),
        parsed("since", "YYYY-MM-DD", "first day (UTC)", |a, v| v.day().map(|d| a.since = Some(d))),
        parsed("until", "YYYY-MM-DD", "last day (UTC)", |a, v| v.day().map(|d| a.until = Some(d))),
    ],
    wrap: Cmd::PriorityTrend,
};

#[derive(Debug, Default, PartialEq)]
pub struct TagsArgs {
    /// `rename`, `describe` or `deprecate` (none: list).
    pub action: Option<String>,
    pub args: Vec<String>,
    pub count: bool,
    pub in_favor_of: Option<String>,
}

pub const TAGS: Spec<TagsArgs> = Spec {
    name: "tags",
    summary:
        "List tags (--count for usage), or: rename OLD NEW | describe TAG [TEXT] | deprecate TAG",
    args: &[
        pos("ACTION", false, false, Set::Text(|a, v| a.action = Some(v))),
        pos("ARG", false, true, Set::Text(|a, v| a.args.push(v))),
    ],
    flags: &[
        switch("count", "show each tag's count and status", |a| {
            a.count = true
        }),
        text(
            "in-favor-of",
            "TAG",
            "with deprecate: the tag to use instead",
            |a, v| a.in_favor_of = Some(v),
        ),
    ],
    wrap: Cmd::Tags,
};

#[derive(Debug, Default, PartialEq)]
pub struct CountTodosArgs {
    pub hard: bool,
    pub soft: bool,
}

pub const COUNT_TODOS: Spec<CountTodosArgs> = Spec {
    name: "count-todos",
    summary: "Count blocking items in the stop hook's scope",
    args: &[],
    flags: &[
        switch(
            "hard",
            "only blocking statuses whose name contains 'hard'",
            |a| a.hard = true,
        ),
        switch("soft", "only the other blocking statuses", |a| {
            a.soft = true
        }),
    ],
    wrap: Cmd::CountTodos,
};

pub const HASH_TODOS: Spec<NoArgs> = Spec {
    name: "hash-todos",
    summary: "SHA-256 fingerprint of the blocking items in scope (id, status, title)",
    args: &[],
    flags: &[],
    wrap: |_| Cmd::HashTodos,
};

#[derive(Debug, Default, PartialEq)]
pub struct GuidanceArgs {
    pub guidance_dir: Option<String>,
}

pub const GUIDANCE: Spec<GuidanceArgs> = Spec {
    name: "guidance",
    summary: "Write the stop-hook guidance document; prints its path",
    args: &[],
    flags: &[text(
        "guidance-dir",
        "DIR",
        "where to write it (default: stop_hook.guidance_dir, else the user's data dir)",
        |a, v| a.guidance_dir = Some(v),
    )],
    wrap: Cmd::Guidance,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::testing::{cmd, err};

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn check_messages() {
        let limit = |argv: &[&str]| match cmd(argv) {
            Cmd::CheckMessages(a) => a.autolimit,
            _ => panic!(),
        };
        assert_eq!(limit(&["check-messages"]), None);
        assert_eq!(limit(&["check-messages", "--autolimit", "3"]), Some(3));
        // As the reference: 0 or a negative N means no limit.
        assert_eq!(limit(&["check-messages", "--autolimit", "0"]), None);
        assert_eq!(limit(&["check-messages", "--autolimit=-2"]), None);
        assert!(err(&["check-messages", "--autolimit", "x"])
            .contains("--autolimit takes a whole number, got 'x'"));
    }

    #[test]
    fn clusters() {
        assert_eq!(cmd(&["clusters"]), Cmd::Clusters(ClustersArgs::default()));
        assert_eq!(
            cmd(&[
                "clusters",
                "--k",
                "1",
                "--shared",
                "0",
                "--status",
                "a,,b",
                "--all",
                "--min-size",
                "3",
                "--limit",
                "4",
            ]),
            Cmd::Clusters(ClustersArgs {
                k: 1,
                shared: 0,
                status: Some(vec![s("a"), s("b")]),
                all: true,
                min_size: 3,
                limit: 4,
            })
        );
        assert_eq!(
            err(&["clusters", "--k", "0"]),
            "error: --k must be at least 1, got 0\nhint: e.g. --k 6\n"
        );
        assert_eq!(
            err(&["clusters", "--shared", "-1"]),
            "error: --shared must be at least 0, got -1\nhint: e.g. --shared 3\n"
        );
        assert!(err(&["clusters", "--min-size", "x"]).contains("--min-size takes a whole number"));
        assert!(err(&["clusters", "--limit", "-1"]).contains("--limit must be at least 0, got -1"));
    }

    #[test]
    fn priority_trend() {
        assert_eq!(
            cmd(&[
                "priority-trend",
                "--out",
                "t.svg",
                "--csv",
                "--since",
                "1970-01-02",
                "--until",
                "1970-01-03",
            ]),
            Cmd::PriorityTrend(TrendArgs {
                out: Some(s("t.svg")),
                csv: true,
                since: Some(1),
                until: Some(2),
            })
        );
        assert_eq!(
            err(&["priority-trend", "--until", "31/01/2026"]),
            "error: --until expects YYYY-MM-DD, got '31/01/2026'\nhint: e.g. --until 2026-01-31 (a UTC day)\n"
        );
    }

    #[test]
    fn tags() {
        assert_eq!(
            cmd(&["tags", "--count"]),
            Cmd::Tags(TagsArgs {
                count: true,
                ..Default::default()
            })
        );
        assert_eq!(
            cmd(&["tags", "deprecate", "old", "--in-favor-of", "new"]),
            Cmd::Tags(TagsArgs {
                action: Some(s("deprecate")),
                args: vec![s("old")],
                count: false,
                in_favor_of: Some(s("new")),
            })
        );
        let Cmd::Tags(t) = cmd(&["tags", "describe", "t", "some text"]) else {
            panic!()
        };
        assert_eq!(t.args, ["t", "some text"]);
    }

    #[test]
    fn stop_hook_queries() {
        assert_eq!(
            cmd(&["count-todos", "--hard", "--soft"]),
            Cmd::CountTodos(CountTodosArgs {
                hard: true,
                soft: true,
            })
        );
        assert_eq!(cmd(&["hash-todos"]), Cmd::HashTodos);
        assert_eq!(
            cmd(&["guidance", "--guidance-dir", "/g"]),
            Cmd::Guidance(GuidanceArgs {
                guidance_dir: Some(s("/g")),
            })
        );
        assert_eq!(cmd(&["prime"]), Cmd::Prime(PrimeArgs::default()));
        assert_eq!(
            cmd(&["prime", "--for", "human"]),
            Cmd::Prime(PrimeArgs {
                audience: Some("human".into())
            })
        );
    }
}
