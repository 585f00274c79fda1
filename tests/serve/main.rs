//! htrac-serve (built with `--features serve`, which this binary requires):
//! HTTP, its limits under slow and greedy clients, logins under attack,
//! idempotency keys, WebSocket, the process, passkeys, the page in a real
//! browser, its API as one front end among others, and signing as its web
//! users.

#[path = "../support/common/mod.rs"]
mod common;
#[path = "../support/signhelp.rs"]
mod signhelp;
#[path = "../support/synchelp.rs"]
mod synchelp;

mod browser;
mod demo;
mod front_ends;
mod http;
mod idempotency;
mod limits;
mod login;
mod passkey;
mod passkey_http;
mod process;
mod signing;
mod support;
mod ws;

#[test]
fn no_test_file_is_forgotten() {
    common::layout::assert_no_forgotten_test_files("serve");
}
