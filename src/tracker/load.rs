//! Loading items: one item file read and compiled under the tracker's
//! policy (with its tier's edit-mode ops and its freeze sentinel), and
//! every item of every tier at once (the [`Snapshot`], through the read
//! cache). Broken items are reported, not fatal; warnings are left on the
//! tracker.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::items::compile::compile_governed;
use crate::items::item::Item;
use crate::items::tiers::Tier;
use crate::oplog;
use crate::oplog::op::Op;

use super::{ItemFile, Tracker};

/// An item whose op-log cannot be compiled; other items are unaffected.
#[derive(Debug, Clone)]
pub struct Broken {
    pub file: ItemFile,
    pub error: String,
}

/// Everything read from the three tiers: whole items, or slim ones
/// ([`crate::items::slim::Slim`], [`Tracker::snapshot_slim`]).
#[derive(Debug)]
pub struct Snapshot<T = Item> {
    pub items: Vec<T>,
    pub broken: Vec<Broken>,
    /// Torn ops skipped and similar notices, for stderr.
    pub warnings: Vec<String>,
    /// How many items came from the read cache (the rest were parsed).
    pub cache_hits: usize,
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Snapshot {
            items: Vec::new(),
            broken: Vec::new(),
            warnings: Vec::new(),
            cache_hits: 0,
        }
    }
}

impl<T: Send + 'static> Snapshot<T> {
    /// Drops a large snapshot on a thread of its own, so that freeing its
    /// many small allocations does not hold up the caller (a command
    /// exiting does not wait for it).
    pub fn discard(self) {
        if self.items.len() >= 2048 {
            std::thread::spawn(move || drop(self));
        }
    }
}

impl<T: crate::items::slim::Listable> Snapshot<T> {
    /// Items sorted by (priority, created_at) as `list` shows them.
    pub fn sorted(mut self) -> Snapshot<T> {
        self.items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self
    }

    /// What a reader is told about this read: its warnings (torn ops
    /// skipped, ...), then one line for each item that cannot be read and
    /// is left out.
    pub fn notes(&self) -> Vec<String> {
        let broken = self.broken.iter().map(|b| {
            format!(
                "warning: item {} [{}] cannot be read and is left out: {} (inspect it with 'htrac log {}')",
                b.file.id,
                b.file.tier.as_str(),
                b.error,
                b.file.id
            )
        });
        self.warnings.iter().cloned().chain(broken).collect()
    }
}

impl Snapshot {
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The item `file` names (its ID in its tier, as [`Tracker::resolve`]
    /// found it): this snapshot's copy, else read afresh (an item the
    /// snapshot left out).
    pub fn item_of(&self, t: &Tracker, file: &ItemFile) -> Result<Cow<'_, Item>> {
        match self
            .items
            .iter()
            .find(|i| i.id == file.id && i.tier == file.tier)
        {
            Some(i) => Ok(Cow::Borrowed(i)),
            None => t.load(file).map(Cow::Owned),
        }
    }
}

impl Tracker {
    /// The edit-mode ops that apply to items of `tier`.
    pub fn edit_mode_ops(&self, tier: Tier) -> (Vec<Op>, Vec<String>) {
        let path = tier.edit_mode_log(&self.root);
        let Ok(meta) = std::fs::metadata(&path) else {
            return (Vec::new(), Vec::new());
        };
        // Only a human opens windows: a log an agent's OS user owns (so
        // could have written) authorises nothing.
        let owner = {
            use std::os::unix::fs::MetadataExt;
            crate::governance::actor::user_name(meta.uid())
                .unwrap_or_else(|| meta.uid().to_string())
        };
        if crate::governance::actor::Actor::for_name(&owner, &self.config.agent_usernames)
            .is_agent()
        {
            return (
                Vec::new(),
                vec![format!(
                    "warning: {} is owned by the agent user '{owner}'; its edit-mode windows are ignored",
                    path.display()
                )],
            );
        }
        match oplog::read(&path) {
            Ok(log) => (
                log.ops.into_iter().map(|(_, o)| o).collect(),
                log.torn.iter().map(|t| t.to_string()).collect(),
            ),
            Err(e) => (Vec::new(), vec![format!("edit-mode log ignored: {e}")]),
        }
    }

