//! Human authority, run as a human (root, or any non-`*_agent` user) and as
//! a real agent OS user: locks, freeze, delete, tier moves, stealth links,
//! edit mode, authority enforced when ops are read, and signed authority —
//! each checked on the files it leaves behind.

#[path = "../support/common/mod.rs"]
mod common;
#[path = "../support/signhelp.rs"]
mod signhelp;

mod actor;
mod authority;
mod branch_peek;
mod delete;
mod edit_mode;
mod freeze;
mod lock;
mod signing;
mod stealth;
mod tiers;
mod users;

use common::Env;

/// `show --json` of an item.
fn show(env: &Env, id: &str) -> serde_json::Value {
    env.run(&["--json", "show", id]).ok().json()
}

fn canonical_ops(env: &Env, id: &str) -> std::path::PathBuf {
    env.ops_path("tracker/.ops", id)
}

fn stealth_ops(env: &Env, id: &str) -> std::path::PathBuf {
    env.ops_path("tracker-workspace/stealth", id)
}

fn frozen(env: &Env, id: &str) -> std::path::PathBuf {
    env.root()
        .join("tracker-workspace/.ops")
        .join(format!(".{id}.frozen"))
}

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("governance");
}
