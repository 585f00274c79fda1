//! The `htrac` command line (and `htrac-hook`, `htrac mcp`, `htrac tui`) as
//! an agent or a person meets it, in real git repositories: one file per
//! command. One test binary, so cargo links it once.

#[path = "../support/common/mod.rs"]
mod common;
#[path = "../support/synchelp.rs"]
mod synchelp;

mod add;
mod batch;
mod check_messages;
mod claim;
mod clusters;
mod completions;
mod demo;
mod deps;
mod discuss;
mod docs;
mod errors;
mod escalation;
mod global;
mod hook;
mod init;
mod list;
mod mcp;
mod mcp_results;
mod migrate;
mod pipes;
mod prime;
mod priority_trend;
mod ready;
mod reconcile;
mod setup;
mod show;
mod stop_hook;
mod tags;
mod textconv;
mod tui;
mod update;
mod validate;
mod validate_locks;
mod validate_memo;
mod worktrees;

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("cli");
    common::layout::assert_every_test_binary_is_declared();
}
