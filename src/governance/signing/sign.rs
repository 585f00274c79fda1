//! Making signatures: the human's key, `ssh-keygen -Y sign` (which works
//! with ssh-agent and asks for a passphrase on the terminal, as git's
//! commit signing does), signing each op a human writes, and writing the
//! cut-over list.
//!
//! The key is, in order: the server's (`authority.server_key`, set on the
//! tracker `htrac-serve` acts through), `HTRAC_SIGNING_KEY`,
//! `authority.signing_key`, then git's `user.signingkey` when
//! `gpg.format` is `ssh`. A path to a public key whose private half is in
//! ssh-agent works, as with git.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::{Authority, SigningMode};
use crate::error::{Error, Result};
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::tracker::Tracker;

use super::{binding, message_hash, unarmor, EDIT_MODE_BINDING, NAMESPACE, SIG_KEY};

/// The hint of every "cannot sign" error.
const KEY_HINT: &str = "set HTRAC_SIGNING_KEY=~/.ssh/id_ed25519 (or authority.signing_key, \
     or 'git config gpg.format ssh' and 'git config user.signingkey ~/.ssh/id_ed25519'); \
     its public key must be in authority.allowed_signers under your user name";

/// Signs `msg` with the key at `key` (namespace `htrac-op`); returns the
/// `sig` value (the armored signature's body on one line).
pub fn sign_bytes(key: &Path, msg: &[u8]) -> Result<String> {
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::user(format!("cannot run ssh-keygen to sign: {e}"))
                .with_hint("install OpenSSH's ssh-keygen (8.2 or later)")
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let writing = stdin.write_all(msg);
    drop(stdin);
    let out = child.wait_with_output()?;
    writing?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.contains("BEGIN SSH SIGNATURE") {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::user(format!(
            "cannot sign with {}: {}",
            key.display(),
            why.trim()
        ))
        .with_hint(KEY_HINT));
    }
    Ok(unarmor(&text))
}

impl Tracker {
    /// The key this tracker's human signs with, if one is set.
    pub fn signing_key(&self) -> Option<PathBuf> {
        let auth = &self.config.authority;
        if let Some(k) = &self.signing_key {
            return Some(k.clone());
        }
        if let Some(k) = std::env::var_os("HTRAC_SIGNING_KEY").filter(|k| !k.is_empty()) {
            return Some(Authority::path(&self.root, Path::new(&k)));
        }
        if let Some(k) = &auth.signing_key {
            return Some(Authority::path(&self.root, k));
        }
        let wt = self.work_tree.as_deref()?;
        if crate::git::output(wt, &["config", "--get", "gpg.format"]).as_deref() != Some("ssh") {
            return None;
        }
        let k = crate::git::output(wt, &["config", "--get", "user.signingkey"])?;
        (!k.is_empty() && !k.starts_with("key::")).then(|| Authority::path(wt, Path::new(&k)))
    }

    /// Signs `op`, bound to `item_id`, when signing is on and the actor is
    /// a human. Under `required` a human without a usable key, or whose key
    /// the allowed_signers file does not list for them, is refused (the op
    /// would count as an agent's); under `warn` the op is written unsigned.
    pub fn sign_op(&self, item_id: &str, op: &mut Op) -> Result<()> {
        let Some(v) = self.policy.signing.as_deref() else {
            return Ok(());
        };
        if self.actor.is_agent() || op.by != "human" {
            return Ok(());
        }
        let required = v.mode == SigningMode::Required;
        op.body.shift_remove(SIG_KEY);
        let Some(key) = self.signing_key() else {
            if required {
                return Err(Error::user(format!(
                    "authority.signing is 'required' and no SSH signing key is set for '{}': the op would count as an agent's",
                    self.actor.name
                ))
                .with_hint(KEY_HINT));
            }
            return Ok(());
        };
        let bound = binding(item_id, op).to_string();
        let sig = sign_bytes(&key, &super::message(&bound, op))?;
        op.body.insert(SIG_KEY.into(), sig.into());
        if let Err(p) = v.check(&bound, op) {
            if required {
                return Err(Error::user(format!(
                    "the signature made with {} does not verify ({p}): the op would count as an agent's",
                    key.display()
                ))
                .with_hint(format!(
                    "add a line '{} <your public key>' to authority.allowed_signers",
                    op.actor
                )));
            }
        }
        v.flush();
        Ok(())
    }

    /// Writes the cut-over list (human only): the hash of every human op
    /// now in the tracker, kept with those of an earlier list that still
    /// verifies, signed with the human's key. Returns how many it holds.
    /// Run it when switching signing on, after checking (`validate`,
    /// `git status`) that no forged human op is among them.
    pub fn signing_cutover(&self) -> Result<usize> {
        self.require_human("signing-cutover")?;
        let key = self.signing_key().ok_or_else(|| {
            Error::user("signing-cutover needs an SSH signing key").with_hint(KEY_HINT)
        })?;
        let path = super::trusted_ops_path(&self.config.authority, &self.root);
        let mut hashes: Vec<[u8; 32]> = Vec::new();
        if let (Some(v), Ok(text)) = (
            self.policy.signing.as_deref(),
            std::fs::read_to_string(&path),
        ) {
            let now = super::now_stamp();
            if let Ok(old) =
                super::trust::read(&text, v.signers(), &self.config.agent_usernames, &now)
            {
                hashes.extend(old);
            }
        }
        let mut add = |id: &str, ops: Vec<Op>| {
            for op in ops {
                if op.by == "human" && !self.policy.is_agent_name(&op.actor) {
                    hashes.push(message_hash(binding(id, &op), &op));
                }
            }
        };
        for f in self.files()? {
            let log = crate::oplog::read(&f.path)
                .map_err(|e| Error::corrupt(format!("corrupt data: {e}")))?;
            add(&f.id, log.ops.into_iter().map(|(_, o)| o).collect());
        }
        let mut logs: Vec<PathBuf> = Vec::new();
        for t in Tier::ALL {
            let log = t.edit_mode_log(&self.root);
            if log.is_file() && !logs.contains(&log) {
                let ops = crate::oplog::read(&log)
                    .map_err(|e| Error::corrupt(format!("corrupt data: {e}")))?;
                add(
                    EDIT_MODE_BINDING,
                    ops.ops.into_iter().map(|(_, o)| o).collect(),
                );
                logs.push(log);
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        let count = hashes.len();
        let body = super::trust::body(&self.actor.name, &hashes);
        let sig = sign_bytes(&key, body.as_bytes())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::atomic::replace(&path, format!("{body}sig: {sig}\n").as_bytes(), 0o644)?;
        Ok(count)
    }
}
