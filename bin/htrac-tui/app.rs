//! The TUI's state and its key handling: the item snapshot, the
//! visible rows, the cursor, filters, toggles, the open modal, toasts.
//! Keys map to [`Action`]s (`action_for`), which `App::run` performs (the
//! mouse is in `mouse`);
//! writes go through `actions` and always through the htrac library.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use htrac::{Item, Tracker};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::annotate::Annotator;
pub use crate::filters::FILTER_SECTIONS;
use crate::forms::{Confirm, Form, FormEvent};
pub use crate::keys::{action_for, Action, KEYS};
use crate::logic::{self, Chain, Filters, Layout, Links, ReadMark, Row};
use crate::nav::{History, Hit};
use crate::prefs::Prefs;

/// A short message in the corner.
#[derive(Debug, Clone)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

/// What is on top of the list.
#[derive(Debug, Clone)]
pub enum Modal {
    Form(Form),
    Confirm(Confirm, String),
    Help,
    /// The filter favourites, the cursor on a slot.
    Favourites(usize),
}

/// The TUI's state.
pub struct App {
    pub tracker: Tracker,
    pub items: Vec<Item>,
    pub broken: usize,
    pub rows: Vec<Row>,
    pub cursor: usize,
    pub scroll: usize,
    /// Lines the detail view is scrolled down (reset when the cursor moves).
    pub detail_scroll: u16,
    /// The furthest the detail can scroll, as last drawn.
    pub detail_max: std::cell::Cell<u16>,
    pub links: Links,
    pub chain: Option<(String, Chain)>,
    /// The shown length of every ID (see `logic::short_lens`).
    pub id_lens: std::collections::HashMap<String, usize>,
    pub full_ids: bool,
    pub tree: bool,
    pub filter_panel: bool,
    /// The filter panel's section: statuses, kinds, tiers, tags.
    pub filter_section: usize,
    /// `Some` while the text filter input has the keyboard.
    pub text_input: bool,
    pub filters: Filters,
    pub order: Vec<String>,
    pub marks: BTreeMap<String, ReadMark>,
    pub detail_open: bool,
    pub modal: Option<Modal>,
    /// Wide layout: the inline message box has the keyboard, for this item.
    pub chat: Option<(String, String)>,
    pub toast: Option<Toast>,
    pub annotate: Option<Annotator>,
    pub size: (u16, u16),
    pub quit: bool,
    pub prefs_path: Option<PathBuf>,
    /// Text to put on the clipboard (the main loop writes OSC 52).
    pub clipboard: Option<String>,
    /// The last frame drawn, for screenshots.
    pub last_frame: Option<Buffer>,
    /// Where the list rows were drawn (first row's area), for mouse clicks.
    pub list_area: Rect,
    pub filter_area: Rect,
    /// The selected link of the detail pane (see `nav`).
    pub link: Option<usize>,
    /// A link was selected by key: scroll the detail to it when drawing.
    pub reveal_link: bool,
    /// Where the links were drawn, for clicks.
    pub link_hits: Vec<Hit>,
    /// Items visited through links (Alt+← / Alt+→).
    pub history: History,
    /// What counts as an item ID in text (from the configured kinds).
    pub id_pattern: Option<htrac::items::ids::IdPattern>,
    /// The five filter favourites.
    pub favourites: Vec<Option<Filters>>,
    /// Filter toggles counted per run, for the "Fav 5".
    pub toggles: crate::toggles::ToggleHistory,
    /// The edit-mode window as last read, and when.
    pub edit_window: Option<(htrac::tracker::editmode::Window, Instant)>,
}

impl App {
    pub fn new(tracker: Tracker, prefs_path: Option<PathBuf>) -> App {
        let prefs = prefs_path.as_deref().map(Prefs::load).unwrap_or_default();
        let id_pattern = htrac::items::ids::IdPattern::for_config(&tracker.config);
        let mut app = App {
            tracker,
            items: Vec::new(),
            broken: 0,
            rows: Vec::new(),
            cursor: 0,
            scroll: 0,
            detail_scroll: 0,
            detail_max: std::cell::Cell::new(u16::MAX),
            links: Links::new(&[]),
            chain: None,
            id_lens: Default::default(),
            full_ids: prefs.full_ids,
            tree: prefs.tree,
            filter_panel: false,
            filter_section: 0,
            text_input: false,
            filters: Filters {
                hidden_statuses: prefs.hidden_statuses,
                hidden_kinds: prefs.hidden_kinds,
                hidden_tiers: prefs.hidden_tiers,
                hidden_tags: prefs.hidden_tags,
                hide_tagged: prefs.hide_tagged,
                text: String::new(),
            },
            order: prefs.display_order,
            marks: prefs.read_marks,
            detail_open: false,
            modal: None,
            chat: None,
            toast: None,
            annotate: None,
            size: (80, 24),
            quit: false,
            prefs_path,
            clipboard: None,
            last_frame: None,
            list_area: Rect::default(),
            filter_area: Rect::default(),
            link: None,
            reveal_link: false,
            link_hits: Vec::new(),
            history: History::default(),
            id_pattern,
            favourites: prefs.favourites,
            toggles: crate::toggles::ToggleHistory::new(prefs.toggle_sessions),
            edit_window: None,
        };
        app.reload();
        app
    }