    /// Reads and compiles one item file (with its tier's edit-mode ops).
    pub fn load_file(
        &self,
        file: &ItemFile,
        edit_ops: &[Op],
        warnings: &mut Vec<String>,
    ) -> std::result::Result<Item, Broken> {
        let frozen = self.frozen_path(file.tier, &file.id).exists();
        let mut item = self.compile_file(file, edit_ops, frozen, warnings)?;
        item.frozen = frozen;
        Ok(item)
    }

    /// Reads and compiles one item file under the tracker's [`policy`]
    /// (`frozen`: whether its freeze sentinel exists; then agent ops the
    /// sentinel does not hold have no effect).
    ///
    /// [`policy`]: crate::governance::policy
    pub fn compile_file(
        &self,
        file: &ItemFile,
        edit_ops: &[Op],
        frozen: bool,
        warnings: &mut Vec<String>,
    ) -> std::result::Result<Item, Broken> {
        self.compile_file_ops(file, edit_ops, frozen, warnings)
            .map(|(item, _)| item)
    }

    /// [`Tracker::compile_file`], also returning the ops of the item's file.
    fn compile_file_ops(
        &self,
        file: &ItemFile,
        edit_ops: &[Op],
        frozen: bool,
        warnings: &mut Vec<String>,
    ) -> std::result::Result<(Item, Vec<Op>), Broken> {
        self.compile_log(file, oplog::read(&file.path), edit_ops, frozen, warnings)
    }

    /// [`Tracker::compile_file`] of the file's op-log as it was read.
    pub(crate) fn compile_read(
        &self,
        file: &ItemFile,
        log: std::result::Result<oplog::OpLog, oplog::ReadError>,
        edit_ops: &[Op],
        frozen: bool,
        warnings: &mut Vec<String>,
    ) -> std::result::Result<Item, Broken> {
        self.compile_log(file, log, edit_ops, frozen, warnings)
            .map(|(item, _)| item)
    }

    fn compile_log(
        &self,
        file: &ItemFile,
        log: std::result::Result<oplog::OpLog, oplog::ReadError>,
        edit_ops: &[Op],
        frozen: bool,
        warnings: &mut Vec<String>,
    ) -> std::result::Result<(Item, Vec<Op>), Broken> {
        let log = log.map_err(|e| Broken {
            file: file.clone(),
            error: e.to_string(),
        })?;
        for t in &log.torn {
            warnings.push(format!("warning: {t}"));
        }
        let mut ops: Vec<Op> = log.ops.into_iter().map(|(_, o)| o).collect();
        let own = ops.len();
        ops.extend(edit_ops.iter().cloned());
        let approved = if frozen {
            Some(self.approved_ops(file, warnings))
        } else {
            None
        };
        let item = compile_governed(&file.id, file.tier, &ops, &self.policy, approved.as_deref())
            .map_err(|e| Broken {
            file: file.clone(),
            error: format!("{}: {e}", file.path.display()),
        })?;
        ops.truncate(own);
        Ok((item, ops))
    }

    /// The ops a human approved when freezing `file`'s item: those of its
    /// freeze sentinel. A sentinel that cannot be read approves nothing
    /// (every agent op is then without effect), with a warning.
    pub fn approved_ops(&self, file: &ItemFile, warnings: &mut Vec<String>) -> Vec<Op> {
        let path = self.frozen_path(file.tier, &file.id);
        match oplog::read(&path) {
            Ok(log) => log.ops.into_iter().map(|(_, o)| o).collect(),
            Err(e) => {
                warnings.push(format!(
                    "warning: the freeze sentinel of {} cannot be read ({e}): no agent op since the freeze counts",
                    file.id
                ));
                Vec::new()
            }
        }
    }

