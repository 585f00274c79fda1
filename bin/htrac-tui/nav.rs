//! Item links in the detail pane and the navigation history: every item ID
//! the detail shows (parent, children, blocked by / blocks, duplicate of,
//! IDs in the description and the discussion) is a link; Tab / Shift+Tab
//! select one, Enter (or a click) opens it, Alt+← / Alt+→ (or `[` / `]`)
//! go back and forward, as a browser does.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use htrac::Item;

use crate::app::App;

/// One link of the detail pane, in the order they are drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The ID as the pane shows it (a mention may be shortened).
    pub text: String,
    /// The item it names, when the snapshot has exactly one.
    pub target: Option<String>,
}

/// Where a link was drawn: its cells on one screen row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub link: usize,
}

/// Browser-style history of the items visited through links: a push cuts
/// the forward entries, the same ID twice in a row is one entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    ids: Vec<String>,
    /// Index of the current entry (meaningless while `ids` is empty).
    at: usize,
}

impl History {
    pub fn current(&self) -> Option<&str> {
        self.ids.get(self.at).map(String::as_str)
    }

    pub fn push(&mut self, id: &str) {
        if self.current() == Some(id) {
            return;
        }
        if !self.ids.is_empty() {
            self.ids.truncate(self.at + 1);
        }
        self.ids.push(id.to_string());
        self.at = self.ids.len() - 1;
    }

    pub fn back(&mut self) -> Option<&str> {
        if self.at == 0 || self.ids.is_empty() {
            return None;
        }
        self.at -= 1;
        self.current()
    }

    pub fn forward(&mut self) -> Option<&str> {
        if self.at + 1 >= self.ids.len() {
            return None;
        }
        self.at += 1;
        self.current()
    }

    /// `(position, depth)`, 1-based, for the footer's `[2/4]`.
    pub fn position(&self) -> Option<(usize, usize)> {
        (!self.ids.is_empty()).then_some((self.at + 1, self.ids.len()))
    }
}

impl App {
    /// The item `id` names in the snapshot: the item with that ID, or the
    /// only one it is a prefix of (the library's rule).
    pub fn item_named(&self, id: &str) -> Option<&Item> {
        if self.id_lens.contains_key(id) {
            return self.items.iter().find(|i| i.id == id);
        }
        let mut found = self
            .items
            .iter()
            .filter(|i| htrac::items::ids::prefix_matches(&i.id, id));
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// A link span for `id`, added to `links`: underlined, dim when it
    /// names no item, reversed when it is the selected link.
    pub fn link_span(&self, links: &mut Vec<Link>, id: &str, base: Style) -> Span<'static> {
        let target = self.item_named(id).map(|i| i.id.clone());
        let mut style = base.add_modifier(Modifier::UNDERLINED);
        style = if target.is_some() {
            style.fg(Color::Cyan)
        } else {
            style.add_modifier(Modifier::DIM | Modifier::CROSSED_OUT)
        };
        if self.link == Some(links.len()) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        links.push(Link {
            text: id.to_string(),
            target,
        });
        Span::styled(id.to_string(), style)
    }

