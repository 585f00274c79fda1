//! The `authority:` settings: whether human ops must be signed, and the
//! files that signing reads (see [`crate::governance::signing`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ConfigError;

/// `authority.signing`: whether human ops must carry an SSH signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum SigningMode {
    /// Nothing is signed or checked (the default; the reference's behaviour).
    #[default]
    Off,
    /// Human ops are signed; an unsigned or badly signed one still counts
    /// as the human's, and `validate`/`show` warn.
    Warn,
    /// A human op without a valid signature counts as an agent's.
    Required,
}

impl SigningMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningMode::Off => "off",
            SigningMode::Warn => "warn",
            SigningMode::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<SigningMode> {
        [SigningMode::Off, SigningMode::Warn, SigningMode::Required]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The `authority:` mapping: signed human authority (see [`crate::governance::signing`]).
/// Paths are as written; relative ones are taken from the `.agent/`
/// directory and `~/` from `$HOME` ([`Authority::path`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authority {
    /// `authority.signing`: off (default), warn or required.
    pub signing: SigningMode,
    /// `authority.allowed_signers`: an OpenSSH allowed_signers file whose
    /// principals are op actors. Required unless signing is off.
    pub allowed_signers: Option<PathBuf>,
    /// `authority.trusted_ops`: the signed list of human ops written before
    /// signing was switched on (default `tracker/trusted-ops`).
    pub trusted_ops: Option<PathBuf>,
    /// `authority.signing_key`: the key a human signs with (else
    /// `HTRAC_SIGNING_KEY`, else git's `user.signingkey` with `gpg.format=ssh`).
    pub signing_key: Option<PathBuf>,
    /// `authority.server_key`: the key `htrac-serve` signs its web users' ops with.
    pub server_key: Option<PathBuf>,
}

impl Authority {
    pub(super) fn parse(
        v: Option<&Value>,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<Authority, ConfigError> {
        let map = match v {
            None | Some(Value::Null) => return Ok(Authority::default()),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(err("authority", "must be a mapping".into())),
        };
        let mut a = Authority::default();
        for (k, v) in map {
            let key = format!("authority.{k}");
            let path = || match v {
                Value::Null => Ok(None),
                Value::String(s) if !s.trim().is_empty() => Ok(Some(PathBuf::from(s))),
                other => Err(err(&key, format!("must be a file path, got {other}"))),
            };
            match k.as_str() {
                "signing" => {
                    a.signing = match v {
                        Value::Null => SigningMode::Off,
                        // YAML 1.1 readers take a bare `off` for false.
                        Value::Bool(false) => SigningMode::Off,
                        Value::String(s) if s == "off" => SigningMode::Off,
                        Value::String(s) if s == "warn" => SigningMode::Warn,
                        Value::String(s) if s == "required" => SigningMode::Required,
                        other => {
                            return Err(err(
                                &key,
                                format!("must be 'off', 'warn' or 'required', got {other}"),
                            ))
                        }
                    }
                }
                "allowed_signers" => a.allowed_signers = path()?,
                "trusted_ops" => a.trusted_ops = path()?,
                "signing_key" => a.signing_key = path()?,
                "server_key" => a.server_key = path()?,
                _ => {
                    return Err(err(
                        &key,
                        "unknown key (known: signing, allowed_signers, trusted_ops, signing_key, server_key)".into(),
                    ))
                }
            }
        }
        Ok(a)
    }

    /// `p` made absolute: `~/` from `$HOME`, a relative path from `root`
    /// (the `.agent/` directory).
    pub fn path(root: &Path, p: &Path) -> PathBuf {
        if let Ok(rest) = p.strip_prefix("~") {
            if let Some(home) = std::env::var_os("HOME") {
                return PathBuf::from(home).join(rest);
            }
        }
        root.join(p)
    }
}
