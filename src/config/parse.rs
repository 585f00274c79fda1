//! Reading `config.yaml`: the YAML document as a value, then every key
//! checked against the reference's rules into a [`Config`]; each error names
//! the key at fault.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    Authority, Config, ConfigError, FieldSchema, KindConfig, OnError, PrecedenceGate, Scope, Source,
};

/// The YAML document in `text` as a value (an empty or null document: an
/// empty mapping). `file` names the file in the error.
pub(super) fn document(text: &str, file: Option<&Path>) -> Result<Value, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let raw: Value = serde_norway::from_str(text).map_err(|e| ConfigError {
        file: file.map(Path::to_path_buf),
        key: "(yaml)".into(),
        message: format!("malformed YAML: {e}"),
    })?;
    Ok(if raw.is_null() {
        Value::Object(Default::default())
    } else {
        raw
    })
}

impl Config {
    /// Validates a configuration document already read as a value
    /// ([`document`]) and builds the configuration from it.
    pub(super) fn from_document(raw: Value, source: Source) -> Result<Config, ConfigError> {
        let file = match &source {
            Source::File(p) => Some(p.clone()),
            Source::Defaults => None,
        };
        let err = |key: &str, message: String| ConfigError {
            file: file.clone(),
            key: key.to_string(),
            message,
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
