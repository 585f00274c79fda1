//! The command line as typed data. Each command's arguments are a struct
//! (`UpdateArgs`, `ListArgs`, …), and each flag is declared once, its help
//! text next to the code that parses its value into that struct (the
//! layout of ripgrep's `flags/defs.rs`); the parser and `--help` are both
//! made from these declarations, so a command never looks a flag up by
//! name. Global flags (`--json`, `--tracker-root`, `--no-auto-sync`) are
//! accepted anywhere on the line.

mod global;
mod govern;
mod items;
mod parse;
mod reports;
mod upkeep;
mod value;
mod views;

use htrac::{Error, Result};

pub use global::{Globals, GLOBAL_FLAGS};
pub use govern::{EditModeAction, EditModeArgs, LockArgs, MsgArgs};
pub use items::{AddArgs, ClaimArgs, Description, ReleaseArgs, UpdateArgs};
pub use parse::{help, parse, Invocation, Request};
pub use reports::{
    CheckMessagesArgs, ClustersArgs, CountTodosArgs, GuidanceArgs, PrimeArgs, TagsArgs, TrendArgs,
};
pub use upkeep::{
    BatchArgs, CompletionsArgs, ConfigArgs, InitArgs, ItemsArgs, MigrateArgs, ReconcileArgs,
    SetupArgs, SyncArgs, TextconvArgs, ValidateArgs, WatchArgs,
};
pub use value::Value;
pub use views::{DepsArgs, DiscussArgs, ListArgs, ReadyArgs, ShowArgs};

/// How a flag's or argument's value lands in a command's typed arguments.
pub enum Set<A> {
    /// A switch: sets something when given.
    Switch(fn(&mut A)),
    /// A value kept as text.
    Text(fn(&mut A, String)),
    /// A value parsed into a domain type; the error names the flag.
    Parse(fn(&mut A, Value) -> Result<()>),
}

// Copied, not derived: a derive would ask `A: Copy` too.
impl<A> Clone for Set<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Set<A> {}

/// What `--help` shows of a flag.
#[derive(Clone, Copy)]
pub struct FlagDoc {
    pub long: &'static str,
    /// The value's placeholder, or `None` for a switch.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

/// One flag of a command: its documentation and where its value goes.
pub struct Flag<A> {
    pub doc: FlagDoc,
    pub set: Set<A>,
}

impl<A> Clone for Flag<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Flag<A> {}

/// What usage lines show of a positional argument.
pub struct ArgDoc {
    pub name: &'static str,
    pub required: bool,
    /// Takes every remaining value (only the last argument may).
    pub many: bool,
}

/// One positional argument of a command.
pub struct Pos<A> {
    pub doc: ArgDoc,
    pub set: Set<A>,
}

/// One subcommand: its documentation, arguments and flags, and the
/// [`Cmd`] its typed arguments make.
pub struct Spec<A: 'static> {
    pub name: &'static str,
    pub summary: &'static str,
    pub args: &'static [Pos<A>],
    pub flags: &'static [Flag<A>],
    pub wrap: fn(A) -> Cmd,
}

/// A switch (`--graph`).
pub const fn switch<A>(long: &'static str, help: &'static str, set: fn(&mut A)) -> Flag<A> {
    Flag {
        doc: FlagDoc {
            long,
            value: None,
            help,
        },
        set: Set::Switch(set),
    }
}

/// A flag whose value is kept as text (`--title TITLE`).
pub const fn text<A>(
    long: &'static str,
    value: &'static str,
    help: &'static str,
    set: fn(&mut A, String),
) -> Flag<A> {
    Flag {
        doc: FlagDoc {
            long,
            value: Some(value),
            help,
        },
        set: Set::Text(set),
    }
}

/// A flag whose value is parsed (`--priority 0-4`, `--tier TIER`).
pub const fn parsed<A>(
    long: &'static str,
    value: &'static str,
    help: &'static str,
    set: fn(&mut A, Value) -> Result<()>,
) -> Flag<A> {
    Flag {
        doc: FlagDoc {
            long,
            value: Some(value),
            help,
        },
        set: Set::Parse(set),
    }
}

/// A positional argument: `required`, and `many` for one that takes the rest.
pub const fn pos<A>(name: &'static str, required: bool, many: bool, set: Set<A>) -> Pos<A> {
    Pos {
        doc: ArgDoc {
            name,
            required,
            many,
        },
        set,
    }
}

