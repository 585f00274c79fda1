//! Key-driven tests: each presses the keys a human would, then reads the
//! item back through the htrac library (and the ops file itself) to prove
//! exactly what was written — or, when governance refuses, that nothing was.

use crossterm::event::KeyCode;

use crate::tests::{app, ctrl, fixture, key, ops, screen, select, typ, A, B, D};

/// The item as the library reads it from disk (not the TUI's copy).
fn item(fx: &crate::tests::Fixture, id: &str) -> htrac::Item {
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    t.load(&t.resolve(id).unwrap()).unwrap()
}

#[test]
fn new_item_through_the_form() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Char('n'));
    // Kind is work_item; Tab to Title.
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "Ship the TUI");
    key(&mut a, KeyCode::Tab); // Status
    key(&mut a, KeyCode::Right); // todo_hard → todo_soft
    key(&mut a, KeyCode::Tab); // Priority
    key(&mut a, KeyCode::Backspace);
    typ(&mut a, "1");
    key(&mut a, KeyCode::Tab); // Tier
    key(&mut a, KeyCode::Tab); // Description: Enter is a new line there
    typ(&mut a, "from the keyboard");
    key(&mut a, KeyCode::Enter);
    typ(&mut a, "  and a second line");
    assert!(
        a.modal.is_some(),
        "Enter in the description does not submit"
    );
    ctrl(&mut a, 's');
    assert!(a.modal.is_none(), "form closed");
    let sel = a.selected().unwrap().clone();
    assert_eq!(sel.title, "Ship the TUI", "the new item is selected");
    let it = item(&fx, &sel.id);
    assert_eq!(it.status, "todo_soft");
    assert_eq!(it.priority, serde_json::json!(1));
    assert_eq!(it.description, "from the keyboard\n  and a second line");
    assert_eq!(it.tier, htrac::Tier::Workspace);
    let text = ops(&fx, &sel.id);
    assert!(text.starts_with("- op: create"), "{text}");
    assert!(screen(&mut a, 80, 24).contains("Ship the TUI"));
}

#[test]
fn new_item_with_a_bad_priority_keeps_the_form_and_writes_nothing() {
    let fx = fixture();
    let mut a = app(&fx);
    key(&mut a, KeyCode::Char('n'));
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "Bad one");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "9"); // "29"
    key(&mut a, KeyCode::Enter);
    assert!(a.modal.is_some(), "the form stays open");
    assert!(a.toast.as_ref().unwrap().text.contains("priority '29'"));
    a.reload();
    assert_eq!(a.items.len(), 5);
}

#[test]
fn edit_writes_only_changed_fields() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    let before = ops(&fx, B);
    key(&mut a, KeyCode::Char('e'));
    key(&mut a, KeyCode::Tab); // Priority
    key(&mut a, KeyCode::Tab); // Title
    typ(&mut a, " now");
    key(&mut a, KeyCode::Tab); // Tags
    typ(&mut a, "docs");
    key(&mut a, KeyCode::Enter);
    let after = ops(&fx, B);
    assert!(after.starts_with(&before), "append-only");
    let new = &after[before.len()..];
    assert!(new.starts_with("- op: update"), "{new}");
    assert!(new.contains("title: \"Write the README now\""), "{new}");
    assert!(new.contains("docs"), "{new}");
    for untouched in ["status:", "priority:", "description:"] {
        assert!(!new.contains(untouched), "{untouched} written:\n{new}");
    }
    let it = item(&fx, B);
    assert_eq!(it.title, "Write the README now");
    assert!(it.has_tag("docs"));
    // The cursor stayed on the edited item.
    assert_eq!(a.selected().unwrap().id, B);
    // Edit with no change writes nothing.
    key(&mut a, KeyCode::Char('e'));
    key(&mut a, KeyCode::Enter);
    assert_eq!(ops(&fx, B), after);
}

#[test]
fn discuss_appends_a_message() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, A);
    key(&mut a, KeyCode::Char('d'));
    typ(&mut a, "Use the safe loader");
    key(&mut a, KeyCode::Enter);
    let it = item(&fx, A);
    let last = it.discussion.last().unwrap();
    assert_eq!(last.message, "Use the safe loader");
    assert_eq!(last.by, "human");
    assert!(ops(&fx, A).contains("- op: discuss"));
    // The human answered last: no longer unread.
    assert!(!crate::logic::human_unread(&it, &a.marks));
}

