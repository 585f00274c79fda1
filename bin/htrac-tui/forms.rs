//! Modal forms as data: a titled list of text inputs, multi-line text
//! areas and choices, edited by keys (Tab/↑↓ move, ←→ cycle a choice,
//! Enter submits — in a text area Enter starts a new line and Ctrl+S or
//! Alt+Enter submits —, Esc cancels), plus the yes/no confirmation. What a
//! submitted form writes is decided in `actions`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a form is for (and the item it acts on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    New,
    Edit(String),
    Discuss(String),
    Parent(String),
    Before(String),
    Lock(String),
    Move(String),
}

/// A field's input kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// Multi-line text and the cursor (a byte offset at a char boundary).
    Lines(String, usize),
    /// Options and the chosen index.
    Choice(Vec<String>, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub input: Input,
}

impl Field {
    pub fn text(label: &str, value: &str) -> Field {
        Field {
            label: label.into(),
            input: Input::Text(value.into()),
        }
    }

    /// A multi-line text area, the cursor at the end.
    pub fn lines(label: &str, value: &str) -> Field {
        Field {
            label: label.into(),
            input: Input::Lines(value.into(), value.len()),
        }
    }

    pub fn choice(label: &str, options: Vec<String>, chosen: usize) -> Field {
        Field {
            label: label.into(),
            input: Input::Choice(options, chosen),
        }
    }

    /// The text, or the chosen option.
    pub fn value(&self) -> &str {
        match &self.input {
            Input::Text(s) | Input::Lines(s, _) => s,
            Input::Choice(o, i) => o.get(*i).map(String::as_str).unwrap_or(""),
        }
    }
}

/// A modal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub purpose: Purpose,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// A line of help under the fields.
    pub hint: String,
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormEvent {
    None,
    /// The value of this field changed (a choice moved).
    Changed(usize),
    Submit,
    Cancel,
}

impl Form {
    pub fn new(title: &str, purpose: Purpose, fields: Vec<Field>, hint: &str) -> Form {
        Form {
            title: title.into(),
            purpose,
            fields,
            focus: 0,
            hint: hint.into(),
        }
    }

    pub fn get(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(Field::value)
            .unwrap_or("")
    }

    pub fn field_mut(&mut self, label: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.label == label)
    }

    pub fn key(&mut self, key: KeyEvent) -> FormEvent {
        let n = self.fields.len().max(1);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let in_area = matches!(
            self.fields.get(self.focus).map(|f| &f.input),
            Some(Input::Lines(..))
        );
        match key.code {
            KeyCode::Esc => return FormEvent::Cancel,
            // Ctrl+S everywhere; Ctrl+Enter / Alt+Enter where the terminal
            // reports them; a plain Enter outside a text area.
            KeyCode::Char('s') if ctrl => return FormEvent::Submit,
            KeyCode::Enter if ctrl || alt || !in_area => return FormEvent::Submit,
            KeyCode::Tab => {
                self.focus = (self.focus + 1) % n;
                return FormEvent::None;
            }
            KeyCode::BackTab => {
                self.focus = (self.focus + n - 1) % n;
                return FormEvent::None;
            }
            _ => {}
        }
        let focus = self.focus;
        let Some(field) = self.fields.get_mut(focus) else {
            return FormEvent::None;
        };
        if let Input::Lines(text, cursor) = &mut field.input {
            match area_key(text, cursor, key) {
                Area::Edited => return FormEvent::None,
                // ↑ on the first line, ↓ on the last: leave the area.
                Area::Above => self.focus = (self.focus + n - 1) % n,
                Area::Below => self.focus = (self.focus + 1) % n,
            }
            return FormEvent::None;
        }
        match key.code {
            KeyCode::Down => {
                self.focus = (self.focus + 1) % n;
                return FormEvent::None;
            }
            KeyCode::Up => {
                self.focus = (self.focus + n - 1) % n;
                return FormEvent::None;
            }
            _ => {}
        }
        match (&mut field.input, key.code) {
            (Input::Choice(opts, i), KeyCode::Right | KeyCode::Char(' ')) if !opts.is_empty() => {
                *i = (*i + 1) % opts.len();
                FormEvent::Changed(focus)
            }
            (Input::Choice(opts, i), KeyCode::Left) if !opts.is_empty() => {
                *i = (*i + opts.len() - 1) % opts.len();
                FormEvent::Changed(focus)
            }
            (Input::Text(s), KeyCode::Backspace) => {
                s.pop();
                FormEvent::None
            }
            (Input::Text(s), KeyCode::Char(c)) if !ctrl => {
                s.push(c);
                FormEvent::None
            }
            (Input::Text(s), KeyCode::Char('u')) => {
                s.clear();
                FormEvent::None
            }
            _ => FormEvent::None,
        }
    }
}

/// What a key did in a text area.
enum Area {
    Edited,
    /// ↑ on the first line.
    Above,
    /// ↓ on the last line.
    Below,
}

/// The start of the line holding byte `at`, and that line's end.
fn line_bounds(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    (start, end)
}

/// The byte offset `col` characters into `text[start..end]` (its end when shorter).
fn at_column(text: &str, start: usize, end: usize, col: usize) -> usize {
    text[start..end]
        .char_indices()
        .nth(col)
        .map_or(end, |(i, _)| start + i)
}

