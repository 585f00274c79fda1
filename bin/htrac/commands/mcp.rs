//! `htrac mcp`: the MCP server on stdin/stdout (see `htrac::mcp`), on the
//! tracker this invocation names (`--tracker-root`, else the one above the
//! working directory), auto-syncing writes unless `--no-auto-sync`.

use htrac::mcp::Session;
use htrac::{Error, Result};

use crate::args::Globals;
use crate::Output;

pub fn run(g: &Globals, _out: &mut Output) -> Result<()> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::internal(format!("cannot read the working directory: {e}")))?;
    let session = Session {
        cwd: cwd.clone(),
        tracker_root: g.tracker_root.as_ref().map(Into::into),
        auto_sync: !g.no_auto_sync,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    // After a request whose reads listed a large tracker with no watcher
    // running, one is started as after a CLI read (its note on stderr,
    // which MCP clients log). The watchers it started are reaped once they
    // exit (after an hour unused, or stopped), not left as zombies.
    let mut started: Vec<std::process::Child> = Vec::new();
    let between = || {
        started.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        let files = htrac::watch::auto::take();
        if files == 0 {
            return;
        }
        let root = g.tracker_root.as_deref().map(std::path::Path::new);
        if let Ok(t) = htrac::Tracker::discover(&cwd, root) {
            let mut out = Output::default();
            started.extend(super::watch::auto_start(&t, files, &mut out));
            let _ = std::io::Write::write_all(&mut std::io::stderr(), out.stderr.as_bytes());
        }
    };
    htrac::mcp::serve(session, stdin, stdout, between)
        .map_err(|e| Error::internal(format!("mcp: cannot write to standard output: {e}")))
}
