//! Screenshot annotation mode (`S`): the frozen frame, a cursor, and the
//! shapes drawn on it — rectangles (`r`), arrows (`a`), numbered labels
//! (`l`) — with chronological undo (`u`), Shift+arrows to nudge the last
//! shape, Enter to save and Esc to discard. Keys and mouse both draw; a
//! click while a label's text is typed moves the label there.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

/// The one annotation colour; validated again when written to SVG.
pub const COLOR: &str = "#ff3333";

/// One annotation, in cell coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Rect {
        x1: u16,
        y1: u16,
        x2: u16,
        y2: u16,
    },
    Arrow {
        x1: u16,
        y1: u16,
        x2: u16,
        y2: u16,
    },
    Label {
        x: u16,
        y: u16,
        n: usize,
        text: String,
    },
}

impl Shape {
    fn nudge(&mut self, dx: i32, dy: i32, w: u16, h: u16) {
        let mv = |v: &mut u16, d: i32, max: u16| {
            *v = (*v as i32 + d).clamp(0, max.saturating_sub(1) as i32) as u16
        };
        match self {
            Shape::Rect { x1, y1, x2, y2 } | Shape::Arrow { x1, y1, x2, y2 } => {
                mv(x1, dx, w);
                mv(x2, dx, w);
                mv(y1, dy, h);
                mv(y2, dy, h);
            }
            Shape::Label { x, y, .. } => {
                mv(x, dx, w);
                mv(y, dy, h);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rect,
    Arrow,
    Label,
}

/// What a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    Save,
    Discard,
}

/// The annotation session.
pub struct Annotator {
    pub frame: Buffer,
    /// The selected item's short ID (for the file name).
    pub id: Option<String>,
    pub shapes: Vec<Shape>,
    pub mode: Mode,
    pub cursor: (u16, u16),
    /// The start of a rectangle or arrow being drawn.
    pub anchor: Option<(u16, u16)>,
    /// The text of a label being typed.
    pub typing: Option<String>,
}

impl Annotator {
    pub fn new(frame: Buffer, id: Option<String>) -> Annotator {
        let cursor = (frame.area.width / 2, frame.area.height / 2);
        Annotator {
            frame,
            id,
            shapes: Vec::new(),
            mode: Mode::Rect,
            cursor,
            anchor: None,
            typing: None,
        }
    }

    fn size(&self) -> (u16, u16) {
        (self.frame.area.width, self.frame.area.height)
    }

    fn labels(&self) -> usize {
        self.shapes
            .iter()
            .filter(|s| matches!(s, Shape::Label { .. }))
            .count()
    }

    /// The shape being drawn from the anchor to the cursor.
    pub fn draft(&self) -> Option<Shape> {
        let (ax, ay) = self.anchor?;
        let (cx, cy) = self.cursor;
        Some(match self.mode {
            Mode::Arrow => Shape::Arrow {
                x1: ax,
                y1: ay,
                x2: cx,
                y2: cy,
            },
            _ => Shape::Rect {
                x1: ax.min(cx),
                y1: ay.min(cy),
                x2: ax.max(cx),
                y2: ay.max(cy),
            },
        })
    }

    /// Ends a drag or keyboard draft; a rectangle of one cell is dropped.
    fn commit(&mut self) {
        if let Some(shape) = self.draft() {
            let tiny = matches!(shape, Shape::Rect { x1, y1, x2, y2 } if x1 == x2 && y1 == y2)
                || matches!(shape, Shape::Arrow { x1, y1, x2, y2 } if x1 == x2 && y1 == y2);
            if !tiny {
                self.shapes.push(shape);
            }
        }
        self.anchor = None;
    }

    fn start(&mut self, mode: Mode) {
        if self.anchor.is_some() && self.mode == mode {
            self.commit();
            return;
        }
        self.commit();
        self.mode = mode;
        match mode {
            Mode::Label => self.typing = Some(String::new()),
            _ => self.anchor = Some(self.cursor),
        }
    }

    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        let (w, h) = self.size();
        if let Some(text) = self.typing.as_mut() {
            match key.code {
                KeyCode::Esc => self.typing = None,
                KeyCode::Enter => {
                    let text = self.typing.take().unwrap_or_default();
                    let n = self.labels() + 1;
                    let (x, y) = self.cursor;
                    self.shapes.push(Shape::Label { x, y, n, text });
                    self.mode = Mode::Rect;
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => {}
            }
            return Outcome::Continue;
        }
        let step = |c: KeyCode| match c {
            KeyCode::Left => Some((-1, 0)),
            KeyCode::Right => Some((1, 0)),
            KeyCode::Up => Some((0, -1)),
            KeyCode::Down => Some((0, 1)),
            _ => None,
        };
        if let Some((dx, dy)) = step(key.code) {
            if key.modifiers.contains(KeyModifiers::SHIFT) {
                if let Some(last) = self.shapes.last_mut() {
                    last.nudge(dx, dy, w, h);
                }
            } else {
                let (x, y) = self.cursor;
                self.cursor = (
                    (x as i32 + dx).clamp(0, w as i32 - 1) as u16,
                    (y as i32 + dy).clamp(0, h as i32 - 1) as u16,
                );
            }
            return Outcome::Continue;
        }
        match key.code {
            KeyCode::Char('r') => self.start(Mode::Rect),
            KeyCode::Char('a') => self.start(Mode::Arrow),
            KeyCode::Char('l') => self.start(Mode::Label),
            KeyCode::Char(' ') => self.commit(),
            KeyCode::Char('u') => {
                // Undo drops the draft if there is one, else the last shape.
                let draft = self.anchor.take();
                if draft.is_none() {
                    self.shapes.pop();
                }
            }
            KeyCode::Enter => {
                self.commit();
                return Outcome::Save;
            }
            KeyCode::Esc => {
                // Esc drops the draft if there is one, else the screenshot.
                let draft = self.anchor.take();
                if draft.is_none() {
                    return Outcome::Discard;
                }
            }
            _ => {}
        }
        Outcome::Continue
    }

    pub fn mouse(&mut self, m: MouseEvent) {
        let (w, h) = self.size();
        let pos = (
            m.column.min(w.saturating_sub(1)),
            m.row.min(h.saturating_sub(1)),
        );
        if self.typing.is_some() {
            // A label being typed (keyboard mode, `l`): a click puts it
            // where it was clicked, keeping what was typed.
            if m.kind == MouseEventKind::Down(MouseButton::Left) {
                self.cursor = pos;
            }
            return;
        }
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.cursor = pos;
                if self.mode == Mode::Label {
                    self.typing = Some(String::new());
                } else {
                    self.anchor = Some(pos);
                }
            }
            MouseEventKind::Drag(MouseButton::Left) => self.cursor = pos,
            MouseEventKind::Up(MouseButton::Left) => {
                self.cursor = pos;
                self.commit();
            }
            _ => {}
        }
    }
}

