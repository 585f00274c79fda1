//! Positional aliases: `:N` is row N of the last `list` or `ready`. The rows
//! are stashed per tracker in the user's cache directory
//! (`$HTRAC_CACHE_DIR`, else `$XDG_CACHE_HOME/htrac/<fingerprint>/`, else
//! `~/.cache/htrac/<fingerprint>/`) and resolved once, before a command runs.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The per-tracker cache directory.
pub fn cache_dir(root: &Path) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HTRAC_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("htrac").join(fingerprint(root)))
}

/// A short, stable name for a tracker root (16 hex digits of the SHA-256 of
/// its path), used to key per-tracker directories outside the repository.
pub fn fingerprint(root: &Path) -> String {
    let digest = Sha256::digest(root.to_string_lossy().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn stash_path(root: &Path) -> Option<PathBuf> {
    cache_dir(root).map(|d| d.join("last_list"))
}

/// Records the full result of a `list`/`ready` (before `--limit`). Failing to
/// write the stash never fails the command.
pub fn save(root: &Path, ids: &[&str]) {
    save_text(root, &stash_text(ids));
}

/// What the stash holds for the rows `ids` ([`save_text`] writes it).
pub fn stash_text(ids: &[&str]) -> String {
    let mut text = ids.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// [`save`] of the rows as [`stash_text`] spelled them.
pub fn save_text(root: &Path, text: &str) {
    let Some(path) = stash_path(root) else { return };
    // The same list as the stash holds (the usual case: the same listing
    // again): nothing to write. A rename over the old file costs more than
    // reading it (ext4 flushes the new file's data on such a rename).
    if crate::cache::read_own(&path).is_some_and(|old| old == text.as_bytes()) {
        return;
    }
    if let Some(dir) = path.parent() {
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
    }
    // Write a temp file and rename it, so a concurrent reader never sees half a list.
    // (This user's alone, whatever the umask: see [`crate::cache::open_own`].)
    let _ = crate::atomic::replace_with(&path, 0o600, false, |w| {
        std::io::Write::write_all(w, text.as_bytes())
    });
}

/// The stashed rows.
pub fn load(root: &Path) -> Vec<String> {
    stash_path(root)
        .and_then(|p| crate::cache::read_own(&p))
        .and_then(|b| String::from_utf8(b).ok())
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Is `arg` a positional alias (`:N`)?
pub fn is_alias(arg: &str) -> bool {
    arg.starts_with(':')
}

/// Resolves `:N` against the stash.
pub fn resolve(root: &Path, arg: &str) -> Result<String> {
    let n: usize = arg[1..].parse().map_err(|_| {
        Error::user(format!("Invalid positional alias: {arg}"))
            .with_hint("aliases look like :1, :2, ... (rows of the last list or ready)")
    })?;
    let rows = load(root);
    if n == 0 || n > rows.len() {
        return Err(Error::user(format!(
            "Positional alias {arg} out of range (last list had {} items)",
            rows.len()
        ))
        .with_hint("run 'htrac list' or 'htrac ready' first; :N counts their rows from 1"));
    }
    Ok(rows[n - 1].clone())
}
