//! The trust root: what decides who is an agent, and which signing rules
//! apply, in a way the agent's OS user cannot change.
//!
//! Three rules, applied whenever a configuration is loaded:
//!
//! 1. **The host configuration** (`/etc/htrac/config.yaml`) holds only
//!    `actor_resolution.agent_usernames` and `authority` (`signing:
//!    off|warn|required`, `allowed_signers: PATH`). It is read only when it
//!    and every directory above it are owned by root or a non-agent user and
//!    writable by no one else (a sticky world-writable directory such as
//!    `/tmp` is allowed); otherwise loading fails. It is merged so the
//!    tracker's own configuration can only add to it: agent patterns are the
//!    union, the signing mode the stricter of the two, `allowed_signers` the
//!    host's when it names one.
//! 2. **`HTRAC_SYSTEM_CONFIG`** names one more host file, read *in addition
//!    to* `/etc/htrac/config.yaml` (never instead of it) and held to the same
//!    ownership checks. Because the merge only ever adds patterns and raises
//!    the signing mode, an agent that sets the variable can only constrain
//!    itself further.
//! 3. **The tracker configuration** (`tracker/config.yaml`, else its
//!    template) that an agent could have written — owned by an agent user,
//!    world-writable, or group-writable by a group an agent belongs to — is
//!    not governance: a human's (or root's) htrac refuses it, and an agent's
//!    htrac keeps the default pattern `*_agent` and the host's patterns in
//!    force on top of it, so a copied or forged config never turns the agent
//!    into a human. Agent users are recognised here by the default pattern,
//!    the host's patterns and the file's own.
//!
//! And a tracker root whose tier directories are symbolic links is refused
//! ([`check_tier_dirs`]): pointing `--tracker-root` at a directory of one's
//! own that links to the real tiers must not pair the real items with a
//! config of one's choosing.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::{Config, ConfigError};
use crate::error::{Error, Result};
use crate::governance::actor::fnmatch;

/// The host configuration's fixed path.
pub const SYSTEM_CONFIG: &str = "/etc/htrac/config.yaml";
/// The environment variable naming one more host configuration file.
pub const SYSTEM_CONFIG_ENV: &str = "HTRAC_SYSTEM_CONFIG";
/// The agent pattern that is always in force for configs an agent could write.
pub const DEFAULT_AGENT_PATTERN: &str = "*_agent";

// How strictly ops must be signed (`authority.signing`) is the tracker
// config's own type, so the host's and the tracker's modes compare.
use crate::config::SigningMode;

/// The `authority` settings in force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authority {
    pub signing: SigningMode,
    /// The allowed-signers file (ssh-keygen format), if one is named.
    pub allowed_signers: Option<PathBuf>,
}

impl Authority {
    /// Reads the `authority` mapping of a config document (absent: defaults).
    pub fn from_top(
        top: &Map<String, Value>,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> std::result::Result<Authority, ConfigError> {
        let a = match top.get("authority") {
            None | Some(Value::Null) => return Ok(Authority::default()),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(err("authority", "must be a mapping".into())),
        };
        if let Some(k) = a
            .keys()
            .find(|k| !["signing", "allowed_signers"].contains(&k.as_str()))
        {
            return Err(err(
                &format!("authority.{k}"),
                "unknown key (expected signing, allowed_signers)".into(),
            ));
        }
        let signing = match a.get("signing") {
            None | Some(Value::Null) => SigningMode::Off,
            // YAML 1.1 reads a bare `off` as false.
            Some(Value::Bool(false)) => SigningMode::Off,
            Some(Value::String(s)) => SigningMode::parse(s).ok_or_else(|| {
                err(
                    "authority.signing",
                    format!("must be off, warn or required, got '{s}'"),
                )
            })?,
            Some(other) => {
                return Err(err(
                    "authority.signing",
                    format!("must be off, warn or required, got {other}"),
                ))
            }
        };
        let allowed_signers = match a.get("allowed_signers") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(PathBuf::from(s)),
            Some(other) => {
                return Err(err(
                    "authority.allowed_signers",
                    format!("must be a file path, got {other}"),
                ))
            }
        };
        Ok(Authority {
            signing,
            allowed_signers,
        })
    }
}

/// What the host configuration files say, merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemConfig {
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    pub agent_usernames: Vec<String>,
    pub authority: Authority,
}

/// The host configuration files to read: `/etc/htrac/config.yaml` when it
/// exists, then the file `HTRAC_SYSTEM_CONFIG` names.
pub fn system_paths() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let fixed = PathBuf::from(SYSTEM_CONFIG);
    if fs::symlink_metadata(&fixed).is_ok() {
        out.push(fixed);
    }
    if let Some(v) = std::env::var_os(SYSTEM_CONFIG_ENV).filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(v));
    }
    out
}

