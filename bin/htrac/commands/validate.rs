//! `validate`: checks op logs before they are committed.

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn run(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("validate is not implemented yet"))
}
