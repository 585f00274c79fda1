//! A tracker on disk: the `.agent/` root, its configuration and actor, the
//! item files of the three tiers, loading them into compiled items, and
//! resolving what a user typed (full ID, prefix with or without the kind
//! prefix) to one item file.
//!
//! Reading never calls git. Writing goes through [`crate::write`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::actor::Actor;
use crate::compile::compile_governed;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::split_id;
use crate::item::Item;
use crate::op::Op;
use crate::oplog;
use crate::tiers::{id_from_file_name, ops_file_name, Tier};

/// One item's op-log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFile {
    pub id: String,
    pub tier: Tier,
    pub path: PathBuf,
}

/// An item whose op-log cannot be compiled; other items are unaffected.
#[derive(Debug, Clone)]
pub struct Broken {
    pub file: ItemFile,
    pub error: String,
}

/// Everything read from the three tiers.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub items: Vec<Item>,
    pub broken: Vec<Broken>,
    /// Torn ops skipped and similar notices, for stderr.
    pub warnings: Vec<String>,
    /// How many items came from the read cache (the rest were parsed).
    pub cache_hits: usize,
}

impl Snapshot {
    /// Drops a large snapshot on a thread of its own, so that freeing its
    /// many small allocations does not hold up the caller (a command
    /// exiting does not wait for it).
    pub fn discard(self) {
        if self.items.len() >= 2048 {
            std::thread::spawn(move || drop(self));
        }
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
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

    /// Items sorted by (priority, created_at) as `list` shows them.
    pub fn sorted(mut self) -> Snapshot {
        self.items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self
    }
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
    pub policy: crate::policy::Policy,
    /// The key this tracker's human ops are signed with, overriding the
    /// user's (`htrac-serve` sets `authority.server_key`); see
    /// [`crate::signing::sign`].
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
                Error::user("no .agent/ directory found. Run 'init' first.").with_hint(
                    "run 'htrac init' at the top of your repository, or pass --tracker-root PATH",
                )
            })?,
        };
        Tracker::open(&root)
    }

    /// Opens the tracker whose `.agent/` directory is `root`.
    pub fn open(root: &Path) -> Result<Tracker> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        crate::trustroot::check_tier_dirs(&root)?;
        let config = Config::load(&root)?;
        let actor = Actor::current(&config.agent_usernames);
        let work_tree = crate::git::work_tree_of(&root);
        let mut policy = config.policy();
        policy.signing =
            crate::signing::Verifier::load(&config.authority, &root, &config.agent_usernames)
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
            crate::actor::user_name(meta.uid()).unwrap_or_else(|| meta.uid().to_string())
        };
        if crate::actor::Actor::for_name(&owner, &self.config.agent_usernames).is_agent() {
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
    /// [`policy`]: crate::policy
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
        let log = oplog::read(&file.path).map_err(|e| Broken {
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

    /// Loads one item by its resolved file.
    pub fn load(&self, file: &ItemFile) -> Result<Item> {
        self.read_item(file).map(|(item, _)| item).map_err(|b| {
            Error::corrupt(format!("corrupt data: {}", b.error)).with_hint(format!(
                "inspect {} (htrac log {}); other items are unaffected",
                b.file.path.display(),
                b.file.id
            ))
        })
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

    fn snapshot_inner(&self, summary: bool) -> Result<Snapshot> {
        let path = crate::cache::path_for(&self.root);
        let window = crate::cache::racy_window();
        let (snap, _) =
            crate::cache::snapshot_with(self, path.as_deref(), window, false, summary, None)?;
        if std::env::var_os("HTRAC_CACHE_STATS").is_some() {
            self.warn(format!(
                "cache: {} of {} items read from the cache",
                snap.cache_hits,
                snap.items.len()
            ));
        }
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

    /// Resolves a full ID or a unique prefix (`WI-foh`, `foh`) to one item
    /// file. An item present in several tiers resolves to its first tier
    /// (canonical, then workspace, then stealth).
    pub fn resolve(&self, spec: &str) -> Result<ItemFile> {
        if spec.is_empty() {
            return Err(Error::user("empty item ID")
                .with_hint("pass an item ID, a unique prefix of one, or :N"));
        }
        if spec.starts_with(':') {
            return Err(
                Error::user(format!("positional alias {spec} was not resolved"))
                    .with_hint("aliases are resolved by the command line; pass the full ID"),
            );
        }
        // A full ID needs one stat per tier, not a directory listing.
        if spec.contains('-') && !spec.contains('/') {
            for tier in Tier::ALL {
                let path = self.item_path(tier, spec);
                // Never through a symbolic link (listing skips them too).
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                    return Ok(ItemFile {
                        id: spec.to_string(),
                        tier,
                        path,
                    });
                }
            }
        }
        let files = self.files()?;
        let mut matches: BTreeMap<&str, Vec<&ItemFile>> = BTreeMap::new();
        for f in &files {
            let (_, rest) = split_id(&f.id);
            if f.id.starts_with(spec) || rest.starts_with(spec) {
                matches.entry(f.id.as_str()).or_default().push(f);
            }
        }
        match matches.len() {
            0 => Err(Error::new(
                crate::error::ErrorKind::NotFound,
                format!("No items match prefix: {spec}"),
            )
            .with_hint(
                "run 'htrac list' to see item IDs (any unique prefix works, e.g. WI-foh or foh)",
            )),
            1 => Ok((*matches.values().next().expect("one").first().expect("file")).clone()),
            _ => {
                let mut lines = Vec::new();
                for (id, fs) in &matches {
                    let f = fs[0];
                    let title = first_title(&f.path).unwrap_or_default();
                    lines.push(format!("  {id}  [{}]  {title}", f.tier.as_str()));
                }
                Err(Error::new(
                    crate::error::ErrorKind::Ambiguous,
                    format!(
                        "Ambiguous prefix '{spec}' matches {} items:\n{}",
                        matches.len(),
                        lines.join("\n")
                    ),
                )
                .with_hint("type more of the ID to make it unique"))
            }
        }
    }

    /// Resolves a reference to another item, given in request field
    /// `field` (`parent`, `add_isbefore`, ...: errors name it), to its file.
    pub fn resolve_ref(&self, spec: &str, field: &'static str) -> Result<ItemFile> {
        // What the request names does not resolve: its field is invalid.
        self.resolve(spec).map_err(|e| Error {
            message: format!("{spec}: {}", e.message),
            kind: match e.kind {
                crate::error::ErrorKind::NotFound | crate::error::ErrorKind::Ambiguous => {
                    crate::error::ErrorKind::Invalid
                }
                k => k,
            },
            field: Some(field),
            ..e
        })
    }
}

/// The title in an item file's first create op, cheaply (for error messages).
fn first_title(path: &Path) -> Option<String> {
    let log = oplog::read(path).ok()?;
    log.ops
        .iter()
        .find(|(_, o)| o.kind == "create")
        .and_then(|(_, o)| {
            o.get_map("data")
                .and_then(|d| d.get("title"))
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
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
