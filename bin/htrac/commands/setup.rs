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
