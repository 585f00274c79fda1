//! `htrac serve ...`: replaces this process with the `htrac-serve` binary
//! (next to the running `htrac`, else on PATH), passing every argument on,
//! so the web server's crates never link into `htrac` itself.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use htrac::Error;

/// `htrac-serve` beside the running executable, else the first on PATH.
fn find_serve() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("htrac-serve")))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("htrac-serve"))
                .find(|p| p.is_file())
        })
    })
}

/// Runs `htrac-serve` with `args` (what followed `serve`); returns only on failure.
pub fn exec(args: &[OsString]) -> Error {
    let Some(bin) = find_serve() else {
        return Error::user("htrac-serve is not installed (it is built only with the 'serve' feature)")
            .with_hint("install it with 'cargo install --path . --features serve' or 'make install', then run 'htrac serve' again");
    };
    let err = std::process::Command::new(&bin).args(args).exec();
    Error::internal(format!("cannot run {}: {err}", bin.display()))
}
