//! htrac: a repository-local work tracker for governing AI coding agents.
//!
//! State lives in append-only YAML op-logs committed to git. Data flows one
//! way: files → op blocks ([`oplog`]) → items ([`compile`]) → queries
//! ([`ready`], [`tracker`]) → rendering (the binaries). Writes flow back
//! through one function ([`write`]) that checks policy and appends.

pub mod actor;
pub mod alias;
pub mod clock;
pub mod compile;
pub mod config;
pub mod emit;
pub mod error;
pub mod fastparse;
pub mod fieldkeys;
pub mod git;
pub mod ids;
pub mod init;
pub mod item;
pub mod jsonfmt;
pub mod op;
pub mod oplog;
pub mod ready;
pub mod tiers;
pub mod timestamp;
pub mod tracker;
pub mod write;
mod yamlres;

pub use error::{Error, ErrorKind, Result};
pub use item::Item;
pub use op::Op;
pub use tiers::Tier;
pub use tracker::Tracker;
