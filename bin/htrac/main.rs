//! `htrac`: the agent-facing command line. A thin shell over the library:
//! parse (see `args`), resolve `:N` aliases once, run the command, print
//! its output, map errors to exit codes 1 (user) and 2 (internal/corrupt).
//! It starts without Rust's runtime set-up (see `htrac::process`).

// A test build keeps the test harness's own `main`.
#![cfg_attr(not(test), no_main)]

mod args;
mod commands;
mod completions;
mod render;

use std::io::Write;

use args::{Cmd, Globals, Invocation, Request};
use htrac::actions::Transaction;
use htrac::{Error, Result, Tracker};

/// What a command produced on stdout (text or JSON), plus notes for stderr.
#[derive(Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// Exit 1 even though the command ran (e.g. the unread-message gate).
    pub refused: bool,
    /// stdout is JSON (`--json`): printed as it is.
    pub json: bool,
    /// Printed after stdout as it is: text whose control characters were
    /// escaped already (`list`'s kept output).
    pub escaped: Vec<u8>,
}

impl Output {
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.stdout.push_str(s.as_ref());
        self.stdout.push('\n');
    }

    pub fn warn(&mut self, s: impl AsRef<str>) {
        self.stderr.push_str(s.as_ref());
        self.stderr.push('\n');
    }
}

htrac::process_main!(htrac_main);

#[cfg_attr(test, allow(dead_code))]
fn htrac_main() -> u8 {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let code = match run(args) {
        Ok(out) => {
            emit(&out);
            if out.refused {
                1
            } else {
                0
            }
        }
        Err(failed) => {
            let (out, e) = *failed;
            emit(&out);
            report(&e);
            e.exit_code()
        }
    };
    code as u8
}

/// Prints a command's output. Text carries titles and messages agents
/// wrote: its control characters are shown escaped (`\e`, `\r`, ...), never
/// sent to the terminal raw (see `htrac::safetext`); JSON escapes its own.
fn emit(out: &Output) {
    use htrac::safetext::escape;
    let mut stdout = std::io::stdout().lock();
    let text = if out.json {
        std::borrow::Cow::Borrowed(out.stdout.as_str())
    } else {
        escape(&out.stdout)
    };
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.write_all(&out.escaped);
    let _ = stdout.flush();
    if !out.stderr.is_empty() {
        let _ = std::io::stderr().write_all(escape(&out.stderr).as_bytes());
    }
}

/// The `error: …` and `hint: …` lines an error is reported with.
pub fn error_lines(e: &Error) -> String {
    match &e.hint {
        Some(hint) => format!("error: {}\nhint: {hint}\n", message(e)),
        None => format!("error: {}\n", message(e)),
    }
}

fn report(e: &Error) {
    let _ = std::io::stderr()
        .lock()
        .write_all(htrac::safetext::escape(&error_lines(e)).as_bytes());
}

/// A command's output, or its output so far and the error that stopped it.
pub fn run(args: Vec<std::ffi::OsString>) -> std::result::Result<Output, Box<(Output, Error)>> {
    // `htrac [GLOBAL FLAGS] serve ...` hands every argument to htrac-serve
    // unparsed, the global flags it shares (`--json`, `--tracker-root`)
    // included; `--no-auto-sync` means nothing to it.
    // `htrac merge-catalog BASE OURS THEIRS`: git's merge driver for the
    // tag catalog (hidden; see htrac::items::tagmerge).
    if args.first().is_some_and(|a| a == "merge-catalog") {
        let paths: Vec<std::path::PathBuf> = args[1..].iter().map(Into::into).collect();
        let merged = match paths.as_slice() {
            [base, ours, theirs] => htrac::items::tagmerge::merge_files(base, ours, theirs),
            _ => Err(Error::user("usage: htrac merge-catalog BASE OURS THEIRS")),
        };
        return match merged {
            Ok(()) => Ok(Output::default()),
            Err(e) => Err(Box::new((Output::default(), e))),
        };
    }
    // `htrac __complete WHAT`: the shell completions' live values (hidden).
    if args.first().is_some_and(|a| a == "__complete") {
        let what = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
        return Ok(Output {
            stdout: completions::values(what),
            ..Default::default()
        });
    }
    if let Some(serve_args) = commands::serve::args_for_serve(&args) {
        return Err(Box::new((
            Output::default(),
            commands::serve::exec(&serve_args),
        )));
    }
    let request = args::parse(args).map_err(|e| Box::new((Output::default(), e)))?;
    let mut inv = match request {
        Request::Help(cmd) => {
            return Ok(Output {
                stdout: args::help(cmd),
                ..Default::default()
            });
        }
        Request::Version => {
            return Ok(Output {
                stdout: format!("htrac {}\n", env!("CARGO_PKG_VERSION")),
                ..Default::default()
            });
        }
        Request::Run(p) => p,
    };
    let mut out = Output {
        json: inv.global.json,
        ..Default::default()
    };
    match dispatch(&mut inv, &mut out) {
        Ok(()) => Ok(out),
        Err(e) => Err(Box::new((out, e))),
    }
}

