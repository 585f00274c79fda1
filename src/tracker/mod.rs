//! A tracker on disk: the `.agent/` root, its configuration and actor, the
//! item files of the three tiers, and the rules every write obeys. The
//! [`Tracker`] is defined here, with discovery (`--tracker-root` or the
//! nearest `.agent/`) and its files; its other methods live by concept:
//!
//! - [`load`]: reading items (one, or all as a [`load::Snapshot`]);
//!   never calls git;
//! - [`resolve`]: what a user typed (full ID, unique prefix) to one item
//!   file;
//! - [`write`](mod@write): the one way ops get written (checks every
//!   write shares, the Lamport clock ([`clock`]), a fresh nonce, the
//!   append), on an item read once ([`write::Opened`]);
//! - [`create`], [`update`], [`discuss`]: the item ops, with [`checks`]
//!   they share;
//! - [`authority`]: human-only actions, locks, freezing, deletion;
//! - [`moves`]: moving items between tiers;
//! - [`editmode`]: the windows in which messages may be edited.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::governance::actor::Actor;
use crate::items::tiers::{id_from_file_name, ops_file_name, Tier};

pub mod authority;
pub mod checks;
pub mod clock;
pub mod create;
pub mod discuss;
pub mod editmode;
pub mod load;
pub mod moves;
pub mod resolve;
pub mod update;
pub mod write;

/// One item's op-log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFile {
    pub id: String,
    pub tier: Tier,
    pub path: PathBuf,
}

/// An open tracker.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// The `.agent/` directory.
    pub root: PathBuf,
    pub config: Config,
    /// The git work tree holding the tracker, if any.
    pub work_tree: Option<PathBuf>,
    pub actor: Actor,
    /// The authority rules applied when ops are read (from `config`).
    pub policy: crate::governance::policy::Policy,
    /// The key this tracker's human ops are signed with, overriding the
    /// user's (`htrac-serve` sets `authority.server_key`); see
    /// [`crate::governance::signing::sign`].
    pub signing_key: Option<PathBuf>,
    /// Warnings the library had for the user (the library never prints):
    /// each front end takes them ([`Tracker::take_warnings`]) and shows them
    /// its way. Shared by clones of the tracker.
    notices: Notices,
}

/// Where the library leaves warnings for the front end, and how many ops
/// it appended (shared by clones of the tracker).
#[derive(Debug, Clone, Default)]
struct Notices(std::sync::Arc<(std::sync::Mutex<Vec<String>>, std::sync::atomic::AtomicU64)>);

impl Tracker {
    /// Finds the tracker: `explicit` (the `--tracker-root` flag) or the
    /// nearest `.agent/` directory from `cwd` upwards.
    pub fn discover(cwd: &Path, explicit: Option<&Path>) -> Result<Tracker> {
        let root = match explicit {
            Some(p) => {
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    cwd.join(p)
                };
                if !p.is_dir() {
                    return Err(Error::user(format!(
                        "tracker root {} does not exist",
                        p.display()
                    ))
                    .with_hint(
                        "pass the path of an existing .agent/ directory, or run 'htrac init'",
                    ));
                }
                p
            }
            None => find_agent_dir(cwd).ok_or_else(|| {
                Error::user("no .agent/ directory found. Run 'htrac setup' first.").with_hint(
                    "a human runs 'htrac setup' at the top of the repository (it creates the tracker; see the README's Quickstart), or pass --tracker-root PATH",
                )
            })?,
        };
        Tracker::open(&root)
    }

    /// Opens the tracker whose `.agent/` directory is `root`.
    pub fn open(root: &Path) -> Result<Tracker> {
        let (root, canonical) = match root.canonicalize() {
            Ok(r) => (r, true),
            Err(_) => (root.to_path_buf(), false),
        };
        crate::governance::trustroot::check_tier_dirs(&root)?;
        let config = Config::load(&root)?;
        let actor = Actor::current(&config.agent_usernames);
        let work_tree = if canonical {
            crate::git::work_tree_above(root.clone())
        } else {
            crate::git::work_tree_of(&root)
        };
        let mut policy = config.policy();
        policy.signing = crate::governance::signing::Verifier::load(
            &config.authority,
            &root,
            &config.agent_usernames,
        )
        .map(std::sync::Arc::new);
        Ok(Tracker {
            root,
            config,
            work_tree,
            actor,
            policy,
            signing_key: None,
            notices: Notices::default(),
        })
    }

    pub fn tier_dir(&self, tier: Tier) -> PathBuf {
        tier.dir(&self.root)
    }

    pub fn item_path(&self, tier: Tier, id: &str) -> PathBuf {
        self.tier_dir(tier).join(ops_file_name(id))
    }

    pub fn frozen_path(&self, tier: Tier, id: &str) -> PathBuf {
        self.tier_dir(tier).join(format!(".{id}.frozen"))
    }

    /// Every item file in every tier (one `readdir` per tier), sorted by tier then ID.
    pub fn files(&self) -> Result<Vec<ItemFile>> {
        let mut out = Vec::new();
        for tier in Tier::ALL {
            out.extend(self.tier_files(tier)?);
        }
        Ok(out)
    }

    pub fn tier_files(&self, tier: Tier) -> Result<Vec<ItemFile>> {
        let dir = self.tier_dir(tier);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::internal(format!(
                    "cannot read {}: {e}",
                    dir.display()
                )))
            }
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(id_from_file_name) else {
                continue;
            };
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                files.push(ItemFile {
                    id: id.to_string(),
                    tier,
                    path: entry.path(),
                });
            }
        }
        files.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(files)
    }

    /// Leaves a warning for the front end to show (see [`Tracker::take_warnings`]).
    pub fn warn(&self, line: impl Into<String>) {
        let mut v = self.notices.0 .0.lock().unwrap_or_else(|p| p.into_inner());
        v.push(line.into());
    }

    /// The warnings left since the last call, oldest first.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.0 .0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many appends (of one op or several) this tracker and its clones
    /// made: [`crate::actions::Transaction`] runs what follows writes when
    /// it grew.
    pub fn appends(&self) -> u64 {
        self.notices.0 .1.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts one append (every path that appends to an op file calls it).
    pub(crate) fn appended(&self) {
        self.notices
            .0
             .1
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The nearest `.agent/` directory at or above `start`.
pub fn find_agent_dir(start: &Path) -> Option<PathBuf> {
    let mut cur = start.to_path_buf();
    loop {
        let candidate = cur.join(".agent");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if !cur.pop() {
            return None;
        }
    }
}
