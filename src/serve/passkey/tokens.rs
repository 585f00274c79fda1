//! One-time registration tokens: `htrac-serve register-key` issues one for
//! a user (valid 10 minutes); the browser presents it to start registering
//! a passkey; the first key stored with it uses it up. Only the token's
//! SHA-256 is written to disk, so reading the file does not yield a token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::error::{PasskeyError, PasskeyErrorKind};
use super::store::{PrivateDir, TokenFile, TokenRecord, TOKENS_FILE};

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The hex SHA-256 of `token`.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn expired(m: &str) -> PasskeyError {
    PasskeyError::new(
        PasskeyErrorKind::ExpiredToken,
        format!("{m}; run 'htrac-serve register-key' again for a new link"),
    )
}

/// Creates and records a token for `user`, valid for `ttl`; returns it.
pub fn issue(dir: &PrivateDir, user: &str, ttl: Duration) -> Result<String, PasskeyError> {
    let token = super::random_hex(32)?;
    let _lock = dir.lock()?;
    let mut file: TokenFile = dir.read(TOKENS_FILE)?;
    let now = now_ms();
    file.tokens.retain(|t| t.expires_at_ms > now);
    file.tokens.push(TokenRecord {
        sha256: digest(&token),
        user: user.to_string(),
        created_at: crate::timestamp::now_utc(),
        expires_at_ms: now.saturating_add(ttl.as_millis() as u64),
        used: false,
    });
    dir.write(TOKENS_FILE, &file)?;
    Ok(token)
}

/// The record of a valid (known, unused, unexpired) token in `file`.
pub fn valid<'a>(
    file: &'a mut TokenFile,
    sha256: &str,
) -> Result<&'a mut TokenRecord, PasskeyError> {
    let now = now_ms();
    match file.tokens.iter_mut().find(|t| t.sha256 == sha256) {
        None => Err(expired("this registration link is unknown")),
        Some(t) if t.used => Err(expired("this registration link was used already")),
        Some(t) if t.expires_at_ms <= now => Err(expired("this registration link has expired")),
        Some(t) => Ok(t),
    }
}

/// Checks `token` and returns (its hash, its user), without using it up.
pub fn check(dir: &PrivateDir, token: &str) -> Result<(String, String), PasskeyError> {
    let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(PasskeyError::bad_request(
            "not a registration token (expected the 64 hex digits after '#register=' in the link from 'htrac-serve register-key')",
        ));
    }
    let sha = digest(&token.to_ascii_lowercase());
    let mut file: TokenFile = dir.read(TOKENS_FILE)?;
    let user = valid(&mut file, &sha)?.user.clone();
    Ok((sha, user))
}
