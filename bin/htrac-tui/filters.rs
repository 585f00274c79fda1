//! The filter panel's entries (statuses, kinds, tiers, tags, with counts)
//! and their toggles, and the five filter favourites: a whole filter saved
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

impl App {
    /// The filter panel's entries in the current section: (key, label,
    /// hidden, count).
    pub fn filter_entries(&self) -> Vec<(FilterKey, String, bool, usize)> {
        let mut out = Vec::new();
        let count = |f: &dyn Fn(&Item) -> bool| self.items.iter().filter(|i| f(i)).count();
        match self.filter_section {
            1 => {
                for k in self.tracker.config.kind_names() {
                    let hidden = self.filters.hidden_kinds.contains(k);
                    let n = count(&|i: &Item| i.kind == k);
                    out.push((FilterKey::Kind(k.to_string()), k.to_string(), hidden, n));
                }
                return out;
            }
            2 => {
                for t in htrac::Tier::ALL {
                    let hidden = self.filters.hidden_tiers.contains(t.as_str());
                    let n = count(&|i: &Item| i.tier == t);
                    out.push((
                        FilterKey::Tier(t.as_str().into()),
                        t.as_str().into(),
                        hidden,
                        n,
                    ));
                }
                return out;
            }
            3 => return self.tag_entries(),
            _ => {}
        }
        for s in &self.tracker.config.statuses {
            let n = self.items.iter().filter(|i| &i.status == s).count();
            let hidden = self.filters.hidden_statuses.contains(s);
            out.push((FilterKey::Status(s.clone()), s.clone(), hidden, n));
        }
        out
    }

    fn tag_entries(&self) -> Vec<(FilterKey, String, bool, usize)> {
        let mut out = Vec::new();
        let tagged = self.items.iter().filter(|i| !i.tags.is_empty()).count();
        out.push((
            FilterKey::Tagged,
            "Tagged".into(),
            self.filters.hide_tagged,
            tagged,
        ));
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
        for t in tags {
            let n = self.items.iter().filter(|i| i.has_tag(&t)).count();
            let hidden = self.filters.hidden_tags.contains(&t);
            out.push((FilterKey::Tag(t.clone()), format!("#{t}"), hidden, n));
        }
        out
    }

    pub fn toggle_filter(&mut self, n: usize) {
        let Some((key, ..)) = self.filter_entries().into_iter().nth(n) else {
            return;
        };
        fn flip(set: &mut BTreeSet<String>, v: String) {
            if !set.remove(&v) {
                set.insert(v);
            }
        }
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
