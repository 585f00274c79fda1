//! The arguments of the commands that keep the tracker and its set-up
//! sound: `init`, `setup`, `validate`, `repair-tail`, `quarantine`,
//! `textconv`, `batch`, `migrate`, `cache-rebuild`, `watch`, `sync`, `reconcile`,
//! and the other front ends (`mcp`, `serve`, `tui`).

use super::{parsed, pos, switch, text, Cmd, Flag, NoArgs, Set, Spec};

/// A command with no arguments of its own.
const fn plain(name: &'static str, summary: &'static str, wrap: fn(NoArgs) -> Cmd) -> Spec<NoArgs> {
    Spec {
        name,
        summary,
        args: &[],
        flags: &[],
        wrap,
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct InitArgs {
    /// Lay the tracker out even outside a git repository.
    pub no_git: bool,
}

pub const INIT: Spec<InitArgs> = Spec {
    name: "init",
    summary: "Create the tracker directories in ./.agent (human only; in a git repository)",
    args: &[],
    flags: &[switch(
        "no-git",
        "create it outside a git repository anyway (no clocks across branches, no merges, no sync)",
        |a| a.no_git = true,
    )],
    wrap: Cmd::Init,
};

#[derive(Debug, Default, PartialEq)]
pub struct ValidateArgs {
    pub files: Vec<String>,
    pub check_locks: bool,
    pub strict: bool,
    pub similar: bool,
    pub deep_similar: bool,
}

pub const VALIDATE: Spec<ValidateArgs> = Spec {
    name: "validate",
    summary: "Check op logs: format, schema, references, cycles (pre-commit)",
    args: &[pos("FILE", false, true, Set::Text(|a, v| a.files.push(v)))],
    flags: &[
        switch("check-locks", "also flag agent ops that changed locked fields or used human powers (new ops only, against HEAD)", |a| a.check_locks = true),
        switch("similar", "also warn about near-duplicate items (SimHash), unless marked duplicate_of/not_duplicate_of", |a| a.similar = true),
        switch("deep-similar", "embedding near-duplicates: htrac has no embedding model, so this only warns that the check was skipped", |a| a.deep_similar = true),
        switch("strict", "treat warnings as errors", |a| a.strict = true),
    ],
    wrap: Cmd::Validate,
};

/// Items named on the line (none: every item).
#[derive(Debug, Default, PartialEq)]
pub struct ItemsArgs {
    pub items: Vec<String>,
}

const ITEMS: &[super::Pos<ItemsArgs>] =
    &[pos("ITEM", false, true, Set::Text(|a, v| a.items.push(v)))];

pub const REPAIR_TAIL: Spec<ItemsArgs> = Spec {
    name: "repair-tail",
    summary: "Truncate an unterminated final op (a crash mid-append) after backing the file up",
    args: ITEMS,
    flags: &[],
    wrap: Cmd::RepairTail,
};

pub const QUARANTINE: Spec<ItemsArgs> = Spec {
    name: "quarantine",
    summary: "Move op blocks readers refuse or skip (a torn op buried by later appends) out of the op files, after backing them up (human only)",
    args: ITEMS,
    flags: &[],
    wrap: Cmd::Quarantine,
};

#[derive(Debug, Default, PartialEq)]
pub struct TextconvArgs {
    pub file: String,
}

pub const TEXTCONV: Spec<TextconvArgs> = Spec {
    name: "textconv",
    summary: "Render an .ops file's compiled state (git diff textconv driver)",
    args: &[pos("FILE", true, false, Set::Text(|a, v| a.file = v))],
    flags: &[],
    wrap: Cmd::Textconv,
};

#[derive(Debug, Default, PartialEq)]
pub struct SetupArgs {
    pub root: Option<String>,
    /// `configure`: edit the configuration interactively.
    pub action: Option<String>,
    pub with_policy_template: bool,
}

pub const SETUP: Spec<SetupArgs> = Spec {
    name: "setup",
    summary: "Check and fix the tracker's set-up (idempotent); 'setup configure' edits the config",
    args: &[pos(
        "configure",
        false,
        false,
        Set::Text(|a, v| a.action = Some(v)),
    )],
    flags: &[
        text(
            "root",
            "DIR",
            "the .agent/ directory (default: discovered, or ./.agent)",
            |a, v| a.root = Some(v),
        ),
        switch(
            "with-policy-template",
            "add a status policy section (the project's to edit) to AGENTS.md",
            |a| a.with_policy_template = true,
        ),
    ],
    wrap: Cmd::Setup,
};

#[derive(Debug, Default, PartialEq)]
pub struct BatchArgs {
    /// A file, or `-` (or nothing) for standard input.
    pub file: String,
}

pub const BATCH: Spec<BatchArgs> = Spec {
    name: "batch",
    summary:
        "Run many add/update/discuss/lock/unlock/promote/demote lines from FILE (or standard input: -, or no FILE)",
    args: &[pos("FILE", false, false, Set::Text(|a, v| a.file = v))],
    flags: &[],
    wrap: Cmd::Batch,
};

#[derive(Debug, Default, PartialEq)]
pub struct MigrateArgs {
    pub ledger: Option<String>,
    pub work_items: Option<String>,
    pub dry_run: bool,
}

pub const MIGRATE: Spec<MigrateArgs> = Spec {
    name: "migrate",
    summary: "Import legacy markdown ledgers (invariant ledger, work items) as items; idempotent",
    args: &[],
    flags: &[
        text(
            "ledger",
            "PATH",
            "invariant ledger (default .agent/invariant-ledger.md)",
            |a, v| a.ledger = Some(v),
        ),
        text(
            "work-items",
            "PATH",
            "work-items backlog (default ~/hypergumbo_lab_notebook/guidance_log/work_items.md)",
            |a, v| a.work_items = Some(v),
        ),
        switch(
            "dry-run",
            "report what would be created, write nothing",
            |a| a.dry_run = true,
        ),
    ],
    wrap: Cmd::Migrate,
};

pub const CACHE_REBUILD: Spec<NoArgs> = plain(
    "cache-rebuild",
    "Rebuild the read cache from every op file (it also rebuilds itself when stale or corrupt)",
    |_| Cmd::CacheRebuild,
);

#[derive(Debug, Default, PartialEq)]
pub struct WatchArgs {
    /// `start` (default), `stop` or `status`.
    pub action: Option<String>,
    /// Run in this process instead of in the background.
    pub foreground: bool,
    /// Exit after this many seconds without a read asking (default: never).
    pub idle: Option<u64>,
}

pub const WATCH: Spec<WatchArgs> = Spec {
    name: "watch",
    summary: "Start (in the background), stop or show the resident watcher that spares warm reads a stat per op file (see docs/performance.md)",
    args: &[pos(
        "start|stop|status",
        false,
        false,
        Set::Text(|a, v| a.action = Some(v)),
    )],
    flags: &[
        switch(
            "foreground",
            "run the watcher in this process until stopped (no background)",
            |a| a.foreground = true,
        ),
        parsed(
            "idle",
            "DURATION",
            "exit after this long with no read asking it (600, 45m, 2h; default: run until stopped)",
            |a, v| {
                a.idle = Some(v.duration()?);
                Ok(())
            },
        ),
    ],
    wrap: Cmd::Watch,
};

#[derive(Debug, Default, PartialEq)]
pub struct SyncArgs {
    pub dry_run: bool,
    pub status: bool,
    pub prune: bool,
    pub base_branch: Option<String>,
    /// Seconds (`pr` mode: how long to wait for checks and the merge).
    pub timeout: Option<u64>,
}

/// `--base-branch B` and `--timeout S`, shared by `sync` and `reconcile`.
macro_rules! sync_overrides {
    ($args:ty) => {
        [
            text(
                "base-branch",
                "BRANCH",
                "deliver the ops to this branch (default: sync.base_branch, else the remote's default branch)",
                |a: &mut $args, v| a.base_branch = Some(v),
            ),
            parsed(
                "timeout",
                "DURATION",
                "pr mode: how long to wait for the pull request's checks and merge (default: sync.pr.timeout_seconds)",
                |a: &mut $args, v| {
                    a.timeout = Some(v.duration()?);
                    Ok(())
                },
            ),
        ]
    };
}

pub const SYNC: Spec<SyncArgs> = Spec {
    name: "sync",
    summary: "Send pending tracker ops to the remote now (auto-sync does this by itself)",
    args: &[],
    flags: &[
        switch("dry-run", "say what would be synced, change nothing", |a| {
            a.dry_run = true
        }),
        switch(
            "status",
            "pending lines, last result, circuit breaker",
            |a| a.status = true,
        ),
        switch(
            "prune",
            "delete tracker-sync/* branches already merged",
            |a| a.prune = true,
        ),
        sync_overrides!(SyncArgs)[0],
        sync_overrides!(SyncArgs)[1],
    ],
    wrap: Cmd::Sync,
};

#[derive(Debug, Default, PartialEq)]
pub struct ReconcileArgs {
    pub dry_run: bool,
    pub hook: bool,
    pub base_branch: Option<String>,
    pub timeout: Option<u64>,
}

pub const RECONCILE: Spec<ReconcileArgs> = Spec {
    name: "reconcile",
    summary: "Send pending ops to the remote and bring the local branch up to date (as sync), then restore journalled ops a git command removed from the working tree",
    args: &[],
    flags: RECONCILE_FLAGS,
    wrap: Cmd::Reconcile,
};

const RECONCILE_FLAGS: &[Flag<ReconcileArgs>] = &[
    switch("dry-run", "say what would be synced and restored, change nothing", |a| a.dry_run = true),
    switch(
        "hook",
        "as git hooks run it: no sync, quiet unless it restored something, skipped mid-rebase/merge/bisect or when HTRAC_NO_RECONCILE is set",
        |a| a.hook = true,
    ),
    sync_overrides!(ReconcileArgs)[0],
    sync_overrides!(ReconcileArgs)[1],
];

pub const RECOVER: Spec<ReconcileArgs> = Spec {
    name: "recover",
    summary: "Deprecated: the old name of 'reconcile' (says so, then runs it)",
    args: &[],
    flags: RECONCILE_FLAGS,
    wrap: Cmd::Recover,
};

pub const MCP: Spec<NoArgs> = plain(
    "mcp",
    "Serve the tracker to an agent over MCP (JSON-RPC on stdin/stdout) until stdin ends",
    |_| Cmd::Mcp,
);
pub const SERVE: Spec<NoArgs> = plain("serve", "Run the web interface (runs htrac-serve with the same arguments; install it with --features serve)", |_| Cmd::Serve);
pub const TUI: Spec<NoArgs> = plain(
    "tui",
    "Open the terminal UI (runs htrac-tui; install it with --features tui)",
    |_| Cmd::Tui,
);

#[derive(Debug, Default, PartialEq)]
pub struct ConfigArgs {
    /// `get` or `set`.
    pub action: String,
    pub key: String,
    pub value: Option<String>,
}

pub const CONFIG: Spec<ConfigArgs> = Spec {
    name: "config",
    summary: "Read one configuration key (get KEY), or change it in config.yaml keeping the rest (set KEY VALUE; human only)",
    args: &[
        pos("ACTION", true, false, Set::Text(|a, v| a.action = v)),
        pos("KEY", true, false, Set::Text(|a, v| a.key = v)),
        pos("VALUE", false, false, Set::Text(|a, v| a.value = Some(v))),
    ],
    flags: &[],
    wrap: Cmd::Config,
};

#[derive(Debug, Default, PartialEq)]
pub struct CompletionsArgs {
    pub shell: String,
}

pub const COMPLETIONS: Spec<CompletionsArgs> = Spec {
    name: "completions",
    summary:
        "Print the shell completion script for bash, zsh or fish ('make install' installs them)",
    args: &[pos("SHELL", true, false, Set::Text(|a, v| a.shell = v))],
    flags: &[],
    wrap: Cmd::Completions,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::testing::{cmd, err};

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn init_outside_git_needs_a_flag() {
        assert_eq!(
            cmd(&["init", "--no-git"]),
            Cmd::Init(InitArgs { no_git: true })
        );
    }

    #[test]
    fn plain_commands() {
        for (name, want) in [
            ("init", Cmd::Init(InitArgs::default())),
            ("cache-rebuild", Cmd::CacheRebuild),
            ("mcp", Cmd::Mcp),
            ("serve", Cmd::Serve),
            ("tui", Cmd::Tui),
        ] {
            assert_eq!(cmd(&[name]), want);
            assert!(err(&[name, "extra"])
                .contains(&format!("unexpected argument 'extra' for '{name}'")));
        }
    }

    #[test]
    fn validate_and_repairs() {
        assert_eq!(
            cmd(&["validate", "a.ops", "b.ops", "--check-locks", "--strict"]),
            Cmd::Validate(ValidateArgs {
                files: vec![s("a.ops"), s("b.ops")],
                check_locks: true,
                strict: true,
                ..Default::default()
            })
        );
        assert_eq!(
            cmd(&["validate", "--similar", "--deep-similar"]),
            Cmd::Validate(ValidateArgs {
                similar: true,
                deep_similar: true,
                ..Default::default()
            })
        );
        assert_eq!(cmd(&["validate"]), Cmd::Validate(ValidateArgs::default()));
        assert_eq!(
            cmd(&["repair-tail", "WI-a", "WI-b"]),
            Cmd::RepairTail(ItemsArgs {
                items: vec![s("WI-a"), s("WI-b")],
            })
        );
        assert_eq!(cmd(&["quarantine"]), Cmd::Quarantine(ItemsArgs::default()));
        assert_eq!(
            cmd(&["textconv", "x.ops"]),
            Cmd::Textconv(TextconvArgs { file: s("x.ops") })
        );
    }

    #[test]
    fn setup_batch_migrate() {
        assert_eq!(
            cmd(&["setup", "--root", "/r"]),
            Cmd::Setup(SetupArgs {
                root: Some(s("/r")),
                ..Default::default()
            })
        );
        assert_eq!(
            cmd(&["setup", "configure", "--with-policy-template"]),
            Cmd::Setup(SetupArgs {
                action: Some(s("configure")),
                with_policy_template: true,
                ..Default::default()
            })
        );
        assert_eq!(cmd(&["batch", "-"]), Cmd::Batch(BatchArgs { file: s("-") }));
        assert_eq!(
            cmd(&[
                "migrate",
                "--ledger",
                "l.md",
                "--work-items",
                "w.md",
                "--dry-run"
            ]),
            Cmd::Migrate(MigrateArgs {
                ledger: Some(s("l.md")),
                work_items: Some(s("w.md")),
                dry_run: true,
            })
        );
    }

    #[test]
    fn sync_and_reconcile() {
        assert_eq!(
            cmd(&["sync", "--dry-run", "--status", "--prune"]),
            Cmd::Sync(SyncArgs {
                dry_run: true,
                status: true,
                prune: true,
                ..SyncArgs::default()
            }),
            "all kept: the command refuses more than one"
        );
        assert_eq!(
            cmd(&["reconcile", "--dry-run", "--hook"]),
            Cmd::Reconcile(ReconcileArgs {
                dry_run: true,
                hook: true,
                ..ReconcileArgs::default()
            })
        );
    }
}
