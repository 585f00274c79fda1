//! Tracker configuration: `tracker/config.yaml`, else the tracked
//! `tracker/config.yaml.template`, else built-in defaults (a fallback chain,
//! not a merge). Validation follows the reference; every error names the key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod authority;
mod memo;
mod parse;

pub use authority::{Authority, SigningMode};

/// A field of a kind's `fields_schema`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSchema {
    pub name: String,
    /// `text`, `integer`, `list` or `boolean`.
    pub ty: String,
    pub required: bool,
    pub description: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// One item kind.
#[derive(Debug, Clone, PartialEq)]
pub struct KindConfig {
    pub name: String,
    pub prefix: String,
    pub description: String,
    pub fields_schema: Vec<FieldSchema>,
    pub allowed_statuses: Option<Vec<String>>,
    pub deprecated_statuses: Option<Vec<String>>,
}

impl KindConfig {
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields_schema.iter().find(|f| f.name == name)
    }
}

/// Which tiers the stop hook counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Workspace,
}

/// The stop hook's answer when the tracker cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    Block,
    Allow,
}

/// `stop_hook.precedence_gate`: the command that decides whether a
/// `[[tag]]`-prefaced human message is answered first (see
/// [`crate::stophook::escalation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecedenceGate {
    /// Run with `sh -c`; the prompt on stdin, the answer on stdout.
    pub command: String,
    /// Killed after this long (default 60).
    pub timeout_seconds: u64,
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(PathBuf),
    Defaults,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub kinds: Vec<KindConfig>,
    pub statuses: Vec<String>,
    pub blocking_statuses: Vec<String>,
    pub resolved_statuses: Vec<String>,
    pub human_only_statuses: Vec<String>,
    pub well_known_tags: Vec<String>,
    pub agent_usernames: Vec<String>,
    pub scope: Scope,
    /// Consecutive blocked stops without progress after which the stop
    /// hook lets the agent stop (`stop_hook.max_blocked_stops`, default 3).
    pub max_blocked_stops: u32,
    /// What the stop hook does when the tracker cannot be read
    /// (`stop_hook.on_error`, default block: fail closed).
    pub on_error: OnError,
    /// Where `guidance` writes (`stop_hook.guidance_dir`), if configured.
    pub guidance_dir: Option<PathBuf>,
    /// `stop_hook.precedence_gate`, if configured: no gate, no escalation.
    pub precedence_gate: Option<PrecedenceGate>,
    pub lamport_branches: Vec<String>,
    /// `authority:`: signed human authority (see [`crate::governance::signing`]),
    /// merged with the host's ([`crate::governance::trustroot`]): never weaker.
    pub authority: Authority,
    /// The host configuration files merged in (empty: none).
    pub system_files: Vec<PathBuf>,
    pub source: Source,
    /// The whole document, for keys later features read (e.g. `sync`).
    pub raw: Value,
}

/// A configuration that cannot be used, with the file and key at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(
                f,
                "invalid config {}: {}: {}",
                p.display(),
                self.key,
                self.message
            ),
            None => write!(f, "invalid built-in config: {}: {}", self.key, self.message),
        }
    }
}

/// The built-in defaults, as YAML (also what `init` writes as a template
/// when none exists).
pub const DEFAULT_CONFIG_YAML: &str = include_str!("../config.yaml.template");

