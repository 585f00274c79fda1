//! `fork-setup`'s one edit: `stop_hook.scope: workspace` in the human's
//! `config.yaml`, made textually so the human's comments and layout stay,
//! checked against a parse of the result, and written by an atomic rename
//! (the read-only file is never opened for writing; the new one is 0444).

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::config::{Config, Scope, Source, DEFAULT_CONFIG_YAML};
use crate::error::{Error, Result};

/// What `set_workspace_scope` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// config.yaml was created from the template, with the scope set.
    Created,
    /// The scope line was replaced or added.
    Updated,
    /// The scope was already `workspace`; nothing was written.
    Unchanged,
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Replaces the value of a `scope:` line, keeping its indentation and comment.
fn scope_line(line: &str, indent: &str) -> String {
    let rest = line.trim_start().trim_end_matches(['\n', '\r']);
    let after = &rest["scope:".len()..];
    let comment = after
        .find(" #")
        .map(|i| &after[after[..=i].trim_end().len()..])
        .unwrap_or("");
    format!("{indent}scope: workspace{comment}\n")
}

/// The YAML text with `stop_hook.scope` set to `workspace`, changing only
/// the one line (or adding it). `None` when the layout is not one this
/// edits safely (the caller then asks the human to edit by hand).
pub fn with_workspace_scope(text: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let Some(i) = lines
        .iter()
        .position(|l| l.starts_with("stop_hook:") || l.starts_with("stop_hook :"))
    else {
        lines.push("stop_hook:\n".into());
        lines.push("  scope: workspace\n".into());
        return Some(lines.concat());
    };
    let value = lines[i].split_once(':').map(|x| x.1).unwrap_or("").trim();
    if value.starts_with('{') {
        // Flow style: `stop_hook: {blocking_statuses: [...], scope: all}`.
        let line = &lines[i];
        let new = if let Some(at) = line.find("scope:") {
            let end = line[at..]
                .find([',', '}'])
                .map(|e| at + e)
                .unwrap_or(line.len());
            format!("{}scope: workspace{}", &line[..at], &line[end..])
        } else {
            let brace = line.find('{')?;
            let inner_empty = line[brace + 1..].trim_start().starts_with('}');
            let sep = if inner_empty { "" } else { ", " };
            format!(
                "{}{{scope: workspace{sep}{}",
                &line[..brace],
                line[brace + 1..].trim_start()
            )
        };
        lines[i] = new;
        return Some(lines.concat());
    }
    if !(value.is_empty() || value.starts_with('#')) {
        return None;
    }
    // Block style: the children are the indented lines that follow.
    let mut child_indent: Option<String> = None;
    let mut last_child = i;
    let mut j = i + 1;
    while j < lines.len() {
        let l = &lines[j];
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            j += 1;
            continue;
        }
        if !l.starts_with([' ', '\t']) {
            break;
        }
        let ind = indent_of(l).to_string();
        let ind = child_indent.get_or_insert(ind).clone();
        if indent_of(l) == ind && t.starts_with("scope:") {
            lines[j] = scope_line(l, &ind);
            return Some(lines.concat());
        }
        last_child = j;
        j += 1;
    }
    let ind = child_indent.unwrap_or_else(|| "  ".into());
    lines.insert(last_child + 1, format!("{ind}scope: workspace\n"));
    Some(lines.concat())
}

fn parse_value(text: &str) -> Option<Value> {
    if text.trim().is_empty() {
        return Some(Value::Object(Default::default()));
    }
    match serde_norway::from_str::<Value>(text).ok()? {
        Value::Null => Some(Value::Object(Default::default())),
        v => Some(v),
    }
}

/// Whether `new` is `old` with exactly `stop_hook.scope` set to `workspace`.
fn only_scope_changed(old: &str, new: &str) -> bool {
    let (Some(mut want), Some(got)) = (parse_value(old), parse_value(new)) else {
        return false;
    };
    let Some(top) = want.as_object_mut() else {
        return false;
    };
    let sh = top
        .entry("stop_hook")
        .or_insert_with(|| Value::Object(Default::default()));
    if sh.is_null() {
        *sh = Value::Object(Default::default());
    }
    match sh.as_object_mut() {
        Some(m) => {
            m.insert("scope".into(), Value::String("workspace".into()));
        }
        None => return false,
    }
    want == got
}