/// Loads and merges the host configuration files in `paths`; `None` when there are none.
pub fn load_system(paths: &[PathBuf]) -> std::result::Result<Option<SystemConfig>, ConfigError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut sys = SystemConfig::default();
    for path in paths {
        let err = |key: &str, message: String| ConfigError {
            file: Some(path.clone()),
            key: key.to_string(),
            message,
        };
        let text = fs::read_to_string(path)
            .map_err(|e| err("(file)", format!("cannot read the host configuration: {e}")))?;
        let raw: Value = serde_norway::from_str(&text)
            .map_err(|e| err("(yaml)", format!("malformed YAML: {e}")))?;
        let empty = Map::new();
        let top = match &raw {
            Value::Null => &empty,
            Value::Object(m) => m,
            _ => return Err(err("(top level)", "must be a mapping".into())),
        };
        if let Some(k) = top
            .keys()
            .find(|k| !["actor_resolution", "authority"].contains(&k.as_str()))
        {
            return Err(err(
                k,
                "unknown key: the host configuration holds only actor_resolution and authority"
                    .into(),
            ));
        }
        let mut patterns = Vec::new();
        match top.get("actor_resolution") {
            None | Some(Value::Null) => {}
            Some(Value::Object(a)) => match a.get("agent_usernames") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for i in items {
                        match i {
                            Value::String(s) => patterns.push(s.clone()),
                            other => {
                                return Err(err(
                                    "actor_resolution.agent_usernames",
                                    format!("entries must be strings, found {other}"),
                                ))
                            }
                        }
                    }
                }
                Some(other) => {
                    return Err(err(
                        "actor_resolution.agent_usernames",
                        format!("must be a list, found {other}"),
                    ))
                }
            },
            Some(_) => return Err(err("actor_resolution", "must be a mapping".into())),
        }
        let authority = Authority::from_top(top, &err)?;
        // Ownership is judged with every pattern known so far, this file's too.
        let mut known = vec![DEFAULT_AGENT_PATTERN.to_string()];
        known.extend(sys.agent_usernames.iter().cloned());
        known.extend(patterns.iter().cloned());
        if let Err(why) = check_host_file(path, &known) {
            return Err(err(
                "(ownership)",
                format!("not a trusted host configuration: {why}"),
            ));
        }
        for p in patterns {
            if !sys.agent_usernames.contains(&p) {
                sys.agent_usernames.push(p);
            }
        }
        sys.authority.signing = sys.authority.signing.max(authority.signing);
        if sys.authority.allowed_signers.is_none() {
            sys.authority.allowed_signers = authority.allowed_signers;
        }
        sys.files.push(path.clone());
    }
    Ok(Some(sys))
}

fn is_agent(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| fnmatch(p, name))
}

fn owner_label(uid: u32) -> String {
    crate::governance::actor::user_name(uid).unwrap_or_else(|| uid.to_string())
}

/// Whether `uid` may own a trusted file: root, or a user no pattern calls an agent.
fn trusted_owner(uid: u32, patterns: &[String]) -> bool {
    uid == 0 || !is_agent(&owner_label(uid), patterns)
}

