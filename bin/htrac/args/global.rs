//! The global flags: accepted anywhere on the line, before or after the
//! command, and shown at the end of every `--help`.

use super::{switch, text, Flag};

/// What the global flags ask for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Globals {
    pub json: bool,
    pub tracker_root: Option<String>,
    /// Skip the auto-sync after a mutation.
    pub no_auto_sync: bool,
    /// `--help` or `-h`: show help instead of running.
    pub help: bool,
}

pub const GLOBAL_FLAGS: &[Flag<Globals>] = &[
    switch(
        "json",
        "print machine-readable JSON (stable; see README)",
        |g| g.json = true,
    ),
    text(
        "tracker-root",
        "PATH",
        "the .agent/ directory (default: nearest .agent/ above the working directory)",
        |g, v| g.tracker_root = Some(v),
    ),
    switch("no-auto-sync", "do not sync after a change", |g| {
        g.no_auto_sync = true
    }),
    switch("help", "show help", |g| g.help = true),
];

/// Every global flag's long name.
pub fn names() -> impl Iterator<Item = &'static str> {
    GLOBAL_FLAGS.iter().map(|g| g.doc.long)
}

/// The global flag named `long`, if it is one.
pub fn find(long: &str) -> Option<&'static Flag<Globals>> {
    GLOBAL_FLAGS.iter().find(|f| f.doc.long == long)
}

#[cfg(test)]
mod tests {
    use crate::args::{parse, Request};

    fn globals(argv: &[&str]) -> super::Globals {
        match parse(argv.iter().map(Into::into).collect()) {
            Ok(Request::Run(inv)) => inv.global,
            _ => panic!("{argv:?}"),
        }
    }

    #[test]
    fn global_flags_anywhere_on_the_line() {
        let g = globals(&["--json", "list", "--tracker-root", "/t", "--no-auto-sync"]);
        assert!(g.json && g.no_auto_sync && !g.help);
        assert_eq!(g.tracker_root.as_deref(), Some("/t"));
        let g = globals(&["--tracker-root=/a", "ready", "--tracker-root=/b"]);
        assert_eq!(g.tracker_root.as_deref(), Some("/b"), "the last one wins");
        assert_eq!(globals(&["ready"]), super::Globals::default());
    }

    #[test]
    fn help_anywhere_asks_for_help() {
        for argv in [&["list", "--help"][..], &["-h", "list"], &["list", "-h"]] {
            match parse(argv.iter().map(Into::into).collect()) {
                Ok(Request::Help(Some(c))) => assert_eq!(c.name(), "list"),
                _ => panic!("{argv:?}"),
            }
        }
        assert!(matches!(
            parse(vec!["--help".into()]),
            Ok(Request::Help(None))
        ));
    }
}
