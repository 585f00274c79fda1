//! Tracker configuration: `tracker/config.yaml`, else the tracked
//! `tracker/config.yaml.template`, else built-in defaults (a fallback chain,
//! not a merge). Validation follows the reference; every error names the key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

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
                Ok(text) => return Config::parse(&text, Source::File(path)),
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

    /// The built-in defaults.
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

    pub fn defaults() -> Config {
        Config::parse(DEFAULT_CONFIG_YAML, Source::Defaults).expect("built-in config is valid")
    }

    /// Parses and validates a configuration document.
    pub fn parse(text: &str, source: Source) -> Result<Config, ConfigError> {
        let file = match &source {
            Source::File(p) => Some(p.clone()),
            Source::Defaults => None,
        };
        let err = |key: &str, message: String| ConfigError {
            file: file.clone(),
            key: key.to_string(),
            message,
        };
        let raw: Value = if text.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_norway::from_str(text)
                .map_err(|e| err("(yaml)", format!("malformed YAML: {e}")))?
        };
        let raw = if raw.is_null() {
            Value::Object(Default::default())
        } else {
            raw
        };
        let top = raw
            .as_object()
            .ok_or_else(|| err("(top level)", "must be a mapping".into()))?;

        let mut kinds = Vec::new();
        match top.get("kinds") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (name, spec) in m {
                    let key = format!("kinds.{name}");
                    let spec = spec
                        .as_object()
                        .ok_or_else(|| err(&key, "must be a mapping".into()))?;
                    let prefix = match spec.get("prefix") {
                        Some(Value::String(p)) if !p.is_empty() && !p.contains('-') => p.clone(),
                        Some(_) => {
                            return Err(err(
                                &format!("{key}.prefix"),
                                "must be a non-empty string without '-'".into(),
                            ))
                        }
                        None => {
                            // Derived from the name: must pass the same check.
                            let p: String = name.to_uppercase().chars().take(3).collect();
                            if p.is_empty() || p.contains('-') {
                                return Err(err(
                                    &format!("{key}.prefix"),
                                    format!("missing, and '{p}' (from the kind name) is not a valid prefix: set one"),
                                ));
                            }
                            p
                        }
                    };
                    let mut fields_schema = Vec::new();
                    match spec.get("fields_schema") {
                        None | Some(Value::Null) => {}
                        Some(Value::Object(fs)) => {
                            for (fname, fspec) in fs {
                                let fkey = format!("{key}.fields_schema.{fname}");
                                let fspec = fspec
                                    .as_object()
                                    .ok_or_else(|| err(&fkey, "must be a mapping".into()))?;
                                let ty = fspec
                                    .get("type")
                                    .and_then(Value::as_str)
                                    .unwrap_or("text")
                                    .to_string();
                                if !["text", "integer", "list", "boolean"].contains(&ty.as_str()) {
                                    return Err(err(&format!("{fkey}.type"), format!("must be one of text, integer, list, boolean (got '{ty}')")));
                                }
                                let int_of = |k: &str| -> Result<Option<i64>, ConfigError> {
                                    match fspec.get(k) {
                                        None | Some(Value::Null) => Ok(None),
                                        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                                            err(&format!("{fkey}.{k}"), "must be an integer".into())
                                        }),
                                    }
                                };
                                let (min, max) = (int_of("min")?, int_of("max")?);
                                if ty != "integer" && (min.is_some() || max.is_some()) {
                                    return Err(err(
                                        &fkey,
                                        "min/max are only valid for integer fields".into(),
                                    ));
                                }
                                let required = match fspec.get("required") {
                                    None | Some(Value::Null) => false,
                                    Some(Value::Bool(b)) => *b,
                                    Some(_) => {
                                        return Err(err(
                                            &format!("{fkey}.required"),
                                            "must be true or false".into(),
                                        ))
                                    }
                                };
                                fields_schema.push(FieldSchema {
                                    name: fname.clone(),
                                    ty,
                                    required,
                                    description: fspec
                                        .get("description")
                                        .and_then(Value::as_str)
                                        .unwrap_or("")
                                        .to_string(),
                                    min,
                                    max,
                                });
                            }
                        }
                        Some(_) => {
                            return Err(err(
                                &format!("{key}.fields_schema"),
                                "must be a mapping".into(),
                            ))
                        }
                    }
                    kinds.push(KindConfig {
                        name: name.clone(),
                        prefix,
                        description: spec
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        fields_schema,
                        allowed_statuses: opt_list(
                            spec.get("allowed_statuses"),
                            &format!("{key}.allowed_statuses"),
                            &err,
                        )?,
                        deprecated_statuses: opt_list(
                            spec.get("deprecated_statuses"),
                            &format!("{key}.deprecated_statuses"),
                            &err,
                        )?,
                    });
                }
            }
            Some(_) => {
                return Err(err(
                    "kinds",
                    "must be a mapping of kind name to settings".into(),
                ))
            }
        }

        let statuses = opt_list(top.get("statuses"), "statuses", &err)?.unwrap_or_default();
        if statuses.is_empty() {
            return Err(err("statuses", "must be a non-empty list".into()));
        }
        let empty = serde_json::Map::new();
        let stop_hook = match top.get("stop_hook") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(err("stop_hook", "must be a mapping".into())),
        };
        let blocking = opt_list(
            stop_hook.get("blocking_statuses"),
            "stop_hook.blocking_statuses",
            &err,
        )?
        .unwrap_or_default();
        if blocking.is_empty() {
            return Err(err(
                "stop_hook.blocking_statuses",
                "must be a non-empty list".into(),
            ));
        }
        let resolved = opt_list(
            stop_hook.get("resolved_statuses"),
            "stop_hook.resolved_statuses",
            &err,
        )?
        .unwrap_or_default();
        let human_only = opt_list(
            stop_hook.get("human_only_statuses"),
            "stop_hook.human_only_statuses",
            &err,
        )?
        .unwrap_or_default();
        for (key, list) in [
            ("stop_hook.blocking_statuses", &blocking),
            ("stop_hook.resolved_statuses", &resolved),
            ("stop_hook.human_only_statuses", &human_only),
        ] {
            if let Some(s) = list.iter().find(|s| !statuses.contains(s)) {
                return Err(err(
                    key,
                    format!("references unknown status '{s}' (not in 'statuses')"),
                ));
            }
        }
        if let Some(s) = blocking.iter().find(|s| resolved.contains(s)) {
            return Err(err(
                "stop_hook.resolved_statuses",
                format!("status '{s}' is also in blocking_statuses"),
            ));
        }
        if let Some(s) = blocking.iter().find(|s| human_only.contains(s)) {
            return Err(err(
                "stop_hook.human_only_statuses",
                format!("status '{s}' is also in blocking_statuses"),
            ));
        }
        for k in &kinds {
            for (what, list) in [
                ("allowed_statuses", &k.allowed_statuses),
                ("deprecated_statuses", &k.deprecated_statuses),
            ] {
                if let Some(s) = list.iter().flatten().find(|s| !statuses.contains(s)) {
                    return Err(err(
                        &format!("kinds.{}.{what}", k.name),
                        format!("references unknown status '{s}'"),
                    ));
                }
            }
            if let (Some(a), Some(d)) = (&k.allowed_statuses, &k.deprecated_statuses) {
                if let Some(s) = d.iter().find(|s| a.contains(s)) {
                    return Err(err(
                        &format!("kinds.{}.deprecated_statuses", k.name),
                        format!("status '{s}' is also allowed"),
                    ));
                }
            }
        }
        let scope = match stop_hook.get("scope") {
            None | Some(Value::Null) => Scope::All,
            Some(Value::String(s)) if s == "all" => Scope::All,
            Some(Value::String(s)) if s == "workspace" => Scope::Workspace,
            Some(other) => {
                return Err(err(
                    "stop_hook.scope",
                    format!("must be 'all' or 'workspace', got {other}"),
                ))
            }
        };
        let max_blocked_stops = match stop_hook.get("max_blocked_stops") {
            None | Some(Value::Null) => 3,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=1000).contains(&n) => n as u32,
                _ => {
                    return Err(err(
                        "stop_hook.max_blocked_stops",
                        format!("must be a whole number from 1 to 1000, got {v}"),
                    ))
                }
            },
        };
        let on_error = match stop_hook.get("on_error") {
            None | Some(Value::Null) => OnError::Block,
            Some(Value::String(s)) if s == "block" => OnError::Block,
            Some(Value::String(s)) if s == "allow" => OnError::Allow,
            Some(other) => {
                return Err(err(
                    "stop_hook.on_error",
                    format!("must be 'block' or 'allow', got {other}"),
                ))
            }
        };
        let guidance_dir = match stop_hook.get("guidance_dir") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(PathBuf::from(s)),
            Some(other) => {
                return Err(err(
                    "stop_hook.guidance_dir",
                    format!("must be a directory path, got {other}"),
                ))
            }
        };
        let precedence_gate = match stop_hook.get("precedence_gate") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => {
                let key = "stop_hook.precedence_gate";
                if let Some(k) = m
                    .keys()
                    .find(|k| !["command", "timeout_seconds"].contains(&k.as_str()))
                {
                    return Err(err(
                        &format!("{key}.{k}"),
                        "unknown key (known: command, timeout_seconds)".into(),
                    ));
                }
                let command = match m.get("command") {
                    Some(Value::String(c)) if !c.trim().is_empty() => c.clone(),
                    other => {
                        return Err(err(
                            &format!("{key}.command"),
                            format!(
                                "must be a shell command, got {}",
                                other
                                    .map(Value::to_string)
                                    .unwrap_or_else(|| "nothing".into())
                            ),
                        ))
                    }
                };
                let timeout_seconds = match m.get("timeout_seconds") {
                    None | Some(Value::Null) => 60,
                    Some(v) => match v.as_u64() {
                        Some(n) if (1..=3600).contains(&n) => n,
                        _ => {
                            return Err(err(
                                &format!("{key}.timeout_seconds"),
                                format!("must be a whole number from 1 to 3600, got {v}"),
                            ))
                        }
                    },
                };
                Some(PrecedenceGate {
                    command,
                    timeout_seconds,
                })
            }
            Some(other) => {
                return Err(err(
                    "stop_hook.precedence_gate",
                    format!("must be a mapping (command, timeout_seconds), got {other}"),
                ))
            }
        };
        let actor = top.get("actor_resolution").and_then(Value::as_object);
        let agent_usernames = match actor.and_then(|a| a.get("agent_usernames")) {
            None => vec!["*_agent".to_string()],
            v => opt_list(v, "actor_resolution.agent_usernames", &err)?.unwrap_or_default(),
        };
        if agent_usernames.is_empty() {
            return Err(err(
                "actor_resolution.agent_usernames",
                "must be a non-empty list".into(),
            ));
        }
        let lamport_branches = match top.get("lamport_branches") {
            None => vec!["dev".to_string(), "main".to_string()],
            v => opt_list(v, "lamport_branches", &err)?.unwrap_or_default(),
        };
        if lamport_branches.is_empty() {
            return Err(err("lamport_branches", "must be a non-empty list".into()));
        }
        let well_known_tags =
            opt_list(top.get("well_known_tags"), "well_known_tags", &err)?.unwrap_or_default();
        let authority = Authority::parse(top.get("authority"), &err)?;
        Ok(Config {
            kinds,
            statuses,
            blocking_statuses: blocking,
            resolved_statuses: resolved,
            human_only_statuses: human_only,
            well_known_tags,
            agent_usernames,
            scope,
            max_blocked_stops,
            on_error,
            guidance_dir,
            precedence_gate,
            lamport_branches,
            authority,
            system_files: Vec::new(),
            source,
            raw,
        })
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

