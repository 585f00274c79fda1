//! Web login password hashes, kept where only the human who runs the
//! server can read them: `.agent/serve/passwords.json` (mode 0600, in the
//! 0700 directory that holds the passkeys, out of git), not the
//! world-readable `tracker/config.yaml`.
//!
//! `htrac-serve passwd` writes there and moves any hashes still in
//! config.yaml's `auth.users` over (config.yaml then loses its
//! `password_hash` lines, after a backup to `.agent/serve/config.yaml.bak`:
//! never next to config.yaml, where git would pick it up). Until then those are still read, with a warning
//! saying how to move them. A name matching
//! `actor_resolution.agent_usernames` never gets a password (a web login
//! acts as a human) and never logs in, wherever its hash is.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::governance::actor::Actor;

use super::authcfg::{self, AuthConfig};
use super::passkey::store::PrivateDir;

/// The file under `.agent/serve/`.
pub const FILE: &str = "passwords.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PasswordFile {
    version: u32,
    users: BTreeMap<String, Entry>,
}

impl Default for PasswordFile {
    fn default() -> Self {
        PasswordFile {
            version: 1,
            users: BTreeMap::new(),
        }
    }
}

/// The users who may log in with a password, and what to tell the human.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logins {
    /// User name → bcrypt hash.
    pub users: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

fn is_agent(name: &str, patterns: &[String]) -> bool {
    Actor::for_name(name, patterns).is_agent()
}

/// The agent name patterns a server must keep from logging in: the
/// config's on a human's server (where a login acts as a human); none on
/// an agent's (where every login has the agent's authority anyway).
pub fn guarded_names(server: &crate::tracker::Tracker) -> &[String] {
    if server.actor.is_agent() {
        &[]
    } else {
        &server.config.agent_usernames
    }
}

/// The refusal for a web user name that is an agent's.
pub fn agent_name_error(user: &str) -> Error {
    Error::user(format!(
        "'{user}' matches actor_resolution.agent_usernames: a web login acts as a human, so an agent's name cannot have one"
    ))
    .with_hint("give a human's name with --user, or leave --user out to use your own")
}

fn check_hash(user: &str, hash: &str) -> Result<()> {
    if hash.starts_with("$2") {
        Ok(())
    } else {
        Err(Error::user(format!(
            "the password hash of '{user}' in .agent/serve/{FILE} is not a bcrypt hash"
        ))
        .with_hint(format!(
            "set it again with 'htrac-serve passwd --user {user}'"
        )))
    }
}

/// Reads the password users: `.agent/serve/passwords.json`, then the
/// hashes `legacy` still holds from config.yaml's `auth.users` (each with a
/// warning naming `htrac-serve passwd`); agents' names are left out.
pub fn load(root: &Path, legacy: &BTreeMap<String, String>, patterns: &[String]) -> Result<Logins> {
    let dir = PrivateDir::open(root)?;
    let file: PasswordFile = dir.read(FILE)?;
    let mut out = Logins::default();
    for (user, e) in file.users {
        check_hash(&user, &e.password_hash)?;
        out.users.insert(user, e.password_hash);
    }
    let mut moved_later: Vec<&str> = Vec::new();
    for (user, hash) in legacy {
        if !out.users.contains_key(user) {
            out.users.insert(user.clone(), hash.clone());
            moved_later.push(user);
        }
    }
    if !moved_later.is_empty() {
        out.warnings.push(format!(
            "password hashes of {} are in .agent/tracker/config.yaml, which every user can read; run 'htrac-serve passwd' (any user) to move them to .agent/serve/{FILE}, which only you can read",
            moved_later.join(", ")
        ));
    }
    let agents: Vec<String> = out
        .users
        .keys()
        .filter(|u| is_agent(u, patterns))
        .cloned()
        .collect();
    for user in &agents {
        out.users.remove(user);
    }
    if !agents.is_empty() {
        out.warnings.push(format!(
            "ignoring the password of {}: the name matches actor_resolution.agent_usernames, and a web login acts as a human",
            agents.join(", ")
        ));
    }
    Ok(out)
}

/// [`load`] with the legacy hashes read from config.yaml now.
pub fn load_current(root: &Path, patterns: &[String]) -> Result<Logins> {
    let legacy = AuthConfig::load(root)?.users;
    load(root, &legacy, patterns)
}