#[test]
fn wide_inline_message_box_sends_to_the_item_it_was_opened_for() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 160, 45);
    select(&mut a, A);
    key(&mut a, KeyCode::Char('d'));
    typ(&mut a, "hi");
    assert!(screen(&mut a, 160, 45).contains("Message to WI-bahab-dadif"));
    key(&mut a, KeyCode::Enter);
    assert_eq!(item(&fx, A).discussion.last().unwrap().message, "hi");
}

#[test]
fn lock_and_unlock_fields() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('l'));
    typ(&mut a, "status, title");
    key(&mut a, KeyCode::Enter);
    let mut locked = item(&fx, B).locked_fields;
    locked.sort();
    assert_eq!(locked, vec!["status", "title"]);
    assert!(screen(&mut a, 80, 24).contains("[locked]"));
    key(&mut a, KeyCode::Char('l'));
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "title");
    key(&mut a, KeyCode::Enter);
    assert_eq!(item(&fx, B).locked_fields, vec!["status"]);
    let text = ops(&fx, B);
    assert!(text.contains("- op: lock") && text.contains("- op: unlock"));
}

#[test]
fn a_bad_lock_field_writes_nothing() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    let before = ops(&fx, B);
    key(&mut a, KeyCode::Char('l'));
    typ(&mut a, "status");
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "no_such_field");
    key(&mut a, KeyCode::Enter);
    assert!(a.toast.as_ref().unwrap().error);
    assert_eq!(ops(&fx, B), before, "nothing half-written");
}

#[test]
fn governance_refusals_show_the_rule_and_write_nothing() {
    let fx = fixture();
    let mut a = app(&fx);
    // The same process, seen as an agent user.
    a.tracker.actor =
        htrac::governance::actor::Actor::for_name("bot_agent", &a.tracker.config.agent_usernames);
    select(&mut a, B);
    let before = ops(&fx, B);
    key(&mut a, KeyCode::Char('l'));
    typ(&mut a, "status");
    key(&mut a, KeyCode::Enter);
    let t = a.toast.clone().unwrap();
    assert!(
        t.error && t.text.contains("requires human authority"),
        "{}",
        t.text
    );
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('z'));
    assert!(a
        .toast
        .clone()
        .unwrap()
        .text
        .contains("freeze requires human authority"));
    assert_eq!(ops(&fx, B), before);
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("requires human"), "{s}");
}

#[test]
fn move_tier_promotes() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('m'));
    key(&mut a, KeyCode::Enter); // "Promote to canonical"
    let it = item(&fx, B);
    assert_eq!(it.tier, htrac::Tier::Canonical);
    assert!(ops(&fx, B).contains("- op: promote"));
    assert!(fx.root().join(format!("tracker/.ops/.{B}.ops")).exists());
    assert_eq!(a.selected().unwrap().id, B, "cursor follows the item");
    assert_eq!(a.selected().unwrap().tier, htrac::Tier::Canonical);
}

#[test]
fn freeze_unfreeze_and_repair() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('z'));
    assert!(item(&fx, B).frozen);
    key(&mut a, KeyCode::Char('z'));
    assert!(!item(&fx, B).frozen);
    // D is frozen; make it drift, then repair (with confirmation).
    select(&mut a, D);
    let sentinel = std::fs::read_to_string(
        fx.root()
            .join(format!("tracker-workspace/.ops/.{D}.frozen")),
    )
    .unwrap();
    let path = fx.root().join(format!("tracker-workspace/.ops/.{D}.ops"));
    let mut drifted = sentinel.clone();
    drifted.push_str("- op: update  # ffff\n  at: '2026-01-03T00:00:00Z'  # ffff\n  by: agent  # ffff\n  actor: bot_agent  # ffff\n  clock: 2  # ffff\n  nonce: ffff  # ffff\n  set:  # ffff\n    title: \"sneaky\"  # ffff\n");
    std::fs::write(&path, drifted).unwrap();
    a.reload();
    assert!(screen(&mut a, 80, 24).contains("FROZEN (DRIFTED)"));
    key(&mut a, KeyCode::Char('R'));
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), sentinel);
    assert_eq!(item(&fx, D).title, "Every op line ends with its nonce");
}

#[test]
fn clear_discussion_asks_first() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, A);
    key(&mut a, KeyCode::Char('D'));
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(item(&fx, A).discussion.len(), 1);
    key(&mut a, KeyCode::Char('D'));
    key(&mut a, KeyCode::Char('y'));
    assert!(item(&fx, A).discussion.is_empty());
}