    /// `text` as spans, each item ID in it a link.
    pub fn linkify(&self, links: &mut Vec<Link>, text: &str, base: Style) -> Vec<Span<'static>> {
        let Some(pattern) = &self.id_pattern else {
            return vec![Span::styled(text.to_string(), base)];
        };
        let mut out = Vec::new();
        let mut done = 0;
        for r in pattern.find(text) {
            if r.start > done {
                out.push(Span::styled(text[done..r.start].to_string(), base));
            }
            out.push(self.link_span(links, &text[r.clone()], base));
            done = r.end;
        }
        if done < text.len() || out.is_empty() {
            out.push(Span::styled(text[done..].to_string(), base));
        }
        out
    }

    /// Whether the detail pane is on screen.
    pub fn detail_visible(&self) -> bool {
        match self.layout() {
            crate::logic::Layout::Compact => self.detail_open,
            crate::logic::Layout::TooSmall => false,
            _ => true,
        }
    }

    /// The links of the selected item's detail (and, in the wide layout,
    /// its activity log), in drawing order.
    pub fn current_links(&self) -> Vec<Link> {
        let Some(item) = self.selected() else {
            return Vec::new();
        };
        let wide = self.layout() == crate::logic::Layout::Wide;
        let mut links = Vec::new();
        crate::detail::detail_lines(self, item, !wide, &mut links);
        if wide {
            crate::detail::activity_lines(self, item, &mut links);
        }
        links
    }

    /// Selects the next (`+1`) or previous (`-1`) link, wrapping around,
    /// and scrolls the detail to it.
    pub fn cycle_link(&mut self, delta: isize) {
        if !self.detail_visible() {
            self.toast("open the detail view first (Enter) to follow its links");
            return;
        }
        let n = self.current_links().len();
        if n == 0 {
            self.link = None;
            self.toast("no item IDs in this detail");
            return;
        }
        let next = match self.link {
            Some(i) => (i as isize + delta).rem_euclid(n as isize) as usize,
            None if delta > 0 => 0,
            None => n - 1,
        };
        self.link = Some(next);
        self.reveal_link = true;
    }

    /// Opens the selected link's item.
    pub fn follow_link(&mut self, index: usize) {
        let Some(link) = self.current_links().into_iter().nth(index) else {
            return;
        };
        let Some(id) = link
            .target
            .clone()
            .or_else(|| self.resolve_on_disk(&link.text))
        else {
            return;
        };
        if let Some(cur) = self.selected().map(|i| i.id.clone()) {
            if self.history.current() != Some(cur.as_str()) {
                self.history.push(&cur);
            }
        }
        if self.show_item(&id) {
            self.history.push(&id);
        }
    }

    /// What the snapshot does not name, the tracker may (a file written
    /// since); says why not otherwise.
    fn resolve_on_disk(&mut self, text: &str) -> Option<String> {
        match self.tracker.resolve(text) {
            Ok(file) => {
                self.reload();
                Some(file.id)
            }
            Err(e) if e.kind == htrac::error::ErrorKind::NotFound => {
                self.toast_error(format!(
                    "{text}: no such item (deleted, or never created here)"
                ));
                None
            }
            Err(e) => {
                self.error(&e);
                None
            }
        }
    }

    /// Selects item `id`: its row if the filters show it, else a ghost row
    /// (said in a toast). False when the snapshot does not have it.
    pub fn show_item(&mut self, id: &str) -> bool {
        let Some(idx) = self.items.iter().position(|i| i.id == id) else {
            self.toast_error(format!(
                "{id}: cannot be shown (its file is unreadable: htrac validate)"
            ));
            return false;
        };
        let pos = match self.rows.iter().position(|r| r.idx == idx) {
            Some(p) => {
                if self.rows[p].ghost {
                    self.toast(format!("{} is hidden by the filters", self.short_id(id)));
                }
                p
            }
            None => {
                self.rows.push(crate::logic::Row {
                    idx,
                    depth: 0,
                    forced: false,
                    ghost: true,
                });
                self.toast(format!(
                    "{} is hidden by the filters: shown as a ghost row (f opens the filters)",
                    self.short_id(id)
                ));
                self.rows.len() - 1
            }
        };
        self.move_cursor(pos);
        self.link = None;
        true
    }

    /// Back (`-1`) or forward (`+1`) in the history.
    pub fn go_history(&mut self, delta: isize) {
        let cur = self.selected().map(|i| i.id.clone());
        // Looking at something else than the history's current entry:
        // it becomes an entry, so forward comes back to it.
        if let Some(cur) = &cur {
            if self.history.current().is_some() && self.history.current() != Some(cur.as_str()) {
                self.history.push(cur);
            }
        }
        let target = if delta < 0 {
            self.history.back()
        } else {
            self.history.forward()
        }
        .map(str::to_string);
        match target {
            Some(id) if self.items.iter().any(|i| i.id == id) => {
                self.show_item(&id);
            }
            Some(id) => self.toast_error(format!("{id}: no such item any more")),
            None => self.toast(if delta < 0 {
                "no earlier item in the history"
            } else {
                "no later item in the history"
            }),
        }
    }

    /// The link drawn at a screen cell, if any.
    pub fn link_at(&self, column: u16, row: u16) -> Option<usize> {
        self.link_hits
            .iter()
            .find(|h| h.y == row && column >= h.x && column < h.x + h.width)
            .map(|h| h.link)
    }
}

/// Where the links landed in a drawn area: runs of underlined cells, matched
/// in order to the links' texts (a link wrapped over two rows gives two
/// runs; links scrolled out of view are skipped).
pub fn find_hits(
    buf: &ratatui::buffer::Buffer,
    area: ratatui::layout::Rect,
    links: &[Link],
    first: usize,
) -> Vec<Hit> {
    let mut runs: Vec<(u16, u16, String)> = Vec::new();
    for y in area.y..area.y + area.height {
        let mut x = area.x;
        while x < area.x + area.width {
            let start = x;
            let mut text = String::new();
            while x < area.x + area.width && buf[(x, y)].modifier.contains(Modifier::UNDERLINED) {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            if text.is_empty() {
                x += 1;
            } else {
                runs.push((start, y, text));
            }
        }
    }
    let mut hits = Vec::new();
    let mut next = first;
    // The link being continued on the next row, and how much of it was seen.
    let mut open: Option<(usize, usize)> = None;
    for (x, y, text) in runs {
        let width = text.chars().count() as u16;
        if let Some((i, seen)) = open {
            if links[i].text[seen..].starts_with(&text) {
                hits.push(Hit {
                    x,
                    y,
                    width,
                    link: i,
                });
                let seen = seen + text.len();
                open = (seen < links[i].text.len()).then_some((i, seen));
                continue;
            }
            open = None;
        }
        let Some(i) = (next..links.len()).find(|&i| {
            links[i].text.starts_with(&text) || (hits.is_empty() && links[i].text.ends_with(&text))
        }) else {
            continue;
        };
        hits.push(Hit {
            x,
            y,
            width,
            link: i,
        });
        if links[i].text.starts_with(&text) && text.len() < links[i].text.len() {
            open = Some((i, text.len()));
        }
        next = i + 1;
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_browser_like() {
        let mut h = History::default();
        assert_eq!(h.back(), None);
        h.push("A");
        h.push("A"); // a double click is one entry
        h.push("B");
        h.push("C");
        assert_eq!(h.position(), Some((3, 3)));
        assert_eq!(h.back(), Some("B"));
        assert_eq!(h.back(), Some("A"));
        assert_eq!(h.back(), None);
        assert_eq!(h.forward(), Some("B"));
        h.push("D"); // cuts C
        assert_eq!(h.forward(), None);
        assert_eq!(h.position(), Some((3, 3)));
        assert_eq!(h.back(), Some("B"));
    }
}