fn put(buf: &mut Buffer, x: u16, y: u16, s: &str, style: Style) {
    if x < buf.area.width && y < buf.area.height {
        buf.set_string(x, y, s, style);
    }
}

/// Draws a shape's glyphs into a buffer (also used for the draft).
pub fn draw_shape(buf: &mut Buffer, shape: &Shape, draft: bool) {
    let style = Style::default()
        .fg(Color::Rgb(0xff, 0x33, 0x33))
        .add_modifier(Modifier::BOLD);
    match shape {
        Shape::Rect { x1, y1, x2, y2 } => {
            let g = if draft { "░" } else { "█" };
            for x in *x1..=*x2 {
                put(buf, x, *y1, g, style);
                put(buf, x, *y2, g, style);
            }
            for y in *y1..=*y2 {
                put(buf, *x1, y, g, style);
                put(buf, *x2, y, g, style);
            }
        }
        Shape::Arrow { x1, y1, x2, y2 } => {
            // Horizontal first, then vertical (an L-shaped path).
            let (x1, y1, x2, y2) = (*x1 as i32, *y1 as i32, *x2 as i32, *y2 as i32);
            let mut x = x1;
            while x != x2 {
                put(buf, x as u16, y1 as u16, "─", style);
                x += (x2 - x1).signum();
            }
            let mut y = y1;
            while y != y2 {
                put(buf, x2 as u16, y as u16, "│", style);
                y += (y2 - y1).signum();
            }
            let head = if y2 > y1 {
                "▼"
            } else if y2 < y1 {
                "▲"
            } else if x2 < x1 {
                "◀"
            } else {
                "▶"
            };
            put(buf, x2 as u16, y2 as u16, head, style);
        }
        Shape::Label { x, y, n, text } => {
            let s = if text.is_empty() {
                format!("[{n}]")
            } else {
                format!("[{n}] {text}")
            };
            put(buf, *x, *y, &s, style.bg(Color::Black));
        }
    }
}

