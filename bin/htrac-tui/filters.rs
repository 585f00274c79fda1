//! The filter panel's entries (statuses, kinds, tiers, tags, with counts)
//! and their toggles, the "Fav 5" shown first (see `toggles`), and the
//! five filter favourites: a whole filter saved
//! in a slot (`F`, then `s`) and applied again with one key (`F`, then 1–5).

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use htrac::Item;

use crate::app::{App, Modal};
use crate::logic::Filters;

/// How many favourites there are.
pub const SLOTS: usize = 5;

/// The filter panel's sections, in Tab order.
pub const FILTER_SECTIONS: [&str; 4] = ["Statuses", "Kinds", "Tiers", "Tags"];

/// An entry of the filter panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKey {
    Status(String),
    Kind(String),
    Tier(String),
    Tagged,
    Tag(String),
}

/// A line of the filter panel: its entry, label, whether the entry hides
/// items, how many items it matches, and whether it is a favourite (★).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: FilterKey,
    pub label: String,
    pub hidden: bool,
    pub count: usize,
    pub fav: bool,
}

impl App {
    /// The entries of the current section, in order.
    fn section_keys(&self) -> Vec<FilterKey> {
        match self.filter_section {
            1 => self
                .tracker
                .config
                .kind_names()
                .into_iter()
                .map(|k| FilterKey::Kind(k.to_string()))
                .collect(),
            2 => htrac::Tier::ALL
                .iter()
                .map(|t| FilterKey::Tier(t.as_str().into()))
                .collect(),
            3 => {
                let mut tags: BTreeSet<String> = self
                    .tracker
                    .config
                    .well_known_tags
                    .iter()
                    .cloned()
                    .collect();
                for i in &self.items {
                    tags.extend(Item::string_list(&i.tags));
                }
                std::iter::once(FilterKey::Tagged)
                    .chain(tags.into_iter().map(FilterKey::Tag))
                    .collect()
            }
            _ => self
                .tracker
                .config
                .statuses
                .iter()
                .map(|s| FilterKey::Status(s.clone()))
                .collect(),
        }
    }

    /// One entry as the panel shows it. A favourite's label says what a
    /// kind or a tier is, as it stands outside its section.
    fn entry(&self, key: FilterKey, fav: bool) -> Entry {
        let f = &self.filters;
        let count = |m: &dyn Fn(&Item) -> bool| self.items.iter().filter(|i| m(i)).count();
        let (label, hidden, count) = match &key {
            FilterKey::Status(s) => (
                s.clone(),
                f.hidden_statuses.contains(s),
                count(&|i| &i.status == s),
            ),
            FilterKey::Kind(k) => (
                if fav { format!("kind {k}") } else { k.clone() },
                f.hidden_kinds.contains(k),
                count(&|i| &i.kind == k),
            ),
            FilterKey::Tier(t) => (
                if fav { format!("tier {t}") } else { t.clone() },
                f.hidden_tiers.contains(t),
                count(&|i| i.tier.as_str() == t),
            ),
            FilterKey::Tagged => (
                "Tagged".into(),
                f.hide_tagged,
                count(&|i| !i.tags.is_empty()),
            ),
            FilterKey::Tag(t) => (
                format!("#{t}"),
                f.hidden_tags.contains(t),
                count(&|i| i.has_tag(t)),
            ),
        };
        Entry {
            key,
            label,
            hidden,
            count,
            fav,
        }
    }

    /// The "Fav 5" entries (see `toggles`).
    pub fn fav_entries(&self) -> Vec<Entry> {
        let favs = self.toggles.favourites();
        favs.into_iter().map(|k| self.entry(k, true)).collect()
    }

    /// Every entry of the panel in the order the number keys follow: the
    /// favourites, then the current section's entries.
    pub fn filter_entries(&self) -> Vec<Entry> {
        let mut out = self.fav_entries();
        let keys = self.section_keys();
        out.extend(keys.into_iter().map(|k| self.entry(k, false)));
        out
    }