#[test]
fn parent_and_before_links_resolve_prefixes() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, B);
    key(&mut a, KeyCode::Char('p'));
    typ(&mut a, "zumov");
    key(&mut a, KeyCode::Enter);
    assert_eq!(item(&fx, B).parent.as_deref(), Some(D));
    key(&mut a, KeyCode::Char('b'));
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "WI-bahab-dad");
    key(&mut a, KeyCode::Enter);
    assert!(item(&fx, B).isbefore_ids().is_empty());
    // An ambiguous prefix is refused with the candidates listed.
    key(&mut a, KeyCode::Char('b'));
    typ(&mut a, "WI-bahab");
    key(&mut a, KeyCode::Enter);
    assert!(a.toast.clone().unwrap().text.contains("Ambiguous prefix"));
}

#[test]
fn text_filter_order_and_ids() {
    let fx = fixture();
    let mut a = app(&fx);
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "readme");
    // B matches; A is appended anyway: the agent wrote last (unread).
    let shown: Vec<(&str, bool)> = a
        .rows
        .iter()
        .filter(|r| !r.ghost)
        .map(|r| (a.items[r.idx].id.as_str(), r.forced))
        .collect();
    assert_eq!(shown, vec![(B, false), (A, true)]);
    assert!(screen(&mut a, 80, 24).contains("Filtering: readme"));
    let selected = a.selected().unwrap().id.clone();
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.rows.len(), 5);
    // The cursor stayed on its item; custom order: move the first row down.
    assert_eq!(a.selected().unwrap().id, selected);
    key(&mut a, KeyCode::Home);
    let first = a.selected().unwrap().id.clone();
    key(&mut a, KeyCode::Char('>'));
    assert_eq!(a.cursor, 1);
    assert_eq!(a.items[a.rows[1].idx].id, first);
    key(&mut a, KeyCode::Char('i'));
    assert!(screen(&mut a, 160, 45).contains(A), "full IDs");
}

#[test]
fn prefs_persist_between_sessions() {
    let fx = fixture();
    let prefs = fx.dir.path().join("prefs/tui.json");
    let mut a = crate::app::App::new(
        htrac::Tracker::open(&fx.root()).unwrap(),
        Some(prefs.clone()),
    );
    key(&mut a, KeyCode::Char('>'));
    key(&mut a, KeyCode::Char('i'));
    key(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
    let b = crate::app::App::new(htrac::Tracker::open(&fx.root()).unwrap(), Some(prefs));
    assert!(b.full_ids);
    assert_eq!(b.order, a.order);
    assert_eq!(b.items[b.rows[1].idx].id, a.items[a.rows[1].idx].id);
}

#[test]
fn screenshot_svg_parses_and_holds_the_annotations() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Char('S'));
    assert!(screen(&mut a, 80, 24).contains("ANNOTATE"));
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('a'));
    key(&mut a, KeyCode::Left);
    key(&mut a, KeyCode::Char(' '));
    key(&mut a, KeyCode::Char('l'));
    typ(&mut a, "look <here> & \"there\"");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Enter); // save
    let toast = a.toast.clone().unwrap().text;
    assert!(toast.starts_with("screenshot saved: "), "{toast}");
    let path = std::path::PathBuf::from(toast.trim_start_matches("screenshot saved: "));
    assert!(path.starts_with(fx.root().join("screenshots")));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("INV-zumov-") && name.ends_with("Z.svg"),
        "{name}"
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    // A real XML parser: the document is well-formed; count the shapes.
    let mut reader = quick_xml::Reader::from_str(&svg);
    let mut classes = Vec::new();
    let mut label_text = String::new();
    let mut in_label = false;
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                if let Some(c) = e.try_get_attribute("class").unwrap() {
                    let c = String::from_utf8(c.value.to_vec()).unwrap();
                    in_label = c == "annotation-label";
                    classes.push(c);
                }
            }
            quick_xml::events::Event::Text(t) if in_label => {
                label_text.push_str(&t.unescape().unwrap());
                in_label = false;
            }
            _ => {}
        }
    }
    for c in [
        "annotations",
        "annotation-rect",
        "annotation-arrow",
        "annotation-label",
    ] {
        assert!(classes.iter().any(|x| x == c), "no {c} in {classes:?}");
    }
    assert_eq!(label_text, "[1] look <here> & \"there\"");
    assert!(a.annotate.is_none());
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    let at = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: crossterm::event::KeyModifiers::NONE,
    };
    // Row 0 is the header; screen row 3 is the third item.
    a.handle_mouse(at(MouseEventKind::Down(MouseButton::Left), 5, 3));
    assert_eq!(a.cursor, 2);
    a.handle_mouse(at(MouseEventKind::ScrollDown, 5, 3));
    assert_eq!(a.cursor, 4, "the wheel moves by three, clamped");
    a.handle_mouse(at(MouseEventKind::ScrollUp, 5, 3));
    assert_eq!(a.cursor, 1);
    // A click on a filter panel entry toggles it.
    key(&mut a, KeyCode::Char('f'));
    let s = screen(&mut a, 80, 24);
    let row = s.lines().position(|l| l.contains("] done (")).unwrap() as u16;
    a.handle_mouse(at(MouseEventKind::Down(MouseButton::Left), 60, row));
    assert!(a.filters.hidden_statuses.contains("done"));
}