fn dispatch(inv: &mut Invocation, out: &mut Output) -> Result<()> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::internal(format!("cannot read the working directory: {e}")))?;
    let g = &inv.global;
    match &inv.command {
        Cmd::Init(a) => return commands::init::run(a, g, &cwd, out),
        Cmd::Setup(a) => return commands::setup::run(a, g, &cwd, out),
        Cmd::Textconv(a) => return commands::textconv::run(a, &cwd, out),
        Cmd::Completions(a) => {
            out.stdout.push_str(&completions::script(&a.shell)?);
            return Ok(());
        }
        Cmd::Tui => return commands::tui::run(g, &cwd),
        Cmd::Mcp => return commands::mcp::run(g, out),
        Cmd::Serve => {
            return Err(Error::user("'serve' must come first on the command line")
                .with_hint("run 'htrac serve [ARGS]', e.g. 'htrac serve --background'"))
        }
        _ => {}
    }
    let tracker = Tracker::discover(&cwd, g.tracker_root.as_deref().map(std::path::Path::new))?;
    // The watcher reads and writes nothing of the tracker: no transaction.
    if let Cmd::Watch(a) = &inv.command {
        return commands::watch::run(a, g, &tracker, out);
    }
    let mut tx = Transaction::new(&tracker, !g.no_auto_sync);
    let result = run_on(&mut tx, inv, out);
    let _ = commands::watch::auto_start(&tracker, htrac::watch::auto::take(), out);
    // The library's warnings come first on stderr, before the command's own notes.
    let warnings: String = tracker
        .take_warnings()
        .into_iter()
        .map(|w| w + "\n")
        .collect();
    out.stderr.insert_str(0, &warnings);
    // What follows writes (tag stamps, auto-sync) follows every write made,
    // even when the command then failed.
    for line in tx.finish().warnings {
        out.warn(line);
    }
    result
}

/// The command line's name for a request field (`add_tags` is `--add-tag`):
/// errors about a field name it as the user typed it.
pub fn flag(field: &str) -> String {
    match field {
        "tags" => "--tag".into(),
        "add_tags" => "--add-tag".into(),
        "remove_tags" => "--remove-tag".into(),
        "fields" => "--field".into(),
        "remove_fields" => "--remove-field".into(),
        "message" => "MESSAGE".into(),
        f => format!("--{}", f.replace('_', "-")),
    }
}

/// An error's message in the command line's terms.
pub fn message(e: &Error) -> String {
    e.text(flag)
}

