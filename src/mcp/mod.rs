//! `htrac mcp`: a Model Context Protocol server over stdio, synchronous,
//! on serde_json. [`rpc`] is the framing and the lifecycle (newline-
//! delimited JSON-RPC 2.0: `initialize`, `ping`, `tools/list`,
//! `tools/call`, notifications); [`tools`] is the tool table (input and
//! output schemas); [`args`] checks a call's arguments against it; [`run`]
//! runs a tool on the library; [`call`] makes the result.
//!
//! A tool is a thin translation, as every front end: its JSON arguments
//! become the request the matching CLI command makes (the same
//! [`crate::actions`], in one [`crate::actions::Transaction`] per call, so
//! auto-sync and tag stamps follow writes), its answer is that command's
//! `--json` value from the same function, and a library error becomes a
//! tool error by its kind. The server acts as the OS user that runs it,
//! under the same governance.

pub mod args;
pub mod call;
pub mod rpc;
pub mod run;
pub mod tools;

use std::path::PathBuf;

pub use rpc::{serve, Server};

use crate::error::Result;
use crate::tracker::Tracker;

/// Where a session's tracker is, and whether writes are auto-synced: the
/// `htrac mcp` invocation's working directory, `--tracker-root` and
/// `--no-auto-sync`. Each call opens the tracker afresh (as a command
/// would), so it sees the config and the items as they are now.
#[derive(Debug, Clone)]
pub struct Session {
    pub cwd: PathBuf,
    pub tracker_root: Option<PathBuf>,
    pub auto_sync: bool,
}

impl Session {
    pub fn open(&self) -> Result<Tracker> {
        Tracker::discover(&self.cwd, self.tracker_root.as_deref())
    }
}
