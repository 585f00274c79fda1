//! Links in the detail pane: every item ID shown (children, parent,
//! blocked by / blocks, IDs in the description and the discussion) is
//! selected with Tab / Shift+Tab and opened with Enter or a click, with
//! back / forward history; an ID naming no item, or an item the filters
//! hide, is said so.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

use crate::app::App;
use crate::tests::{app, check, click, fixture, key, screen, select, Fixture, A, B, C, D};

fn alt(a: &mut App, code: KeyCode) {
    a.handle_key(KeyEvent::new(code, KeyModifiers::ALT));
}

fn selected(a: &App) -> &str {
    &a.selected().unwrap().id
}

/// B's description mentions C (shortened) and an ID no item has.
fn mention(fx: &Fixture) {
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    let f = t.resolve(B).unwrap();
    let mut ch = htrac::tracker::update::Changes::default();
    ch.set.insert(
        "description".into(),
        serde_json::json!("Needs WI-fohog-lubid-nosat first.\nNot WI-nunun-nunun, it is gone."),
    );
    t.update(&f, &ch).unwrap();
}

#[test]
fn tab_selects_links_enter_opens_and_history_goes_back_and_forward() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, A);
    screen(&mut a, 80, 24);
    // A's links: its child C, then B, which is before it.
    let links: Vec<String> = a.current_links().into_iter().map(|l| l.text).collect();
    assert_eq!(links, vec![C.to_string(), B.to_string()]);
    key(&mut a, KeyCode::Tab);
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("link 1/2 → WI-fohog Child of the parser"), "{s}");
    // The selected link is drawn reversed, where a click would find it.
    let hit = a.link_hits.iter().find(|h| h.link == 0).copied().unwrap();
    let frame = a.last_frame.clone().unwrap();
    assert!(frame[(hit.x, hit.y)].modifier.contains(Modifier::REVERSED));
    assert!(!frame[(hit.x, hit.y)].modifier.contains(Modifier::DIM));
    // Tab and Shift+Tab wrap around.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.link, Some(0));
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.link, Some(1));
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.link, Some(0));
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected(&a), C);
    assert_eq!(a.link, None);
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("Parent") && s.contains(A), "{s}");
    assert!(s.contains("[2/2] Alt+←→ back/forward"), "{s}");
    check("links_followed", &s);
    // From C, its parent link goes back to A: a new history entry.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected(&a), A);
    assert_eq!(a.history.position(), Some((3, 3)));
    alt(&mut a, KeyCode::Left);
    assert_eq!(selected(&a), C);
    alt(&mut a, KeyCode::Left);
    assert_eq!(selected(&a), A);
    key(&mut a, KeyCode::Char('['));
    assert_eq!(selected(&a), A, "nothing before the first");
    assert!(a.toast.as_ref().unwrap().text.contains("no earlier item"));
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(selected(&a), C);
    // Moving the cursor by hand, then back: the hand-picked item becomes
    // an entry, so forward returns to it.
    select(&mut a, D);
    alt(&mut a, KeyCode::Left);
    assert_eq!(selected(&a), C);
    alt(&mut a, KeyCode::Right);
    assert_eq!(selected(&a), D);
}

#[test]
fn ids_in_the_text_are_links_and_a_missing_one_says_so() {
    let fx = fixture();
    mention(&fx);
    let mut a = app(&fx);
    select(&mut a, B);
    screen(&mut a, 80, 24);
    let links = a.current_links();
    let texts: Vec<&str> = links.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, vec![A, "WI-fohog-lubid-nosat", "WI-nunun-nunun"]);
    // The shortened mention names C; the other names nothing.
    assert_eq!(links[1].target.as_deref(), Some(C));
    assert_eq!(links[2].target, None);
    key(&mut a, KeyCode::BackTab); // the last link
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("link 3/3 → WI-nunun-nunun (no such item)"),
        "{s}"
    );
    // (The update's time is now: masked for the snapshot.)
    let s: Vec<String> = s
        .lines()
        .map(|l| match l.find(" Updated  ") {
            Some(i) => format!("{} Updated  <now>", &l[..i]),
            None => l.to_string(),
        })
        .collect();
    check("links_missing", &(s.join("\n") + "\n"));
    // A dangling link is drawn dim and crossed out.
    let hit = a.link_hits.iter().find(|h| h.link == 2).copied().unwrap();
    let frame = a.last_frame.clone().unwrap();
    assert!(frame[(hit.x, hit.y)]
        .modifier
        .contains(Modifier::CROSSED_OUT));
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected(&a), B, "nothing opened");
    let toast = a.toast.clone().unwrap();
    assert!(
        toast.error && toast.text.contains("WI-nunun-nunun: no such item"),
        "{toast:?}"
    );
    // Esc drops the selection first; a click on the mention opens C.
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.link, None);
    screen(&mut a, 80, 24);
    let hit = a.link_hits.iter().find(|h| h.link == 1).copied().unwrap();
    click(&mut a, hit.x + 2, hit.y);
    assert_eq!(selected(&a), C);
}

#[test]
fn an_item_the_filters_hide_opens_as_a_ghost_row() {
    let fx = fixture();
    let mut a = app(&fx);
    select(&mut a, A);
    // Hide C's status.
    a.filters.hidden_statuses.insert("in_progress".into());
    a.refilter(None);
    assert!(!a.rows.iter().any(|r| !r.ghost && a.items[r.idx].id == C));
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Tab); // C, the child
    key(&mut a, KeyCode::Enter);
    assert_eq!(selected(&a), C);
    assert!(a.rows[a.cursor].ghost);
    let toast = a.toast.clone().unwrap().text;
    assert!(toast.contains("hidden by the filters"), "{toast}");
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("Child of the parser"), "{s}");
}

#[test]
fn wide_activity_mentions_are_links_and_compact_needs_the_detail_open() {
    let fx = fixture();
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    t.discuss(&t.resolve(A).unwrap(), &format!("blocked on {B}?"), false)
        .unwrap();
    let mut a = app(&fx);
    select(&mut a, A);
    screen(&mut a, 160, 45);
    // Wide: the detail has C and B, the activity log the mention of B.
    assert_eq!(a.current_links().len(), 3);
    let first = a.link_hits.iter().find(|h| h.link == 0).copied().unwrap();
    let hit = a.link_hits.iter().find(|h| h.link == 2).copied().unwrap();
    assert!(hit.y > first.y + 5, "in the activity log: {hit:?}");
    click(&mut a, hit.x, hit.y);
    assert_eq!(selected(&a), B);
    // Compact list: the detail is not shown, Tab says how to get there.
    select(&mut a, A);
    screen(&mut a, 50, 18);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.link, None);
    assert!(a
        .toast
        .as_ref()
        .unwrap()
        .text
        .contains("open the detail view"));
    key(&mut a, KeyCode::Enter); // opens the detail
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter); // follows C
    assert_eq!(selected(&a), C);
    assert!(a.detail_open, "still in the detail view");
}