/// A host file is trusted when it and every directory above it (both as
/// named and with symbolic links resolved) are owned by root or a non-agent
/// user and writable by no one else; a directory writable by others must
/// carry the sticky bit.
pub fn check_host_file(path: &Path, patterns: &[String]) -> std::result::Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = fs::metadata(&real).map_err(|e| format!("{}: {e}", real.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", real.display()));
    }
    if !trusted_owner(meta.uid(), patterns) {
        return Err(format!(
            "{} is owned by agent user '{}'",
            real.display(),
            owner_label(meta.uid())
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by its group or by others (mode {:04o}; want 0644 or stricter)",
            real.display(),
            meta.mode() & 0o7777
        ));
    }
    let mut dirs: Vec<PathBuf> = real.ancestors().skip(1).map(Path::to_path_buf).collect();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        dirs.extend(parent.ancestors().map(Path::to_path_buf));
    }
    for d in dirs {
        let Ok(m) = fs::metadata(&d) else { continue };
        if !trusted_owner(m.uid(), patterns) {
            return Err(format!(
                "directory {} is owned by agent user '{}'",
                d.display(),
                owner_label(m.uid())
            ));
        }
        let sticky = m.mode() & 0o1000 != 0;
        if m.mode() & 0o022 != 0 && !sticky {
            return Err(format!(
                "directory {} is writable by its group or by others without the sticky bit (mode {:04o})",
                d.display(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// Why an agent could have written the file `meta` describes, if it could:
/// it owns it, the file is world-writable, or group-writable by a group an
/// agent belongs to (a listed member, or this process when it is an agent).
pub fn agent_could_write(meta: &fs::Metadata, patterns: &[String]) -> Option<String> {
    let owner = owner_label(meta.uid());
    if meta.uid() != 0 && is_agent(&owner, patterns) {
        return Some(format!("it is owned by agent user '{owner}'"));
    }
    let mode = meta.permissions().mode();
    if mode & 0o002 != 0 {
        return Some(format!("it is world-writable (mode {:04o})", mode & 0o7777));
    }
    if mode & 0o020 != 0 {
        let group = crate::users::group_by_gid(meta.gid());
        let label = group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_else(|| meta.gid().to_string());
        let members = group.map(|g| g.members).unwrap_or_default();
        let me = crate::users::current_user();
        let agent = members
            .into_iter()
            .find(|m| is_agent(m, patterns))
            .or_else(|| {
                (is_agent(&me.name, patterns) && crate::users::process_in_group(meta.gid()))
                    .then(|| me.name.clone())
            });
        if let Some(a) = agent {
            return Some(format!(
                "it is writable by group '{label}', which agent user '{a}' belongs to (mode {:04o})",
                mode & 0o7777
            ));
        }
    }
    None
}

/// Applies the trust root to a freshly loaded tracker configuration: the
/// host's patterns and authority merged in, and rule 3 of the module docs.
pub fn apply(
    config: &mut Config,
    sys: Option<&SystemConfig>,
) -> std::result::Result<(), ConfigError> {
    let mut known = vec![DEFAULT_AGENT_PATTERN.to_string()];
    if let Some(s) = sys {
        known.extend(s.agent_usernames.iter().cloned());
    }
    known.extend(config.agent_usernames.iter().cloned());
    if let crate::config::Source::File(path) = &config.source {
        if let Ok(meta) = fs::metadata(path) {
            if let Some(why) = agent_could_write(&meta, &known) {
                let me = crate::users::current_user();
                if me.uid == 0 || !is_agent(&me.name, &known) {
                    return Err(ConfigError {
                        file: Some(path.clone()),
                        key: "(ownership)".into(),
                        message: format!(
                            "refusing a configuration an agent could have written: {why}. As the human, run 'htrac setup' (it takes the file back and makes it read-only)"
                        ),
                    });
                }
                // An agent reading an agent-writable config: it stays an agent.
                add_patterns(&mut config.agent_usernames, &known);
            }
        }
    }
    if let Some(s) = sys {
        add_patterns(&mut config.agent_usernames, &s.agent_usernames);
        config.authority.signing = config.authority.signing.max(s.authority.signing);
        if s.authority.allowed_signers.is_some() {
            config.authority.allowed_signers = s.authority.allowed_signers.clone();
        }
        config.system_files = s.files.clone();
    }
    Ok(())
}

fn add_patterns(into: &mut Vec<String>, from: &[String]) {
    for p in from {
        if !into.contains(p) {
            into.push(p.clone());
        }
    }
}

/// The directories between a tracker root and its items, none of which may be a symbolic link.
pub const TIER_PATH_DIRS: [&str; 5] = [
    "tracker",
    "tracker/.ops",
    "tracker-workspace",
    "tracker-workspace/.ops",
    "tracker-workspace/stealth",
];

/// Refuses a tracker root whose tier directories (or their parents) are
/// symbolic links. Resolving them instead would mean trusting the link's
/// target to say which tracker's config applies — and whoever made the
/// link chose the target. No real set-up needs the links.
pub fn check_tier_dirs(root: &Path) -> Result<()> {
    for rel in TIER_PATH_DIRS {
        let p = root.join(rel);
        if fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            let target = fs::read_link(&p)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Err(Error::user(format!(
                "refusing tracker root {}: {rel} is a symbolic link (to {target})",
                root.display()
            ))
            .with_hint(
                "a tracker's items and its config must live together: pass the real .agent/ directory (--tracker-root), not one that links to its tiers",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_modes_order_and_parse() {
        assert!(SigningMode::Off < SigningMode::Warn && SigningMode::Warn < SigningMode::Required);
        assert_eq!(SigningMode::parse("warn"), Some(SigningMode::Warn));
        assert_eq!(SigningMode::parse("on"), None);
        let err = |k: &str, m: String| ConfigError {
            file: None,
            key: k.into(),
            message: m,
        };
        let top: Map<String, Value> =
            serde_norway::from_str("authority: {signing: off, allowed_signers: /x}").unwrap();
        let a = Authority::from_top(&top, &err).unwrap();
        assert_eq!(a.signing, SigningMode::Off);
        assert_eq!(a.allowed_signers, Some(PathBuf::from("/x")));
        let top: Map<String, Value> = serde_norway::from_str("authority: {sign: warn}").unwrap();
        assert_eq!(
            Authority::from_top(&top, &err).unwrap_err().key,
            "authority.sign"
        );
    }
}
