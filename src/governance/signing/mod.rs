//! Signed human authority: with `authority.signing` on, a human's op
//! carries an SSH signature (the `sshsig` format git signs commits with,
//! namespace `htrac-op`), and an op that claims `by: human` counts as the
//! human's only when the signature is valid for its `actor` by the
//! `authority.allowed_signers` file (`required`; `warn` only reports).
//!
//! * **Where it lives**: a last top-level key of the op, `sig: <base64>`
//!   (the armored signature's body on one line), with the nonce comment
//!   like every line. The reference ignores keys it does not know.
//! * **What is signed** ([`message`]): the line `htrac-op v1 <ITEM-ID>`, then
//!   the op exactly as it is written to the file without its `sig` line.
//!   The item ID binds the op to its item: a signature copied onto another
//!   item's op does not verify. Edit-mode ops, which belong to no item,
//!   are bound to [`EDIT_MODE_BINDING`].
//! * **Before the cut-over** ([`trust`]): ops written before signing was
//!   switched on are trusted when their [`message`] hash is in the signed
//!   list a human writes with `htrac signing-cutover`.
//! * **Costs**: verified (message, signature) pairs are remembered in
//!   memory and in the cache directory ([`cache`]).

pub mod allowed;
pub mod cache;
pub mod sign;
pub mod trust;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use ssh_key::{PublicKey, SshSig};

use crate::config::{Authority, SigningMode};
use crate::oplog::op::Op;
use allowed::AllowedSigners;

/// The sshsig namespace of op signatures (and of the cut-over list).
pub const NAMESPACE: &str = "htrac-op";
/// The op key holding the signature.
pub const SIG_KEY: &str = "sig";
/// What edit-mode ops (which belong to no item) are bound to.
pub const EDIT_MODE_BINDING: &str = "edit-mode";
/// The cut-over list's default place, under the `.agent/` directory.
pub const DEFAULT_TRUSTED_OPS: &str = "tracker/trusted-ops";

/// What an op's signature is bound to: its item, or [`EDIT_MODE_BINDING`].
pub fn binding<'a>(item_id: &'a str, op: &Op) -> &'a str {
    if op.kind.starts_with("edit-mode-") {
        EDIT_MODE_BINDING
    } else {
        item_id
    }
}

/// The bytes a signature covers: `htrac-op v1 <binding>\n`, then the op as
/// emitted without its `sig` key (every line ends `  # <nonce>`).
pub fn message(binding: &str, op: &Op) -> Vec<u8> {
    let mut text = format!("htrac-op v1 {binding}\n");
    if op.body.contains_key(SIG_KEY) {
        let mut bare = op.clone();
        bare.body.shift_remove(SIG_KEY);
        text.push_str(&crate::oplog::emit::emit_op(&bare));
    } else {
        text.push_str(&crate::oplog::emit::emit_op(op));
    }
    text.into_bytes()
}

/// The SHA-256 of [`message`]: what the cut-over list holds.
pub fn message_hash(binding: &str, op: &Op) -> [u8; 32] {
    Sha256::digest(message(binding, op)).into()
}

/// An op's `sig` value, if it has one.
pub fn signature_of(op: &Op) -> Option<&str> {
    op.body.get(SIG_KEY).and_then(|v| v.as_str())
}

/// The armored form of a `sig` value, as `ssh-keygen -Y verify` reads it.
pub fn armor(b64: &str) -> String {
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    let chars: Vec<char> = b64.chars().filter(|c| !c.is_whitespace()).collect();
    for line in chars.chunks(70) {
        out.extend(line);
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
}

/// The `sig` value of an armored signature (its body on one line).
pub fn unarmor(armored: &str) -> String {
    armored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect()
}

/// Why a human claim does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Unsigned,
    /// The signature cannot be read, is for another namespace, or does not
    /// match the op (altered, or copied from another op or item).
    Bad(String),
    /// Valid or not, its key may not sign for the op's actor.
    UnknownSigner(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Unsigned => f.write_str("unsigned"),
            Problem::Bad(why) => write!(f, "bad signature: {why}"),
            Problem::UnknownSigner(why) => write!(f, "bad signature: {why}"),
        }
    }
}

