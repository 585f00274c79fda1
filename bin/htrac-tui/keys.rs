//! The key map: every key the list view understands, as an [`Action`],
//! and the help text for each (shown by `?` and in the README).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can ask for outside modals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    ToggleTree,
    ToggleFilters,
    TextFilter,
    OrderUp,
    OrderDown,
    Discuss,
    ClearDiscussion,
    MoveTier,
    New,
    Edit,
    Parent,
    Before,
    Lock,
    Freeze,
    Repair,
    ToggleIds,
    ToggleRead,
    Copy,
    Screenshot,
    Help,
    QuickToggle(usize),
    NextSection,
}

/// The reference's key set (plus `r` read/unread and `/` text filter).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    use Action::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Copy,
        _ if ctrl => return None,
        KeyCode::Char('q') => Quit,
        KeyCode::Esc => Back,
        KeyCode::Up | KeyCode::Char('k') => Up,
        KeyCode::Down | KeyCode::Char('j') => Down,
        KeyCode::PageUp => PageUp,
        KeyCode::PageDown => PageDown,
        KeyCode::Home | KeyCode::Char('g') => Home,
        KeyCode::End | KeyCode::Char('G') => End,
        KeyCode::Enter => Open,
        KeyCode::Char('t') => ToggleTree,
        KeyCode::Char('f') => ToggleFilters,
        KeyCode::Char('/') => TextFilter,
        KeyCode::Char('<') => OrderUp,
        KeyCode::Char('>') => OrderDown,
        KeyCode::Char('d') => Discuss,
        KeyCode::Char('D') => ClearDiscussion,
        KeyCode::Char('m') => MoveTier,
        KeyCode::Char('n') => New,
        KeyCode::Char('e') => Edit,
        KeyCode::Char('p') => Parent,
        KeyCode::Char('b') => Before,
        KeyCode::Char('l') => Lock,
        KeyCode::Char('z') => Freeze,
        KeyCode::Char('R') => Repair,
        KeyCode::Char('i') => ToggleIds,
        KeyCode::Char('r') => ToggleRead,
        KeyCode::Char('S') => Screenshot,
        KeyCode::Char('?') => Help,
        KeyCode::Char(c @ '1'..='9') => QuickToggle(c as usize - '1' as usize),
        KeyCode::Tab => NextSection,
        _ => return None,
    })
}

/// Every key, for the help overlay and the README.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ j k PgUp PgDn g G", "move the cursor"),
    ("Enter", "compact: open the detail view"),
    (
        "Esc",
        "back: close the text filter, the detail view or a modal",
    ),
    ("q", "quit (saves preferences)"),
    ("t", "table / tree by parent (standard and wide)"),
    (
        "f",
        "filter panel; 1–9 toggle its entries, Tab next section",
    ),
    ("/", "live text filter (title, status, kind, ID, tags)"),
    ("< >", "move the item up/down in the custom order"),
    (
        "n",
        "new item (kind, title, status, priority, tier, description)",
    ),
    ("e", "edit (only changed fields are written)"),
    ("d", "discuss (wide: the inline message box)"),
    ("D", "clear the discussion (confirm)"),
    ("m", "move tier (promote, demote, stealth, unstealth)"),
    ("p", "set the parent (empty clears)"),
    ("b", "before-links: add / remove IDs"),
    ("l", "lock / unlock fields"),
    ("z", "freeze / unfreeze"),
    ("R", "repair drift of a frozen item (confirm)"),
    ("i", "short / full IDs"),
    ("r", "mark read / unread"),
    ("Ctrl+C", "copy the detail text (OSC 52)"),
    ("S", "screenshot and annotate"),
    ("?", "this help"),
    ("mouse", "click selects, wheel scrolls"),
];
