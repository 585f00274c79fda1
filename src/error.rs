//! The library's error: what went wrong, whose fault it is (exit code 1 for
//! the user's input or a refusal, 2 for corrupt data or an internal failure),
//! and a hint saying what to do next.

use std::fmt;

/// What kind of failure an error is. Every front end derives what it shows
/// from this, never from the message text: the CLI's exit code
/// ([`Error::exit_code`]), htrac-serve's HTTP status, MCP's tool error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Bad input: an unknown flag value, field, status, a malformed reference.
    Invalid,
    /// No item matches what was typed.
    NotFound,
    /// What was typed matches several items.
    Ambiguous,
    /// Only a human may do this, and the user is an agent.
    HumanOnly,
    /// The field (or discussion) is locked by the human.
    Locked,
    /// The item is frozen by the human.
    Frozen,
    /// The tracker's state forbids it: already exists, already frozen, tier rules.
    Conflict,
    /// The environment refused: disk full, permission denied, git unreachable.
    Unavailable,
    /// Data on disk that cannot be read: a corrupt op file.
    Corrupt,
    /// A failure of htrac itself.
    Internal,
}

impl ErrorKind {
    /// Every kind, for front ends' tests that walk them all.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Ambiguous,
        ErrorKind::HumanOnly,
        ErrorKind::Locked,
        ErrorKind::Frozen,
        ErrorKind::Conflict,
        ErrorKind::Unavailable,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
    ];

    /// The stable name front ends show (`code` in htrac-serve's JSON).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid_field",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::HumanOnly => "human_required",
            ErrorKind::Locked => "locked",
            ErrorKind::Frozen => "frozen",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Internal => "internal",
        }
    }

    /// The process exit code: 1 for the user's input or a refusal, 2 for
    /// corrupt data or a failure of htrac itself.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Corrupt | ErrorKind::Internal => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// The request field the error is about (`parent`, `add_blocked_by`,
    /// ... as the action requests in [`crate::actions`] name them), shown
    /// before the message in each front end's own terms: `--parent` on the
    /// command line, `'parent'` in htrac-serve's JSON. See [`Error::text`].
    pub field: Option<&'static str>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
            field: None,
        }
    }

    /// The same error, about request field `field` (its message then reads
    /// on from the field's name: `must not be empty`).
    pub fn on_field(mut self, field: &'static str) -> Error {
        self.field = Some(field);
        self
    }

    /// The message as a front end shows it, `term` naming the field in its
    /// own terms (the field's name itself when there is no better one).
    pub fn text(&self, term: impl Fn(&str) -> String) -> String {
        match self.field {
            Some(f) => format!("{} {}", term(f), self.message),
            None => self.message.clone(),
        }
    }

    /// Bad input ([`ErrorKind::Invalid`]).
    pub fn user(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }

    /// Data on disk that cannot be read ([`ErrorKind::Corrupt`]).
    pub fn corrupt(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error as another kind.
    pub fn as_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(str::to_string))
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::internal(format!("I/O error: {e}"))
    }
}

impl From<crate::config::ConfigError> for Error {
    fn from(e: crate::config::ConfigError) -> Error {
        let hint = if e.key == "(ownership)" {
            "who may write the file is the problem, not its content: run 'htrac setup' as the human (or root, for a host configuration)"
        } else {
            "fix the key named above in the config file (see config.yaml.template for the format)"
        };
        Error::user(e.to_string()).with_hint(hint)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
