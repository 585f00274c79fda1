//! Shared by the signed-authority tests (`signing.rs` of the governance,
//! reference and serve binaries): real ssh-keygen keys, a tracker with
//! `authority:` set, and human ops forged behind htrac's back.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, Env};
use htrac::oplog::op::{Op, Role};
use serde_json::{json, Value};

pub const AT: &str = "2026-11-24T19:41:13Z";

/// An ed25519 key pair made by ssh-keygen in `dir`; returns the private key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap_or_else(|_| common::missing("ssh-keygen", "apt-get install openssh-client"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    key
}

pub fn me() -> String {
    htrac::governance::actor::Actor::current(&[]).name
}

/// A tracker whose human has a key listed in allowed_signers (and a second
/// key, `stranger`, that is not).
pub struct Signed {
    pub env: Env,
    pub keys: tempfile::TempDir,
    pub key: PathBuf,
    pub stranger: PathBuf,
    pub allowed: PathBuf,
}

impl Signed {
    pub fn new(mode: &str) -> Signed {
        let env = Env::new();
        let keys = tempfile::tempdir().unwrap();
        let key = keygen(keys.path(), "human");
        let stranger = keygen(keys.path(), "stranger");
        let allowed = keys.path().join("allowed_signers");
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        std::fs::write(
            &allowed,
            format!("{} namespaces=\"htrac-op\" {public}", me()),
        )
        .unwrap();
        let s = Signed {
            env,
            keys,
            key,
            stranger,
            allowed,
        };
        s.configure(mode);
        s
    }

    /// Sets `authority:` in the tracker's config (mode `off`, `warn`, `required`).
    pub fn configure(&self, mode: &str) {
        let cfg = self.env.root().join("tracker/config.yaml");
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        let base = text.split("\nauthority:\n").next().unwrap().to_string();
        let block = format!(
            "\nauthority:\n  signing: {mode}\n  allowed_signers: {}\n  signing_key: {}\n",
            self.allowed.display(),
            self.key.display()
        );
        std::fs::write(&cfg, base + &block).unwrap();
    }

    pub fn ops(&self, id: &str) -> PathBuf {
        self.env.workspace_ops(id)
    }

    pub fn show(&self, id: &str) -> Value {
        self.env.run(&["--json", "show", id]).ok().json()
    }
}

/// A human op for item `id` as an agent would write it behind htrac's
/// back, with `sig` (if any) as its last key.
pub fn forged(kind: &str, clock: i64, nonce: &str, body: Value, sig: Option<&str>) -> Op {
    let mut op = Op::new(kind, AT, Role::Human, &me(), clock, nonce);
    op.body = body.as_object().cloned().unwrap();
    if let Some(s) = sig {
        op.body.insert("sig".into(), json!(s));
    }
    op
}

/// `op` signed for item `id` with `key`, as htrac signs (for keys htrac
/// would not use: a stranger's).
pub fn signed_with(key: &Path, id: &str, mut op: Op) -> Op {
    let msg = htrac::governance::signing::message(id, &op);
    let sig = htrac::governance::signing::sign::sign_bytes(key, &msg).unwrap();
    op.body.insert("sig".into(), json!(sig));
    op
}

pub fn append(path: &Path, op: &Op) {
    common::append_raw(path, &htrac::oplog::emit::emit_op(op));
}

pub fn reasons(shown: &Value, key: &str) -> Vec<String> {
    shown[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r["nonce"].as_str().unwrap(),
                        r["reason"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The op block of `path` whose nonce is `nonce`, as text.
pub fn block(path: &Path, nonce: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(&format!("  # {nonce}")))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn last_nonce(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().last().unwrap();
    line.rsplit("  # ").next().unwrap().to_string()
}
