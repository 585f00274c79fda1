//! `htrac tui`: finds the tracker, then replaces this process with the
//! `htrac-tui` binary (next to the running `htrac`, else on PATH), so the
//! terminal UI's crates never link into `htrac` itself.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use htrac::{Error, Result, Tracker};

use crate::args::Globals;

/// `htrac-tui` beside the running executable, else the first on PATH.
fn find_tui() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("htrac-tui")))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("htrac-tui"))
                .find(|p| p.is_file())
        })
    })
}

pub fn run(g: &Globals, cwd: &Path) -> Result<()> {
    let tracker = Tracker::discover(cwd, g.tracker_root.as_deref().map(Path::new))?;
    let Some(bin) = find_tui() else {
        return Err(Error::user("htrac-tui is not installed (it is built only with the 'tui' feature)")
            .with_hint("install it with 'cargo install --path . --features tui' or 'make install', then run 'htrac tui' again"));
    };
    let err = std::process::Command::new(&bin)
        .arg("--tracker-root")
        .arg(&tracker.root)
        .exec();
    Err(Error::internal(format!(
        "cannot run {}: {err}",
        bin.display()
    )))
}
