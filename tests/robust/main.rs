//! Robustness: crashes and failed appends, hostile input, concurrent
//! writers, the read cache against any change, the op-log merge laws and
//! the fuzzers' finds, parallel loading, and appends racing a take-over.

#[path = "../support/common/mod.rs"]
mod common;

mod cache;
mod concurrency;
mod crash;
mod hostile;
mod merge_laws;
mod regressions;
mod snapshot;
mod takeover;

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("robust");
}
