//! `setup` (the set-up wizard) and `fork-setup`.

use std::path::Path;

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn run(_p: &Parsed, _cwd: &Path, _out: &mut Output) -> Result<()> {
    Err(Error::internal("setup is not implemented yet"))
}

pub fn fork_setup(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("fork-setup is not implemented yet"))
}
