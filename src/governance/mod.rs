//! Governance: who is acting ([`actor`]: an agent or a human, by OS user),
//! the human authority applied when ops are read ([`policy`]), signed human
//! ops ([`signing`]), and the trust root that decides both
//! ([`trustroot`]). The actions a human's authority allows on a tracker
//! (locks, freezing, deletion) are in [`crate::tracker::authority`].

pub mod actor;
pub mod policy;
pub mod signing;
pub mod trustroot;
