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
    DetailUp,
    DetailDown,
    DetailPageUp,
    DetailPageDown,
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
    /// Tab: the filter panel's next section, else the detail's next link.
    NextSection,
    /// Shift+Tab: the previous section, else the previous link.
    PrevLink,
    HistoryBack,
    HistoryForward,
    Favourites,
    EditMode,
}

/// The reference's key set (plus `r` read/unread and `/` text filter).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    use Action::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Copy,
        KeyCode::Char('e') if ctrl => EditMode,
        _ if ctrl => return None,
        KeyCode::Left if alt => HistoryBack,
        KeyCode::Right if alt => HistoryForward,
        KeyCode::Char('[') => HistoryBack,
        KeyCode::Char(']') => HistoryForward,
        KeyCode::Char('F') => Favourites,
        KeyCode::Char('q') => Quit,
        KeyCode::Esc => Back,
        KeyCode::Up | KeyCode::Char('k') => Up,
        KeyCode::Down | KeyCode::Char('j') => Down,
        KeyCode::PageUp => PageUp,
        KeyCode::PageDown => PageDown,
        KeyCode::Char('J') => DetailDown,
        KeyCode::Char('K') => DetailUp,
        KeyCode::Char('}') => DetailPageDown,
        KeyCode::Char('{') => DetailPageUp,
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
        KeyCode::BackTab => PrevLink,
        _ => return None,
    })
}

/// Every key, for the help overlay and the README.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ j k PgUp PgDn g G", "move the cursor"),
    (
        "J K { }",
        "scroll the detail (line / page); in the compact detail ↑↓ PgUp PgDn",
    ),
    (
        "Enter",
        "open the selected link; compact: open the detail view",
    ),
    (
        "Tab Shift+Tab",
        "select the next / previous item ID (link) in the detail",
    ),
    (
        "Alt+← Alt+→ [ ]",
        "back / forward through the items opened by links",
    ),
    (
        "Esc",
        "back: drop the link selection, close the text filter, the detail or a modal",
    ),
    ("q", "quit (saves preferences)"),
    ("t", "table / tree by parent (standard and wide)"),
    (
        "f",
        "filter panel; 1–9 toggle its entries (★ Favorites first), Tab next section",
    ),
    (
        "F",
        "filter favourites: 1–5 apply one, s saves the filter in a slot",
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
    (
        "Ctrl+E",
        "edit mode on (30 min) / off: agents may edit messages",
    ),
    ("S", "screenshot and annotate"),
    ("?", "this help"),
    (
        "mouse",
        "click selects a row or opens a link, wheel scrolls",
    ),
];
