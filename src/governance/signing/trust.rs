//! The cut-over: which ops written before signing was switched on stay
//! trusted. `htrac signing-cutover`, run by a human, lists the SHA-256 of
//! the signed [`message`](super::message) of every human op in the
//! tracker's files (every tier and the edit-mode logs) and signs the list
//! with the human's key; the file (`authority.trusted_ops`, default
//! `.agent/tracker/trusted-ops`) is committed with the tracker, so every
//! clone trusts the same ops. An agent can change the file but not sign
//! it, and an op it alters or adds has another hash: no clock or timestamp
//! is involved, so nothing can be backdated into the list.
//!
//! ```text
//! # htrac trusted ops v1
//! signer: amy
//! count: 2
//! 9f2c…(64 hex digits)
//! 07ab…
//! sig: U1NIU0lH…
//! ```
//! The signature covers every byte before the `sig:` line.

use std::collections::HashSet;

use ssh_key::{PublicKey, SshSig};

use super::allowed::AllowedSigners;
use super::{armor, NAMESPACE};

/// The first line of the list (its signed bytes never start like an op's).
pub const HEADER: &str = "# htrac trusted ops v1";

/// The unsigned text of a list of `hashes` signed by `signer`.
pub fn body(signer: &str, hashes: &[[u8; 32]]) -> String {
    let mut sorted = hashes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = format!(
        "{HEADER}\n# Human ops written before signed authority was switched on \
         (htrac signing-cutover). Do not edit: the signature covers every line.\n\
         signer: {signer}\ncount: {}\n",
        sorted.len()
    );
    for h in &sorted {
        out.extend(h.iter().map(|b| format!("{b:02x}")));
        out.push('\n');
    }
    out
}

/// The hashes of a list whose signature is valid, by a signer that is no
/// agent and may sign by `signers`.
pub fn read(
    text: &str,
    signers: &AllowedSigners,
    agent_patterns: &[String],
    now: &str,
) -> Result<HashSet<[u8; 32]>, String> {
    if !text.starts_with(HEADER) {
        return Err(format!("it does not start with '{HEADER}'"));
    }
    let at = text.rfind("\nsig: ").ok_or("it is not signed")? + 1;
    let (signed, sig) = text.split_at(at);
    let sig = sig["sig: ".len()..].trim();
    let mut signer = None;
    let mut hashes = HashSet::new();
    for line in signed.lines().skip(1) {
        if let Some(s) = line.strip_prefix("signer: ") {
            signer = Some(s.trim().to_string());
        } else if line.starts_with('#') || line.starts_with("count: ") {
            continue;
        } else {
            hashes.insert(parse_hex(line).ok_or_else(|| format!("cannot read line '{line}'"))?);
        }
    }
    let signer = signer.ok_or("it names no signer")?;
    if agent_patterns
        .iter()
        .any(|p| crate::governance::actor::fnmatch(p, &signer))
    {
        return Err(format!("its signer '{signer}' is an agent"));
    }
    let sig = SshSig::from_pem(armor(sig)).map_err(|e| format!("bad signature: {e}"))?;
    if !signers.allows(&signer, sig.public_key(), NAMESPACE, now) {
        return Err(format!(
            "bad signature: its key may not sign for '{signer}' by authority.allowed_signers"
        ));
    }
    PublicKey::from(sig.public_key().clone())
        .verify(NAMESPACE, signed.as_bytes(), &sig)
        .map_err(|_| "bad signature: the list was changed after it was signed".to_string())?;
    Ok(hashes)
}

fn parse_hex(line: &str) -> Option<[u8; 32]> {
    let line = line.trim();
    if line.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(line.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
