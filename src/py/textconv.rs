//! The one-screen compiled rendering of an `.ops` file, for `git diff`.
//!
//! git runs a textconv driver once per blob it shows, on a temporary copy
//! of the file, so this reads one file, never a tracker, never git, and
//! never fails on content: a revision that does not compile (history before
//! a tier move has ops without their `create`; a snapshot taken mid-append)
//! renders as a one-line marker. Only a missing file is an error.
//!
//! The layout is the reference's, line for line:
//!
//! ```text
//! <ID>  <title>
//!   status: <status>  priority: P<N>  tags: [a, b]
//!   parent: <ID or null>  isbefore: [ID, ...]  pr_ref: <ref or null>
//!   fields.<key>: <value>            (one line per field)
//!   discussion: <N> entries
//!   locked: [field, ...]             (only when something is locked)
//!   ops: <N>  updated: <timestamp>
//! ```

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::items::compile::compile;
use crate::items::item::value_text;
use crate::items::tiers::{id_from_file_name, Tier};
use crate::oplog;
use crate::py::repr::py_str;

/// The item ID a file stands for, from its name: `.<ID>.ops`. git hands the
/// driver a temporary copy, named `/tmp/git-blob-XXXXXX/.<ID>.ops` by current
/// git and `/tmp/XXXXXX_.<ID>.ops` by older git; the random prefix of the
/// latter is dropped too. Any other name is used whole, as the reference does.
pub fn id_for_path(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(id) = id_from_file_name(&name) {
        return id.to_string();
    }
    if let Some((prefix, rest)) = name.split_once('_') {
        if prefix.len() == 6 && prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            if let Some(id) = id_from_file_name(rest) {
                return id.to_string();
            }
        }
    }
    name
}

/// Renders the file at `path` (with a final newline). A missing or
/// unreadable file, or anything but a regular file (a FIFO would block the
/// read forever, a device never end), is a user error; content that cannot
/// be compiled is not, and neither is a file over the read limit (a marker).
pub fn render_file(path: &Path) -> Result<String> {
    use std::io::Read;
    if !path.exists() {
        return Err(Error::user(format!("file not found: {}", path.display())));
    }
    let cannot = |e: std::io::Error| Error::user(format!("cannot read {}: {e}", path.display()));
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    let fd = rustix::fs::open(
        path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| cannot(e.into()))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| cannot(e.into()))?;
    let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
    if kind != rustix::fs::FileType::RegularFile {
        return Err(Error::user(format!(
            "{} is not a regular file ({}): refusing to read it",
            path.display(),
            file_kind(kind)
        ))
        .with_hint("textconv renders an .ops file; git hands it a regular temporary copy"));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(oplog::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    let id = id_for_path(path);
    if bytes.len() as u64 > oplog::MAX_FILE_BYTES {
        return Ok(format!(
            "# {id}: op log not compilable at this revision — larger than htrac's limit of {} bytes\n",
            oplog::MAX_FILE_BYTES
        ));
    }
    Ok(render(&id, path, &bytes))
}

/// What a non-regular file is, for messages.
fn file_kind(kind: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType as T;
    match kind {
        T::Fifo => "a FIFO",
        T::Directory => "a directory",
        T::CharacterDevice | T::BlockDevice => "a device",
        T::Socket => "a socket",
        _ => "not a regular file",
    }
}

/// Renders op-log bytes as item `id` (`path` is only used in messages).
pub fn render(id: &str, path: &Path, bytes: &[u8]) -> String {
    let marker =
        |reason: &str| format!("# {id}: op log not compilable at this revision — {reason}\n");
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return marker("file is not valid UTF-8"),
    };
    let log = match oplog::parse(path, text) {
        Ok(log) => log,
        Err(bad) => return marker(&bad.to_string()),
    };
    let ops: Vec<_> = log.ops.into_iter().map(|(_, op)| op).collect();
    // The tier is not shown; the rendering does not depend on it.
    let item = match compile(id, Tier::Workspace, &ops) {
        Ok(item) => item,
        Err(e) => return marker(&e.to_string()),
    };
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("{}  {}", item.id, item.title));
    line(format!(
        "  status: {}  priority: P{}  tags: {}",
        item.status,
        py_str(&item.priority),
        list(&item.tags)
    ));
    let parent = item.parent.as_deref().filter(|p| !p.is_empty());
    line(format!(
        "  parent: {}  isbefore: {}  pr_ref: {}",
        parent.unwrap_or("null"),
        list(&item.isbefore),
        if truthy(&item.pr_ref) {
            py_str(&item.pr_ref)
        } else {
            "null".to_string()
        }
    ));
    for (k, v) in &item.fields {
        line(format!("  fields.{k}: {}", py_str(v)));
    }
    line(format!("  discussion: {} entries", item.discussion.len()));
    if !item.locked_fields.is_empty() {
        let mut locked = item.locked_fields.clone();
        locked.sort();
        line(format!("  locked: [{}]", locked.join(", ")));
    }
    // Every op in the file, as the reference counts them.
    line(format!(
        "  ops: {}  updated: {}",
        ops.len(),
        item.updated_at
    ));
    out
}

fn list(values: &[Value]) -> String {
    let parts: Vec<String> = values.iter().map(value_text).collect();
    format!("[{}]", parts.join(", "))
}

/// Python's truth value of a value (`if item.pr_ref:`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_git_temp_names() {
        assert_eq!(id_for_path(Path::new("/x/.WI-ab-cd.ops")), "WI-ab-cd");
        assert_eq!(
            id_for_path(Path::new("/tmp/git-blob-Bj3wOw/.WI-ab-cd.ops")),
            "WI-ab-cd"
        );
        assert_eq!(
            id_for_path(Path::new("/tmp/Ab12Zz_.WI-ab-cd.ops")),
            "WI-ab-cd"
        );
        assert_eq!(id_for_path(Path::new("/tmp/notes.txt")), "notes.txt");
    }

    #[test]
    fn python_str_of_field_values() {
        assert_eq!(py_str(&json!("a'b")), "a'b");
        assert_eq!(py_str(&json!(["a", 1, null, true])), "['a', 1, None, True]");
        assert_eq!(py_str(&json!({"k": "it's"})), "{'k': \"it's\"}");
        assert_eq!(py_str(&json!(2.5)), "2.5");
        assert!(!truthy(&json!(0)) && !truthy(&json!("")) && truthy(&json!("x")));
    }

    #[test]
    fn uncompilable_is_a_marker_not_an_error() {
        let text = "- op: update  # abcd\n  at: '2026-01-01T00:00:00Z'  # abcd\n  by: agent  # abcd\n  actor: a  # abcd\n  clock: 2  # abcd\n  nonce: abcd  # abcd\n  set:  # abcd\n    status: done  # abcd\n";
        let out = render("WI-x", Path::new("f"), text.as_bytes());
        assert_eq!(
            out,
            "# WI-x: op log not compilable at this revision — op log has no create op\n"
        );
        let out = render("WI-x", Path::new("f"), b"\xff\xfe");
        assert!(out.starts_with("# WI-x: op log not compilable"), "{out}");
    }
}
