//! One configuration key at a time, for scripts and agents: `htrac config
//! get KEY` reads the configuration in force (dotted keys such as
//! `sync.base_branch`), and `htrac config set KEY VALUE` — the human only,
//! since `config.yaml` is the human's — edits `tracker/config.yaml` in
//! place: the key's line (and the block under it) becomes `KEY: VALUE`,
//! every other line and comment stays, missing parents are added, and the
//! result must load as a valid configuration before it replaces the file
//! (atomically, keeping mode 0444).

use std::path::Path;

use serde_json::Value;

use crate::config::{Config, Source};
use crate::error::{Error, ErrorKind, Result};
use crate::governance::actor::Actor;

/// The value of `key` (dotted) in the configuration in force.
pub fn get(config: &Config, key: &str) -> Result<Value> {
    let mut v = &config.raw;
    for part in key.split('.') {
        v = v.get(part).ok_or_else(|| {
            Error::new(ErrorKind::NotFound, format!("no configuration key '{key}'")).with_hint(
                format!(
                    "top-level keys: {}",
                    config
                        .raw
                        .as_object()
                        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ),
            )
        })?;
    }
    Ok(v.clone())
}

fn is_key(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Sets `key` (dotted) to `value` (YAML: `main`, `4h`, `[a, b]`, `true`) in
/// the tracker's `config.yaml` under `root`; returns the value written.
pub fn set(root: &Path, actor: &Actor, key: &str, value: &str) -> Result<Value> {
    let mut draft = Draft::open(root, actor)?;
    let v = draft.set(key, value)?;
    draft.save()?;
    Ok(v)
}

/// The keys `htrac setup configure` walks through, by section, each with
/// what it means; any other key can be set after them.
pub const QUESTIONS: &[(&str, &str, &str)] = &[
    ("Statuses", "statuses", "every status an item may have"),
    (
        "Stop hook",
        "stop_hook.blocking_statuses",
        "statuses that keep an agent from stopping (and that `ready` offers)",
    ),
    (
        "Stop hook",
        "stop_hook.resolved_statuses",
        "statuses that count as finished",
    ),
    (
        "Stop hook",
        "stop_hook.human_only_statuses",
        "statuses only a human may set",
    ),
    (
        "Stop hook",
        "stop_hook.scope",
        "which tiers the stop hook counts: all or workspace",
    ),
    (
        "Tags",
        "well_known_tags",
        "tags every agent should know about",
    ),
    (
        "Actor resolution",
        "actor_resolution.agent_usernames",
        "OS user-name patterns that are agents",
    ),
    (
        "Lamport branches",
        "lamport_branches",
        "branches read for clocks and locks",
    ),
    (
        "Sync",
        "sync.base_branch",
        "the branch ops are delivered to",
    ),
    ("Sync", "sync.mode", "direct or pr"),
];

/// An edit of `config.yaml` in progress: every change is checked as it is
/// made (the whole file must stay a valid configuration), and nothing is
/// written until [`Draft::save`], which refuses if the file changed since
/// [`Draft::open`].
pub struct Draft {
    path: std::path::PathBuf,
    original: String,
    text: String,
}

impl Draft {
    /// Opens the tracker's `config.yaml` under `root` for a human.
    pub fn open(root: &Path, actor: &Actor) -> Result<Draft> {
        if actor.is_agent() {
            return Err(Error::new(
                ErrorKind::HumanOnly,
                "only a human may change the configuration",
            ));
        }
        let path = root.join("tracker").join("config.yaml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::user(format!("cannot read {}: {e}", path.display()))
                .with_hint("run 'htrac setup' to create it")
        })?;
        Ok(Draft {
            path,
            original: text.clone(),
            text,
        })
    }

    /// The configuration as the draft stands.
    pub fn config(&self) -> Result<Config> {
        Config::parse(&self.text, Source::File(self.path.clone()))
            .map_err(|e| Error::user(format!("{}: {}", e.key, e.message)))
    }

    /// Sets `key` (dotted) to `value` (YAML) in the draft; on an invalid
    /// result the draft is unchanged and the error says why.
    pub fn set(&mut self, key: &str, value: &str) -> Result<Value> {
        let parts: Vec<&str> = key.split('.').collect();
        if !parts.iter().all(|p| is_key(p)) {
            return Err(Error::user(format!("'{key}' is not a configuration key"))
                .with_hint("write dotted names, e.g. sync.base_branch"));
        }
        let parsed: Value = serde_norway::from_str(value)
            .map_err(|e| Error::user(format!("'{value}' is not a YAML value: {e}")))?;
        // JSON is YAML's flow style: one line, quoted where it must be.
        let flow = serde_json::to_string(&parsed).expect("JSON");
        let edited = edit(&self.text, &parts, &flow).ok_or_else(|| {
            Error::user(format!(
                "'{key}' sits in an inline mapping in {}; edit it by hand",
                self.path.display()
            ))
        })?;
        Config::parse(&edited, Source::File(self.path.clone())).map_err(|e| {
            Error::user(format!(
                "refused: with {key} = {value} the configuration is invalid ({}: {}); config.yaml is unchanged",
                e.key, e.message
            ))
        })?;
        self.text = edited;
        Ok(parsed)
    }

    /// The change so far, as `-old` / `+new` lines with a line of context
    /// around each change (` ` prefixed) and `@@ line N` before each hunk;
    /// empty when nothing changed.
    pub fn diff(&self) -> Vec<String> {
        line_diff(&self.original, &self.text)
    }

    pub fn changed(&self) -> bool {
        self.text != self.original
    }

    /// Writes the draft (atomically, mode 0444), unless `config.yaml`
    /// changed on disk since the draft was opened.
    pub fn save(self) -> Result<()> {
        let now = std::fs::read_to_string(&self.path).unwrap_or_default();
        if now != self.original {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} changed while it was being edited; nothing was written",
                    self.path.display()
                ),
            )
            .with_hint("run the edit again"));
        }
        if !self.changed() {
            return Ok(());
        }
        crate::atomic::replace(&self.path, self.text.as_bytes(), 0o444)
            .map_err(|e| Error::user(format!("cannot write {}: {e}", self.path.display())))
    }
}

