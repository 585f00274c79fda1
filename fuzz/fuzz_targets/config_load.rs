//! Config loading: `Config::parse` on arbitrary text.
//!
//! Laws checked:
//! 1. it never panics;
//! 2. an error names a key: `(yaml)`, `(top level)`, or a dotted path whose
//!    first part is a top-level key of the document, and the message (and
//!    its `Display`) is not empty and shows the key and the file;
//! 3. an accepted config is consistent: non-empty `statuses`,
//!    `blocking_statuses`, `agent_usernames` and `lamport_branches`; every
//!    stop-hook and per-kind status is a known status; blocking statuses
//!    are neither resolved nor human-only; kind prefixes are non-empty
//!    without `-`; `max_blocked_stops` is 1–1000;
//! 4. the same text loaded as a file gives the same answer.
#![no_main]

use std::path::PathBuf;

use htrac::config::{Config, Source};
use libfuzzer_sys::fuzz_target;

fn check_ok(c: &Config) {
    let known = |s: &String| c.statuses.contains(s);
    assert!(!c.statuses.is_empty(), "FINDING: no statuses");
    assert!(!c.blocking_statuses.is_empty(), "FINDING: no blocking");
    assert!(!c.agent_usernames.is_empty(), "FINDING: no agent names");
    assert!(!c.lamport_branches.is_empty(), "FINDING: no branches");
    assert!((1..=1000).contains(&c.max_blocked_stops), "FINDING: stops");
    for s in c
        .blocking_statuses
        .iter()
        .chain(&c.resolved_statuses)
        .chain(&c.human_only_statuses)
    {
        assert!(known(s), "FINDING: unknown stop-hook status {s:?}");
    }
    for s in &c.blocking_statuses {
        assert!(
            !c.resolved_statuses.contains(s) && !c.human_only_statuses.contains(s),
            "FINDING: blocking status {s:?} also resolved or human-only"
        );
    }
    for k in &c.kinds {
        assert!(
            !k.prefix.is_empty() && !k.prefix.contains('-'),
            "FINDING: bad prefix {:?}",
            k.prefix
        );
        for s in k.allowed_statuses.iter().chain(&k.deprecated_statuses) {
            assert!(s.iter().all(known), "FINDING: kind {} status", k.name);
        }
        for f in &k.fields_schema {
            assert!(
                ["text", "integer", "list", "boolean"].contains(&f.ty.as_str()),
                "FINDING: field type {:?}",
                f.ty
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let defaults = Config::parse(text, Source::Defaults);
    let path = PathBuf::from("tracker/config.yaml");
    let file = Config::parse(text, Source::File(path.clone()));
    match (&defaults, &file) {
        (Ok(c), Ok(f)) => {
            check_ok(c);
            assert_eq!(c.kinds, f.kinds, "FINDING: source changed the result");
            assert_eq!(c.raw, f.raw, "FINDING: source changed the result");
        }
        (Err(e), Err(f)) => {
            assert!(!e.key.is_empty(), "FINDING: error without a key: {e:?}");
            assert!(!e.message.is_empty(), "FINDING: error without a message");
            if !e.key.starts_with('(') {
                let top = e.key.split('.').next().unwrap_or("");
                // Blank text (even tabs only) is an empty config.
                let doc: serde_json::Value =
                    serde_norway::from_str(text).unwrap_or(serde_json::Value::Null);
                assert!(
                    doc.get(top).is_some()
                        || matches!(
                            e.key.as_str(),
                            "statuses"
                                | "stop_hook.blocking_statuses"
                                | "actor_resolution.agent_usernames"
                                | "lamport_branches"
                        ),
                    "FINDING: error names key {:?}, not in the document",
                    e.key
                );
            }
            assert!(e.to_string().contains(&e.key), "FINDING: message hides key");
            assert_eq!(
                (&e.key, &e.message),
                (&f.key, &f.message),
                "FINDING: source"
            );
            assert_eq!(f.file.as_ref(), Some(&path), "FINDING: error lost its file");
            assert!(f.to_string().contains("config.yaml"), "FINDING: file");
        }
        _ => panic!("FINDING: the source changed whether the config loads"),
    }
});
