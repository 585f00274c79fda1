//! htrac: a repository-local work tracker for governing AI coding agents.
//!
//! State lives in append-only YAML op-logs committed to git. Reads flow one
//! way: files → op blocks ([`oplog`]) → items ([`items::compile`]) →
//! queries ([`items::ready`], [`tracker`]) → each front end's rendering.
//! Changes flow back through layers: a front end's typed request →
//! [`actions`] (one function per thing a user does) → [`tracker`] (the
//! rules — authority, locks, frozen items — and the one write path,
//! [`tracker::write`]) → [`oplog`] (ops emitted and appended). The library
//! never prints; errors carry an [`ErrorKind`].
//!
//! The modules, by concept:
//!
//! - the data: [`oplog`] (op files: blocks, ops, reading, emitting,
//!   appending), [`items`] (compiled items and the queries over them),
//!   [`tracker`] (a tracker on disk, its rules and its write path),
//!   [`actions`] (the commands every front end shares), [`config`],
//!   [`error`];
//! - who may do what: [`governance`] (actor, policy, signing, trust root);
//! - keeping ops safe and shared: [`journal`], [`sync`], [`repair`],
//!   [`cache`] (the read cache), [`validate`], [`git`], [`atomic`],
//!   [`par`] (work shared among cores, results in order);
//! - what the front ends and hooks ask for: [`prime`], [`stophook`],
//!   [`insight`], [`migrate`], [`setup`], [`init`], [`batch`], [`alias`],
//!   [`mcp`] and `serve` (the MCP and web servers);
//! - text: [`py`] (output byte for byte as the Python reference writes
//!   it), [`safetext`], [`timestamp`], [`users`].
//!
//! ```
//! use htrac::items::compile::compile;
//! use htrac::oplog::{self, emit::emit_op};
//! use htrac::Tier;
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

// The data.
pub mod actions;
pub mod claims;
pub mod config;
pub mod error;
pub mod items;
pub mod oplog;
pub mod tracker;

// Who may do what.
pub mod governance;

// Keeping ops safe and shared.
pub mod atomic;
pub mod cache;
pub mod git;
pub mod journal;
pub mod repair;
pub mod sync;
pub mod validate;
pub mod watch;

// What the front ends and hooks ask for.
pub mod alias;
pub mod batch;
pub mod init;
pub mod insight;
pub mod mcp;
pub mod migrate;
pub mod prime;
#[cfg(feature = "serve")]
pub mod serve;
pub mod setup;
pub mod stophook;

// Text.
pub mod nearest;
pub mod par;
pub mod process;
pub mod py;
pub mod safetext;
pub mod settings;
pub mod timestamp;
pub mod users;

pub use error::{Error, ErrorKind, Result};
pub use items::item::Item;
pub use items::tiers::Tier;
pub use oplog::op::Op;
pub use tracker::Tracker;
