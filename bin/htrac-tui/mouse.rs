//! The mouse: a click selects a row, opens a link of the detail, or
//! toggles a filter entry; the wheel moves the cursor; in the annotator
//! the mouse draws.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::app::App;

impl App {
    pub fn handle_mouse(&mut self, m: MouseEvent) {
        if let Some(a) = self.annotate.as_mut() {
            a.mouse(m);
            return;
        }
        if self.modal.is_some() {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.move_cursor(self.cursor + 3),
            MouseEventKind::ScrollUp => self.move_cursor(self.cursor.saturating_sub(3)),
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(l) = self.link_at(m.column, m.row) {
                    self.link = Some(l);
                    self.follow_link(l);
                    return;
                }
                let a = self.list_area;
                if m.column >= a.x
                    && m.column < a.x + a.width
                    && m.row >= a.y
                    && m.row < a.y + a.height
                {
                    let n = self.scroll + (m.row - a.y) as usize;
                    if n < self.rows.len() {
                        self.move_cursor(n);
                    }
                }
                let f = self.filter_area;
                if self.filter_panel
                    && m.column >= f.x
                    && m.column < f.x + f.width
                    && m.row > f.y
                    && m.row < f.y + f.height
                {
                    if let Some(n) = self.filter_entry_at_line((m.row - f.y - 1) as usize) {
                        self.toggle_filter(n);
                    }
                }
            }
            _ => {}
        }
    }
}