/// A command's arguments with its types erased: what the parser and `--help` need.
pub trait Command: Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn arg_docs(&self) -> Vec<&'static ArgDoc>;
    fn flag_docs(&self) -> Vec<&'static FlagDoc>;
    /// The typed arguments from the values given, in command-line order.
    fn build(&self, positionals: Vec<String>, flags: Vec<(&'static str, String)>) -> Result<Cmd>;
}

impl<A: Default + 'static> Command for Spec<A> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn summary(&self) -> &'static str {
        self.summary
    }

    fn arg_docs(&self) -> Vec<&'static ArgDoc> {
        self.args.iter().map(|a| &a.doc).collect()
    }

    fn flag_docs(&self) -> Vec<&'static FlagDoc> {
        self.flags.iter().map(|f| &f.doc).collect()
    }

    fn build(&self, positionals: Vec<String>, flags: Vec<(&'static str, String)>) -> Result<Cmd> {
        let mut a = A::default();
        let mut slot: Option<&Pos<A>> = None;
        for (i, v) in positionals.into_iter().enumerate() {
            // Each argument takes one value; a last `many` one takes the rest.
            slot = self.args.get(i).or(slot.filter(|s| s.doc.many));
            let Some(p) = slot else {
                return Err(Error::internal(format!(
                    "'{}' has no argument for '{v}'",
                    self.name
                )));
            };
            apply(&p.set, &mut a, p.doc.name, v)?;
        }
        for (long, v) in flags {
            let Some(f) = self.flags.iter().find(|f| f.doc.long == long) else {
                return Err(Error::internal(format!(
                    "'{}' has no flag --{long}",
                    self.name
                )));
            };
            apply(&f.set, &mut a, long, v)?;
        }
        Ok((self.wrap)(a))
    }
}

/// Puts one value into typed arguments.
pub fn apply<A>(set: &Set<A>, a: &mut A, name: &'static str, text: String) -> Result<()> {
    match set {
        Set::Switch(f) => f(a),
        Set::Text(f) => f(a, text),
        Set::Parse(f) => f(a, Value { name, text })?,
    }
    Ok(())
}

/// Every command, in the order `htrac --help` lists them.
pub const COMMANDS: &[&dyn Command] = &[
    &upkeep::INIT,
    &items::ADD,
    &items::UPDATE,
    &views::SHOW,
    &views::LIST,
    &views::READY,
    &items::CLAIM,
    &items::RELEASE,
    &views::DISCUSS,
    &views::LOG,
    &govern::LOCK,
    &govern::UNLOCK,
    &govern::FREEZE,
    &govern::UNFREEZE,
    &govern::REPAIR_DRIFT,
    &govern::PROMOTE,
    &govern::DEMOTE,
    &govern::STEALTH,
    &govern::UNSTEALTH,
    &govern::DELETE,
    &govern::RECONCILE_RESET,
    &govern::EDIT_MODE,
    &govern::DELETE_MSG,
    &govern::UNDELETE_MSG,
    &govern::EDIT_MSG_TEXT,
    &upkeep::VALIDATE,
    &upkeep::REPAIR_TAIL,
    &upkeep::QUARANTINE,
    &upkeep::TEXTCONV,
    &upkeep::SETUP,
    &govern::FORK_SETUP,
    &views::DEPS,
    &upkeep::BATCH,
    &reports::CHECK_MESSAGES,
    &reports::CLUSTERS,
    &reports::PRIORITY_TREND,
    &upkeep::MIGRATE,
    &reports::TAGS,
    &reports::COUNT_TODOS,
    &govern::SIGNING_CUTOVER,
    &upkeep::CACHE_REBUILD,
    &upkeep::WATCH,
    &reports::HASH_TODOS,
    &reports::GUIDANCE,
    &upkeep::SYNC,
    &upkeep::RECONCILE,
    &upkeep::RECOVER,
    &reports::PRIME,
    &upkeep::MCP,
    &upkeep::SERVE,
    &upkeep::TUI,
    &upkeep::CONFIG,
    &upkeep::COMPLETIONS,
];

/// A command that takes nothing but the global flags.
#[derive(Debug, Default, PartialEq)]
pub struct NoArgs;

/// A command on one item.
#[derive(Debug, Default, PartialEq)]
pub struct ItemArg {
    pub item: String,
}

