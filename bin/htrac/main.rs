//! `htrac`: the agent-facing command line. A thin shell over the library:
//! parse (see `args`), resolve `:N` aliases once, run the command, print
//! its output, map errors to exit codes 1 (user) and 2 (internal/corrupt).

mod args;
mod commands;
mod render;

use std::io::Write;
use std::process::ExitCode;

use args::{Parsed, Request};
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

fn main() -> ExitCode {
    // A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG, which
    // the append undoes, not kill the process midway through an op.
    // SAFETY: setting a signal's disposition to ignored at start-up, before
    // any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
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
    ExitCode::from(code as u8)
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
    // `htrac serve ...` hands every argument to htrac-serve unparsed.
    if args.first().is_some_and(|a| a == "serve") {
        return Err(Box::new((
            Output::default(),
            commands::serve::exec(&args[1..]),
        )));
    }
    let request = args::parse(args).map_err(|e| Box::new((Output::default(), e)))?;
    let mut parsed = match request {
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
        json: parsed.json,
        ..Default::default()
    };
    match dispatch(&mut parsed, &mut out) {
        Ok(()) => Ok(out),
        Err(e) => Err(Box::new((out, e))),
    }
}

fn dispatch(parsed: &mut Parsed, out: &mut Output) -> Result<()> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::internal(format!("cannot read the working directory: {e}")))?;
    match parsed.command.name {
        "init" => return commands::init::run(parsed, &cwd, out),
        "setup" => return commands::setup::run(parsed, &cwd, out),
        "textconv" => return commands::textconv::run(parsed, &cwd, out),
        "tui" => return commands::tui::run(parsed, &cwd),
        "mcp" => return commands::mcp::run(parsed, out),
        "serve" => {
            return Err(Error::user("'serve' must come first on the command line")
                .with_hint("run 'htrac serve [ARGS]', e.g. 'htrac serve --background'"))
        }
        _ => {}
    }
    let tracker = Tracker::discover(
        &cwd,
        parsed.tracker_root.as_deref().map(std::path::Path::new),
    )?;
    let mut tx = Transaction::new(&tracker, !parsed.no_auto_sync);
    let result = run_on(&mut tx, parsed, out);
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
pub fn run_on(tx: &mut Transaction, parsed: &mut Parsed, out: &mut Output) -> Result<()> {
    let tracker = tx.tracker();
    // `:N` aliases are resolved here, once, for every item argument.
    let root = tracker.root.clone();
    parsed.map_items(|v| {
        if htrac::alias::is_alias(v) {
            htrac::alias::resolve(&root, v)
        } else {
            Ok(v.to_string())
        }
    })?;
    match parsed.command.name {
        "add" => commands::add::run(parsed, tx, out),
        "update" => commands::update::run(parsed, tx, out),
        "show" => commands::view::show(parsed, tracker, out),
        "list" => commands::view::list(parsed, tracker, out),
        "ready" => commands::view::ready(parsed, tracker, out),
        "log" => commands::view::log(parsed, tracker, out),
        "discuss" => commands::discuss::run(parsed, tx, out),
        "lock" | "unlock" => commands::govern::lock(parsed, tx, out),
        "freeze" | "unfreeze" | "repair-drift" => commands::govern::freeze(parsed, tx, out),
        "delete" => commands::govern::delete(parsed, tx, out),
        "promote" | "demote" | "stealth" | "unstealth" => {
            commands::govern::move_tier(parsed, tx, out)
        }
        "reconcile-reset" => commands::govern::reconcile_reset(parsed, tracker, out),
        "edit-mode" => commands::editmode::edit_mode(parsed, tracker, out),
        "delete-msg" | "undelete-msg" | "edit-msg-text" => {
            commands::editmode::message(parsed, tracker, out)
        }
        "validate" => commands::validate::run(parsed, tracker, out),
        "repair-tail" => commands::repairtail::run(parsed, tracker, out),
        "quarantine" => commands::repairtail::quarantine(parsed, tracker, out),
        "cache-rebuild" => commands::cache::rebuild(parsed, tracker, out),
        "signing-cutover" => commands::govern::signing_cutover(parsed, tracker, out),
        "deps" => commands::deps::run(parsed, tracker, out),
        "batch" => commands::batch::run(parsed, tx, out),
        "check-messages" => commands::messages::run(parsed, tracker, out),
        "clusters" => commands::insight::clusters(parsed, tracker, out),
        "priority-trend" => commands::insight::priority_trend(parsed, tracker, out),
        "migrate" => commands::migrate::run(parsed, tracker, out),
        "tags" => commands::tags::run(parsed, tracker, out),
        "count-todos" | "hash-todos" | "guidance" => commands::stop::run(parsed, tracker, out),
        "fork-setup" => commands::setup::fork_setup(parsed, tracker, out),
        "prime" => commands::prime::run(parsed, tracker, out),
        "sync" => commands::sync::run(parsed, tracker, out),
        "reconcile" => commands::reconcile::run(parsed, tracker, out),
        other => Err(Error::internal(format!("command '{other}' has no handler"))),
    }
}
