//! Sync: tracker ops travel between clones through any git remote, without
//! touching the user's index, working tree or branch, and without ever
//! losing an op.

use crate::tracker::Tracker;

/// After a mutating command: sync when enough tracker lines are pending.
/// Never fails the command; says what it did on stderr (returned lines).
pub fn auto_sync(_tracker: &Tracker) -> Vec<String> {
    Vec::new()
}
