//! Starting the watcher on its own (`watch.auto_start`), as Scalar turns
//! on git's fsmonitor for large repositories: a read that found no watcher
//! and had to list at least that many op files itself notes it
//! ([`note_present`], [`note_scanned`]); the front end then takes the notes
//! ([`take`]), asks [`wanted`] and, when it says so, starts one in the
//! background that exits after [`IDLE_EXIT`] without a read asking it
//! anything. The next reads `stat` only what changed.
//!
//! Reads are the same with or without it (see [`crate::cache::listing`]);
//! this only decides when one is started. No watcher is started when
//! `HTRAC_NO_WATCH` is set (reads would not ask it), on a network file
//! system (inotify sees no other machine's changes), or within
//! [`RETRY_AFTER`] of the last start this made (so a watcher that cannot
//! start is not tried by every command), nor after the user stopped one
//! with `htrac watch stop`, until `htrac watch` starts one again.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::config::{Config, Source};
use crate::error::{Error, Result};
use crate::tracker::Tracker;

/// The op-file count from which a watcher starts on its own when
/// `watch.auto_start` is not set. Below it a full `stat` costs a few
/// milliseconds at most.
pub const DEFAULT_MIN_FILES: usize = 5_000;
/// How long a watcher started on its own waits for a read before it exits.
pub const IDLE_EXIT: Duration = Duration::from_secs(3600);
/// How long after a start (successful or not) no other is tried.
pub const RETRY_AFTER: Duration = Duration::from_secs(600);

/// What `watch.auto_start` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoStart {
    /// Never start one (`off`, `false` or `0`).
    Off,
    /// Start one when a read lists at least this many op files.
    AtFiles(usize),
}

static PRESENT: AtomicBool = AtomicBool::new(false);
static SCANNED: AtomicUsize = AtomicUsize::new(0);

/// A read found a watcher to ask.
pub(crate) fn note_present() {
    PRESENT.store(true, Ordering::Relaxed);
}

/// A read listed `files` op files itself (stat-ing them, or reading each
/// one when there was no read cache to match).
pub(crate) fn note_scanned(files: usize) {
    SCANNED.fetch_max(files, Ordering::Relaxed);
}

/// Takes what this process's reads noted since the last call: the most
/// op files one read listed itself, or 0 when none did or a watcher
/// answered one of them (two atomic swaps: a long-running front end, `htrac
/// mcp`, asks after each request, about the reads since the one before).
pub fn take() -> usize {
    let files = SCANNED.swap(0, Ordering::Relaxed);
    if PRESENT.swap(false, Ordering::Relaxed) {
        0
    } else {
        files
    }
}

/// Reads `watch.auto_start` from `config` (default: [`DEFAULT_MIN_FILES`]).
pub fn setting(config: &Config) -> Result<AutoStart> {
    let file = match &config.source {
        Source::File(p) => format!("invalid config {}: ", p.display()),
        Source::Defaults => "invalid built-in config: ".into(),
    };
    let bad = |what: String| {
        Error::user(format!("{file}watch.auto_start: {what}"))
            .with_hint("write a number of op files (e.g. 5000), or off")
    };
    let section = match config.raw.get("watch") {
        None | Some(Value::Null) => return Ok(AutoStart::AtFiles(DEFAULT_MIN_FILES)),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::user(format!(
                "{file}watch: must be a mapping of keys to values, found {other}"
            ))
            .with_hint("e.g. watch: {auto_start: 5000}"))
        }
    };
    if let Some(key) = section.keys().find(|k| k.as_str() != "auto_start") {
        return Err(bad(format!("unknown key watch.{key} (known: auto_start)")));
    }
    match section.get("auto_start") {
        None | Some(Value::Null) => Ok(AutoStart::AtFiles(DEFAULT_MIN_FILES)),
        Some(Value::Bool(false)) => Ok(AutoStart::Off),
        Some(Value::String(s)) if s == "off" => Ok(AutoStart::Off),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Ok(AutoStart::Off),
            Some(n) => Ok(AutoStart::AtFiles(usize::try_from(n).unwrap_or(usize::MAX))),
            None => Err(bad(format!("{n} is not a number of op files"))),
        },
        Some(other) => Err(bad(format!("{other} is not a number of op files or off"))),
    }
}