/// The `ITEM` argument of [`ItemArg`] commands.
pub const ITEM_ARG: &[Pos<ItemArg>] = &[pos("ITEM", true, false, Set::Text(|a, v| a.item = v))];

/// A parsed command with its typed arguments.
#[derive(Debug, PartialEq)]
pub enum Cmd {
    Init(InitArgs),
    // Boxed: the largest by far.
    Add(Box<AddArgs>),
    Update(Box<UpdateArgs>),
    Show(ShowArgs),
    List(ListArgs),
    Ready(ReadyArgs),
    Claim(ClaimArgs),
    Release(ReleaseArgs),
    Discuss(DiscussArgs),
    Log(ItemArg),
    Lock(LockArgs),
    Unlock(LockArgs),
    Freeze(ItemArg),
    Unfreeze(ItemArg),
    RepairDrift(ItemArg),
    Promote(ItemArg),
    Demote(ItemArg),
    Stealth(ItemArg),
    Unstealth(ItemArg),
    Delete(ItemArg),
    ReconcileReset(ItemArg),
    EditMode(EditModeArgs),
    DeleteMsg(MsgArgs),
    UndeleteMsg(MsgArgs),
    EditMsgText(MsgArgs),
    Validate(ValidateArgs),
    RepairTail(ItemsArgs),
    Quarantine(ItemsArgs),
    Textconv(TextconvArgs),
    Setup(SetupArgs),
    ForkSetup,
    Deps(DepsArgs),
    Batch(BatchArgs),
    CheckMessages(CheckMessagesArgs),
    Clusters(ClustersArgs),
    PriorityTrend(TrendArgs),
    Migrate(MigrateArgs),
    Tags(TagsArgs),
    CountTodos(CountTodosArgs),
    SigningCutover,
    CacheRebuild,
    Watch(WatchArgs),
    HashTodos,
    Guidance(GuidanceArgs),
    Sync(SyncArgs),
    Reconcile(ReconcileArgs),
    Completions(CompletionsArgs),
    Config(ConfigArgs),
    Recover(ReconcileArgs),
    Prime(PrimeArgs),
    Mcp,
    Serve,
    Tui,
}

impl Cmd {
    /// Every value that names an item (an `ITEM` argument or flag value),
    /// so `:N` aliases can be resolved once, before the command runs.
    pub fn items_mut(&mut self) -> Vec<&mut String> {
        match self {
            Cmd::Add(a) => a.parent.iter_mut().chain(&mut a.isbefore).collect(),
            Cmd::Update(a) => a.items_mut(),
            Cmd::Show(a) => vec![&mut a.item],
            Cmd::Claim(a) => a.item.iter_mut().collect(),
            Cmd::Release(a) => vec![&mut a.item],
            Cmd::Discuss(a) => vec![&mut a.item],
            Cmd::Lock(a) | Cmd::Unlock(a) => vec![&mut a.item],
            Cmd::Log(a)
            | Cmd::Freeze(a)
            | Cmd::Unfreeze(a)
            | Cmd::RepairDrift(a)
            | Cmd::Promote(a)
            | Cmd::Demote(a)
            | Cmd::Stealth(a)
            | Cmd::Unstealth(a)
            | Cmd::Delete(a)
            | Cmd::ReconcileReset(a) => vec![&mut a.item],
            Cmd::DeleteMsg(a) | Cmd::UndeleteMsg(a) | Cmd::EditMsgText(a) => vec![&mut a.item],
            Cmd::RepairTail(a) | Cmd::Quarantine(a) => a.items.iter_mut().collect(),
            Cmd::Deps(a) => a.item.iter_mut().collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
pub mod testing {
    //! Parsing helpers for the tests next to each command's flags.

    use super::{parse, Cmd, Request};

    /// The command a line parses to (panics on an error).
    pub fn cmd(argv: &[&str]) -> Cmd {
        match parse(argv.iter().map(Into::into).collect()) {
            Ok(Request::Run(inv)) => inv.command,
            Ok(_) => panic!("{argv:?}: not a command to run"),
            Err(e) => panic!("{argv:?}: {}", crate::error_lines(&e)),
        }
    }

    /// The `error:`/`hint:` lines a line is refused with (panics if it parses).
    pub fn err(argv: &[&str]) -> String {
        match parse(argv.iter().map(Into::into).collect()) {
            Err(e) => crate::error_lines(&e),
            Ok(_) => panic!("{argv:?}: parsed"),
        }
    }
}
