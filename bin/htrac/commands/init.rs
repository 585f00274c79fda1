//! `htrac init`: lay out a tracker in `./.agent` (or `--tracker-root`). Human only.

use std::path::Path;

use htrac::config::Config;
use htrac::governance::actor::Actor;
use htrac::{Error, Result};
use serde_json::json;

use crate::args::{Globals, InitArgs};
use crate::Output;

pub fn run(a: &InitArgs, g: &Globals, cwd: &Path, out: &mut Output) -> Result<()> {
    let root = match &g.tracker_root {
        Some(r) if Path::new(r).is_absolute() => Path::new(r).to_path_buf(),
        Some(r) => cwd.join(r),
        None => cwd.join(".agent"),
    };
    // An existing config decides who is an agent; before one exists, the default does.
    let patterns = Config::load(&root)
        .map(|c| c.agent_usernames)
        .unwrap_or_else(|_| vec!["*_agent".into()]);
    let actor = Actor::current(&patterns);
    if actor.is_agent() {
        return Err(Error::user(format!(
            "init requires human authority (current user '{}' is agent)",
            actor.name
        ))
        .with_hint("ask your human to run 'htrac init'"));
    }
    let existing = root.ancestors().find(|p| p.exists()).unwrap_or(&root);
    if !a.no_git && htrac::git::work_tree_of(existing).is_none() {
        return Err(Error::user(format!(
            "{} is not in a git repository; nothing was created",
            existing.display()
        ))
        .with_hint(
            "htrac keeps its state in git: clocks read other branches, op files merge by union, sync delivers them. Run 'git init' first, or 'htrac init --no-git' to go without",
        ));
    }
    htrac::init::init(&root)?;
    let root = root.canonicalize().unwrap_or(root);
    if g.json {
        out.line(htrac::py::json::compact(
            &json!({"root": root.to_string_lossy()}),
        ));
    } else {
        out.line(format!("initialized tracker at {}", root.display()));
    }
    Ok(())
}
