//! What can go wrong in a passkey ceremony or with the key store, as a
//! small set of codes the HTTP layer maps to a status (`status()`) and a
//! JSON body (`to_json()`), each with a message saying what to do next.

use std::fmt;

use serde_json::{json, Value};

/// The kind of a passkey failure; `code()` is its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyErrorKind {
    /// The request is malformed (not a credential, wrong field types): 400.
    BadRequest,
    /// The ceremony id is unknown, already used or expired: 400.
    UnknownCeremony,
    /// The authenticator's response did not verify (signature, challenge,
    /// origin, rp id, user verification, unknown credential): 401.
    VerificationFailed,
    /// The registration token is unknown, already used or expired: 401.
    ExpiredToken,
    /// The sign counter went backwards: a cloned authenticator is possible,
    /// so the key was disabled: 401.
    CounterRegression,
    /// The key was disabled earlier (after a counter regression): 401.
    KeyDisabled,
    /// No (enabled) passkey is registered, so there is nothing to log in with: 400.
    NoPasskeys,
    /// The credential is registered already: 409.
    AlreadyRegistered,
    /// The key named does not exist (`remove_key`): 404.
    UnknownKey,
    /// Too many ceremonies finished from one source lately: 429.
    TooManyCeremonies,
    /// `auth.webauthn` in config.yaml (or a user name) is unusable.
    Config,
    /// The key store could not be read or written, or is not safe to trust: 500.
    Storage,
}

impl PasskeyErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            PasskeyErrorKind::BadRequest => "bad_request",
            PasskeyErrorKind::UnknownCeremony => "unknown_ceremony",
            PasskeyErrorKind::VerificationFailed => "verification_failed",
            PasskeyErrorKind::ExpiredToken => "expired_token",
            PasskeyErrorKind::CounterRegression => "counter_regression",
            PasskeyErrorKind::KeyDisabled => "key_disabled",
            PasskeyErrorKind::NoPasskeys => "no_passkeys",
            PasskeyErrorKind::AlreadyRegistered => "already_registered",
            PasskeyErrorKind::UnknownKey => "not_found",
            PasskeyErrorKind::TooManyCeremonies => "rate_limited",
            PasskeyErrorKind::Config => "config",
            PasskeyErrorKind::Storage => "internal",
        }
    }

    /// The HTTP status for this kind.
    pub fn status(self) -> u16 {
        match self {
            PasskeyErrorKind::BadRequest
            | PasskeyErrorKind::UnknownCeremony
            | PasskeyErrorKind::NoPasskeys => 400,
            PasskeyErrorKind::VerificationFailed
            | PasskeyErrorKind::ExpiredToken
            | PasskeyErrorKind::CounterRegression
            | PasskeyErrorKind::KeyDisabled => 401,
            PasskeyErrorKind::UnknownKey => 404,
            PasskeyErrorKind::AlreadyRegistered => 409,
            PasskeyErrorKind::TooManyCeremonies => 429,
            PasskeyErrorKind::Config | PasskeyErrorKind::Storage => 500,
        }
    }
}

/// A passkey failure: its kind and a message for the person at the browser
/// or terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyError {
    pub kind: PasskeyErrorKind,
    pub message: String,
}

impl PasskeyError {
    pub fn new(kind: PasskeyErrorKind, message: impl Into<String>) -> PasskeyError {
        PasskeyError {
            kind,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The error body of the HTTP API: `{"error": message, "code": code}`.
    pub fn to_json(&self) -> Value {
        json!({"error": self.message, "code": self.code()})
    }

    pub(crate) fn bad_request(m: impl Into<String>) -> PasskeyError {
        PasskeyError::new(PasskeyErrorKind::BadRequest, m)
    }

    pub(crate) fn verification(m: impl Into<String>) -> PasskeyError {
        PasskeyError::new(PasskeyErrorKind::VerificationFailed, m)
    }

    pub(crate) fn storage(m: impl Into<String>) -> PasskeyError {
        PasskeyError::new(PasskeyErrorKind::Storage, m)
    }

    pub(crate) fn config(m: impl Into<String>) -> PasskeyError {
        PasskeyError::new(PasskeyErrorKind::Config, m)
    }
}

impl fmt::Display for PasskeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PasskeyError {}

impl From<PasskeyError> for crate::Error {
    /// For the CLI (`htrac-serve register-key`, `keys`): storage failures
    /// exit 2, everything else is the user's to fix (exit 1).
    fn from(e: PasskeyError) -> crate::Error {
        match e.kind {
            PasskeyErrorKind::Storage => crate::Error::internal(e.message),
            _ => crate::Error::user(e.message),
        }
    }
}