    pub fn layout(&self) -> Layout {
        logic::layout_for(self.size.0, self.size.1)
    }

    /// Re-reads every item, keeping the cursor on the same item.
    pub fn reload(&mut self) {
        let keep = self.selected().map(|i| i.id.clone());
        match self.tracker.snapshot() {
            Ok(snap) => {
                self.broken = snap.broken.len();
                self.items = snap.sorted().items;
            }
            Err(e) => self.error(&e),
        }
        self.links = Links::new(&self.items);
        let ids: Vec<&str> = self.items.iter().map(|i| i.id.as_str()).collect();
        self.id_lens = logic::short_lens(&ids);
        self.chain = None;
        self.edit_window = self
            .tracker
            .edit_mode_status()
            .ok()
            .map(|w| (w, Instant::now()));
        self.refilter(keep.as_deref());
        // Links may have changed (an ID added to the text, an item gone).
        if self.link.is_some_and(|l| l >= self.current_links().len()) {
            self.link = None;
        }
    }

    /// Seconds left in the edit-mode window (None when it is closed).
    pub fn edit_mode_left(&self) -> Option<i64> {
        let (w, read) = self.edit_window.as_ref()?;
        let left = w.remaining_s - read.elapsed().as_secs() as i64;
        (w.on && left > 0).then_some(left)
    }

    /// Recomputes the rows after a filter, order or mode change.
    pub fn refilter(&mut self, keep: Option<&str>) {
        let keep = keep
            .map(str::to_string)
            .or_else(|| self.selected().map(|i| i.id.clone()));
        self.rows = logic::rows(
            &self.items,
            &self.filters,
            &self.order,
            &self.marks,
            self.tree,
        );
        self.cursor = keep
            .and_then(|id| self.rows.iter().position(|r| self.items[r.idx].id == id))
            .unwrap_or_else(|| self.cursor.min(self.rows.len().saturating_sub(1)));
        self.update_chain();
    }

    /// The chain of the selected item, and its hidden members as ghost rows.
    fn update_chain(&mut self) {
        let Some(row) = self.rows.get(self.cursor).copied() else {
            self.chain = None;
            return;
        };
        if row.ghost {
            return;
        }
        self.rows.retain(|r| !r.ghost);
        let id = self.items[row.idx].id.clone();
        let chain = self.links.chain(&id);
        for member in chain.members() {
            if self.rows.iter().any(|r| &self.items[r.idx].id == member) {
                continue;
            }
            if let Some(idx) = self.items.iter().position(|i| &i.id == member) {
                self.rows.push(Row {
                    idx,
                    depth: 0,
                    forced: false,
                    ghost: true,
                });
            }
        }
        self.chain = Some((id, chain));
    }

    pub fn selected(&self) -> Option<&Item> {
        self.rows.get(self.cursor).map(|r| &self.items[r.idx])
    }