    /// Loads one item by its resolved file, with the claim a session on
    /// this host holds on it ([`crate::claims::overlay`]).
    pub fn load(&self, file: &ItemFile) -> Result<Item> {
        let item = self.read_item(file).map(|(item, _)| item).map_err(|b| {
            Error::corrupt(format!("corrupt data: {}", b.error)).with_hint(format!(
                "inspect {} (htrac log {}); other items are unaffected",
                b.file.path.display(),
                b.file.id
            ))
        })?;
        let mut one = [item];
        self.overlay_claims(&mut one);
        let [item] = one;
        Ok(item)
    }

    /// [`Tracker::load`] for a view (`show`): when the file has a complete
    /// op that does not read, the item is compiled from its good ops (as
    /// the reference shows it) and a warning names the op skipped. Writes
    /// keep refusing such an item ([`Tracker::load`] and every write path
    /// read strictly), so a broken op cannot drop, say, a human's lock for
    /// an agent; `validate` reports it and a human can `quarantine` it.
    pub fn load_for_view(&self, file: &ItemFile) -> Result<Item> {
        let strict = match self.load(file) {
            Ok(item) => return Ok(item),
            Err(e) => e,
        };
        let Ok((log, skipped)) = oplog::read_skipping_bad(&file.path) else {
            return Err(strict);
        };
        if skipped.is_empty() {
            return Err(strict);
        }
        let (edit_ops, mut warnings) = self.edit_mode_ops(file.tier);
        let frozen = self.frozen_path(file.tier, &file.id).exists();
        let mut ops: Vec<Op> = log.ops.into_iter().map(|(_, o)| o).collect();
        ops.extend(edit_ops);
        let approved = frozen.then(|| self.approved_ops(file, &mut warnings));
        let Ok(mut item) =
            compile_governed(&file.id, file.tier, &ops, &self.policy, approved.as_deref())
        else {
            return Err(strict);
        };
        item.frozen = frozen;
        item.cross_tier_conflict = Tier::ALL
            .iter()
            .filter(|t| self.item_path(**t, &file.id).exists())
            .count()
            > 1;
        warnings.into_iter().for_each(|w| self.warn(w));
        for b in &skipped {
            self.warn(format!(
                "warning: {b}: this op does not read and is left out of the view; writes to {} are refused until a human repairs it ('htrac quarantine {}' keeps a backup)",
                file.id, file.id
            ));
        }
        let mut one = [item];
        self.overlay_claims(&mut one);
        let [item] = one;
        Ok(item)
    }

    /// Lays the host's claim board over `items` ([`crate::claims::overlay`]).
    pub fn overlay_claims<T: crate::items::slim::Listable>(&self, items: &mut [T]) {
        let (file, _) = crate::claims::board::paths(&self.root, self.work_tree.as_deref());
        let board = crate::claims::board::read(&file);
        let here = crate::claims::board::worktree_key(self.work_tree.as_deref());
        crate::claims::overlay(items, &board, crate::claims::now(), &here);
    }

