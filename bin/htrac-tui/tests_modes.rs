//! Tests of the smaller modes: multi-line descriptions in the forms, the
//! edit-mode toggle (Ctrl+E), filter favourites, and a label placed by a
//! click while its text is being typed in the screenshot annotator.

use crossterm::event::KeyCode;

use crate::tests::{app, check, click, ctrl, fixture, key, screen, select, typ, B};

/// The edit form's description is a text area: Enter makes new lines,
/// ↑↓←→ move across them, Ctrl+S saves, and the saved description holds
/// the typed bytes exactly (blank lines, indentation, a trailing newline).
#[test]
fn edit_form_multi_line_description() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('e'));
    for _ in 0..4 {
        key(&mut a, KeyCode::Tab); // to Description
    }
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Enter);
    typ(&mut a, "  - indented: yes");
    let s = screen(&mut a, 80, 24);
    let rows: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("Description:"))
        .collect();
    assert!(
        rows[1].trim_end().ends_with('│') && rows[2].contains("  - indented: yes"),
        "{s}"
    );
    key(&mut a, KeyCode::Enter);
    typ(&mut a, "last");
    // Back up one line and fix a word there.
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::End);
    typ(&mut a, "!");
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("Ctrl+S save"), "{s}");
    check("form_multi_line", &s);
    ctrl(&mut a, 's');
    assert!(a.modal.is_none(), "{:?}", a.toast);
    let want = "A line of description.\n\n  - indented: yes!\nlast";
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    let it = t.load(&t.resolve(B).unwrap()).unwrap();
    assert_eq!(it.description, want);
    // The op holds what the reference writes for it (one double-quoted
    // line with `\n` escapes), the writer the CLI uses.
    let text = std::fs::read_to_string(t.resolve(B).unwrap().path).unwrap();
    let op = text.split("- op: update").nth(1).expect("an update op");
    let line = r#"description: "A line of description.\n\n  - indented: yes!\nlast""#;
    assert_eq!(
        line,
        format!("description: {}", htrac::oplog::emit::double_quoted(want))
    );
    assert!(op.contains(line), "{op}");
    // Reopened, the form shows the first lines, and all once focused.
    key(&mut a, KeyCode::Char('e'));
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("- indented: yes!") && s.contains("… 1 more line "),
        "{s}"
    );
    key(&mut a, KeyCode::BackTab);
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("- indented: yes!") && s.contains(" last"), "{s}");
}

/// In the annotator, `l` starts a label at the keyboard cursor; a click
/// while its text is typed moves it to the clicked cell, no mode change
/// needed, and Enter places it there.
#[test]
fn annotator_click_places_the_label_being_typed() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Char('S'));
    key(&mut a, KeyCode::Char('l'));
    typ(&mut a, "look");
    click(&mut a, 5, 3);
    typ(&mut a, " here");
    let s = screen(&mut a, 80, 24);
    let row = s.lines().nth(3).unwrap();
    let from5: String = row.chars().skip(5).collect();
    assert!(from5.starts_with("[1] look here"), "{s}");
    assert!(s.contains("a click moves it"), "{s}");
    check("annotate_label_click", &s);
    key(&mut a, KeyCode::Enter);
    let ann = a.annotate.as_ref().unwrap();
    assert!(matches!(
        &ann.shapes[..],
        [crate::annotate::Shape::Label { x: 5, y: 3, n: 1, text }] if text == "look here"
    ));
}

/// Ctrl+E opens the edit-mode window (the library's defaults: 30 minutes,
/// 500 edits), the footer says so, and Ctrl+E again closes it.
#[test]
fn ctrl_e_toggles_edit_mode() {
    let fx = fixture();
    let mut a = app(&fx);
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    assert!(!t.edit_mode_status().unwrap().on);
    ctrl(&mut a, 'e');
    let w = t.edit_mode_status().unwrap();
    assert!(w.on && w.ttl_seconds == 1800 && w.cap_max == 500, "{w:?}");
    let s = screen(&mut a, 100, 24);
    assert!(
        s.contains("✎ EDIT MODE 30 min left, 0/500 edits (Ctrl+E ends)"),
        "{s}"
    );
    assert!(s.contains("edit mode ON for 30 min"), "{s}");
    check("edit_mode_on", &s);
    ctrl(&mut a, 'e');
    assert!(!t.edit_mode_status().unwrap().on);
    let s = screen(&mut a, 100, 24);
    assert!(
        !s.contains("EDIT MODE") && s.contains("edit mode OFF"),
        "{s}"
    );
}

/// `F` lists five favourites; `s` saves the current filter in the slot
/// under the cursor, 1–5 apply one; they survive a restart.
#[test]
fn filter_favourites_save_recall_and_persist() {
    let fx = fixture();
    let prefs = fx.dir.path().join("prefs/tui.json");
    let open = || {
        crate::app::App::new(
            htrac::Tracker::open(&fx.root()).unwrap(),
            Some(prefs.clone()),
        )
    };
    let mut a = open();
    let titles = |a: &crate::app::App| -> Vec<String> {
        a.rows
            .iter()
            .filter(|r| !r.ghost && !r.forced)
            .map(|r| a.items[r.idx].title.clone())
            .collect()
    };
    // Hide "done" and the canonical tier, then save that as favourite 2.
    key(&mut a, KeyCode::Char('f'));
    key(&mut a, KeyCode::Char('5')); // done
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('2')); // canonical, after the "Fav 5" entry done
    key(&mut a, KeyCode::Char('F'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('s'));
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("› [2] hides done · tiers canonical") && s.contains("[1] (empty)"),
        "{s}"
    );
    check("filter_favourites", &s);
    key(&mut a, KeyCode::Esc);
    assert!(a.modal.is_none());
    // Clear the filter by hand: everything shows again.
    a.filters = crate::logic::Filters::default();
    a.refilter(None);
    assert_eq!(titles(&a).len(), 5);
    // Favourite 1 is empty (said so); favourite 2 brings the filter back.
    key(&mut a, KeyCode::Char('F'));
    key(&mut a, KeyCode::Char('1'));
    assert!(a
        .toast
        .as_ref()
        .unwrap()
        .text
        .contains("favourite 1 is empty"));
    assert_eq!(titles(&a).len(), 5);
    key(&mut a, KeyCode::Char('F'));
    key(&mut a, KeyCode::Char('2'));
    assert!(a.modal.is_none());
    assert!(!titles(&a).contains(&"Release checklist".to_string()));
    assert!(a.filters.hidden_statuses.contains("done"));
    // A new session has the favourite.
    let mut b = open();
    b.filters = crate::logic::Filters::default();
    b.refilter(None);
    key(&mut b, KeyCode::Char('F'));
    key(&mut b, KeyCode::Char('2'));
    assert!(b.filters.hidden_tiers.contains("canonical"));
    // x clears a slot.
    key(&mut b, KeyCode::Char('F'));
    key(&mut b, KeyCode::Down);
    key(&mut b, KeyCode::Char('x'));
    key(&mut b, KeyCode::Esc);
    assert!(open().favourites[1].is_none());
}
