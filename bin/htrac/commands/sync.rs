//! `sync`: send pending tracker ops to the remote by hand; `--status`, `--prune`.

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn run(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}
