//! Repairing op files readers refuse or skip parts of, always after backing
//! the file up under `.agent/repair-backups/`: cutting a torn final op off
//! ([`tail`], `repair-tail`) and moving broken blocks buried by later
//! appends aside ([`quarantine`]).

pub mod quarantine;
pub mod tail;
