//! Human authority: `lock`/`unlock`, `freeze`/`unfreeze`/`repair-drift`,
//! `delete`, tier moves and `reconcile-reset`.

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn lock(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}

pub fn freeze(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}

pub fn delete(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}

pub fn move_tier(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}

pub fn reconcile_reset(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}
