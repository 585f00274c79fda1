//! Items: an item's ops folded into its state ([`compile`] into an
//! [`item::Item`]), its ID ([`ids`]) and tier ([`tiers`]), and the queries
//! over compiled items — what to do next ([`ready`]), the dependency graph
//! ([`deps`]), a listing's filters and limit ([`filter`]), tags and their
//! catalog ([`tags`]), unread human messages ([`messages`]).

pub mod compile;
pub mod deps;
pub mod filter;
pub mod ids;
pub mod item;
pub mod messages;
pub mod ready;
pub mod slim;
pub mod tagmerge;
pub mod tags;
pub mod tiers;