/// Sets `stop_hook.scope: workspace` in `<root>/tracker/config.yaml`,
/// creating it from the template first when it does not exist.
pub fn set_workspace_scope(root: &Path) -> Result<Change> {
    let path = root.join("tracker").join("config.yaml");
    let by_hand = || {
        format!(
            "edit {} by hand: under 'stop_hook:' set 'scope: workspace' (chmod u+w first, chmod 444 after)",
            path.display()
        )
    };
    let (text, created) = match fs::read_to_string(&path) {
        Ok(t) => (t, false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let template = root.join("tracker").join("config.yaml.template");
            let t = fs::read_to_string(&template).unwrap_or_else(|_| DEFAULT_CONFIG_YAML.into());
            (t, true)
        }
        Err(e) => {
            return Err(Error::user(format!("cannot read {}: {e}", path.display()))
                .with_hint("check the file's permissions; it should be readable (0444)"))
        }
    };
    let current = Config::parse(&text, Source::File(path.clone()))?;
    if current.scope == Scope::Workspace && !created {
        return Ok(Change::Unchanged);
    }
    let new = with_workspace_scope(&text)
        .filter(|n| only_scope_changed(&text, n))
        .ok_or_else(|| {
            Error::user(format!(
                "cannot edit the stop_hook section of {} safely",
                path.display()
            ))
            .with_hint(by_hand())
        })?;
    let parsed = Config::parse(&new, Source::File(path.clone()))?;
    if parsed.scope != Scope::Workspace {
        return Err(
            Error::internal("the edited config does not have scope workspace").with_hint(by_hand()),
        );
    }
    crate::atomic::replace(&path, new.as_bytes(), 0o444).map_err(|e| {
        Error::user(format!("cannot write {}: {e}", path.display())).with_hint(format!(
            "the human needs write access to {} (the file is replaced, not edited)",
            path.parent().unwrap_or(root).display()
        ))
    })?;
    let loaded = Config::load(root)?;
    if loaded.scope != Scope::Workspace || loaded.source != Source::File(path.clone()) {
        return Err(Error::internal(
            "config.yaml was written but does not load with scope workspace",
        )
        .with_hint(by_hand()));
    }
    Ok(if created {
        Change::Created
    } else {
        Change::Updated
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_scope_line_keeping_comments() {
        let new = with_workspace_scope(DEFAULT_CONFIG_YAML).unwrap();
        assert!(only_scope_changed(DEFAULT_CONFIG_YAML, &new));
        assert_eq!(
            new.lines()
                .filter(|l| !DEFAULT_CONFIG_YAML.contains(l))
                .collect::<Vec<_>>(),
            ["  scope: workspace"]
        );
        let text = "statuses: [a]\nstop_hook:\n    blocking_statuses: [a]   # keep me\n    scope: all  # which tiers\n# after\nx: 1\n";
        assert_eq!(
            with_workspace_scope(text).unwrap(),
            "statuses: [a]\nstop_hook:\n    blocking_statuses: [a]   # keep me\n    scope: workspace  # which tiers\n# after\nx: 1\n"
        );
    }

    #[test]
    fn adds_the_scope_line_where_missing() {
        let text = "stop_hook:\n  blocking_statuses: [a]\n\n# tags\nwell_known_tags: []\n";
        let new = with_workspace_scope(text).unwrap();
        assert_eq!(
            new,
            "stop_hook:\n  blocking_statuses: [a]\n  scope: workspace\n\n# tags\nwell_known_tags: []\n"
        );
        assert!(only_scope_changed(text, &new));
        let text = "statuses: [a]\n";
        let new = with_workspace_scope(text).unwrap();
        assert_eq!(new, "statuses: [a]\nstop_hook:\n  scope: workspace\n");
        let flow = "stop_hook: {blocking_statuses: [a], scope: all}\n";
        let new = with_workspace_scope(flow).unwrap();
        assert_eq!(
            new,
            "stop_hook: {blocking_statuses: [a], scope: workspace}\n"
        );
        let flow = "stop_hook: {blocking_statuses: [a]}  # c\n";
        let new = with_workspace_scope(flow).unwrap();
        assert!(only_scope_changed(flow, &new), "{new}");
    }

    #[test]
    fn refuses_layouts_it_cannot_edit() {
        assert!(with_workspace_scope("stop_hook: &anchor\n  scope: all\n").is_none());
        // A nested `scope:` that is not stop_hook's own is not touched.
        let text = "stop_hook:\n  other:\n    scope: all\n  blocking_statuses: [a]\n";
        let new = with_workspace_scope(text).unwrap();
        assert!(only_scope_changed(text, &new), "{new}");
    }
}
