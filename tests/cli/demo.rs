//! `make demo` (tests/demo/cli.sh), run against the binaries under test:
//! it exits 0 and its output holds the moments it is there to show, each
//! the real output of htrac — the agent refused a locked field, refused a
//! message after the human's unread one until it acknowledges it, and the
//! stop hook blocking while work remains and letting it stop after.

use std::path::Path;
use std::process::Command;

/// Runs tests/demo/SCRIPT with the directory of the binaries under test;
/// returns (exit code, stdout with stderr merged in order).
pub fn run_demo(script: &str, extra: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let bin_dir = Path::new(crate::common::bin()).parent().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/demo")
        .join(script);
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(bin_dir).args(extra);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs the demo");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The text between the line that shows `command` and the next command.
fn answer_to<'a>(out: &'a str, command: &str) -> &'a str {
    let start = out
        .find(command)
        .unwrap_or_else(|| panic!("{command:?} is not in the demo's output:\n{out}"));
    let rest = &out[start + command.len()..];
    let end = ["\nhuman$ ", "\nagent$ "]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_cli_demo_shows_a_lock_the_unread_message_gate_and_the_stop_hook() {
    let (code, out) = run_demo("cli.sh", &[], &[]);
    assert_eq!(code, 0, "the demo failed:\n{out}");

    // The agent finishes the parser and shows that very item.
    let shown = answer_to(&out, "agent$ htrac show WI-");
    assert!(shown.contains("Parse the config file"), "{shown}");
    assert!(shown.contains("status: done"), "{shown}");
    assert!(
        shown.contains("(agent): Parser done; tests pass"),
        "{shown}"
    );

    // The human's lock holds against the agent.
    assert!(out.contains("human$ htrac lock WI-"), "{out}");
    let locked = answer_to(&out, "--priority 4\n");
    assert!(
        locked.contains("error: Field 'priority' on WI-") && locked.contains("is locked"),
        "{locked}"
    );
    assert!(locked.contains("[exit 1: refused]"), "{locked}");

    // The human's message stops the agent's until it acknowledges it.
    let gate = answer_to(&out, "'Starting on anchors'");
    assert!(
        gate.contains("comes after an unread message from the human")
            && gate.contains("Reject anchors with an error that names the line")
            && gate.contains("--ack-thread")
            && gate.contains("[exit 1: refused]"),
        "{gate}"
    );
    let read = answer_to(&out, "agent$ htrac check-messages");
    assert!(read.contains("(human): Reject anchors"), "{read}");
    let acked = answer_to(&out, "no expansion.' --ack-thread\n");
    assert!(
        acked.contains("discussed\n")
            && acked.contains("(acknowledged 1 unread message from the human)")
            && !acked.contains("re-run"),
        "{acked}"
    );

    // The stop hook: blocked while work remains, then free to stop.
    let blocked = answer_to(&out, "agent$ htrac-hook check\n");
    assert!(
        blocked.contains("You may not stop yet: 1 blocking item(s) remain")
            && blocked.contains("Write the README")
            && blocked.contains("[exit 2: the agent may not stop]"),
        "{blocked}"
    );
    let last = out.rfind("agent$ htrac-hook check\n").unwrap();
    assert!(
        out[last..].contains("[exit 0: the agent may stop]"),
        "{}",
        &out[last..]
    );
    assert!(answer_to(&out, "agent$ htrac count-todos")
        .trim()
        .starts_with('0'));
}
