//! The library's error: what went wrong, whose fault it is (exit code 1 for
//! the user's input or a refusal, 2 for corrupt data or an internal failure),
//! and a hint saying what to do next.

use std::fmt;

/// Whose problem an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, unknown item, refused by policy: exit 1.
    User,
    /// Corrupt data, I/O failure, a bug: exit 2.
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn user(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::User,
            message: message.into(),
            hint: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Internal,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::User => 1,
            ErrorKind::Internal => 2,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
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