impl Config {
    /// Loads the configuration for the tracker whose `.agent/` directory is
    /// `root`, under the host's trust root ([`crate::governance::trustroot`]): the host
    /// configuration merged in, and a config an agent could have written
    /// refused (or, for an agent, kept from making it a human).
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let sys = crate::governance::trustroot::load_system(
            &crate::governance::trustroot::system_paths(),
        )?;
        let mut config = Config::load_unchecked(root)?;
        crate::governance::trustroot::apply(&mut config, sys.as_ref())?;
        // Checked once the host's settings are in: it may be the one
        // naming the allowed_signers file.
        let a = &config.authority;
        if a.signing != SigningMode::Off && a.allowed_signers.is_none() {
            return Err(ConfigError {
                file: Some(root.join("tracker/config.yaml")),
                key: "authority.allowed_signers".into(),
                message: format!(
                    "must name an allowed_signers file when authority.signing is '{}' (here or in the host configuration)",
                    a.signing.as_str()
                ),
            });
        }
        Ok(config)
    }

    /// The tracker's own configuration file chain, without the trust root
    /// (for set-up's validation, which reports ownership separately).
    pub fn load_unchecked(root: &Path) -> Result<Config, ConfigError> {
        let dir = root.join("tracker");
        for name in ["config.yaml", "config.yaml.template"] {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => return Config::read_file(root, text, path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(ConfigError {
                        file: Some(path),
                        key: "(file)".into(),
                        message: format!("cannot read: {e}"),
                    })
                }
            }
        }
        Config::parse(DEFAULT_CONFIG_YAML, Source::Defaults)
    }

    /// The configuration in `text`, read from `path`.
    fn read_file(root: &Path, text: String, path: PathBuf) -> Result<Config, ConfigError> {
        let raw = Config::document(root, "config", &text, &path)?;
        Config::from_document(raw, Source::File(path))
    }

    /// The YAML document in `text`, read from `path`, a file of the tracker
    /// at `root`: kept in the cache directory under `slot` for exactly this
    /// text ([`memo`]), so that a file read by every command is parsed once.
    pub fn document(
        root: &Path,
        slot: &str,
        text: &str,
        path: &Path,
    ) -> Result<Value, ConfigError> {
        let memo = memo::path_for(root, slot);
        if let Some(raw) = memo.as_deref().and_then(|m| memo::recall(m, text)) {
            return Ok(raw);
        }
        let raw = parse::document(text, Some(path))?;
        if let Some(m) = &memo {
            memo::keep(m, text, &raw);
        }
        Ok(raw)
    }

    /// The error for a kind this configuration does not define, with the
    /// nearest kind as a hint.
    pub fn unknown_kind(&self, kind: &str) -> crate::Error {
        let names = self.kind_names();
        let hint = match crate::nearest::did_you_mean(kind, names.iter().copied()) {
            Some(d) => format!("{d} (kinds come from the tracker's config.yaml)"),
            None => {
                "pick one of the kinds listed (they come from the tracker's config.yaml)".into()
            }
        };
        crate::Error::user(format!(
            "Unknown kind '{kind}'. Valid kinds: {}",
            names.join(", ")
        ))
        .with_hint(hint)
    }

    /// The built-in defaults.
    pub fn defaults() -> Config {
        Config::parse(DEFAULT_CONFIG_YAML, Source::Defaults).expect("built-in config is valid")
    }
    /// Parses and validates a configuration document.
    pub fn parse(text: &str, source: Source) -> Result<Config, ConfigError> {
        let file = match &source {
            Source::File(p) => Some(p.as_path()),
            Source::Defaults => None,
        };
        let raw = parse::document(text, file)?;
        Config::from_document(raw, source)
    }

    pub fn kind(&self, name: &str) -> Option<&KindConfig> {
        self.kinds.iter().find(|k| k.name == name)
    }

    /// The kind whose ID prefix is `prefix`.
    pub fn kind_by_prefix(&self, prefix: &str) -> Option<&KindConfig> {
        self.kinds.iter().find(|k| k.prefix == prefix)
    }

    pub fn kind_names(&self) -> Vec<&str> {
        self.kinds.iter().map(|k| k.name.as_str()).collect()
    }

    pub fn is_blocking(&self, status: &str) -> bool {
        self.blocking_statuses.iter().any(|s| s == status)
    }

    pub fn is_resolved(&self, status: &str) -> bool {
        self.resolved_statuses.iter().any(|s| s == status)
    }

    pub fn is_human_only(&self, status: &str) -> bool {
        self.human_only_statuses.iter().any(|s| s == status)
    }

    /// The authority rules this configuration puts in force when ops are read.
    pub fn policy(&self) -> crate::governance::policy::Policy {
        crate::governance::policy::Policy::new(&self.agent_usernames, &self.human_only_statuses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = Config::defaults();
        assert_eq!(c.kind("work_item").unwrap().prefix, "WI");
        assert_eq!(c.kind("invariant").unwrap().prefix, "INV");
        assert!(
            c.kind("invariant")
                .unwrap()
                .field("statement")
                .unwrap()
                .required
        );
        assert_eq!(c.blocking_statuses, vec!["todo_hard", "todo_soft"]);
        assert_eq!(c.lamport_branches, vec!["dev", "main"]);
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::parse(
            "statuses: [a]\nstop_hook: {blocking_statuses: [b]}\n",
            Source::Defaults,
        )
        .unwrap_err();
        assert_eq!(e.key, "stop_hook.blocking_statuses");
        assert!(e.message.contains("'b'"));
        let e = Config::parse(
            "statuses: [a]\nstop_hook: {blocking_statuses: [a], scope: all_of_it}\n",
            Source::Defaults,
        )
        .unwrap_err();
        assert_eq!(e.key, "stop_hook.scope");
        let e = Config::parse("kinds: {x: {prefix: X, fields_schema: {f: {type: blob}}}}\nstatuses: [a]\nstop_hook: {blocking_statuses: [a]}\n", Source::Defaults).unwrap_err();
        assert_eq!(e.key, "kinds.x.fields_schema.f.type");
    }

    #[test]
    fn authority_is_off_by_default_and_checked() {
        assert_eq!(Config::defaults().authority, Authority::default());
        let base = "statuses: [a]\nstop_hook: {blocking_statuses: [a]}\n";
        let parse = |extra: &str| Config::parse(&format!("{base}{extra}"), Source::Defaults);
        let a =
            parse("authority: {signing: required, allowed_signers: /etc/htrac/allowed_signers}\n")
                .unwrap()
                .authority;
        assert_eq!(a.signing, SigningMode::Required);
        assert_eq!(
            a.allowed_signers,
            Some(PathBuf::from("/etc/htrac/allowed_signers"))
        );
        assert_eq!(
            parse("authority: {signing: off}\n")
                .unwrap()
                .authority
                .signing,
            SigningMode::Off
        );
        let e = parse("authority: {signing: maybe}\n").unwrap_err();
        assert_eq!(e.key, "authority.signing");
        // Without allowed_signers: the host configuration may name it, so
        // only loading (after the merge) refuses it.
        assert!(parse("authority: {signing: warn}\n").is_ok());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tracker")).unwrap();
        std::fs::write(
            dir.path().join("tracker/config.yaml"),
            DEFAULT_CONFIG_YAML.to_string() + "\nauthority: {signing: warn}\n",
        )
        .unwrap();
        let e = Config::load(dir.path()).unwrap_err();
        assert_eq!(e.key, "authority.allowed_signers");
        let e =
            parse("authority: {signing: warn, allowed_signers: x, sigining_key: y}\n").unwrap_err();
        assert_eq!(e.key, "authority.sigining_key");
        let e = parse("authority: {signing: off, allowed_signers: [a]}\n").unwrap_err();
        assert_eq!(e.key, "authority.allowed_signers");
        let root = Path::new("/r/.agent");
        assert_eq!(
            Authority::path(root, Path::new("keys/a")),
            PathBuf::from("/r/.agent/keys/a")
        );
        assert_eq!(
            Authority::path(root, Path::new("/etc/a")),
            PathBuf::from("/etc/a")
        );
    }
}