/// The signature rules of one tracker, with what they need loaded.
pub struct Verifier {
    pub mode: SigningMode,
    signers: AllowedSigners,
    trusted: HashSet<[u8; 32]>,
    /// What the rules depend on (mode, signer file and cut-over list
    /// digests), for caches of compiled items.
    fingerprint: String,
    /// Problems met loading the files (for `validate`).
    pub warnings: Vec<String>,
    cache: cache::SigCache,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Verifier {
    fn eq(&self, other: &Verifier) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for Verifier {}

fn digest_file(path: &Path) -> (Option<Vec<u8>>, String) {
    match std::fs::read(path) {
        Ok(b) => {
            let d = Sha256::digest(&b);
            (
                Some(b),
                d[..12].iter().map(|b| format!("{b:02x}")).collect(),
            )
        }
        Err(_) => (None, "missing".into()),
    }
}

impl Verifier {
    /// The rules of `authority` for the tracker at `root` (`.agent/`), or
    /// `None` when signing is off. A file that cannot be read verifies
    /// nothing (fail closed) and leaves a warning.
    pub fn load(authority: &Authority, root: &Path, agent_patterns: &[String]) -> Option<Verifier> {
        if authority.signing == SigningMode::Off {
            return None;
        }
        let mut warnings = Vec::new();
        let signers_path = authority
            .allowed_signers
            .as_deref()
            .map(|p| Authority::path(root, p))
            .unwrap_or_default();
        let (bytes, signers_digest) = digest_file(&signers_path);
        let signers = match bytes {
            Some(b) => {
                let (s, problems) = AllowedSigners::parse(&String::from_utf8_lossy(&b));
                for p in problems {
                    warnings.push(format!("{}: {p}", signers_path.display()));
                }
                s
            }
            None => {
                warnings.push(format!(
                    "authority.allowed_signers {} cannot be read: no human signature verifies",
                    signers_path.display()
                ));
                AllowedSigners::default()
            }
        };
        let trusted_path = trusted_ops_path(authority, root);
        let (list, trusted_digest) = digest_file(&trusted_path);
        let now = now_stamp();
        let trusted = match list {
            Some(b) => {
                match trust::read(&String::from_utf8_lossy(&b), &signers, agent_patterns, &now) {
                    Ok(set) => set,
                    Err(why) => {
                        warnings.push(format!(
                        "{} is not trusted ({why}): ops written before signing was switched on count as unsigned",
                        trusted_path.display()
                    ));
                        HashSet::new()
                    }
                }
            }
            None => HashSet::new(),
        };
        Some(Verifier {
            mode: authority.signing,
            signers,
            trusted,
            fingerprint: format!(
                "signing={} signers={signers_digest} trusted={trusted_digest}",
                authority.signing.as_str()
            ),
            warnings,
            cache: cache::SigCache::open(root),
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the human claim of `op` (bound to `binding`) holds: it is
    /// in the cut-over list, or signed by a key allowed for its actor.
    pub fn check(&self, binding: &str, op: &Op) -> Result<(), Problem> {
        let msg = message(binding, op);
        if !self.trusted.is_empty()
            && self
                .trusted
                .contains(&<[u8; 32]>::from(Sha256::digest(&msg)))
        {
            return Ok(());
        }
        let b64 = signature_of(op).ok_or(Problem::Unsigned)?;
        let sig = SshSig::from_pem(armor(b64))
            .map_err(|e| Problem::Bad(format!("cannot be read ({e})")))?;
        if sig.namespace() != NAMESPACE {
            return Err(Problem::Bad(format!(
                "made for namespace '{}', not '{NAMESPACE}'",
                sig.namespace()
            )));
        }
        if !self
            .signers
            .allows(&op.actor, sig.public_key(), NAMESPACE, &now_stamp())
        {
            return Err(Problem::UnknownSigner(format!(
                "its key may not sign for '{}' by authority.allowed_signers",
                op.actor
            )));
        }
        let key = cache::key(&msg, b64);
        if self.cache.contains(&key) {
            return Ok(());
        }
        PublicKey::from(sig.public_key().clone())
            .verify(NAMESPACE, &msg, &sig)
            .map_err(|_| {
                Problem::Bad(
                    "it does not match this op (altered, or copied from another op or item)".into(),
                )
            })?;
        self.cache.insert(key);
        Ok(())
    }

    /// Writes what was verified since the last call to the cache file.
    pub fn flush(&self) {
        self.cache.flush();
    }

    /// Whether `principal` has a key in the allowed_signers file.
    pub fn knows(&self, principal: &str) -> bool {
        self.signers.knows(principal)
    }

    pub(crate) fn signers(&self) -> &AllowedSigners {
        &self.signers
    }
}

/// Where the cut-over list of `authority` lives.
pub fn trusted_ops_path(authority: &Authority, root: &Path) -> PathBuf {
    let p = authority
        .trusted_ops
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_TRUSTED_OPS));
    Authority::path(root, &p)
}

/// Now as UTC `YYYYMMDDHHMMSS` (allowed_signers validity periods).
pub fn now_stamp() -> String {
    crate::timestamp::now_utc()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oplog::op::Role;
    use serde_json::json;

    #[test]
    fn the_signature_is_the_last_line_and_not_part_of_the_message() {
        let mut op = Op::new(
            "lock",
            "2026-01-01T00:00:00Z",
            Role::Human,
            "amy",
            3,
            "beef",
        )
        .with(SIG_KEY, json!("U1NIU0lHAAAA"))
        .with("lock", json!(["status"]))
        .with("x_note", json!("kept"));
        let text = crate::oplog::emit::emit_op(&op);
        assert!(text.ends_with("  sig: U1NIU0lHAAAA  # beef\n"), "{text}");
        let msg = String::from_utf8(message("WI-a", &op)).unwrap();
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("  sig: "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(msg, format!("htrac-op v1 WI-a\n{without}"));
        // Bound to the item, and to every byte of the op but the signature.
        assert_ne!(message("WI-b", &op), message("WI-a", &op));
        op.body.insert(SIG_KEY.into(), json!("other"));
        assert_eq!(message("WI-a", &op), msg.as_bytes());
        op.clock = 4;
        assert_ne!(message("WI-a", &op), msg.as_bytes());
        // Edit-mode ops belong to no item.
        let on = Op::new("edit-mode-on", "t", Role::Human, "amy", 0, "beef");
        assert_eq!(binding("WI-a", &on), EDIT_MODE_BINDING);
        assert_eq!(binding("WI-a", &op), "WI-a");
        // Armor round trip.
        assert_eq!(unarmor(&armor(&"A".repeat(150))), "A".repeat(150));
    }

    proptest::proptest! {
        /// Whatever the op, its signature is its last line, the op reads
        /// back as itself, and the message is the op's text without that
        /// line.
        #[test]
        fn signed_ops_round_trip_and_the_message_is_the_text_without_sig(
            title in "\\PC{0,20}",
            extra in "[a-z_]{1,8}",
            value in "\\PC{0,12}",
            sig in "[A-Za-z0-9+/]{4,40}={0,2}",
            nonce in "[0-9a-f]{4}",
        ) {
            let op = Op::new("update", "2026-01-01T00:00:00Z", Role::Human, "amy", 7, &nonce)
                .with(SIG_KEY, json!(sig))
                .with("set", json!({"title": title}))
                .with(&format!("x_{extra}"), json!(value));
            let text = crate::oplog::emit::emit_op(&op);
            let last = text.lines().last().unwrap().to_string();
            proptest::prop_assert!(last.starts_with("  sig: "), "{}", text);
            let back = crate::oplog::parse_block(&text).unwrap();
            proptest::prop_assert_eq!(&back, &op);
            let without: String = text.lines().filter(|l| *l != last).map(|l| format!("{l}\n")).collect();
            proptest::prop_assert_eq!(message("WI-a", &back), format!("htrac-op v1 WI-a\n{without}").into_bytes());
        }
    }
}
