//! `reconcile`: restore journalled ops a git command removed.

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn run(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}
