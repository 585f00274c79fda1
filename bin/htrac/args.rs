//! The command line as data: one table of commands and their flags, from
//! which both the parser and `--help` are made. Global flags (`--json`,
//! `--tracker-root`, `--no-auto-sync`) are accepted anywhere on the line.

use std::collections::BTreeMap;
use std::ffi::OsString;

use htrac::{Error, Result};

/// One flag of a command.
#[derive(Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    /// The value's placeholder, or `None` for a switch.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

/// One positional argument.
pub struct Arg {
    pub name: &'static str,
    pub required: bool,
    /// Takes every remaining value (only the last argument may).
    pub many: bool,
}

const fn arg(name: &'static str) -> Arg {
    Arg {
        name,
        required: true,
        many: false,
    }
}

const fn opt_arg(name: &'static str) -> Arg {
    Arg {
        name,
        required: false,
        many: false,
    }
}

const fn many(name: &'static str, required: bool) -> Arg {
    Arg {
        name,
        required,
        many: true,
    }
}

/// One subcommand.
pub struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub args: &'static [Arg],
    pub flags: &'static [Flag],
}

const fn sw(long: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        value: None,
        help,
    }
}

const fn val(long: &'static str, value: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        value: Some(value),
        help,
    }
}

const ITEM: Arg = arg("ITEM");

pub const GLOBAL_FLAGS: &[Flag] = &[
    sw("json", "print machine-readable JSON (stable; see README)"),
    val(
        "tracker-root",
        "PATH",
        "the .agent/ directory (default: nearest .agent/ above the working directory)",
    ),
    sw("no-auto-sync", "do not sync after a change"),
    sw("help", "show help"),
];

const DESCRIPTION_FLAGS: [Flag; 3] = [
    val("description", "TEXT", "description text"),
    val("description-file", "FILE", "read the description from FILE"),
    sw(
        "description-stdin",
        "read the description from standard input",
    ),
];