/// Sets `user`'s hash in `.agent/serve/passwords.json`, moving any hashes
/// config.yaml still holds there too. Returns what was done, line by line.
pub fn set(root: &Path, user: &str, hash: &str, patterns: &[String]) -> Result<Vec<String>> {
    if user.is_empty() || user.chars().any(|c| c.is_control() || c == ':') {
        return Err(Error::user(format!("invalid user name '{user}'")));
    }
    if is_agent(user, patterns) {
        return Err(agent_name_error(user));
    }
    let legacy = AuthConfig::load(root)?.users;
    let dir = PrivateDir::open(root)?;
    let _lock = dir.lock()?;
    let mut file: PasswordFile = dir.read(FILE)?;
    let mut done = Vec::new();
    let mut moved = Vec::new();
    for (name, h) in &legacy {
        if name == user || file.users.contains_key(name) {
            continue;
        }
        if is_agent(name, patterns) {
            done.push(format!(
                "dropped the password of '{name}' from config.yaml: the name matches actor_resolution.agent_usernames"
            ));
            continue;
        }
        file.users.insert(
            name.clone(),
            Entry {
                password_hash: h.clone(),
                set_at: None,
            },
        );
        moved.push(name.as_str());
    }
    file.users.insert(
        user.to_string(),
        Entry {
            password_hash: hash.to_string(),
            set_at: Some(crate::timestamp::now_utc()),
        },
    );
    dir.write(FILE, &file)?;
    let path = dir.path().join(FILE);
    done.insert(
        0,
        format!("password set for {user} in {} (mode 0600)", path.display()),
    );
    if !moved.is_empty() {
        done.push(format!(
            "moved the password hashes of {} from config.yaml to {}",
            moved.join(", "),
            path.display()
        ));
    }
    if !legacy.is_empty() {
        done.push(authcfg::remove_users(root, dir.path())?);
    }
    // Older versions left a backup holding hashes next to config.yaml,
    // where git would pick it up: into the private directory with it.
    let old_bak = authcfg::config_path(root).with_extension("yaml.bak");
    let holds_hashes = std::fs::read_to_string(&old_bak).is_ok_and(|t| t.contains("$2"));
    if holds_hashes {
        let to = dir.path().join("config.yaml.bak.old");
        std::fs::rename(&old_bak, &to)
            .map_err(|e| Error::user(format!("cannot move {}: {e}", old_bak.display())))?;
        done.push(format!(
            "moved {} (it holds password hashes) to {}",
            old_bak.display(),
            to.display()
        ));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tracker_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::init::init(&dir.path().join(".agent")).unwrap();
        dir
    }

    #[test]
    fn set_moves_legacy_hashes_and_load_skips_agents() {
        let dir = tracker_root();
        let root = dir.path().join(".agent");
        let patterns = vec!["*_agent".to_string()];
        authcfg::set_password_hash(&root, "bob", "$2b$04$bob").unwrap();
        authcfg::set_password_hash(&root, "amy_agent", "$2b$04$agent").unwrap();
        let l = load_current(&root, &patterns).unwrap();
        assert_eq!(l.users.keys().collect::<Vec<_>>(), ["bob"]);
        assert!(l.warnings[0].contains("bob") && l.warnings[0].contains("htrac-serve passwd"));
        assert!(l.warnings[1].contains("amy_agent"));
        assert!(set(&root, "eve_agent", "$2b$04$x", &patterns).is_err());
        let done = set(&root, "amy", "$2b$04$amy", &patterns).unwrap();
        assert!(done.iter().any(|d| d.contains("bob")), "{done:?}");
        let l = load_current(&root, &patterns).unwrap();
        assert_eq!(l.users.keys().collect::<Vec<_>>(), ["amy", "bob"]);
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let cfg = std::fs::read_to_string(authcfg::config_path(&root)).unwrap();
        assert!(!cfg.contains("$2b$"), "{cfg}");
        let bak = root.join("serve/config.yaml.bak");
        assert!(std::fs::read_to_string(bak).unwrap().contains("$2b$04$bob"));
        // The old writer's backup (hashes, next to config.yaml) moved too.
        assert!(!authcfg::config_path(&root)
            .with_extension("yaml.bak")
            .exists());
        assert!(root.join("serve/config.yaml.bak.old").exists());
        let p = root.join("serve").join(FILE);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
