//! The rules every front end shares, as htrac-tui keeps them (the command
//! line, web API and MCP sides are in `tests/serve/front_ends.rs`): a write is
//! auto-synced and stamps its tags in the catalog, a link into stealth is
//! refused naming the form's field, and an agent's refusals are the
//! library's (human-only status, locked field) with nothing written.

use std::path::Path;
use std::process::Command;

use crossterm::event::KeyCode;

use crate::app::{App, Modal};
use crate::tests::{fixture, key, ops, select, typ, Fixture, B};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Rewrites the fixture's config: the template plus `extra`.
fn config(fx: &Fixture, extra: &str) {
    let dir = fx.root().join("tracker");
    let template = std::fs::read_to_string(dir.join("config.yaml.template")).unwrap();
    let path = dir.join("config.yaml");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&path, format!("{template}\n{extra}\n")).unwrap();
}

#[test]
fn a_tui_write_is_auto_synced_and_stamps_its_tags() {
    let fx = fixture();
    let repo = fx.dir.path();
    let remote = repo.join("remote.git");
    git(
        repo,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "dev",
            remote.to_str().unwrap(),
        ],
    );
    git(repo, &["remote", "add", "origin", remote.to_str().unwrap()]);
    config(&fx, "sync:\n  threshold: 1");
    git(repo, &["add", "-A", ".agent"]);
    git(repo, &["commit", "-q", "-m", "tracker"]);
    git(repo, &["push", "-q", "origin", "dev"]);
    let pushed = git(&remote, &["rev-parse", "dev"]);
    let mut a = App::new(htrac::Tracker::open(&fx.root()).unwrap(), None);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('e'));
    key(&mut a, KeyCode::Tab); // Priority
    key(&mut a, KeyCode::Tab); // Title
    key(&mut a, KeyCode::Tab); // Tags
    typ(&mut a, "docs");
    key(&mut a, KeyCode::Enter);
    assert!(a.modal.is_none(), "{:?}", a.toast.as_ref().map(|t| &t.text));
    assert_ne!(
        git(&remote, &["rev-parse", "dev"]),
        pushed,
        "auto-sync pushed the edit"
    );
    let shown = git(&remote, &["show", "dev", "--", ".agent"]);
    assert!(shown.contains("docs"), "{shown}");
    let catalog = htrac::items::tags::load(&fx.root()).unwrap().unwrap();
    let stamp = catalog["docs"].last_used.clone();
    assert!(
        stamp.is_some_and(|s| s.starts_with("20")),
        "last_used stamped"
    );
}

#[test]
fn a_tui_link_into_stealth_is_refused_naming_the_form_field() {
    let fx = fixture();
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    let mut new = htrac::tracker::create::NewItem::new("work_item", "hidden");
    new.tier = htrac::Tier::Stealth;
    let hidden = t.add(&new).unwrap();
    let mut a = App::new(t, None);
    select(&mut a, B);
    let before = ops(&fx, B);
    key(&mut a, KeyCode::Char('p'));
    typ(&mut a, &hidden);
    key(&mut a, KeyCode::Enter);
    let toast = a.toast.clone().unwrap();
    assert!(toast.error);
    assert!(
        toast
            .text
            .starts_with(&format!("Parent {hidden} points at a stealth item")),
        "{}",
        toast.text
    );
    assert!(
        matches!(a.modal, Some(Modal::Form(_))),
        "the form stays open"
    );
    assert_eq!(ops(&fx, B), before, "nothing written");
}

#[test]
fn an_agent_in_the_tui_is_refused_as_everywhere() {
    let fx = fixture();
    let mut t = htrac::Tracker::open(&fx.root()).unwrap();
    // A human locks B's title; then an agent works in the TUI.
    t.lock(&t.resolve(B).unwrap(), &["title".to_string()], false)
        .unwrap();
    t.actor = htrac::governance::actor::Actor {
        role: htrac::oplog::op::Role::Agent,
        name: "bot_agent".into(),
    };
    let mut a = App::new(t, None);
    select(&mut a, B);
    let before = ops(&fx, B);
    // A human-only status.
    key(&mut a, KeyCode::Char('e'));
    for _ in 0..20 {
        let Some(Modal::Form(f)) = &a.modal else {
            panic!("the edit form is open")
        };
        if f.get("Status") == "deleted" {
            break;
        }
        key(&mut a, KeyCode::Right);
    }
    key(&mut a, KeyCode::Enter);
    let toast = a.toast.clone().unwrap();
    assert!(
        toast.error && toast.text.contains("requires human authority"),
        "{}",
        toast.text
    );
    key(&mut a, KeyCode::Esc);
    // A locked field.
    key(&mut a, KeyCode::Char('e'));
    key(&mut a, KeyCode::Tab); // Priority
    key(&mut a, KeyCode::Tab); // Title
    typ(&mut a, " now");
    key(&mut a, KeyCode::Enter);
    let toast = a.toast.clone().unwrap();
    assert!(
        toast.error && toast.text.contains("is locked"),
        "{}",
        toast.text
    );
    assert_eq!(ops(&fx, B), before, "nothing written");
}