/// Whether reads that listed `files` op files themselves (see [`take`])
/// call for starting a watcher for `t` now: `None` when they do not (no
/// file listed, too few files, `watch.auto_start: off`,
/// `HTRAC_NO_WATCH`, a network file system, or a start tried within
/// [`RETRY_AFTER`]). An invalid `watch.auto_start` is an error (the caller
/// reports it as a warning: the read itself stands).
pub fn wanted(t: &Tracker, files: usize) -> Result<Option<usize>> {
    if files == 0 || disabled_by_env() {
        return Ok(None);
    }
    match setting(&t.config)? {
        AutoStart::AtFiles(min) if files >= min => {}
        _ => return Ok(None),
    }
    let Some(marker) = marker_path(&t.root) else {
        return Ok(None);
    };
    if std::fs::read(&marker).is_ok_and(|m| m.starts_with(STOPPED)) {
        return Ok(None);
    }
    let recent = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|at| SystemTime::now().duration_since(at).ok())
        .is_some_and(|age| age < RETRY_AFTER);
    // A read with no cache to match asked no watcher: one may run.
    let running = super::socket_path(&t.root)
        .and_then(|s| super::connect(&s))
        .is_some();
    if recent || running || super::daemon::is_remote(&t.root) {
        return Ok(None);
    }
    Ok(Some(files))
}

/// Records that a start is being made now (see [`RETRY_AFTER`]); false
/// when it cannot be recorded (then none is started: it would be tried
/// again by every command).
pub fn mark_started(root: &Path) -> bool {
    marker_path(root).is_some_and(|marker| std::fs::write(marker, b"").is_ok())
}

/// Records that this user stopped the watcher by hand (`htrac watch
/// stop`): reads start none on their own until [`clear`] (`htrac watch`).
pub fn mark_stopped(root: &Path) {
    if let Some(marker) = marker_path(root) {
        let _ = std::fs::write(marker, STOPPED);
    }
}

/// Forgets [`mark_stopped`] and [`mark_started`].
pub fn clear(root: &Path) {
    if let Some(marker) = marker_path(root) {
        let _ = std::fs::remove_file(marker);
    }
}

const STOPPED: &[u8] = b"stopped by hand\n";

/// Whether `HTRAC_NO_WATCH` tells reads not to ask a watcher.
pub fn disabled_by_env() -> bool {
    std::env::var_os("HTRAC_NO_WATCH").is_some_and(|v| !v.is_empty())
}

/// `watch-<fingerprint>.auto` beside the socket: its mtime is the last start.
fn marker_path(root: &Path) -> Option<PathBuf> {
    super::socket_path(root).map(|s| s.with_extension("auto"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Config {
        let mut c = Config::defaults();
        c.raw = serde_norway::from_str(yaml).unwrap();
        c
    }

    #[test]
    fn the_setting_reads_numbers_and_off_and_refuses_the_rest() {
        assert_eq!(
            setting(&config("{}")).unwrap(),
            AutoStart::AtFiles(DEFAULT_MIN_FILES)
        );
        assert_eq!(
            setting(&config("watch: {auto_start: 200}")).unwrap(),
            AutoStart::AtFiles(200)
        );
        for off in ["off", "false", "0"] {
            assert_eq!(
                setting(&config(&format!("watch: {{auto_start: {off}}}"))).unwrap(),
                AutoStart::Off,
                "{off}"
            );
        }
        for bad in [
            "watch: {auto_start: -3}",
            "watch: {auto_start: soon}",
            "watch: {auto_start: 2.5}",
            "watch: {autostart: 10}",
            "watch: [1]",
        ] {
            let e = setting(&config(bad)).unwrap_err();
            assert!(e.to_string().contains("watch"), "{bad}: {e}");
        }
    }
}
