//! Modal forms as data: a titled list of text inputs and choices, edited
//! by keys (Tab/↑↓ move, ←→ cycle a choice, Enter submits, Esc cancels),
//! plus the yes/no confirmation. What a submitted form writes is decided
//! in `actions`.

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

    pub fn choice(label: &str, options: Vec<String>, chosen: usize) -> Field {
        Field {
            label: label.into(),
            input: Input::Choice(options, chosen),
        }
    }

    /// The text, or the chosen option.
    pub fn value(&self) -> &str {
        match &self.input {
            Input::Text(s) => s,
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
        match key.code {
            KeyCode::Esc => return FormEvent::Cancel,
            KeyCode::Enter => return FormEvent::Submit,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            _ => {}
        }
        let focus = self.focus;
        let Some(field) = self.fields.get_mut(focus) else {
            return FormEvent::None;
        };
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
            (Input::Text(s), KeyCode::Char(c))
                if !key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
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
}
