//! htrac-serve's log: the one place the web server writes to stderr (its
//! log file when started with `--background`). Every line starts with
//! `htrac-serve: `; the rest of the server hands its lines here.

/// Writes one line of the server's log.
pub fn line(msg: impl std::fmt::Display) {
    eprintln!("htrac-serve: {msg}");
}

/// Writes a warning.
pub fn warn(msg: impl std::fmt::Display) {
    line(format_args!("warning: {msg}"));
}
