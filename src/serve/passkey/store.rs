//! The passkey files under `.agent/serve/`: a directory only its owner (the
//! human who runs the server) can enter, kept out of git by its own
//! `.gitignore`; JSON files of mode 0600 replaced atomically, read-modify-
//! written under an exclusive flock so the server and the `htrac-serve`
//! CLI never lose each other's writes. A file or directory that someone
//! else owns, or that others could write, is refused, never trusted.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation, Mode, OFlags};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Passkey, Uuid};

use super::error::PasskeyError;

/// The directory under the tracker root (`.agent/`).
pub const DIR_NAME: &str = "serve";
/// Registered credentials.
pub const CREDENTIALS_FILE: &str = "passkeys.json";
/// Hashes of one-time registration tokens.
pub const TOKENS_FILE: &str = "registration-tokens.json";
const LOCK_FILE: &str = "passkeys.lock";

/// One registered passkey and whose it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// The credential id, base64url.
    pub id: String,
    /// The web user this key logs in as.
    pub user: String,
    /// The WebAuthn user handle of `user` (the same for all of a user's keys).
    pub user_handle: Uuid,
    pub created_at: String,
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// The highest signature counter seen.
    #[serde(default)]
    pub sign_count: u32,
    /// Why the key may no longer log in (set on a counter regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// webauthn-rs's credential (public key, counter, flags).
    pub passkey: Passkey,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialFile {
    pub version: u32,
    pub credentials: Vec<CredentialRecord>,
}

impl Default for CredentialFile {
    fn default() -> Self {
        CredentialFile {
            version: 1,
            credentials: Vec::new(),
        }
    }
}

/// A registration token, stored as the SHA-256 of the token only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub sha256: String,
    pub user: String,
    pub created_at: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: u64,
    #[serde(default)]
    pub used: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenFile {
    pub version: u32,
    pub tokens: Vec<TokenRecord>,
}

impl Default for TokenFile {
    fn default() -> Self {
        TokenFile {
            version: 1,
            tokens: Vec::new(),
        }
    }
}

/// `.agent/serve/`, checked to be ours and private.
#[derive(Debug, Clone)]
pub struct PrivateDir {
    path: PathBuf,
}

/// Held while a read-modify-write is in progress; unlocks on drop.
pub struct Lock {
    _file: File,
}

impl PrivateDir {
    /// Opens (creating it, mode 0700, with a `.gitignore` of `*`) the
    /// directory `serve/` under the tracker root `root`.
    pub fn open(root: &Path) -> Result<PrivateDir, PasskeyError> {
        if !root.is_dir() {
            return Err(PasskeyError::config(format!(
                "tracker root {} does not exist; run 'htrac init' first",
                root.display()
            )));
        }
        let path = root.join(DIR_NAME);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(PasskeyError::storage(format!(
                    "cannot create {}: {e}",
                    path.display()
                )))
            }
        }
        let dir = PrivateDir { path };
        dir.check_private(&dir.path, true)?;
        let ignore = dir.path.join(".gitignore");
        if !ignore.exists() {
            crate::atomic::replace(&ignore, b"*\n", 0o600).map_err(|e| dir.io(&ignore, e))?;
        }
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the exclusive lock of the passkey files.
    pub fn lock(&self) -> Result<Lock, PasskeyError> {
        let p = self.path.join(LOCK_FILE);
        let fd = rustix::fs::open(
            &p,
            OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| self.io(&p, e.into()))?;
        flock(&fd, FlockOperation::LockExclusive).map_err(|e| self.io(&p, e.into()))?;
        Ok(Lock {
            _file: File::from(fd),
        })
    }

    /// Reads `name` (its default when it does not exist yet).
    pub fn read<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, PasskeyError> {
        let p = self.path.join(name);
        match std::fs::symlink_metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
            Err(e) => return Err(self.io(&p, e)),
            Ok(_) => self.check_private(&p, false)?,
        }
        let text = std::fs::read_to_string(&p).map_err(|e| self.io(&p, e))?;
        serde_json::from_str(&text).map_err(|e| {
            PasskeyError::storage(format!(
                "{} is not a valid passkey file ({e}); it was left untouched — restore it from a backup or move it away to start over",
                p.display()
            ))
        })
    }

    /// Replaces `name` atomically with `value` as JSON, mode 0600.
    pub fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<(), PasskeyError> {
        let p = self.path.join(name);
        let mut bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| PasskeyError::storage(format!("cannot encode {}: {e}", p.display())))?;
        bytes.push(b'\n');
        crate::atomic::replace(&p, &bytes, 0o600).map_err(|e| self.io(&p, e))
    }

    /// Refuses `p` unless it is ours, not a symlink, and closed to group
    /// and others.
    fn check_private(&self, p: &Path, is_dir: bool) -> Result<(), PasskeyError> {
        let md = std::fs::symlink_metadata(p).map_err(|e| self.io(p, e))?;
        let me = rustix::process::geteuid().as_raw();
        let what = if is_dir { "directory" } else { "file" };
        let right_type = if is_dir {
            md.file_type().is_dir()
        } else {
            md.file_type().is_file()
        };
        if !right_type {
            return Err(PasskeyError::storage(format!(
                "{} is not a plain {what}; refusing to use it for passkeys — remove it",
                p.display()
            )));
        }
        if md.uid() != me {
            let owner = crate::governance::actor::user_name(md.uid())
                .unwrap_or_else(|| md.uid().to_string());
            return Err(PasskeyError::storage(format!(
                "{} belongs to '{owner}', not to the user running this command; passkeys must be kept by the human who runs htrac-serve — remove it and try again as that user",
                p.display()
            )));
        }
        if md.mode() & 0o077 != 0 {
            let want = if is_dir { "700" } else { "600" };
            return Err(PasskeyError::storage(format!(
                "{} is open to other users (mode {:o}); check nobody changed it, then 'chmod {want} {}'",
                p.display(),
                md.mode() & 0o7777,
                p.display()
            )));
        }
        Ok(())
    }

    fn io(&self, p: &Path, e: std::io::Error) -> PasskeyError {
        PasskeyError::storage(format!("cannot access {}: {e}", p.display()))
    }
}
