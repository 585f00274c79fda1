//! Agreement with the reference implementation (`htrac` of
//! hypergumbo-tracker 0.11.0): differential tests that run the same scripts
//! through both tools (`harness.rs` installs the reference into
//! `<target>/ref-venv`), and fixtures the reference produced.

#[path = "../support/common/mod.rs"]
mod common;
#[path = "../support/signhelp.rs"]
mod signhelp;

mod agent_loop;
mod differential;
mod harness;
mod insight;
mod real_ops;
mod signing;
mod similar;
mod stop_hook;
mod vectors;
mod writes;

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("reference");
}
