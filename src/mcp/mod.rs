//! `htrac mcp`: a Model Context Protocol server over stdio, synchronous,
//! on serde_json. [`rpc`] is the framing and the lifecycle (newline-
//! delimited JSON-RPC 2.0: `initialize`, `ping`, `tools/list`,
//! `tools/call`, notifications); [`tools`] is the tool table (input and
//! output schemas); [`call`] turns a call into an htrac command line and
//! its output into the result.
//!
//! A call runs that command line through a [`Runner`] — the `htrac` binary
//! runs it exactly as if typed, `--json` included — so every tool answers
//! with the command's `--json` output and obeys the same governance: the
//! server acts as the OS user that runs it.

pub mod call;
pub mod rpc;
pub mod tools;

pub use rpc::{serve, Server};

/// What running one command line produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    /// It succeeded (exit 0).
    pub ok: bool,
    /// Its standard output (one JSON document for `--json` commands).
    pub stdout: String,
    /// Notes and, on failure, the `error: …` / `hint: …` lines.
    pub stderr: String,
}

/// Runs an htrac command line (without the program name) for a tool call.
pub trait Runner {
    fn run(&mut self, argv: &[String]) -> Run;
}