pub const COMMANDS: &[Command] = &[
    Command {
        name: "init",
        summary: "Create the tracker directories in ./.agent (human only)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "add",
        summary: "Add a new item; prints its ID",
        args: &[],
        flags: &[
            val("kind", "KIND", "item kind (work_item, invariant, ... from the config)"),
            val("title", "TITLE", "item title"),
            val("status", "STATUS", "initial status (default: the kind's first blocking status)"),
            val("priority", "0-4", "priority, 0 highest (default 2)"),
            val("parent", "ITEM", "parent item"),
            val("tag", "TAG", "add a tag (repeatable)"),
            val("isbefore", "ITEM", "this item must be done before ITEM (repeatable)"),
            DESCRIPTION_FLAGS[0],
            DESCRIPTION_FLAGS[1],
            DESCRIPTION_FLAGS[2],
            val("pr-ref", "REF", "pull request reference"),
            val("field", "KEY=VALUE", "set a custom field (repeatable)"),
            sw("force-field-key", "allow a field key that differs from a declared one only in spelling"),
            val("tier", "TIER", "canonical, workspace (default) or stealth"),
        ],
    },
    Command {
        name: "update",
        summary: "Change an item's fields",
        args: &[ITEM],
        flags: &[
            val("status", "STATUS", "new status"),
            val("priority", "0-4", "new priority"),
            val("title", "TITLE", "new title"),
            val("parent", "ITEM", "new parent"),
            val("pr-ref", "REF", "pull request reference"),
            DESCRIPTION_FLAGS[0],
            DESCRIPTION_FLAGS[1],
            DESCRIPTION_FLAGS[2],
            val("add-tag", "TAG", "add a tag (repeatable)"),
            val("remove-tag", "TAG", "remove a tag (repeatable)"),
            val("add-isbefore", "ITEM", "this item must be done before ITEM (repeatable)"),
            val("remove-isbefore", "ITEM", "remove an isbefore link (repeatable)"),
            val("add-duplicate-of", "ITEM", "mark as a duplicate of ITEM (repeatable)"),
            val("remove-duplicate-of", "ITEM", "unmark a duplicate (repeatable)"),
            val("add-not-duplicate-of", "ITEM", "mark as not a duplicate of ITEM (repeatable)"),
            val("remove-not-duplicate-of", "ITEM", "remove a not-duplicate mark (repeatable)"),
            val("add-blocked-by", "ITEM", "ITEM must be done before this one (writes ITEM's isbefore)"),
            val("remove-blocked-by", "ITEM", "remove a blocked-by link (writes ITEM's isbefore)"),
            val("field", "KEY=VALUE", "set a custom field, other fields kept (repeatable)"),
            val("add-field", "KEY=VALUE", "set a custom field (repeatable)"),
            val("remove-field", "KEY", "delete a custom field (repeatable)"),
            sw("force-field-key", "allow a field key that differs from a declared one only in spelling"),
            val("note", "TEXT", "also add TEXT to the discussion"),
        ],
    },
    Command {
        name: "show",
        summary: "Show one item in full",
        args: &[ITEM],
        flags: &[
            sw("include-deleted", "also show deleted (tombstoned) messages"),
            sw("include-history", "show earlier texts of edited messages"),
        ],
    },
    Command {
        name: "list",
        summary: "List items, sorted by priority then age",
        args: &[],
        flags: &[
            val("status", "STATUS", "only this status (repeatable)"),
            sw("open", "only open statuses (todo_hard, todo_soft, violated, pending_validation, needs_human_review)"),
            val("kind", "KIND", "only this kind"),
            val("tag", "TAG", "only items with this tag"),
            val("tier", "TIER", "only this tier"),
            val("limit", "N", "show at most N rows"),
        ],
    },
    Command {
        name: "ready",
        summary: "Items to work on next (blocking, unblocked), and unread human messages",
        args: &[],
        flags: &[val("limit", "N", "show at most N rows")],
    },
    Command {
        name: "discuss",
        summary: "Read an item's discussion, or add to it",
        args: &[ITEM, opt_arg("MESSAGE")],
        flags: &[
            sw("clear", "clear the discussion (human only)"),
            val("summarize", "TEXT", "replace the discussion with one summary entry"),
            sw("ack-thread", "confirm you have read unread human messages, and write anyway"),
        ],
    },
    Command {
        name: "log",
        summary: "Print an item's raw op log",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "lock",
        summary: "Lock fields so agents cannot change them (human only)",
        args: &[ITEM, many("FIELD", true)],
        flags: &[],
    },
    Command {
        name: "unlock",
        summary: "Unlock fields (human only)",
        args: &[ITEM, many("FIELD", true)],
        flags: &[],
    },
    Command {
        name: "freeze",
        summary: "Freeze an item: agents may not write to it (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "unfreeze",
        summary: "Unfreeze an item (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "repair-drift",
        summary: "Restore a frozen item's op log from its freeze sentinel (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "promote",
        summary: "Move an item from workspace to canonical",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "demote",
        summary: "Move an item from canonical to workspace",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "stealth",
        summary: "Move an item from workspace to stealth (local only; human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "unstealth",
        summary: "Move an item from stealth back to workspace (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "delete",
        summary: "Mark an item deleted and drop every isbefore link to it (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "reconcile-reset",
        summary: "Clear a cross-tier conflict: merge every copy into canonical (human only)",
        args: &[ITEM],
        flags: &[],
    },
    Command {
        name: "edit-mode",
        summary: "Open (on) or close (off) the message edit window (human only), or show its status",
        args: &[arg("on|off|status")],
        flags: &[
            val("ttl", "DURATION", "window length: 30m, 1h, 600s or seconds (default 30m, at most 1h)"),
            val("cap-max", "N", "most message edits the window allows (default 500, 1-500)"),
        ],
    },
    Command {
        name: "delete-msg",
        summary: "Tombstone one discussion message by its nonce (needs an open edit window)",
        args: &[ITEM, arg("NONCE")],
        flags: &[val("reason", "TEXT", "why (required, at most 100 characters)")],
    },
    Command {
        name: "undelete-msg",
        summary: "Restore a tombstoned discussion message (needs an open edit window)",
        args: &[ITEM, arg("NONCE")],
        flags: &[val("reason", "TEXT", "why (required, at most 100 characters)")],
    },
    Command {
        name: "edit-msg-text",
        summary: "Replace a discussion message's text, keeping its history (needs an open edit window)",
        args: &[ITEM, arg("NONCE")],
        flags: &[
            val("new-text", "TEXT", "the new text (required)"),
            val("reason", "TEXT", "why (required, at most 100 characters)"),
        ],
    },
    Command {
        name: "validate",
        summary: "Check op logs: format, schema, references, cycles (pre-commit)",
        args: &[many("FILE", false)],
        flags: &[
            sw("check-locks", "also flag agent ops that changed locked fields or used human powers (new ops only, against HEAD)"),
            sw("strict", "treat warnings as errors"),
        ],
    },
    Command {
        name: "repair-tail",
        summary: "Truncate an unterminated final op (a crash mid-append) after backing the file up",
        args: &[many("ITEM", false)],
        flags: &[],
    },
    Command {
        name: "quarantine",
        summary: "Move op blocks readers refuse or skip (a torn op buried by later appends) out of the op files, after backing them up (human only)",
        args: &[many("ITEM", false)],
        flags: &[],
    },
    Command {
        name: "textconv",
        summary: "Render an .ops file's compiled state (git diff textconv driver)",
        args: &[arg("FILE")],
        flags: &[],
    },
    Command {
        name: "setup",
        summary: "Check and fix the tracker's set-up (idempotent)",
        args: &[],
        flags: &[val("root", "DIR", "the .agent/ directory (default: discovered, or ./.agent)")],
    },
    Command {
        name: "fork-setup",
        summary: "Make the stop hook count only workspace items, for a fork (human only)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "deps",
        summary: "An item's parent, children, what it blocks and what blocks it; --graph: DOT of all open work",
        args: &[opt_arg("ITEM")],
        flags: &[sw("graph", "print the whole open dependency graph as Graphviz DOT")],
    },
    Command {
        name: "batch",
        summary: "Run many add/update/discuss/lock/unlock/promote/demote lines from FILE (or - for stdin)",
        args: &[arg("FILE")],
        flags: &[],
    },
    Command {
        name: "check-messages",
        summary: "Items whose latest discussion is an unread human message, with context",
        args: &[],
        flags: &[val("autolimit", "N", "show at most the last N unread messages per item")],
    },
    Command {
        name: "clusters",
        summary: "Predicted clusters of open items (TF-IDF cosine kNN, Jarvis-Patrick)",
        args: &[],
        flags: &[
            val("k", "N", "neighbours per item (default 6)"),
            val("shared", "N", "neighbours two linked items must share (default 3)"),
            val("status", "S1,S2", "cluster the items with these statuses instead of the open ones"),
            sw("all", "cluster every item (except deleted ones)"),
            val("min-size", "N", "show clusters of at least N items (default 2)"),
            val("limit", "N", "show only the best N clusters"),
        ],
    },
    Command {
        name: "priority-trend",
        summary: "Mean priority and count of open items per day: an SVG chart, CSV or JSON",
        args: &[],
        flags: &[
            val("out", "FILE.svg", "write the chart here (default tracker-priority-trend.svg; with --csv/--json only when given)"),
            sw("csv", "print day,open,mean_priority lines"),
            val("since", "YYYY-MM-DD", "first day (UTC)"),
            val("until", "YYYY-MM-DD", "last day (UTC)"),
        ],
    },
    Command {
        name: "migrate",
        summary: "Import legacy markdown ledgers (invariant ledger, work items) as items; idempotent",
        args: &[],
        flags: &[
            val("ledger", "PATH", "invariant ledger (default .agent/invariant-ledger.md)"),
            val("work-items", "PATH", "work-items backlog (default ~/hypergumbo_lab_notebook/guidance_log/work_items.md)"),
            sw("dry-run", "report what would be created, write nothing"),
        ],
    },
    Command {
        name: "tags",
        summary: "List tags (--count for usage), or: rename OLD NEW | describe TAG [TEXT] | deprecate TAG",
        args: &[opt_arg("ACTION"), many("ARG", false)],
        flags: &[
            sw("count", "show each tag's count and status"),
            val("in-favor-of", "TAG", "with deprecate: the tag to use instead"),
        ],
    },
    Command {
        name: "count-todos",
        summary: "Count blocking items in the stop hook's scope",
        args: &[],
        flags: &[
            sw("hard", "only blocking statuses whose name contains 'hard'"),
            sw("soft", "only the other blocking statuses"),
        ],
    },
    Command {
        name: "signing-cutover",
        summary: "Trust the human ops written so far, signing their list with your SSH key, when switching authority.signing on (human only)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "cache-rebuild",
        summary: "Rebuild the read cache from every op file (it also rebuilds itself when stale or corrupt)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "hash-todos",
        summary: "SHA-256 fingerprint of the blocking items in scope (id, status, title)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "guidance",
        summary: "Write the stop-hook guidance document; prints its path",
        args: &[],
        flags: &[val("guidance-dir", "DIR", "where to write it (default: stop_hook.guidance_dir, else the user's data dir)")],
    },
    Command {
        name: "sync",
        summary: "Send pending tracker ops to the remote now (auto-sync does this by itself)",
        args: &[],
        flags: &[
            sw("dry-run", "say what would be synced, change nothing"),
            sw("status", "pending lines, last result, circuit breaker"),
            sw("prune", "delete tracker-sync/* branches already merged"),
        ],
    },
    Command {
        name: "reconcile",
        summary: "Restore journalled ops that a git command removed from the working tree",
        args: &[],
        flags: &[
            sw("dry-run", "say what would be restored, change nothing"),
            sw(
                "hook",
                "as git hooks run it: quiet unless it restored something, skipped mid-rebase/merge/bisect or when HTRAC_NO_RECONCILE is set",
            ),
        ],
    },
    Command {
        name: "prime",
        summary: "What an agent needs at session start: workflow, unread messages, ready and locked items, stop hook",
        args: &[],
        flags: &[],
    },
    Command {
        name: "mcp",
        summary: "Serve the tracker to an agent over MCP (JSON-RPC on stdin/stdout) until stdin ends",
        args: &[],
        flags: &[],
    },
    Command {
        name: "serve",
        summary: "Run the web interface (runs htrac-serve with the same arguments; install it with --features serve)",
        args: &[],
        flags: &[],
    },
    Command {
        name: "tui",
        summary: "Open the terminal UI (runs htrac-tui; install it with --features tui)",
        args: &[],
        flags: &[],
    },
];

