//! The three tiers an item can live in, and where their files are.
//!
//! canonical `.agent/tracker/.ops/` (committed, shared upstream), workspace
//! `.agent/tracker-workspace/.ops/` (committed, fork-local, the default),
//! stealth `.agent/tracker-workspace/stealth/` (git-ignored, local only).
//! An item's tier is the directory its file is in.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Canonical,
    Workspace,
    Stealth,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Canonical, Tier::Workspace, Tier::Stealth];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Canonical => "canonical",
            Tier::Workspace => "workspace",
            Tier::Stealth => "stealth",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The tier's ops directory, relative to the `.agent/` root.
    pub fn rel_dir(self) -> &'static str {
        match self {
            Tier::Canonical => "tracker/.ops",
            Tier::Workspace => "tracker-workspace/.ops",
            Tier::Stealth => "tracker-workspace/stealth",
        }
    }

    pub fn dir(self, root: &Path) -> PathBuf {
        root.join(self.rel_dir())
    }

    /// The global edit-mode log that authorises message edits in this tier.
    pub fn edit_mode_log(self, root: &Path) -> PathBuf {
        self.dir(root)
            .parent()
            .expect("tier dir has a parent")
            .join(".edit-mode")
            .join("edit-mode.ops")
    }
}

/// The file name of an item's op-log: `.<ID>.ops`.
pub fn ops_file_name(id: &str) -> String {
    format!(".{id}.ops")
}

/// The item ID of an op-log file name, if it is one.
pub fn id_from_file_name(name: &str) -> Option<&str> {
    let id = name.strip_prefix('.')?.strip_suffix(".ops")?;
    (!id.is_empty()).then_some(id)
}
