//! `textconv`: an .ops file's compiled state, for `git diff`. Runs without
//! a tracker: the rendering depends on the file alone (see `htrac::py::textconv`).

use std::path::Path;

use htrac::{Error, Result};

use crate::args::TextconvArgs;
use crate::Output;

pub fn run(a: &TextconvArgs, cwd: &Path, out: &mut Output) -> Result<()> {
    let given = a.file.as_str();
    // Relative paths are relative to the working directory (git runs
    // drivers at the top of the work tree); errors name the path as given.
    let path = cwd.join(given);
    if !path.exists() {
        return Err(Error::user(format!("file not found: {given}")));
    }
    out.stdout
        .push_str(&htrac::py::textconv::render_file(&path)?);
    Ok(())
}
