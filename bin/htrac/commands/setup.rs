//! `setup` (the set-up wizard) and `fork-setup`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use htrac::setup::{self, forkscope};
use htrac::{Result, Tracker};
use serde_json::json;

use crate::args::{Globals, SetupArgs};
use crate::Output;

/// Asks an agent on a terminal whether to go on; true to continue.
fn confirm_as_agent(ctx: &setup::Context) -> bool {
    let mut stdout = std::io::stdout().lock();
    for line in setup::human_instructions(ctx) {
        let _ = writeln!(stdout, "{line}");
    }
    let _ = write!(stdout, "\nContinue as agent? [y/N] ");
    let _ = stdout.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

pub fn run(a: &SetupArgs, g: &Globals, cwd: &Path, out: &mut Output) -> Result<()> {
    let root = match a.root.as_deref().or(g.tracker_root.as_deref()) {
        Some(r) if Path::new(r).is_absolute() => Path::new(r).to_path_buf(),
        Some(r) => cwd.join(r),
        None => setup::default_root(cwd),
    };
    let mut ctx = setup::Context::new(&root);
    match a.action.as_deref() {
        None => {}
        Some("configure") => return configure(&ctx, g),
        Some(other) => {
            return Err(
                htrac::Error::user(format!("unknown action '{other}' for 'setup'"))
                    .with_hint("use 'htrac setup' or 'htrac setup configure'"),
            )
        }
    }
    ctx.with_policy_template = a.with_policy_template;
    let interactive = !g.json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if ctx.is_agent() && interactive && !confirm_as_agent(&ctx) {
        out.warn("setup not run: nothing was changed.");
        out.refused = true;
        return Ok(());
    }
    let checks = setup::run(&mut ctx);
    if g.json {
        out.line(htrac::py::json::pretty(&setup::to_json(&checks)));
    } else {
        out.stdout.push_str(&setup::render_text(&checks));
    }
    if setup::has_errors(&checks) {
        out.refused = true;
    }
    Ok(())
}

/// `setup configure`: walks the main keys (Enter keeps a value), then
/// any other `KEY VALUE`, shows the change and writes it when confirmed.
/// Line-based, so a script can drive it through standard input.
fn configure(ctx: &setup::Context, g: &Globals) -> Result<()> {
    if g.json {
        return Err(
            htrac::Error::user("'setup configure' is interactive and has no --json form")
                .with_hint("use 'htrac config set KEY VALUE' from scripts"),
        );
    }
    let mut draft = htrac::settings::Draft::open(&ctx.root, &ctx.actor)?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut stdout = std::io::stdout().lock();
    let mut ask = |prompt: &str, stdout: &mut std::io::StdoutLock| -> Option<String> {
        let _ = write!(stdout, "{prompt}");
        let _ = stdout.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_string()),
        }
    };
    let _ = writeln!(
        stdout,
        "Editing {} — Enter keeps a value; values are YAML (main, [a, b], true).",
        ctx.config_path().display()
    );
    let mut section = "";
    let mut eof = false;
    for (title, key, about) in htrac::settings::QUESTIONS {
        if eof {
            break;
        }
        if *title != section {
            section = title;
            let _ = writeln!(stdout, "\n{title}");
        }
        loop {
            let now = draft
                .config()
                .ok()
                .and_then(|c| htrac::settings::get(&c, key).ok())
                .map_or("(not set)".to_string(), |v| v.to_string());
            let _ = writeln!(stdout, "  {key}: {about}\n    now: {now}");
            match ask("    new> ", &mut stdout) {
                None => eof = true,
                Some(v) if v.is_empty() => {}
                Some(v) => {
                    if let Err(e) = draft.set(key, &v) {
                        let _ = writeln!(stdout, "    {e}");
                        continue;
                    }
                }
            }
            break;
        }
    }
    if !eof {
        let _ = writeln!(
            stdout,
            "\nOther keys, as KEY VALUE (e.g. kinds.bug.prefix BUG); Enter when done."
        );
        while let Some(line) = ask("  > ", &mut stdout) {
            if line.is_empty() {
                break;
            }
            match line.split_once(char::is_whitespace) {
                Some((k, v)) => match draft.set(k, v.trim()) {
                    Ok(_) => {}
                    Err(e) => {
                        let _ = writeln!(stdout, "    {e}");
                    }
                },
                None => {
                    let _ = writeln!(stdout, "    write KEY VALUE");
                }
            }
        }
    }
    if !draft.changed() {
        let _ = writeln!(stdout, "\nNo change; config.yaml left as it was.");
        return Ok(());
    }
    let _ = writeln!(stdout, "\nThe change:");
    for l in draft.diff() {
        let _ = writeln!(stdout, "  {l}");
    }
    let yes = ask("Write config.yaml? [y/N] ", &mut stdout)
        .is_some_and(|a| matches!(a.to_lowercase().as_str(), "y" | "yes"));
    if !yes {
        let _ = writeln!(stdout, "Nothing written.");
        return Ok(());
    }
    draft.save()?;
    let _ = writeln!(stdout, "config.yaml written.");
    Ok(())
}

pub fn fork_setup(g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    t.require_human("fork-setup")?;
    forkscope::set_workspace_scope(&t.root)?;
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"ok": true, "scope": "workspace"}),
        ));
    } else {
        out.line("scope set to 'workspace'");
    }
    Ok(())
}