    /// [`Tracker::load`], also returning the ops of the item's file (its
    /// warnings left on the tracker).
    pub(crate) fn read_item(
        &self,
        file: &ItemFile,
    ) -> std::result::Result<(Item, Vec<Op>), Broken> {
        let (edit_ops, mut warnings) = self.edit_mode_ops(file.tier);
        let frozen = self.frozen_path(file.tier, &file.id).exists();
        let read = self.compile_file_ops(file, &edit_ops, frozen, &mut warnings);
        warnings.into_iter().for_each(|w| self.warn(w));
        let (mut item, ops) = read?;
        item.frozen = frozen;
        // Shown by every command that loads one item (`show`, writes).
        let mut unsigned: Vec<String> = self
            .policy
            .signing
            .as_deref()
            .map(|v| v.warnings.iter().map(|w| format!("warning: {w}")).collect())
            .unwrap_or_default();
        unsigned.extend(item.unverified_ops.iter().map(|r| {
            format!(
                "warning: {}: human op '{}' by {} (nonce {}) has no valid signature: {}",
                item.id, r.kind, r.actor, r.nonce, r.reason
            )
        }));
        unsigned.into_iter().for_each(|w| self.warn(w));
        item.cross_tier_conflict = Tier::ALL
            .iter()
            .filter(|t| self.item_path(**t, &file.id).exists())
            .count()
            > 1;
        Ok((item, ops))
    }

    /// Loads every item of every tier. Broken items are reported, not fatal.
    /// Items whose op file is unchanged since it was last read come from
    /// the read cache ([`crate::cache`]); the rest are parsed, on all cores
    /// when there are many. The result's order is tier, then ID.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.snapshot_inner(false)
    }

    /// [`Tracker::snapshot`] without what listings never read: descriptions
    /// and custom fields are empty, and each discussion holds only its
    /// unread tail ([`Item::unread_human`]) without message bodies — see
    /// [`crate::cache::strip`]. For `list`, `ready` and the stop hook's
    /// counts: a warm read then decodes much less and holds much less
    /// memory.
    pub fn snapshot_summary(&self) -> Result<Snapshot> {
        self.snapshot_inner(true)
    }

    /// Every item as a [`crate::items::slim::Slim`] one: what the text
    /// listings (`list`, `ready`) read, at a fraction of
    /// [`Tracker::snapshot_summary`]'s memory and decoding.
    pub fn snapshot_slim(&self) -> Result<Snapshot<crate::items::slim::Slim>> {
        let path = crate::cache::path_for(&self.root);
        let window = crate::cache::racy_window();
        let mut snap = crate::cache::snapshot_slim(self, path.as_deref(), window, None)?;
        self.overlay_claims(&mut snap.items);
        self.cache_stats(snap.cache_hits, snap.items.len());
        Ok(snap)
    }

    fn cache_stats(&self, hits: usize, of: usize) {
        if std::env::var_os("HTRAC_CACHE_STATS").is_some() {
            self.warn(format!("cache: {hits} of {of} items read from the cache"));
        }
    }

    fn snapshot_inner(&self, summary: bool) -> Result<Snapshot> {
        let path = crate::cache::path_for(&self.root);
        let window = crate::cache::racy_window();
        let (mut snap, _) =
            crate::cache::snapshot_with(self, path.as_deref(), window, false, summary, None)?;
        self.overlay_claims(&mut snap.items);
        self.cache_stats(snap.cache_hits, snap.items.len());
        Ok(snap)
    }

    /// Throws the read cache away and builds it again from every op file.
    /// Returns the snapshot read; fails if the cache cannot be written.
    pub fn rebuild_cache(&self) -> Result<Snapshot> {
        let Some(path) = crate::cache::path_for(&self.root) else {
            return Err(Error::user(
                "the read cache is off (HTRAC_NO_CACHE is set, or there is no cache directory)",
            )
            .with_hint("unset HTRAC_NO_CACHE, or set HOME, XDG_CACHE_HOME or HTRAC_CACHE_DIR"));
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::internal(format!(
                    "cannot remove {}: {e}",
                    path.display()
                )))
            }
        }
        let (snap, written) =
            crate::cache::snapshot_at(self, Some(&path), crate::cache::racy_window(), true)?;
        match written {
            Some(Err(e)) => Err(Error::internal(format!(
                "cannot write the read cache {}: {e}",
                path.display()
            ))
            .with_hint(
                "check that the cache directory is writable, or point HTRAC_CACHE_DIR elsewhere",
            )),
            _ => Ok(snap),
        }
    }
}
