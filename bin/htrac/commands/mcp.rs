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
        cwd,
        tracker_root: g.tracker_root.as_ref().map(Into::into),
        auto_sync: !g.no_auto_sync,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    htrac::mcp::serve(session, stdin, stdout)
        .map_err(|e| Error::internal(format!("mcp: cannot write to standard output: {e}")))
}