/// Edits a text area: typing and Enter insert at the cursor, Backspace and
/// Delete remove around it, ←→ move by character (across lines), ↑↓ by
/// line keeping the column, Home/End to the line's ends, Ctrl+U clears.
fn area_key(text: &mut String, cursor: &mut usize, key: KeyEvent) -> Area {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let c = (*cursor).min(text.len());
    let (start, end) = line_bounds(text, c);
    let col = text[start..c].chars().count();
    match key.code {
        KeyCode::Char('u') if ctrl => {
            text.clear();
            *cursor = 0;
        }
        KeyCode::Char(ch) if !ctrl => {
            text.insert(c, ch);
            *cursor = c + ch.len_utf8();
        }
        KeyCode::Enter => {
            text.insert(c, '\n');
            *cursor = c + 1;
        }
        KeyCode::Backspace => {
            if let Some(ch) = text[..c].chars().next_back() {
                *cursor = c - ch.len_utf8();
                text.remove(*cursor);
            }
        }
        KeyCode::Delete if c < text.len() => {
            text.remove(c);
        }
        KeyCode::Left => {
            if let Some(ch) = text[..c].chars().next_back() {
                *cursor = c - ch.len_utf8();
            }
        }
        KeyCode::Right => {
            if let Some(ch) = text[c..].chars().next() {
                *cursor = c + ch.len_utf8();
            }
        }
        KeyCode::Home => *cursor = start,
        KeyCode::End => *cursor = end,
        KeyCode::Up => {
            if start == 0 {
                return Area::Above;
            }
            let (ps, pe) = line_bounds(text, start - 1);
            *cursor = at_column(text, ps, pe, col);
        }
        KeyCode::Down => {
            if end == text.len() {
                return Area::Below;
            }
            let (ns, ne) = line_bounds(text, end + 1);
            *cursor = at_column(text, ns, ne, col);
        }
        _ => {}
    }
    Area::Edited
}

/// Splits a comma-separated list, trimming blanks.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A yes/no question before a destructive action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    ClearDiscussion(String),
    RepairDrift(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_cycling_and_submitting() {
        let mut f = Form::new(
            "t",
            Purpose::New,
            vec![
                Field::text("Title", ""),
                Field::choice("Tier", vec!["a".into(), "b".into()], 0),
            ],
            "",
        );
        for c in "hi!".chars() {
            f.key(k(KeyCode::Char(c)));
        }
        f.key(k(KeyCode::Backspace));
        assert_eq!(f.get("Title"), "hi");
        assert_eq!(f.key(k(KeyCode::Tab)), FormEvent::None);
        assert_eq!(f.key(k(KeyCode::Right)), FormEvent::Changed(1));
        assert_eq!(f.get("Tier"), "b");
        f.key(k(KeyCode::Right));
        assert_eq!(f.get("Tier"), "a");
        f.key(k(KeyCode::Up));
        assert_eq!(f.focus, 0);
        assert_eq!(f.key(k(KeyCode::Enter)), FormEvent::Submit);
        assert_eq!(f.key(k(KeyCode::Esc)), FormEvent::Cancel);
        assert_eq!(split_list(" a, ,b ,"), vec!["a", "b"]);
    }

    #[test]
    fn a_text_area_takes_newlines_and_moves_across_lines() {
        let mut f = Form::new(
            "t",
            Purpose::New,
            vec![
                Field::text("Title", "x"),
                Field::lines("Description", "ab"),
                Field::text("Tags", ""),
            ],
            "",
        );
        f.key(k(KeyCode::Tab));
        // Enter is a new line here; ↑/↓ move between lines, keeping the column.
        assert_eq!(f.key(k(KeyCode::Enter)), FormEvent::None);
        for c in "cdé".chars() {
            f.key(k(KeyCode::Char(c)));
        }
        f.key(k(KeyCode::Up));
        f.key(k(KeyCode::Char('X'))); // column 3 is past "ab": at its end
        assert_eq!(f.get("Description"), "abX\ncdé");
        f.key(k(KeyCode::Down));
        f.key(k(KeyCode::Backspace));
        assert_eq!(f.get("Description"), "abX\ncd");
        f.key(k(KeyCode::Home));
        f.key(k(KeyCode::Left)); // across the line break
        f.key(k(KeyCode::Enter));
        f.key(k(KeyCode::Enter));
        assert_eq!(f.get("Description"), "abX\n\n\ncd");
        // ↓ from the last line leaves the area; ↑ from the first enters the previous field.
        f.key(k(KeyCode::Down));
        f.key(k(KeyCode::Down));
        assert_eq!(f.focus, 2);
        f.key(k(KeyCode::BackTab));
        f.key(k(KeyCode::Home));
        for _ in 0..3 {
            f.key(k(KeyCode::Up));
        }
        assert_eq!((f.focus, f.get("Description")), (1, "abX\n\n\ncd"));
        f.key(k(KeyCode::Up));
        assert_eq!(f.focus, 0);
        // Submitting: Ctrl+S anywhere, Alt+Enter and Ctrl+Enter in the area.
        f.key(k(KeyCode::Tab));
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            FormEvent::Submit
        );
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
            FormEvent::Submit
        );
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::CONTROL)),
            FormEvent::Submit
        );
        assert_eq!(f.get("Description"), "abX\n\n\ncd");
    }
}
