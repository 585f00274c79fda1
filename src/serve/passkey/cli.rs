//! What `htrac-serve register-key` and `htrac-serve keys` do, as library
//! calls for the binary. Only a human OS user may issue registration links
//! or see and remove keys, and a link is only issued for a human's name:
//! whoever logs in with the key acts as that human.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::governance::actor::Actor;
use crate::tracker::Tracker;

use super::{KeyInfo, PasskeyConfig, Passkeys};

/// A one-time link to register a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationLink {
    /// `http://localhost:<port>/#register=<token>`.
    pub url: String,
    /// The web user the key will log in as.
    pub user: String,
    pub valid_for: Duration,
}

/// Opens the tracker's passkeys for a server on `port`.
pub fn open(tracker: &Tracker, port: u16) -> Result<Passkeys> {
    let cfg = PasskeyConfig::from_config(&tracker.config, port)?;
    Ok(Passkeys::open(&tracker.root, &cfg)?)
}

/// `htrac-serve register-key [--user NAME]`: issues a registration token
/// for `user` (default: the OS user running this) and returns the link.
pub fn register_key(tracker: &Tracker, user: Option<&str>, port: u16) -> Result<RegistrationLink> {
    tracker.require_human("register-key")?;
    let user = user.unwrap_or(&tracker.actor.name).trim();
    if Actor::for_name(user, &tracker.config.agent_usernames).is_agent() {
        return Err(Error::user(format!(
            "'{user}' matches actor_resolution.agent_usernames; a passkey logs in as a human"
        ))
        .with_hint("give a human's name with --user, or leave --user out to use your own"));
    }
    let passkeys = open(tracker, port)?;
    let token = passkeys.issue_registration_token(user)?;
    Ok(RegistrationLink {
        url: passkeys.registration_url(&token),
        user: user.to_string(),
        valid_for: PasskeyConfig::for_port(port).token_ttl,
    })
}

/// `htrac-serve keys`: every registered key.
pub fn list_keys(tracker: &Tracker) -> Result<Vec<KeyInfo>> {
    tracker.require_human("keys")?;
    Ok(open(tracker, super::DEFAULT_PORT)?.list_keys()?)
}

/// `htrac-serve keys --remove ID`: removes the key whose id (or unique
/// prefix of it) is `id`.
pub fn remove_key(tracker: &Tracker, id: &str) -> Result<KeyInfo> {
    tracker.require_human("keys")?;
    Ok(open(tracker, super::DEFAULT_PORT)?.remove_key(id)?)
}

/// The keys as a table for the terminal.
pub fn render_keys(keys: &[KeyInfo]) -> String {
    if keys.is_empty() {
        return "no passkeys registered (add one with 'htrac-serve register-key')\n".into();
    }
    let mut out = String::new();
    for k in keys {
        let state = match &k.disabled {
            Some(why) => format!("DISABLED: {why}"),
            None => format!("last used {}", k.last_used_at.as_deref().unwrap_or("never")),
        };
        out.push_str(&format!(
            "{}  {}  {}  registered {}  {}\n",
            k.id, k.user, k.algorithm, k.created_at, state
        ));
    }
    out
}
