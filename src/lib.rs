//! htrac: a repository-local work tracker for governing AI coding agents.
//!
//! State lives in append-only YAML op-logs committed to git. Data flows one
//! way: files → op blocks ([`oplog`]) → items ([`compile`]) → queries
//! ([`ready`], [`tracker`]) → rendering (the binaries). Writes flow back
//! through one function ([`write`]) that checks policy and appends.
//!
//! ```
//! use htrac::{compile::compile, emit::emit_op, oplog, Tier};
//!
//! // Two ops of one item, as they sit in its `.ops` file...
//! let text = "\
//! - op: create  # 0b9d
//!   at: '2026-11-24T19:41:13Z'  # 0b9d
//!   by: human  # 0b9d
//!   actor: amy  # 0b9d
//!   clock: 1  # 0b9d
//!   nonce: 0b9d  # 0b9d
//!   data:  # 0b9d
//!     kind: work_item  # 0b9d
//!     title: \"first item\"  # 0b9d
//!     status: todo_hard  # 0b9d
//!     priority: 2  # 0b9d
//! - op: update  # 51c2
//!   at: '2026-11-24T19:42:00Z'  # 51c2
//!   by: agent  # 51c2
//!   actor: amy_agent  # 51c2
//!   clock: 2  # 51c2
//!   nonce: 51c2  # 51c2
//!   set:  # 51c2
//!     status: in_progress  # 51c2
//! ";
//! let log = oplog::parse("item.ops".as_ref(), text).unwrap();
//! let ops: Vec<_> = log.ops.into_iter().map(|(_line, op)| op).collect();
//! // ...fold into the item's current state,
//! let item = compile("WI-x", Tier::Workspace, &ops).unwrap();
//! assert_eq!(item.status, "in_progress");
//! assert_eq!(item.updated_at, "2026-11-24T19:42:00Z");
//! // ...and every op is written back exactly as it was read.
//! assert_eq!(emit_op(&ops[1]), text.split_inclusive('\n').skip(11).collect::<String>());
//! ```

pub mod actions;
pub mod actor;
pub mod alias;
pub mod append;
pub mod atomic;
pub mod authority;
pub mod batch;
pub mod cache;
pub mod clock;
pub mod compile;
pub mod config;
pub mod deps;
pub mod editmode;
pub mod emit;
pub mod error;
pub mod fastparse;
pub mod fieldkeys;
pub mod filter;
pub mod git;
pub mod ids;
pub mod init;
pub mod insight;
pub mod item;
pub mod journal;
pub mod jsonfmt;
pub mod mcp;
pub mod messages;
pub mod migrate;
pub mod moves;
pub mod op;
pub mod oplog;
pub mod policy;
pub mod prime;
pub mod pyrepr;
pub mod pyyaml;
pub mod quarantine;
pub mod ready;
pub mod refs;
pub mod repairtail;
pub mod safetext;
#[cfg(feature = "serve")]
pub mod serve;
pub mod setup;
pub mod signing;
pub mod stophook;
pub mod sync;
pub mod tags;
pub mod textconv;
pub mod tiers;
pub mod timestamp;
pub mod tracker;
pub mod trustroot;
pub mod users;
pub mod validate;
pub mod write;
mod yamlres;

pub use error::{Error, ErrorKind, Result};
pub use item::Item;
pub use op::Op;
pub use tiers::Tier;
pub use tracker::Tracker;
