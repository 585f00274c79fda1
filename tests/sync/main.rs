//! The sync engine against a bare remote in a temp dir, with clones of it
//! (no network): convergence, faults, `pr` mode, and the journal.

#[path = "../support/common/mod.rs"]
mod common;
#[path = "../support/synchelp.rs"]
mod synchelp;

mod converge;
mod defaults;
mod faults;
mod flags;
mod forge;
mod journal;
mod peek;
mod pr;
mod pull;

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("sync");
}
