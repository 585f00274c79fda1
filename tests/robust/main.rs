//! Robustness: crashes and failed appends, hostile input, concurrent
//! writers, the read cache against any change, the op-log merge laws and
//! the fuzzers' finds, parallel loading, and appends racing a take-over.

#[path = "../support/common/mod.rs"]
mod common;

mod cache;
mod cache_owner;
mod concurrency;
mod crash;
mod fast_reader;
mod hostile;
mod listmemo;
mod merge_laws;
mod regressions;
mod snapshot;
mod takeover;
mod watch;
mod watch_auto;

/// The configuration of this binary's property tests, with `cases` cases:
/// failing cases are kept beside the test's file
/// (`tests/robust/cache.proptest-regressions`). proptest's default, once it
/// finds this `main.rs`, would look in `tests/proptest-regressions/` instead.
fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence};
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("robust");
}
