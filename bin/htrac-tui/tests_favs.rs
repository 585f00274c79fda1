//! Tests of the "Fav 5": the filter entries toggled most over the last
//! nine runs, listed first in the filter panel with a ★ and numbered
//! first, kept across restarts in the preferences.

use crossterm::event::KeyCode;

use crate::app::App;
use crate::tests::{check, fixture, key, screen, Fixture};

fn open(fx: &Fixture, prefs: &std::path::Path) -> App {
    App::new(
        htrac::Tracker::open(&fx.root()).unwrap(),
        Some(prefs.to_path_buf()),
    )
}

/// Ten earlier runs: the oldest (a hundred toggles of #ui) is out of the
/// window; over the last nine, done has 3, kind invariant and tier
/// canonical 2, Tagged, wont_do and #docs 1 (the tie goes to the first
/// two alphabetically), todo_soft 0.
const SESSIONS: &str = r##"{
  "hidden_statuses": ["wont_do"],
  "toggle_sessions": [
    {"tag:ui": 100},
    {"status:done": 1, "kind:invariant": 1},
    {"status:done": 1, "tier:canonical": 2},
    {"meta:tagged": 1, "status:todo_soft": 0},
    {"status:wont_do": 1},
    {"status:done": 1},
    {"kind:invariant": 1},
    {"tag:docs": 1},
    {},
    {}
  ]
}"##;

#[test]
fn fav_5_from_the_last_nine_runs_shows_first_with_a_star() {
    let fx = fixture();
    let prefs = fx.dir.path().join("prefs/tui.json");
    std::fs::create_dir_all(prefs.parent().unwrap()).unwrap();
    std::fs::write(&prefs, SESSIONS).unwrap();
    let mut a = open(&fx, &prefs);
    key(&mut a, KeyCode::Char('f'));
    let s = screen(&mut a, 80, 24);
    for want in [
        "── Favorites ──",
        "[1] [X] ★ kind invariant (1)",
        "[2] [X] ★ Tagged (3)",
        "[3] [X] ★ done (1)",
        "[4] [ ] ★ wont_do (0)",
        "[5] [X] ★ tier canonical (1)",
        "── Statuses (1/4) ──",
        "[6] [X] todo_hard (2)",
    ] {
        assert!(s.contains(want), "missing {want}:\n{s}");
    }
    assert!(!s.contains("#ui") && !s.contains("#docs"), "{s}");
    check("filter_fav5", &s);
    // The numbers follow that order: 3 is done, 6 the first status.
    key(&mut a, KeyCode::Char('3'));
    assert!(a.filters.hidden_statuses.contains("done"));
    key(&mut a, KeyCode::Char('6'));
    assert!(a.filters.hidden_statuses.contains("todo_hard"));
    // A click on a favourite's line toggles it too (line 3 of the panel
    // under its title: kind invariant).
    let f = a.filter_area;
    a.handle_mouse(crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: f.x + 2,
        row: f.y + 1 + 2,
        modifiers: crossterm::event::KeyModifiers::NONE,
    });
    assert!(a.filters.hidden_kinds.contains("invariant"));
    // The section's own entries come after the section heading.
    assert_eq!(a.filter_entry_at_line(1), None);
    assert_eq!(a.filter_entry_at_line(7), None);
    assert_eq!(a.filter_entry_at_line(8), Some(5));
}

#[test]
fn fav_5_survives_a_restart_and_old_files_load() {
    let fx = fixture();
    let prefs = fx.dir.path().join("prefs/tui.json");
    // A preferences file from before toggle counts were kept.
    std::fs::create_dir_all(prefs.parent().unwrap()).unwrap();
    std::fs::write(&prefs, r#"{"version": 1, "full_ids": true}"#).unwrap();
    let mut a = open(&fx, &prefs);
    assert!(a.full_ids);
    key(&mut a, KeyCode::Char('f'));
    assert!(!screen(&mut a, 80, 24).contains("Favorites"));
    // Tags section: Tagged is 1; toggle it twice (shown again after).
    for _ in 0..3 {
        key(&mut a, KeyCode::Tab);
    }
    key(&mut a, KeyCode::Char('1'));
    assert!(a.filters.hide_tagged);
    // Now Tagged is favourite 1 and the section's Tagged is 2.
    assert!(screen(&mut a, 80, 24).contains("[1] [ ] ★ Tagged (3)"));
    key(&mut a, KeyCode::Char('1'));
    assert!(!a.filters.hide_tagged);
    key(&mut a, KeyCode::Char('q'));
    // The next run has it as a favourite, from the saved counts.
    let mut b = open(&fx, &prefs);
    assert_eq!(b.toggles.past.len(), 1);
    assert_eq!(b.toggles.past[0]["meta:tagged"], 2);
    assert!(b.toggles.now.is_empty());
    key(&mut b, KeyCode::Char('f'));
    let s = screen(&mut b, 80, 24);
    assert!(
        s.contains("── Favorites ──") && s.contains("[1] [X] ★ Tagged (3)"),
        "{s}"
    );
    // Its toggles are a run of their own; earlier runs are kept.
    key(&mut b, KeyCode::Char('2')); // todo_hard
    let c = open(&fx, &prefs);
    assert_eq!(c.toggles.past.len(), 2);
    assert_eq!(c.toggles.past[1]["status:todo_hard"], 1);
    // Nine runs at most are saved.
    let mut d = open(&fx, &prefs);
    d.toggles.past = (0..12).map(|_| c.toggles.past[0].clone()).collect();
    d.save_prefs();
    assert_eq!(open(&fx, &prefs).toggles.past.len(), 9);
}
