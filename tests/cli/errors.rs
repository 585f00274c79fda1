//! Mistakes a user or an agent makes at the command line: each one gets an
//! `error:` line naming what was wrong and a `hint:` saying what to do, a
//! "did you mean" for slips, and exit 1.

use crate::common::Env;

/// `(arguments, text the error must contain, text the hint must contain)`.
fn cases(id: &str) -> Vec<(Vec<String>, &'static str, &'static str)> {
    let s = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (
            s(&["reddy"]),
            "unknown command 'reddy'",
            "did you mean 'ready'?",
        ),
        (
            s(&["--jsn", "ready"]),
            "unknown flag '--jsn'",
            "did you mean '--json'?",
        ),
        (
            s(&["ready", "--jsn"]),
            "unknown flag '--jsn' for 'ready'",
            "did you mean '--json'?",
        ),
        (
            s(&["--title", "x", "add"]),
            "unknown flag '--title'",
            "write it after the command name",
        ),
        (
            s(&["add", "--titel", "x"]),
            "unknown flag '--titel' for 'add'",
            "did you mean '--title'?",
        ),
        (
            s(&["list", "--kind", "invarant"]),
            "Unknown kind 'invarant'",
            "did you mean 'invariant'?",
        ),
        (
            s(&["add", "--kind", "bug", "--title", "x"]),
            "Unknown kind 'bug'",
            "kinds listed",
        ),
        (
            s(&["update", id, "--status", "don"]),
            "Unknown status 'don'",
            "did you mean 'done'?",
        ),
        (
            s(&["update", id, "--priority", "9"]),
            "invalid priority 9",
            "--priority 1",
        ),
        (
            s(&["add", "--kind", "invariant", "--title", "x"]),
            "requires field(s)",
            "--field statement=",
        ),
        (
            s(&["update", id, "--field", "a=1", "--add-field", "b=2"]),
            "mutually exclusive",
            "replaces all custom fields",
        ),
        (s(&["show"]), "'show' needs ITEM", "usage: htrac show ITEM"),
        (s(&["show", "zzzzz"]), "No items match", "htrac list"),
        (
            s(&["update", id, "--description", "a", "--description-stdin"]),
            "only one of",
            "keep one",
        ),
    ]
}

#[test]
fn every_mistake_gets_an_error_a_hint_and_exit_1() {
    let env = Env::new();
    let id = env.add("target", &[]);
    for (args, error, hint) in cases(&id) {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = env.run(&argv);
        assert_eq!(r.code, 1, "{argv:?}: {}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        let e = lines
            .iter()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{argv:?}: no error line: {}", r.stderr));
        assert!(e.contains(error), "{argv:?}: {e}");
        let h = lines
            .iter()
            .find(|l| l.starts_with("hint: "))
            .unwrap_or_else(|| panic!("{argv:?}: no hint: {}", r.stderr));
        assert!(h.contains(hint), "{argv:?}: {h}");
        assert!(r.stdout.is_empty(), "{argv:?}: {}", r.stdout);
    }
}

#[test]
fn a_stranger_gets_no_guess() {
    let env = Env::new();
    let r = env.run(&["zebra"]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: see 'htrac --help'"),
        "{}",
        r.stderr
    );
}
