//! `edit-mode on|off|status` and the message ops it authorises.

use htrac::{Error, Result, Tracker};

use crate::args::Parsed;
use crate::Output;

pub fn edit_mode(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}

pub fn message(_p: &Parsed, _t: &Tracker, _out: &mut Output) -> Result<()> {
    Err(Error::internal("not implemented yet"))
}
