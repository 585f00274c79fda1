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

/// When the command line is `htrac [GLOBAL FLAGS] serve ARGS`: the
/// arguments for htrac-serve — ARGS, then the global flags htrac-serve also
/// takes (`--json`, `--tracker-root PATH`). `None` for any other command.
pub fn args_for_serve(args: &[OsString]) -> Option<Vec<OsString>> {
    let mut globals: Vec<OsString> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_str()?;
        match a {
            "serve" => {
                let mut out: Vec<OsString> = args[i + 1..].to_vec();
                out.extend(globals);
                return Some(out);
            }
            "--json" => globals.push(a.into()),
            "--no-auto-sync" => {}
            "--tracker-root" => {
                globals.push(a.into());
                globals.push(args.get(i + 1)?.clone());
                i += 1;
            }
            _ if a.starts_with("--tracker-root=") => globals.push(a.into()),
            _ => return None,
        }
        i += 1;
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn global_flags_before_serve_are_passed_on() {
        assert_eq!(
            args_for_serve(&args(&["serve", "--status"])),
            Some(args(&["--status"]))
        );
        assert_eq!(
            args_for_serve(&args(&["--json", "--no-auto-sync", "serve", "--status"])),
            Some(args(&["--status", "--json"]))
        );
        assert_eq!(
            args_for_serve(&args(&["--tracker-root", "/t/.agent", "serve", "--stop"])),
            Some(args(&["--stop", "--tracker-root", "/t/.agent"]))
        );
        assert_eq!(args_for_serve(&args(&["--json", "list"])), None);
        assert_eq!(args_for_serve(&args(&["list", "serve"])), None);
    }
}