/// A line diff of two small texts (longest common subsequence).
fn line_diff(old: &str, new: &str) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: common lines of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Each line of the edit script: (' ' | '-' | '+', old line number, text).
    let mut script = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            script.push((' ', i, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            script.push(('-', i, a[i]));
            i += 1;
        } else {
            script.push(('+', i, b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        script[k.saturating_sub(1)..(k + 2).min(script.len())]
            .iter()
            .any(|(c, _, _)| *c != ' ')
    };
    let mut out = Vec::new();
    let mut shown_last = false;
    for (k, (c, line, text)) in script.iter().enumerate() {
        if *c == ' ' && !near(k) {
            shown_last = false;
            continue;
        }
        if !shown_last {
            out.push(format!("@@ line {}", line + 1));
        }
        out.push(format!("{c}{text}"));
        shown_last = true;
    }
    out
}

/// Indentation of a line (spaces).
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether a line holds YAML content (not blank, not a comment).
fn content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// `text` with the key `parts` (under the block of lines `from..to` at
/// indentation `depth`) set to `flow`; `None` when a parent is an inline
/// mapping.
fn edit(text: &str, parts: &[&str], flow: &str) -> Option<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    set_in(&mut lines, 0, usize::MAX, 0, parts, flow)?;
    let mut out = lines.join("\n");
    out.push('\n');
    Some(out)
}

fn set_in(
    lines: &mut Vec<String>,
    from: usize,
    to: usize,
    depth: usize,
    parts: &[&str],
    flow: &str,
) -> Option<()> {
    let to = to.min(lines.len());
    let key = parts[0];
    let found = (from..to).find(|&i| {
        let l = &lines[i];
        content(l) && indent(l) == depth && l.trim_start().starts_with(&format!("{key}:"))
    });
    let pad = " ".repeat(depth);
    let Some(i) = found else {
        // Missing: added at the end of this block, with its parents.
        let mut new = Vec::new();
        for (n, p) in parts.iter().enumerate() {
            let pad = " ".repeat(depth + 2 * n);
            if n + 1 == parts.len() {
                new.push(format!("{pad}{p}: {flow}"));
            } else {
                new.push(format!("{pad}{p}:"));
            }
        }
        let at = (from..to)
            .rev()
            .find(|&j| content(&lines[j]))
            .map_or(from, |j| j + 1);
        let at = if depth == 0 { lines.len() } else { at };
        for (n, l) in new.into_iter().enumerate() {
            lines.insert(at + n, l);
        }
        return Some(());
    };
    // The block under the key: the following lines indented deeper (and
    // blank or comment lines between them).
    let mut end = i + 1;
    let mut last_content = i;
    while end < to {
        let l = &lines[end];
        if content(l) {
            // A block sequence may sit at its key's own indentation.
            let item = indent(l) == depth && l.trim_start().starts_with("- ");
            if indent(l) < depth || (indent(l) == depth && !item) {
                break;
            }
            last_content = end;
        }
        end += 1;
    }
    let rest = lines[i].trim_start()[key.len() + 1..].trim();
    let inline = !rest.is_empty() && !rest.starts_with('#');
    if parts.len() == 1 {
        lines[i] = format!("{pad}{key}: {flow}");
        lines.drain(i + 1..=last_content);
        return Some(());
    }
    if inline {
        return None;
    }
    let child = (i + 1..=last_content)
        .find(|&j| content(&lines[j]))
        .map_or(depth + 2, |j| indent(&lines[j]));
    set_in(lines, i + 1, last_content + 1, child, &parts[1..], flow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_replaced_in_place_and_comments_stay() {
        let text = "# top\nsync:\n  # where\n  remote: origin\n  base_branch: dev   # old\nstatuses:\n  - a\n  - b\n";
        let out = edit(text, &["sync", "base_branch"], "\"main\"").unwrap();
        assert_eq!(
            out,
            "# top\nsync:\n  # where\n  remote: origin\n  base_branch: \"main\"\nstatuses:\n  - a\n  - b\n"
        );
        let out = edit(text, &["statuses"], "[\"x\",\"y\"]").unwrap();
        assert!(out.ends_with("statuses: [\"x\",\"y\"]\n"), "{out}");
        assert!(out.contains("base_branch: dev   # old"));
        // A sequence at its key's own indentation goes too.
        let out = edit("statuses:\n- a\n- b\nx: 1\n", &["statuses"], "[\"c\"]").unwrap();
        assert_eq!(out, "statuses: [\"c\"]\nx: 1\n");
    }

    #[test]
    fn the_diff_shows_changed_lines_with_context() {
        let d = line_diff("a\nb\nc\nd\ne\nf\n", "a\nB\nc\nd\ne\nf\ng\n");
        assert_eq!(
            d,
            ["@@ line 1", " a", "-b", "+B", " c", "@@ line 6", " f", "+g"]
        );
        assert!(line_diff("x\n", "x\n").is_empty());
    }

    #[test]
    fn missing_keys_and_parents_are_added() {
        let text = "sync:\n  remote: origin\nother: 1\n";
        let out = edit(text, &["sync", "threshold"], "5").unwrap();
        assert_eq!(out, "sync:\n  remote: origin\n  threshold: 5\nother: 1\n");
        let out = edit(text, &["claims", "lease"], "\"2h\"").unwrap();
        assert_eq!(
            out,
            "sync:\n  remote: origin\nother: 1\nclaims:\n  lease: \"2h\"\n"
        );
        assert_eq!(
            edit("sync: {remote: x}\n", &["sync", "remote"], "\"y\""),
            None
        );
    }
}