/// Runs a parsed command in a transaction on an open tracker (`batch` runs
/// each of its lines through here too, in the batch's transaction).
pub fn run_on(tx: &mut Transaction, inv: &mut Invocation, out: &mut Output) -> Result<()> {
    use commands::{editmode, govern, insight, repairtail, stop, view};
    use htrac::actions::Freeze;
    use htrac::tracker::editmode::MessageOp;
    use htrac::tracker::moves::Move;
    let tracker = tx.tracker();
    // `:N` aliases are resolved here, once, for every item argument.
    for v in inv.command.items_mut() {
        if htrac::alias::is_alias(v) {
            *v = htrac::alias::resolve(&tracker.root, v)?;
        }
    }
    let g: &Globals = &inv.global;
    match &inv.command {
        Cmd::Add(a) => commands::add::run(a, g, tx, out),
        Cmd::Update(a) => commands::update::run(a, g, tx, out),
        Cmd::Show(a) => view::show(a, g, tracker, out),
        Cmd::List(a) => view::list(a, g, tracker, out),
        Cmd::Ready(a) if a.claim => {
            let claim = crate::args::ClaimArgs::default();
            commands::claim::run(&claim, g, tx, out)
        }
        Cmd::Ready(a) => view::ready(a, g, tracker, out),
        Cmd::Claim(a) => commands::claim::run(a, g, tx, out),
        Cmd::Release(a) => commands::claim::release(a, g, tx, out),
        Cmd::Log(a) => view::log(a, tracker, out),
        Cmd::Discuss(a) => commands::discuss::run(a, g, tx, out),
        Cmd::Lock(a) => govern::lock(a, false, g, tx, out),
        Cmd::Unlock(a) => govern::lock(a, true, g, tx, out),
        Cmd::Freeze(a) => govern::freeze(a, Freeze::Freeze, g, tx, out),
        Cmd::Unfreeze(a) => govern::freeze(a, Freeze::Unfreeze, g, tx, out),
        Cmd::RepairDrift(a) => govern::freeze(a, Freeze::RepairDrift, g, tx, out),
        Cmd::Delete(a) => govern::delete(a, g, tx, out),
        Cmd::Promote(a) => govern::move_tier(a, Move::Promote, g, tx, out),
        Cmd::Demote(a) => govern::move_tier(a, Move::Demote, g, tx, out),
        Cmd::Stealth(a) => govern::move_tier(a, Move::Stealth, g, tx, out),
        Cmd::Unstealth(a) => govern::move_tier(a, Move::Unstealth, g, tx, out),
        Cmd::ReconcileReset(a) => govern::reconcile_reset(a, g, tracker, out),
        Cmd::EditMode(a) => editmode::edit_mode(a, g, tracker, out),
        Cmd::DeleteMsg(a) => editmode::message(a, MessageOp::Delete, g, tracker, out),
        Cmd::UndeleteMsg(a) => editmode::message(a, MessageOp::Undelete, g, tracker, out),
        Cmd::EditMsgText(a) => editmode::message(a, MessageOp::EditText, g, tracker, out),
        Cmd::Validate(a) => commands::validate::run(a, g, tracker, out),
        Cmd::RepairTail(a) => repairtail::run(a, g, tracker, out),
        Cmd::Quarantine(a) => repairtail::quarantine(a, g, tracker, out),
        Cmd::CacheRebuild => commands::cache::rebuild(g, tracker, out),
        Cmd::SigningCutover => govern::signing_cutover(g, tracker, out),
        Cmd::Deps(a) => commands::deps::run(a, g, tracker, out),
        Cmd::Batch(a) => commands::batch::run(a, g, tx, out),
        Cmd::CheckMessages(a) => commands::messages::run(a, g, tracker, out),
        Cmd::Clusters(a) => insight::clusters(a, g, tracker, out),
        Cmd::PriorityTrend(a) => insight::priority_trend(a, g, tracker, out),
        Cmd::Migrate(a) => commands::migrate::run(a, g, tracker, out),
        Cmd::Tags(a) => commands::tags::run(a, g, tracker, out),
        Cmd::CountTodos(a) => stop::run(inv.name, stop::Query::Count(a), g, tracker, out),
        Cmd::HashTodos => stop::run(inv.name, stop::Query::Hash, g, tracker, out),
        Cmd::Guidance(a) => stop::run(inv.name, stop::Query::Guidance(a), g, tracker, out),
        Cmd::ForkSetup => commands::setup::fork_setup(g, tracker, out),
        Cmd::Prime(a) => commands::prime::run(a, g, tracker, out),
        Cmd::Sync(a) => commands::sync::run(a, g, tracker, out),
        Cmd::Reconcile(a) => commands::reconcile::run(a, g, tracker, out),
        Cmd::Config(a) => commands::config::run(a, g, tracker, out),
        Cmd::Recover(a) => {
            out.warn("htrac: 'recover' is deprecated; it is 'htrac reconcile' now");
            commands::reconcile::run(a, g, tracker, out)
        }
        Cmd::Watch(_) => Err(Error::user("'watch' runs only on its own command line")),
        Cmd::Init(_)
        | Cmd::Setup(_)
        | Cmd::Textconv(_)
        | Cmd::Tui
        | Cmd::Mcp
        | Cmd::Serve
        | Cmd::Completions(_) => Err(Error::internal(format!(
            "'{}' runs without a tracker",
            inv.name
        ))),
    }
}
