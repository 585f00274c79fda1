//! `textconv`: an .ops file's compiled state, for `git diff`.

use std::path::Path;

use htrac::{Error, Result};

use crate::args::Parsed;
use crate::Output;

pub fn run(_p: &Parsed, _cwd: &Path, _out: &mut Output) -> Result<()> {
    Err(Error::internal("textconv is not implemented yet"))
}
