//! `htrac-hook`: the stop hook for agent harnesses, a thin shell over
//! `htrac::stophook`.
//!
//! * `htrac-hook stop` reads the harness's hook event (Claude Code's Stop /
//!   SubagentStop JSON) on stdin and, when the agent may not stop, prints
//!   `{"decision": "block", "reason": "..."}` on stdout. It always exits 0
//!   (1 only for a bad command line).
//! * `htrac-hook check`: the same decision for plain shell hooks, without
//!   stdin: exit 0 = may stop, 2 = blocked with the reason on stderr.
//! * `htrac-hook count [--hard|--soft]`: prints the number of blocking
//!   items in scope; exit 0 when there are none, 2 otherwise (no circuit
//!   breaker: it is a plain query).
//!
//! * `htrac-hook session-start` reads a session-start (or pre-compact) hook
//!   event on stdin and prints the `htrac prime` briefing in the harness's
//!   form (Claude Code `SessionStart`: `hookSpecificOutput.additionalContext`
//!   JSON; otherwise plain text). Always exits 0; prints nothing without a
//!   tracker.
//!
//! Notes (why a stop was allowed or blocked, errors) go to stderr. It
//! starts without Rust's runtime set-up (see `htrac::process`).

// A test build keeps the test harness's own `main`.
#![cfg_attr(not(test), no_main)]

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use htrac::config::OnError;
use htrac::safetext::escape;
use htrac::stophook::event::{self, EventError};
use htrac::stophook::hook::{self, Decision, Options, Outcome};
use htrac::stophook::todos::Strength;

const HELP: &str = "\
htrac-hook: the htrac stop hook for agent harnesses