/// `authority.signing`: whether human ops must carry an SSH signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum SigningMode {
    /// Nothing is signed or checked (the default; the reference's behaviour).
    #[default]
    Off,
    /// Human ops are signed; an unsigned or badly signed one still counts
    /// as the human's, and `validate`/`show` warn.
    Warn,
    /// A human op without a valid signature counts as an agent's.
    Required,
}

impl SigningMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningMode::Off => "off",
            SigningMode::Warn => "warn",
            SigningMode::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<SigningMode> {
        [SigningMode::Off, SigningMode::Warn, SigningMode::Required]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The `authority:` mapping: signed human authority (see [`crate::governance::signing`]).
/// Paths are as written; relative ones are taken from the `.agent/`
/// directory and `~/` from `$HOME` ([`Authority::path`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authority {
    /// `authority.signing`: off (default), warn or required.
    pub signing: SigningMode,
    /// `authority.allowed_signers`: an OpenSSH allowed_signers file whose
    /// principals are op actors. Required unless signing is off.
    pub allowed_signers: Option<PathBuf>,
    /// `authority.trusted_ops`: the signed list of human ops written before
    /// signing was switched on (default `tracker/trusted-ops`).
    pub trusted_ops: Option<PathBuf>,
    /// `authority.signing_key`: the key a human signs with (else
    /// `HTRAC_SIGNING_KEY`, else git's `user.signingkey` with `gpg.format=ssh`).
    pub signing_key: Option<PathBuf>,
    /// `authority.server_key`: the key `htrac-serve` signs its web users' ops with.
    pub server_key: Option<PathBuf>,
}

