//! `htrac mcp`: the MCP server on stdin/stdout (see `htrac::mcp`). Each
//! tool call runs its htrac command line through this binary's own
//! `run`, exactly as if typed, with this invocation's `--tracker-root`
//! and `--no-auto-sync`; a panic in one call fails that call only.

use std::ffi::OsString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use htrac::mcp::{Run, Runner};
use htrac::{Error, Result};

use crate::args::Globals;
use crate::Output;

struct Cli {
    tracker_root: Option<String>,
    no_auto_sync: bool,
}

impl Runner for Cli {
    fn run(&mut self, argv: &[String]) -> Run {
        let mut line: Vec<OsString> = Vec::new();
        if let Some(root) = &self.tracker_root {
            line.push(format!("--tracker-root={root}").into());
        }
        if self.no_auto_sync {
            line.push("--no-auto-sync".into());
        }
        line.extend(argv.iter().map(OsString::from));
        match catch_unwind(AssertUnwindSafe(|| crate::run(line))) {
            Ok(Ok(out)) => Run {
                ok: !out.refused,
                stdout: out.stdout,
                stderr: out.stderr,
            },
            Ok(Err(failed)) => {
                let (out, e) = *failed;
                Run {
                    ok: false,
                    stdout: out.stdout,
                    stderr: out.stderr + &crate::error_lines(&e),
                }
            }
            Err(_) => Run {
                ok: false,
                stdout: String::new(),
                stderr: format!(
                    "error: internal error: htrac {} crashed (see the server's stderr); the server goes on\n",
                    argv.first().map(String::as_str).unwrap_or("")
                ),
            },
        }
    }
}

pub fn run(g: &Globals, _out: &mut Output) -> Result<()> {
    let cli = Cli {
        tracker_root: g.tracker_root.clone(),
        no_auto_sync: g.no_auto_sync,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    htrac::mcp::serve(cli, stdin, stdout)
        .map_err(|e| Error::internal(format!("mcp: cannot write to standard output: {e}")))
}