/// Draws the frozen frame, the shapes, the cursor and the status line.
pub fn render(a: &Annotator, buf: &mut Buffer, area: Rect) {
    for y in 0..area.height.min(a.frame.area.height) {
        for x in 0..area.width.min(a.frame.area.width) {
            if let (Some(dst), Some(src)) = (buf.cell_mut((x, y)), a.frame.cell((x, y))) {
                *dst = src.clone();
            }
        }
    }
    for s in &a.shapes {
        draw_shape(buf, s, false);
    }
    if let Some(d) = a.draft() {
        draw_shape(buf, &d, true);
    }
    // The label being typed, where Enter will place it.
    if let Some(text) = &a.typing {
        let (x, y) = a.cursor;
        let label = Shape::Label {
            x,
            y,
            n: a.labels() + 1,
            text: text.clone(),
        };
        draw_shape(buf, &label, true);
    }
    if let Some(c) = buf.cell_mut(a.cursor) {
        c.set_style(Style::default().add_modifier(Modifier::REVERSED));
    }
    let status = match &a.typing {
        Some(t) => format!(
            "label [{}]: {t}█  a click moves it · Enter place · Esc cancel",
            a.labels() + 1
        ),
        None => {
            let mode = match a.mode {
                Mode::Rect => "rect",
                Mode::Arrow => "arrow",
                Mode::Label => "label",
            };
            format!(
                "ANNOTATE ({mode}) [R]ect | [A]rrow | [L]abel | [U]ndo | arrows move · Shift+arrows nudge · Space end | Enter save | Esc discard"
            )
        }
    };
    let y = area.height.saturating_sub(1);
    let line = format!("{status:<w$}", w = area.width as usize);
    buf.set_stringn(
        0,
        y,
        line,
        area.width as usize,
        Style::default().fg(Color::Black).bg(Color::Yellow),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn keys_draw_undo_and_nudge() {
        let mut a = Annotator::new(Buffer::empty(Rect::new(0, 0, 20, 10)), None);
        assert_eq!(a.cursor, (10, 5));
        a.key(k(KeyCode::Char('r')));
        a.key(k(KeyCode::Right));
        a.key(k(KeyCode::Down));
        a.key(k(KeyCode::Char('a'))); // commits the rect, starts an arrow
        a.key(k(KeyCode::Left));
        a.key(k(KeyCode::Char(' ')));
        a.key(k(KeyCode::Char('l')));
        for c in "hi".chars() {
            a.key(k(KeyCode::Char(c)));
        }
        a.key(k(KeyCode::Enter));
        assert_eq!(
            a.shapes,
            vec![
                Shape::Rect {
                    x1: 10,
                    y1: 5,
                    x2: 11,
                    y2: 6
                },
                Shape::Arrow {
                    x1: 11,
                    y1: 6,
                    x2: 10,
                    y2: 6
                },
                Shape::Label {
                    x: 10,
                    y: 6,
                    n: 1,
                    text: "hi".into()
                },
            ]
        );
        a.key(KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT));
        assert_eq!(
            a.shapes[2],
            Shape::Label {
                x: 10,
                y: 5,
                n: 1,
                text: "hi".into()
            }
        );
        // Undo is chronological: the label goes first, then the arrow.
        a.key(k(KeyCode::Char('u')));
        a.key(k(KeyCode::Char('u')));
        assert_eq!(a.shapes.len(), 1);
        assert_eq!(a.key(k(KeyCode::Enter)), Outcome::Save);
        assert_eq!(a.key(k(KeyCode::Esc)), Outcome::Discard);
    }

    #[test]
    fn a_click_places_the_label_being_typed() {
        let mut a = Annotator::new(Buffer::empty(Rect::new(0, 0, 20, 10)), None);
        let click = |column, row| MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        a.key(k(KeyCode::Char('l'))); // keyboard mode: typing at the cursor
        a.key(k(KeyCode::Char('o')));
        a.mouse(click(2, 1));
        a.key(k(KeyCode::Char('k')));
        a.mouse(click(4, 3)); // the last click wins
        a.key(k(KeyCode::Enter));
        assert_eq!(
            a.shapes,
            vec![Shape::Label {
                x: 4,
                y: 3,
                n: 1,
                text: "ok".into()
            }]
        );
        assert_eq!(a.mode, Mode::Rect);
    }

    #[test]
    fn a_one_cell_drag_is_dropped() {
        let mut a = Annotator::new(Buffer::empty(Rect::new(0, 0, 20, 10)), None);
        let m = |kind, column, row| MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        a.mouse(m(MouseEventKind::Down(MouseButton::Left), 3, 3));
        a.mouse(m(MouseEventKind::Up(MouseButton::Left), 3, 3));
        assert!(a.shapes.is_empty());
        a.mouse(m(MouseEventKind::Down(MouseButton::Left), 3, 3));
        a.mouse(m(MouseEventKind::Drag(MouseButton::Left), 8, 5));
        a.mouse(m(MouseEventKind::Up(MouseButton::Left), 8, 5));
        assert_eq!(
            a.shapes,
            vec![Shape::Rect {
                x1: 3,
                y1: 3,
                x2: 8,
                y2: 5
            }]
        );
    }
}