    /// The entry drawn on line `line` of the panel (under its title): the
    /// "Filters active" line, then the Favorites heading and favourites
    /// when there are any, then the section's heading and entries.
    pub fn filter_entry_at_line(&self, line: usize) -> Option<usize> {
        let favs = self.fav_entries().len();
        if favs == 0 {
            return line.checked_sub(2);
        }
        if (2..favs + 2).contains(&line) {
            Some(line - 2)
        } else {
            line.checked_sub(3).filter(|n| *n >= favs)
        }
    }

    /// Toggles entry `n` of `filter_entries`, counting the toggle.
    pub fn toggle_filter(&mut self, n: usize) {
        let Some(Entry { key, .. }) = self.filter_entries().into_iter().nth(n) else {
            return;
        };
        fn flip(set: &mut BTreeSet<String>, v: String) {
            if !set.remove(&v) {
                set.insert(v);
            }
        }
        self.toggles.record(&key);
        match key {
            FilterKey::Status(s) => flip(&mut self.filters.hidden_statuses, s),
            FilterKey::Tag(t) => flip(&mut self.filters.hidden_tags, t),
            FilterKey::Kind(k) => flip(&mut self.filters.hidden_kinds, k),
            FilterKey::Tier(t) => flip(&mut self.filters.hidden_tiers, t),
            FilterKey::Tagged => self.filters.hide_tagged = !self.filters.hide_tagged,
        }
        self.refilter(None);
        self.save_prefs();
    }
}

/// What a filter hides, in a few words (`hides done · #docs · /parser`).
pub fn summary(f: &Filters) -> String {
    let mut parts = Vec::new();
    let set = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    if !f.hidden_statuses.is_empty() {
        parts.push(format!("hides {}", set(&f.hidden_statuses)));
    }
    if !f.hidden_kinds.is_empty() {
        parts.push(format!("kinds {}", set(&f.hidden_kinds)));
    }
    if !f.hidden_tiers.is_empty() {
        parts.push(format!("tiers {}", set(&f.hidden_tiers)));
    }
    if f.hide_tagged {
        parts.push("tagged".into());
    }
    if !f.hidden_tags.is_empty() {
        let tags: Vec<String> = f.hidden_tags.iter().map(|t| format!("#{t}")).collect();
        parts.push(tags.join(" "));
    }
    if !f.text.is_empty() {
        parts.push(format!("/{}", f.text));
    }
    if parts.is_empty() {
        "no filter (shows everything)".into()
    } else {
        parts.join(" · ")
    }
}

impl App {
    /// Saves the current filter in slot `n` (0-based).
    pub fn save_favourite(&mut self, n: usize) {
        if n >= SLOTS {
            return;
        }
        self.favourites[n] = Some(self.filters.clone());
        self.save_prefs();
        self.toast(format!(
            "favourite {} saved: {}",
            n + 1,
            summary(&self.filters)
        ));
    }

    /// Applies the filter saved in slot `n` (0-based).
    pub fn recall_favourite(&mut self, n: usize) {
        match self.favourites.get(n).cloned().flatten() {
            Some(f) => {
                let text = summary(&f);
                self.filters = f;
                self.refilter(None);
                self.save_prefs();
                self.toast(format!("favourite {} applied: {text}", n + 1));
            }
            None => self.toast(format!(
                "favourite {} is empty: F, then s saves the current filter there",
                n + 1
            )),
        }
    }

    /// A key in the favourites list, whose cursor is on slot `at`.
    pub fn favourites_key(&mut self, at: usize, key: KeyEvent) {
        let keep = |app: &mut App, at: usize| app.modal = Some(Modal::Favourites(at));
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('F') => {}
            KeyCode::Char(c @ '1'..='5') => self.recall_favourite(c as usize - '1' as usize),
            KeyCode::Enter => self.recall_favourite(at),
            KeyCode::Up | KeyCode::Char('k') => keep(self, (at + SLOTS - 1) % SLOTS),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => keep(self, (at + 1) % SLOTS),
            KeyCode::Char('s') => {
                self.save_favourite(at);
                keep(self, at);
            }
            KeyCode::Char('x') | KeyCode::Delete | KeyCode::Backspace => {
                if self.favourites[at].take().is_some() {
                    self.save_prefs();
                    self.toast(format!("favourite {} cleared", at + 1));
                }
                keep(self, at);
            }
            _ => keep(self, at),
        }
    }
}