impl Authority {
    fn parse(
        v: Option<&Value>,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<Authority, ConfigError> {
        let map = match v {
            None | Some(Value::Null) => return Ok(Authority::default()),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(err("authority", "must be a mapping".into())),
        };
        let mut a = Authority::default();
        for (k, v) in map {
            let key = format!("authority.{k}");
            let path = || match v {
                Value::Null => Ok(None),
                Value::String(s) if !s.trim().is_empty() => Ok(Some(PathBuf::from(s))),
                other => Err(err(&key, format!("must be a file path, got {other}"))),
            };
            match k.as_str() {
                "signing" => {
                    a.signing = match v {
                        Value::Null => SigningMode::Off,
                        // YAML 1.1 readers take a bare `off` for false.
                        Value::Bool(false) => SigningMode::Off,
                        Value::String(s) if s == "off" => SigningMode::Off,
                        Value::String(s) if s == "warn" => SigningMode::Warn,
                        Value::String(s) if s == "required" => SigningMode::Required,
                        other => {
                            return Err(err(
                                &key,
                                format!("must be 'off', 'warn' or 'required', got {other}"),
                            ))
                        }
                    }
                }
                "allowed_signers" => a.allowed_signers = path()?,
                "trusted_ops" => a.trusted_ops = path()?,
                "signing_key" => a.signing_key = path()?,
                "server_key" => a.server_key = path()?,
                _ => {
                    return Err(err(
                        &key,
                        "unknown key (known: signing, allowed_signers, trusted_ops, signing_key, server_key)".into(),
                    ))
                }
            }
        }
        Ok(a)
    }

    /// `p` made absolute: `~/` from `$HOME`, a relative path from `root`
    /// (the `.agent/` directory).
    pub fn path(root: &Path, p: &Path) -> PathBuf {
        if let Ok(rest) = p.strip_prefix("~") {
            if let Some(home) = std::env::var_os("HOME") {
                return PathBuf::from(home).join(rest);
            }
        }
        root.join(p)
    }
}

fn opt_list(
    v: Option<&Value>,
    key: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Option<Vec<String>>, ConfigError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(err(key, format!("entries must be strings, found {other}"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(err(key, format!("must be a list, found {other}"))),
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