usage:
  htrac-hook stop  [--tracker-root PATH] [--on-error block|allow]
      Reads the hook event JSON (Claude Code Stop/SubagentStop) on stdin.
      Blocking items in scope: prints {\"decision\": \"block\", \"reason\": \"...\"}.
      Otherwise prints nothing. Exits 0.
  htrac-hook check [--tracker-root PATH] [--on-error block|allow]
      The same decision for shell hooks: exit 0 = may stop, 2 = blocked
      (the reason on stderr).
  htrac-hook count [--hard|--soft] [--tracker-root PATH] [--on-error block|allow]
      Prints the number of blocking items in scope; exit 0 if none, else 2.
  htrac-hook session-start [--tracker-root PATH]
      Reads the hook event JSON (Claude Code SessionStart/PreCompact) on stdin
      and prints the 'htrac prime' briefing for the agent's context: for
      SessionStart as {\"hookSpecificOutput\": {\"hookEventName\": \"SessionStart\",
      \"additionalContext\": \"...\"}}, otherwise as plain text. Exits 0.

options:
  --tracker-root PATH   the .agent/ directory (default: the nearest .agent/ above
                        the event's cwd, $CLAUDE_PROJECT_DIR, or the working directory)
  --on-error POLICY     when the tracker's config cannot be read: block (default)
                        or allow; a readable stop_hook.on_error always wins
  --hard / --soft       count only hard (name contains 'hard') / other blocking statuses

The circuit breaker lets an agent stop after stop_hook.max_blocked_stops blocked
stops in a row with no progress; its state is in $HTRAC_STATE_DIR, else
$XDG_STATE_HOME/htrac, else ~/.local/state/htrac.
";

struct Args {
    command: String,
    tracker_root: Option<PathBuf>,
    on_error: OnError,
    hard: bool,
    soft: bool,
}

enum Request {
    Run(Args),
    Help,
    Version,
}

fn parse() -> Result<Request, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_env();
    let mut command: Option<String> = None;
    let mut args = Args {
        command: String::new(),
        tracker_root: None,
        on_error: OnError::Block,
        hard: false,
        soft: false,
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("help") | Short('h') => return Ok(Request::Help),
            Long("version") | Short('V') => return Ok(Request::Version),
            Long("tracker-root") => {
                args.tracker_root = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?))
            }
            Long("on-error") => {
                let v = p.value().map_err(|e| e.to_string())?;
                args.on_error = match v.to_str() {
                    Some("block") => OnError::Block,
                    Some("allow") => OnError::Allow,
                    _ => return Err(format!("--on-error takes block or allow, got {v:?}")),
                };
            }
            Long("hard") => args.hard = true,
            Long("soft") => args.soft = true,
            Value(v) if command.is_none() => {
                let v = v.string().map_err(|e| e.to_string())?;
                if !matches!(v.as_str(), "stop" | "check" | "count" | "session-start") {
                    return Err(format!(
                        "unknown command '{v}' (stop, check, count or session-start)"
                    ));
                }
                command = Some(v);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    args.command = command.ok_or("missing command: stop, check, count or session-start")?;
    if (args.hard || args.soft) && args.command != "count" {
        return Err("--hard and --soft belong to 'count'".into());
    }
    Ok(Request::Run(args))
}

fn options(args: &Args) -> Result<Options, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    Ok(Options {
        cwd,
        tracker_root: args.tracker_root.clone(),
        project_dir: std::env::var_os("CLAUDE_PROJECT_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from),
        state_dir: htrac::stophook::breaker::state_dir(),
        on_error: args.on_error,
    })
}

/// The hook event on stdin (nothing when stdin is a terminal).
fn read_event() -> Result<event::HookEvent, EventError> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(event::HookEvent::default());
    }
    let mut bytes = Vec::new();
    stdin
        .read_to_end(&mut bytes)
        .map_err(|e| EventError(format!("cannot read the hook event from stdin: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| EventError("the hook event on stdin is not UTF-8".into()))?;
    event::parse(&text)
}

/// Writes the outcome's notes (and, with `status`, its routine line) to stderr.
fn notes(outcome: &Outcome, status: bool) {
    let mut err = std::io::stderr().lock();
    for n in &outcome.notes {
        let _ = writeln!(err, "{}", escape(n));
    }
    if let Some(s) = outcome.status.as_ref().filter(|_| status) {
        let _ = writeln!(err, "{}", escape(s));
    }
}

/// Prints `text` on stdout. A reader that has gone is not an error here:
/// the exit code still says what the hook decided.
fn say(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Prints `text` on stderr, as [`say`] does on stdout.
fn tell(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

htrac::process_main!(hook);

#[cfg_attr(test, allow(dead_code))]
fn hook() -> u8 {
    let args = match parse() {
        Ok(Request::Run(a)) => a,
        Ok(Request::Help) => {
            say(HELP);
            return 0;
        }
        Ok(Request::Version) => {
            say(&format!("htrac-hook {}\n", env!("CARGO_PKG_VERSION")));
            return 0;
        }
        Err(e) => {
            tell(&format!(
                "htrac-hook: error: {e}\nhint: see 'htrac-hook --help'\n"
            ));
            return 1;
        }
    };
    let opts = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            tell(&format!("htrac-hook: error: {e}\n"));
            return if args.on_error == OnError::Block {
                2
            } else {
                0
            };
        }
    };
    match args.command.as_str() {
        "stop" => {
            let outcome = hook::stop(read_event(), &opts);
            notes(&outcome, true);
            if let Decision::Block(reason) = &outcome.decision {
                let v = serde_json::json!({"decision": "block", "reason": reason});
                say(&format!("{v}\n"));
            }
            0
        }
        "session-start" => {
            let out = htrac::prime::session::session_start(read_event(), &opts);
            let mut err = std::io::stderr().lock();
            for n in &out.notes {
                let _ = writeln!(err, "{}", escape(n));
            }
            say(&escape(&out.stdout));
            0
        }
        "check" => {
            // stderr is what the agent reads: the reason first, and no
            // routine breaker count.
            let outcome = hook::stop(Ok(event::HookEvent::default()), &opts);
            match &outcome.decision {
                Decision::Block(reason) => {
                    tell(&format!("{}\n", escape(reason)));
                    notes(&outcome, false);
                    2
                }
                Decision::Allow => {
                    notes(&outcome, false);
                    0
                }
            }
        }
        _ => match hook::count(&opts, Strength::from_flags(args.hard, args.soft)) {
            Ok(0) => {
                say("0\n");
                0
            }
            Ok(n) => {
                say(&format!("{n}\n"));
                tell(&format!(
                    "htrac-hook: {n} blocking item(s) remain in scope (see 'htrac ready')\n"
                ));
                2
            }
            Err((e, policy)) => {
                tell(&format!("htrac-hook: error: {e}\n"));
                match policy {
                    OnError::Block => {
                        tell("htrac-hook: failing closed (stop_hook.on_error: block)\n");
                        2
                    }
                    OnError::Allow => {
                        tell("htrac-hook: stop_hook.on_error is allow, so the agent may stop\n");
                        0
                    }
                }
            }
        },
    }
}