    pub fn short_id<'a>(&self, id: &'a str) -> &'a str {
        if self.full_ids {
            id
        } else {
            match self.id_lens.get(id) {
                Some(&n) => logic::shorten(id, n),
                None => id,
            }
        }
    }

    pub fn toast(&mut self, text: impl Into<String>) {
        self.toast = Some(Toast {
            text: text.into(),
            error: false,
            until: Instant::now() + Duration::from_secs(4),
        });
    }

    /// A toast in the error colour.
    pub fn toast_error(&mut self, text: impl Into<String>) {
        self.toast = Some(Toast {
            text: text.into(),
            error: true,
            until: Instant::now() + Duration::from_secs(6),
        });
    }

    pub fn error(&mut self, e: &htrac::Error) {
        let mut text = e.text(form_label);
        if let Some(h) = &e.hint {
            text.push_str("\nhint: ");
            text.push_str(h);
        }
        self.toast = Some(Toast {
            text,
            error: true,
            until: Instant::now() + Duration::from_secs(8),
        });
    }

    pub fn tick(&mut self) {
        if self
            .toast
            .as_ref()
            .is_some_and(|t| Instant::now() > t.until)
        {
            self.toast = None;
        }
    }

    pub fn move_cursor(&mut self, to: usize) {
        if self.rows.is_empty() {
            return;
        }
        let to = to.min(self.rows.len() - 1);
        if to != self.cursor {
            self.detail_scroll = 0;
            self.link = None;
        }
        self.cursor = to;
        self.update_chain();
    }

    /// Scrolls the detail view by `by` lines (negative: up); the view
    /// stops at the last line.
    pub fn scroll_detail(&mut self, by: i32) {
        let next = (self.detail_scroll as i32 + by).max(0);
        self.detail_scroll = next.min(self.detail_max.get() as i32) as u16;
    }

    fn page(&self) -> usize {
        (self.list_area.height as usize).max(1)
    }

    /// Moves the selected item one row up (-1) or down (+1) in the custom order.
    fn reorder(&mut self, delta: isize) {
        let Some(row) = self.rows.get(self.cursor).copied() else {
            return;
        };
        let other = self.cursor as isize + delta;
        if other < 0 || other as usize >= self.rows.len() || self.rows[other as usize].ghost {
            return;
        }
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .filter(|r| !r.ghost)
            .map(|r| self.items[r.idx].id.clone())
            .collect();
        ids.swap(self.cursor, other as usize);
        // Keep the relative order of items not shown, after the shown ones.
        for id in &self.order {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        self.order = ids;
        let id = self.items[row.idx].id.clone();
        self.refilter(Some(&id));
        self.save_prefs();
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        if let Some(a) = self.annotate.as_mut() {
            match a.key(key) {
                crate::annotate::Outcome::Continue => {}
                crate::annotate::Outcome::Discard => {
                    self.annotate = None;
                    self.toast("screenshot discarded");
                }
                crate::annotate::Outcome::Save => {
                    let a = self.annotate.take().expect("annotating");
                    crate::actions::save_screenshot(self, &a);
                }
            }
            return;
        }
        if let Some(modal) = self.modal.take() {
            self.modal_key(modal, key);
            return;
        }
        if let Some((id, mut text)) = self.chat.take() {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => crate::actions::send_chat(self, &id, &text),
                KeyCode::Backspace => {
                    text.pop();
                    self.chat = Some((id, text));
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    text.push(c);
                    self.chat = Some((id, text));
                }
                _ => self.chat = Some((id, text)),
            }
            return;
        }
        if self.text_input {
            match key.code {
                KeyCode::Esc => {
                    self.text_input = false;
                    self.filters.text.clear();
                }
                KeyCode::Enter => self.text_input = false,
                KeyCode::Backspace => {
                    self.filters.text.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.filters.text.push(c)
                }
                KeyCode::Up | KeyCode::Down => {
                    self.text_input = false;
                    self.handle_key(key);
                    self.text_input = true;
                    return;
                }
                _ => {}
            }
            self.refilter(None);
            return;
        }
        if let Some(action) = action_for(key) {
            self.run(action);
        }
    }

    fn modal_key(&mut self, modal: Modal, key: KeyEvent) {
        match modal {
            Modal::Help => {}
            Modal::Favourites(at) => self.favourites_key(at, key),
            Modal::Confirm(what, text) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => crate::actions::confirm(self, what),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {}
                _ => self.modal = Some(Modal::Confirm(what, text)),
            },
            Modal::Form(mut form) => match form.key(key) {
                FormEvent::Cancel => {}
                FormEvent::Submit => crate::actions::submit(self, form),
                FormEvent::Changed(i) => {
                    crate::actions::form_changed(self, &mut form, i);
                    self.modal = Some(Modal::Form(form));
                }
                FormEvent::None => self.modal = Some(Modal::Form(form)),
            },
        }
    }

    pub fn run(&mut self, action: Action) {
        use Action::*;
        let layout = self.layout();
        match action {
            Quit => {
                self.save_prefs();
                self.quit = true;
            }
            Back => {
                if self.link.is_some() {
                    self.link = None;
                } else if !self.filters.text.is_empty() {
                    self.filters.text.clear();
                    self.refilter(None);
                } else if self.filter_panel {
                    self.filter_panel = false;
                } else {
                    self.detail_open = false;
                }
            }
            // In the full-screen detail the arrows read the detail.
            Up | Down | PageUp | PageDown if layout == Layout::Compact && self.detail_open => {
                let page = self.page().max(2) as u16 - 1;
                self.scroll_detail(match action {
                    Up => -1,
                    Down => 1,
                    PageUp => -(page as i32),
                    _ => page as i32,
                });
            }
            Up => self.move_cursor(self.cursor.saturating_sub(1)),
            Down => self.move_cursor(self.cursor + 1),
            PageUp => self.move_cursor(self.cursor.saturating_sub(self.page())),
            PageDown => self.move_cursor(self.cursor + self.page()),
            DetailDown => self.scroll_detail(1),
            DetailUp => self.scroll_detail(-1),
            DetailPageDown => self.scroll_detail(self.page().max(2) as i32 - 1),
            DetailPageUp => self.scroll_detail(-(self.page().max(2) as i32 - 1)),
            Home => self.move_cursor(0),
            End => self.move_cursor(usize::MAX),
            Open => {
                if let Some(l) = self.link.filter(|_| self.detail_visible()) {
                    self.follow_link(l);
                } else if layout == Layout::Compact && self.selected().is_some() {
                    self.detail_open = true;
                }
            }
            PrevLink if self.filter_panel => {
                let n = FILTER_SECTIONS.len();
                self.filter_section = (self.filter_section + n - 1) % n;
            }
            PrevLink => self.cycle_link(-1),
            HistoryBack => self.go_history(-1),
            HistoryForward => self.go_history(1),
            Favourites => {
                if layout == Layout::TooSmall {
                    return;
                }
                self.modal = Some(Modal::Favourites(0));
            }
            EditMode => crate::actions::toggle_edit_mode(self),
            ToggleTree => {
                if layout == Layout::Compact {
                    self.toast("the tree view needs a wider terminal (60×20)");
                } else {
                    self.tree = !self.tree;
                    self.refilter(None);
                    self.save_prefs();
                }
            }
            ToggleFilters => {
                if layout == Layout::Compact {
                    self.toast("the filter panel is not available in compact mode");
                } else {
                    self.filter_panel = !self.filter_panel;
                }
            }
            TextFilter => self.text_input = true,
            OrderUp => self.reorder(-1),
            OrderDown => self.reorder(1),
            NextSection => {
                if self.filter_panel {
                    self.filter_section = (self.filter_section + 1) % FILTER_SECTIONS.len();
                } else {
                    self.cycle_link(1);
                }
            }
            QuickToggle(n) => {
                if self.filter_panel {
                    self.toggle_filter(n);
                }
            }
            ToggleIds => {
                self.full_ids = !self.full_ids;
                self.save_prefs();
            }
            ToggleRead => {
                if let Some(item) = self.selected() {
                    let unread = logic::human_unread(item, &self.marks);
                    let mark = ReadMark {
                        read: unread,
                        discussion_len: item.discussion.len(),
                    };
                    let id = item.id.clone();
                    self.marks.insert(id.clone(), mark);
                    self.refilter(Some(&id));
                    self.save_prefs();
                    self.toast(if unread {
                        "marked read"
                    } else {
                        "marked unread"
                    });
                }
            }
            Help => self.modal = Some(Modal::Help),
            Copy => {
                if let Some(item) = self.selected() {
                    let text = crate::detail::detail_plain(self, item);
                    self.clipboard = Some(text);
                    self.toast("copied the detail text (OSC 52)");
                }
            }
            Screenshot => match self.last_frame.clone() {
                Some(frame) => {
                    let id = self.selected().map(|i| self.short_id(&i.id).to_string());
                    self.annotate = Some(Annotator::new(frame, id));
                }
                None => self.toast("nothing drawn yet"),
            },
            Discuss if layout == Layout::Wide => {
                if let Some(item) = self.selected() {
                    self.chat = Some((item.id.clone(), String::new()));
                }
            }
            New | Edit | Discuss | ClearDiscussion | MoveTier | Parent | Before | Lock | Freeze
            | Repair => crate::actions::start(self, action),
        }
    }
}

/// The form field a request field is typed in (errors name it so).
fn form_label(field: &str) -> String {
    match field {
        "title" => "Title",
        "parent" => "Parent",
        "add_isbefore" => "Add",
        "remove_isbefore" => "Remove",
        "add_tags" | "remove_tags" | "tags" => "Tags",
        "message" => "Message",
        f => f,
    }
    .to_string()
}