/// Start-up on 10,000 items: every item is loaded and listed, the first
/// frame draws, and the cursor moves. (Its speed is a `make bench` matter.)
#[test]
fn startup_on_10k_items() {
    let fx = fixture();
    let ws = fx.root().join("tracker-workspace/.ops");
    let consonants = b"bdfghjklmnprstvz";
    let vowels = b"aiou";
    let syl = |n: usize| {
        let c = |i: usize| consonants[i % 16] as char;
        let v = |i: usize| vowels[i % 4] as char;
        format!(
            "{}{}{}{}{}",
            c(n >> 12),
            v(n >> 10),
            c(n >> 6),
            v(n >> 4),
            c(n)
        )
    };
    for n in 0..10_000usize {
        let id = format!("WI-{}-{}", syl(n * 7919 % 65536), syl(n));
        let text = format!(
            "- op: create  # aaaa\n  at: '2026-01-01T00:00:00Z'  # aaaa\n  by: human  # aaaa\n  actor: amy  # aaaa\n  clock: 1  # aaaa\n  nonce: aaaa  # aaaa\n  data:  # aaaa\n    kind: work_item  # aaaa\n    title: \"item {n}\"  # aaaa\n    status: todo_hard  # aaaa\n    priority: {}  # aaaa\n",
            n % 5
        );
        std::fs::write(ws.join(format!(".{id}.ops")), text).unwrap();
    }
    let mut a = crate::app::App::new(htrac::Tracker::open(&fx.root()).unwrap(), None);
    assert!(a.items.len() >= 10_000, "{} items loaded", a.items.len());
    let first = screen(&mut a, 160, 45);
    let before = a.cursor;
    key(&mut a, KeyCode::Down);
    let second = screen(&mut a, 160, 45);
    assert_eq!(a.cursor, before + 1);
    assert_ne!(first, second, "the cursor move was not drawn");
}

#[test]
fn a_long_discussion_scrolls_in_the_detail() {
    let fx = fixture();
    {
        let t = htrac::Tracker::open(&fx.root()).unwrap();
        let f = t.resolve(A).unwrap();
        for n in 1..=30 {
            t.discuss(&f, &format!("message number {n:02}"), false)
                .unwrap();
        }
    }
    let mut a = app(&fx);
    select(&mut a, A);
    let first = screen(&mut a, 80, 24);
    assert!(
        first.contains("number 01") || first.contains("Discussion"),
        "{first}"
    );
    assert!(
        !first.contains("number 30"),
        "the end is below the fold:\n{first}"
    );
    assert!(first.contains("more ↓"), "{first}");
    for _ in 0..6 {
        key(&mut a, KeyCode::Char('}'));
        screen(&mut a, 80, 24);
    }
    let scrolled = screen(&mut a, 80, 24);
    assert!(scrolled.contains("number 30"), "{scrolled}");
    // Scrolling stops at the end, and K comes straight back up from there.
    let at_end = a.detail_scroll;
    key(&mut a, KeyCode::Char('J'));
    screen(&mut a, 80, 24);
    assert_eq!(a.detail_scroll, at_end);
    key(&mut a, KeyCode::Char('K'));
    assert_eq!(a.detail_scroll, at_end - 1);
    // Moving to another item starts its detail at the top.
    key(&mut a, KeyCode::Down);
    assert_eq!(a.detail_scroll, 0);
    // Compact: the full-screen detail scrolls with the arrows.
    select(&mut a, A);
    screen(&mut a, 50, 18);
    key(&mut a, KeyCode::Enter);
    assert!(a.detail_open);
    screen(&mut a, 50, 18);
    for _ in 0..40 {
        key(&mut a, KeyCode::PageDown);
        screen(&mut a, 50, 18);
    }
    assert!(screen(&mut a, 50, 18).contains("number 30"));
    assert_eq!(
        a.selected().unwrap().id,
        A,
        "the arrows did not move the cursor"
    );
}