/// A parsed command line.
pub struct Parsed {
    pub command: &'static Command,
    pub json: bool,
    pub tracker_root: Option<String>,
    /// Skip the auto-sync after a mutation.
    pub no_auto_sync: bool,
    pub positionals: Vec<String>,
    flags: BTreeMap<&'static str, Vec<String>>,
}

impl Parsed {
    /// Every value given for a flag, in order.
    pub fn all(&self, long: &str) -> &[String] {
        self.flags.get(long).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The last value given for a flag.
    pub fn one(&self, long: &str) -> Option<&str> {
        self.all(long).last().map(String::as_str)
    }

    pub fn has(&self, long: &str) -> bool {
        self.flags.contains_key(long)
    }

    /// A flag's value as an integer, with an error naming the flag.
    pub fn int(&self, long: &str) -> Result<Option<i64>> {
        match self.one(long) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                Error::user(format!("--{long} takes a whole number, got '{v}'"))
                    .with_hint(format!("e.g. --{long} 2"))
            }),
        }
    }

    pub fn positional(&self, i: usize) -> Option<&str> {
        self.positionals.get(i).map(String::as_str)
    }

    /// Every positional value from index `i` on (a variadic argument).
    pub fn rest(&self, i: usize) -> &[String] {
        self.positionals.get(i..).unwrap_or(&[])
    }

    /// Replaces the values of item-valued arguments (used to resolve `:N` once).
    pub fn map_items(&mut self, mut f: impl FnMut(&str) -> Result<String>) -> Result<()> {
        for (i, arg) in self.command.args.iter().enumerate() {
            if arg.name == "ITEM" {
                if let Some(v) = self.positionals.get_mut(i) {
                    *v = f(v)?;
                }
            }
        }
        for flag in self.command.flags {
            if flag.value == Some("ITEM") {
                if let Some(values) = self.flags.get_mut(flag.long) {
                    for v in values {
                        *v = f(v)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What the command line asks for.
pub enum Request {
    Run(Parsed),
    Help(Option<&'static Command>),
    Version,
}

fn find_command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Request> {
    use lexopt::Arg as A;
    let mut p = lexopt::Parser::from_args(args);
    let mut command: Option<&'static Command> = None;
    let mut json = false;
    let mut tracker_root = None;
    let mut no_auto_sync = false;
    let mut help = false;
    let mut positionals = Vec::new();
    let mut flags: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let bad = |e: lexopt::Error| Error::user(e.to_string()).with_hint("see 'htrac --help'");
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            A::Long("json") => json = true,
            A::Long("no-auto-sync") => no_auto_sync = true,
            A::Long("tracker-root") => tracker_root = Some(string(p.value().map_err(bad)?)?),
            A::Long("help") | A::Short('h') => help = true,
            A::Long("version") | A::Short('V') if command.is_none() => return Ok(Request::Version),
            A::Long(name) => {
                let name = name.to_string();
                let Some(cmd) = command else {
                    return Err(Error::user(format!("unknown flag '--{name}'")).with_hint(
                        "put the command name first: htrac COMMAND [FLAGS]; see 'htrac --help'",
                    ));
                };
                let Some(flag) = cmd.flags.iter().find(|f| f.long == name) else {
                    return Err(
                        Error::user(format!("unknown flag '--{name}' for '{}'", cmd.name))
                            .with_hint(format!("see 'htrac {} --help' for its flags", cmd.name)),
                    );
                };
                let value = match flag.value {
                    Some(_) => string(p.value().map_err(|_| {
                        Error::user(format!(
                            "--{name} needs a value ({})",
                            flag.value.unwrap_or("")
                        ))
                        .with_hint(format!("write --{name} {}", flag.value.unwrap_or("VALUE")))
                    })?)?,
                    None => String::new(),
                };
                flags.entry(flag.long).or_default().push(value);
            }
            A::Short(c) => {
                return Err(
                    Error::user(format!("unknown flag '-{c}'")).with_hint("see 'htrac --help'")
                );
            }
            A::Value(v) => {
                let v = string(v)?;
                match command {
                    None => {
                        command = Some(find_command(&v).ok_or_else(|| {
                            Error::user(format!("unknown command '{v}'"))
                                .with_hint("see 'htrac --help' for the list of commands")
                        })?);
                    }
                    Some(cmd) => {
                        let takes_more = cmd.args.last().is_some_and(|a| a.many);
                        if positionals.len() >= cmd.args.len() && !takes_more {
                            return Err(Error::user(format!(
                                "unexpected argument '{v}' for '{}'",
                                cmd.name
                            ))
                            .with_hint(format!(
                                "see 'htrac {} --help'; quote text that contains spaces",
                                cmd.name
                            )));
                        }
                        positionals.push(v);
                    }
                }
            }
        }
    }
    if help {
        return Ok(Request::Help(command));
    }
    let Some(command) = command else {
        return Ok(Request::Help(None));
    };
    if let Some(missing) = command
        .args
        .iter()
        .skip(positionals.len())
        .find(|a| a.required)
    {
        return Err(
            Error::user(format!("'{}' needs {}", command.name, missing.name))
                .with_hint(format!("usage: {}", usage(command))),
        );
    }
    Ok(Request::Run(Parsed {
        command,
        json,
        tracker_root,
        no_auto_sync,
        positionals,
        flags,
    }))
}

fn string(v: OsString) -> Result<String> {
    v.into_string().map_err(|v| {
        Error::user(format!(
            "argument is not valid UTF-8: {}",
            v.to_string_lossy()
        ))
    })
}

fn usage(cmd: &Command) -> String {
    let mut s = format!("htrac {}", cmd.name);
    for a in cmd.args {
        let dots = if a.many { "..." } else { "" };
        if a.required {
            s.push_str(&format!(" {}{dots}", a.name));
        } else {
            s.push_str(&format!(" [{}{dots}]", a.name));
        }
    }
    if !cmd.flags.is_empty() {
        s.push_str(" [FLAGS]");
    }
    s
}

fn flag_lines(flags: &[Flag]) -> String {
    let rows: Vec<(String, &str)> = flags
        .iter()
        .map(|f| {
            (
                match f.value {
                    Some(v) => format!("--{} {v}", f.long),
                    None => format!("--{}", f.long),
                },
                f.help,
            )
        })
        .collect();
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(l, h)| format!("  {l:width$}  {h}\n"))
        .collect()
}

/// The `--help` text, generated from the table.
pub fn help(cmd: Option<&Command>) -> String {
    match cmd {
        Some(c) => format!(
            "{}\n\nusage: {}\n\nflags:\n{}\nglobal flags (anywhere on the line):\n{}",
            c.summary,
            usage(c),
            if c.flags.is_empty() {
                "  (none)\n".to_string()
            } else {
                flag_lines(c.flags)
            },
            flag_lines(GLOBAL_FLAGS)
        ),
        None => {
            let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0);
            let list: String = COMMANDS
                .iter()
                .map(|c| format!("  {:width$}  {}\n", c.name, c.summary))
                .collect();
            format!(
                "htrac — a work tracker for AI coding agents and the humans who govern them\n\nusage: htrac COMMAND [ARGS] [FLAGS]\n\ncommands:\n{list}\nglobal flags (anywhere on the line):\n{}\nItems can be named by full ID, any unique prefix (WI-foh or foh), or :N (row N of the last list/ready).\nExit codes: 0 success, 1 bad input or refused, 2 corrupt data or internal error.\nRun 'htrac COMMAND --help' for a command's flags.\n",
                flag_lines(GLOBAL_FLAGS)
            )
        }
    }
}
