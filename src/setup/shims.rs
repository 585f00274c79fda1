//! `scripts/tracker` and `scripts/tracker-textconv`: small shell scripts in
//! the repository that run htrac, as the reference's setup installs them,
//! so instructions and hooks written for the reference (`scripts/tracker
//! ready`) keep working. Setup writes a missing one and makes an existing
//! one executable; it never rewrites a script that is there (one written by
//! the reference's setup still runs the reference).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Check, Context, Status};

/// Runs htrac: from PATH, else where `cargo install` and `make install` put it.
pub const TRACKER: &str = r#"#!/bin/sh
# Runs htrac (written by `htrac setup`; yours to edit, setup will not
# overwrite it).
if command -v htrac >/dev/null 2>&1; then
    exec htrac "$@"
fi
for h in "${CARGO_HOME:-$HOME/.cargo}/bin/htrac" /usr/local/bin/htrac; do
    if [ -x "$h" ]; then
        exec "$h" "$@"
    fi
done
echo "error: htrac is not installed (it is not on PATH)" >&2
echo "hint: install it with 'make install' in htrac's source tree" >&2
exit 127
"#;

/// git's textconv driver for op files; shows the raw file when htrac is missing.
pub const TEXTCONV: &str = r##"#!/bin/sh
# git textconv for htrac op files (written by `htrac setup`).
if command -v htrac >/dev/null 2>&1; then
    exec htrac textconv "$@"
fi
for h in "${CARGO_HOME:-$HOME/.cargo}/bin/htrac" /usr/local/bin/htrac; do
    if [ -x "$h" ]; then
        exec "$h" textconv "$@"
    fi
done
echo "# htrac is not installed: the raw op log follows"
cat "$1"
"##;

/// What happened to one script: `None` when it was there and executable.
fn install(path: &Path, content: &str) -> std::io::Result<Option<&'static str>> {
    match fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o111 != 0 => Ok(None),
        Ok(m) => {
            let mode = m.permissions().mode() | ((m.permissions().mode() & 0o444) >> 2);
            fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
            Ok(Some("made executable"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            crate::atomic::replace(path, content.as_bytes(), 0o755)?;
            Ok(Some("installed"))
        }
        Err(e) => Err(e),
    }
}

/// The setup check (the reference's `tracker_wrapper`).
pub fn tracker_wrapper(ctx: &mut Context) -> Check {
    let name = "tracker_wrapper";
    let Some(top) = ctx.repo.clone() else {
        return Check::ok(name, "Tracker wrapper check skipped (no git repo)");
    };
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for (file, content) in [("tracker", TRACKER), ("tracker-textconv", TEXTCONV)] {
        let path = top.join("scripts").join(file);
        match install(&path, content) {
            Ok(None) => {}
            Ok(Some(what)) => done.push(format!("  scripts/{file}: {what}")),
            Err(e) => failed.push(format!("  scripts/{file}: {e}")),
        }
    }
    if !failed.is_empty() {
        return Check::new(name, Status::Warn, "scripts/tracker shims not installed")
            .with(failed)
            .with(done);
    }
    if done.is_empty() {
        return Check::ok(name, "scripts/tracker and scripts/tracker-textconv found");
    }
    Check::new(name, Status::Fixed, "Tracker wrapper shims installed").with(done)
}
