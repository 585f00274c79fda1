//! The one way ops get written: policy checks (actor, human-only statuses
//! and ops, locked fields, frozen items, broken items), then the Lamport
//! clock, a fresh nonce, and an atomic append.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::fieldkeys::check_field_key;
use crate::ids::compute_id;
use crate::item::Item;
use crate::op::{Op, SET_VALUED};
use crate::oplog::{self, AppendMode};
use crate::tiers::Tier;
use crate::timestamp::now_utc;
use crate::tracker::{ItemFile, Tracker};

/// Op kinds only a human may append.
pub use crate::policy::HUMAN_ONLY_OPS;

/// Fields an `update` may set, add to or remove from.
pub const UPDATABLE: &[&str] = &[
    "title",
    "status",
    "priority",
    "parent",
    "tags",
    "isbefore",
    "duplicate_of",
    "not_duplicate_of",
    "pr_ref",
    "description",
    "fields",
];

/// Fields a human may lock (everything updatable, plus the discussion).
pub const LOCKABLE: &[&str] = &[
    "title",
    "status",
    "priority",
    "parent",
    "tags",
    "isbefore",
    "duplicate_of",
    "not_duplicate_of",
    "pr_ref",
    "description",
    "fields",
    "discussion",
];

/// An item read and compiled once for writing (see
/// [`Tracker::open_item`]): each op appended through it is folded into
/// `item`, which therefore always holds the item's state after the writes.
#[derive(Debug, Clone)]
pub struct Opened {
    pub file: ItemFile,
    pub item: Item,
    /// The ops of the item's file (their nonces and clocks).
    ops: Vec<Op>,
}

impl Opened {
    /// The ops of the item's file, in file order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// A new item, as `add` describes it.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: String,
    pub title: String,
    pub status: Option<String>,
    pub priority: i64,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub isbefore: Vec<String>,
    pub duplicate_of: Vec<String>,
    pub not_duplicate_of: Vec<String>,
    pub pr_ref: Option<String>,
    pub description: String,
    pub fields: Map<String, Value>,
    pub tier: Tier,
    pub force_field_key: bool,
}

impl NewItem {
    pub fn new(kind: &str, title: &str) -> NewItem {
        NewItem {
            kind: kind.into(),
            title: title.into(),
            status: None,
            priority: 2,
            parent: None,
            tags: Vec::new(),
            isbefore: Vec::new(),
            duplicate_of: Vec::new(),
            not_duplicate_of: Vec::new(),
            pr_ref: None,
            description: String::new(),
            fields: Map::new(),
            tier: Tier::Workspace,
            force_field_key: false,
        }
    }
}

/// The changes of one `update` op.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub set: Map<String, Value>,
    pub add: Map<String, Value>,
    pub remove: Map<String, Value>,
    pub force_field_key: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// Tag names are `^[a-z_][a-z0-9_]*$`.
pub fn check_tag(tag: &str) -> Result<()> {
    let ok = tag.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "tag name '{tag}' does not match ^[a-z_][a-z0-9_]*$"
        ))
        .with_hint("use lower-case letters, digits and underscores, e.g. ci_infrastructure"))
    }
}

/// A 4-hex-digit nonce not yet used in `taken`.
pub fn fresh_nonce(taken: &[String]) -> String {
    loop {
        let mut b = [0u8; 2];
        if rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty()).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            b = [(t >> 8) as u8, t as u8];
        }
        let n = format!("{:02x}{:02x}", b[0], b[1]);
        if !taken.contains(&n) {
            return n;
        }
    }
}

/// The error for an append to `path` that failed with nothing written: a
/// refusal (readers would refuse the result: too large, nested too deep)
/// or the environment (disk full, permissions). Both exit 1.
/// `verb` says what failed: "write" (a new file) or "append to".
pub(crate) fn append_error(path: &std::path::Path, e: &std::io::Error, verb: &str) -> Error {
    match oplog::refusal(e) {
        Some(why) => Error::user(format!("refusing to write to {}: {why}", path.display()))
            .with_hint(oplog::refusal_hint(e).unwrap_or(
                "nothing was written; shorten the text (keep large content in a file in the repository and refer to it)",
            )),
        None => Error::user(format!("cannot {verb} {}: {e}", path.display()))
            .with_hint("nothing was written; free space or fix permissions, then retry"),
    }
}

impl Tracker {
    fn check_status(&self, kind: &str, status: &str) -> Result<()> {
        if !self.config.statuses.iter().any(|s| s == status) {
            return Err(Error::user(format!(
                "Unknown status '{status}'. Valid statuses: {}",
                self.config.statuses.join(", ")
            ))
            .with_hint(
                "pick one of the statuses listed (they come from the tracker's config.yaml)",
            ));
        }
        if let Some(k) = self.config.kind(kind) {
            if let Some(allowed) = &k.allowed_statuses {
                if !allowed.iter().any(|s| s == status) {
                    let deprecated = k.deprecated_statuses.iter().flatten().any(|s| s == status);
                    let what = if deprecated {
                        "deprecated"
                    } else {
                        "not allowed"
                    };
                    return Err(Error::user(format!(
                        "Status '{status}' is {what} for kind '{kind}'. Use one of: {}",
                        allowed.join(", ")
                    )));
                }
            }
        }
        if self.actor.is_agent() && self.config.is_human_only(status) {
            return Err(Error::new(
                crate::error::ErrorKind::HumanOnly,
                format!("Status '{status}' requires human authority."),
            )
            .with_hint(format!(
                "'{status}' is in stop_hook.human_only_statuses: ask your human to set it"
            )));
        }
        Ok(())
    }

    fn check_priority(p: &Value) -> Result<()> {
        match p.as_i64() {
            Some(0..=4) => Ok(()),
            _ => Err(Error::user(format!(
                "invalid priority {p}: must be an integer from 0 (highest) to 4 (lowest)"
            ))),
        }
    }

    /// References from canonical/workspace items may not point into stealth.
    pub(crate) fn check_ref_tier(
        &self,
        writer: Tier,
        target: &ItemFile,
        field: &'static str,
    ) -> Result<()> {
        if writer != Tier::Stealth && target.tier == Tier::Stealth {
            return Err(Error::user(format!(
                "{} points at a stealth item from a {} item; stealth items are local-only and never synced",
                target.id,
                writer.as_str()
            ))
            .on_field(field)
            .with_hint("unstealth the target first, or keep both items in stealth"));
        }
        Ok(())
    }

    /// The references an update adds (`parent`, and `isbefore`,
    /// `duplicate_of`, `not_duplicate_of` set or added) may not point from a
    /// canonical or workspace item into stealth — the one rule for every
    /// front end.
    fn check_update_refs(&self, file: &ItemFile, changes: &Changes) -> Result<()> {
        if file.tier == Tier::Stealth {
            return Ok(());
        }
        let mut targets: Vec<(&'static str, &str)> = Vec::new();
        if let Some(Value::String(p)) = changes.set.get("parent") {
            targets.push(("parent", p));
        }
        for (key, set, add) in [
            ("isbefore", "isbefore", "add_isbefore"),
            ("duplicate_of", "duplicate_of", "add_duplicate_of"),
            (
                "not_duplicate_of",
                "not_duplicate_of",
                "add_not_duplicate_of",
            ),
        ] {
            for (map, field) in [(&changes.set, set), (&changes.add, add)] {
                if let Some(Value::Array(a)) = map.get(key) {
                    targets.extend(a.iter().filter_map(Value::as_str).map(|id| (field, id)));
                }
            }
        }
        for (key, id) in targets {
            let path = self.item_path(Tier::Stealth, id);
            if path.is_file() {
                let target = ItemFile {
                    id: id.to_string(),
                    tier: Tier::Stealth,
                    path,
                };
                self.check_ref_tier(file.tier, &target, key)?;
            }
        }
        Ok(())
    }

    /// Creates a new item; returns its ID.
    pub fn add(&self, new: &NewItem) -> Result<String> {
        let Some(kind) = self.config.kind(&new.kind) else {
            return Err(Error::user(format!(
                "Unknown kind '{}'. Valid kinds: {}",
                new.kind,
                self.config.kind_names().join(", ")
            )));
        };
        let status = match &new.status {
            Some(s) => s.clone(),
            None => match &kind.allowed_statuses {
                Some(allowed) => self
                    .config
                    .blocking_statuses
                    .iter()
                    .find(|s| allowed.contains(s))
                    .or(allowed.first())
                    .cloned()
                    .unwrap_or_else(|| self.config.blocking_statuses[0].clone()),
                None => self.config.blocking_statuses[0].clone(),
            },
        };
        self.check_status(&new.kind, &status)?;
        Self::check_priority(&json!(new.priority))?;
        for tag in &new.tags {
            check_tag(tag)?;
        }
        if new.title.trim().is_empty() {
            return Err(Error::user("must not be empty").on_field("title"));
        }
        let declared: Vec<&str> = kind.fields_schema.iter().map(|f| f.name.as_str()).collect();
        for key in new.fields.keys() {
            check_field_key(key, &declared, new.force_field_key)?;
        }
        let missing: Vec<&str> = kind
            .fields_schema
            .iter()
            .filter(|f| f.required && !new.fields.contains_key(&f.name))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::user(format!(
                "Kind '{}' requires field(s): {}; set them as custom fields",
                new.kind,
                missing.join(", ")
            )));
        }
        // Resolve references to full IDs.
        let resolve_all = |specs: &[String], flag: &'static str| -> Result<Vec<Value>> {
            specs
                .iter()
                .map(|s| {
                    let f = self.resolve_ref(s, flag)?;
                    self.check_ref_tier(new.tier, &f, flag)?;
                    Ok(Value::String(f.id))
                })
                .collect()
        };
        let parent = match &new.parent {
            Some(p) => {
                let f = self.resolve_ref(p, "parent")?;
                self.check_ref_tier(new.tier, &f, "parent")?;
                Value::String(f.id)
            }
            None => Value::Null,
        };
        let mut data = Map::new();
        data.insert("kind".into(), json!(new.kind));
        data.insert("title".into(), json!(new.title));
        data.insert("status".into(), json!(status));
        data.insert("priority".into(), json!(new.priority));
        data.insert("parent".into(), parent);
        data.insert("tags".into(), json!(new.tags));
        data.insert(
            "isbefore".into(),
            Value::Array(resolve_all(&new.isbefore, "isbefore")?),
        );
        data.insert(
            "duplicate_of".into(),
            Value::Array(resolve_all(&new.duplicate_of, "duplicate_of")?),
        );
        data.insert(
            "not_duplicate_of".into(),
            Value::Array(resolve_all(&new.not_duplicate_of, "not_duplicate_of")?),
        );
        data.insert("pr_ref".into(), json!(new.pr_ref));
        data.insert("description".into(), json!(new.description));
        data.insert("fields".into(), Value::Object(new.fields.clone()));
        let data = Value::Object(data);

        let nonce = fresh_nonce(&[]);
        let mut id = compute_id(&kind.prefix, &data, "");
        if let Some(existing) = Tier::ALL
            .iter()
            .map(|t| self.item_path(*t, &id))
            .find(|p| p.exists())
        {
            let log =
                oplog::read(&existing).map_err(|e| Error::corrupt(format!("corrupt data: {e}")))?;
            let title = log
                .ops
                .iter()
                .find(|(_, o)| o.kind == "create")
                .map(|(_, o)| {
                    o.get_map("data")
                        .and_then(|d| d.get("title"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                });
            match title {
                Some(t) => {
                    return Err(Error::new(
                        crate::error::ErrorKind::Conflict,
                        format!("{id} already exists (title: '{t}'). Use 'update' to modify it."),
                    ))
                }
                // A file without a create op under our hash: salt the ID.
                None => id = compute_id(&kind.prefix, &data, &nonce),
            }
        }
        let path = self.item_path(new.tier, &id);
        std::fs::create_dir_all(self.tier_dir(new.tier))?;
        // A new item has no locks anywhere: if git cannot read the other
        // branches, the clock falls back to local ops for anyone.
        let copies = crate::clock::branch_copies(
            &path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
        )
        .unwrap_or_else(|e| {
            self.warn(format!("warning: cannot read other branches (git: {e}); the Lamport clock uses local ops only"));
            Vec::new()
        });
        let clock = crate::clock::next_clock(0, &copies);
        let mut op = Op::new(
            "create",
            &now_utc(),
            self.actor.role,
            &self.actor.name,
            clock,
            &nonce,
        )
        .with("data", data);
        self.sign_op(&id, &mut op)?;
        let text = crate::emit::emit_op(&op);
        let mirror = |t: &str| crate::journal::mirror_or_warn(self, &path, t);
        oplog::append_text_mirrored(&path, &text, AppendMode::New, &mirror).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(
                    crate::error::ErrorKind::Conflict,
                    format!("{id} already exists. Use 'update' to modify it."),
                )
            } else {
                // Refused (readers would refuse it), disk full, read-only
                // file system, permission denied: exit 1; nothing was left.
                append_error(&path, &e, "write")
            }
        })?;
        self.appended();
        Ok(id)
    }

    /// The fields locked on `file`'s item here, on any lamport branch or on
    /// HEAD (`copies` from [`crate::clock::branch_copies`]).
    pub fn locked_fields(
        &self,
        file: &ItemFile,
        item: &Item,
        copies: &[(Vec<u8>, bool)],
    ) -> Vec<String> {
        let mut locked = item.locked_fields.clone();
        for (blob, counts) in copies {
            if !counts {
                continue;
            }
            let Ok(text) = std::str::from_utf8(blob) else {
                continue;
            };
            let Ok(log) = oplog::parse(&file.path, text) else {
                continue;
            };
            let ops: Vec<Op> = log.ops.into_iter().map(|(_, o)| o).collect();
            if let Ok(other) =
                crate::compile::compile_governed(&file.id, file.tier, &ops, &self.policy, None)
            {
                for f in other.locked_fields {
                    if !locked.contains(&f) {
                        locked.push(f);
                    }
                }
            }
        }
        locked
    }

    /// The item file's copies on other branches (one git process). When git
    /// cannot read them, an agent's write is refused — locks set there could
    /// not be checked — and a human's goes on with the local clock.
    pub(crate) fn branch_copies(
        &self,
        path: &std::path::Path,
    ) -> Result<crate::clock::BranchCopies> {
        self.copies_or_refusal(crate::clock::branch_copies(
            path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
        ))
    }

    /// [`Tracker::branch_copies`], started now on a thread of its own so
    /// that git runs while the caller reads and checks the item.
    pub fn prefetch_branch_copies(&self, path: &std::path::Path) -> crate::clock::Prefetch {
        crate::clock::Prefetch::start(
            path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
        )
    }

    fn copies_or_refusal(
        &self,
        read: std::io::Result<crate::clock::BranchCopies>,
    ) -> Result<crate::clock::BranchCopies> {
        match read {
            Ok(c) => Ok(c),
            Err(e) if self.actor.is_agent() => Err(Error::user(format!(
                "cannot read this item on the other branches (git: {e}); locks set there cannot be checked, so agent writes are refused"
            ))
            .with_hint(format!(
                "if git reports dubious ownership, run: git config --global --add safe.directory {}",
                self.work_tree
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ))),
            Err(e) => {
                self.warn(format!("warning: cannot read this item on the other branches (git: {e}); the Lamport clock uses local ops only"));
                Ok(Vec::new())
            }
        }
    }

    /// Reads and compiles an item once for writing: the ops that follow
    /// are checked against, and folded into, this state.
    pub fn open_item(&self, file: &ItemFile) -> Result<Opened> {
        let (item, ops) = self.read_item(file).map_err(|b| {
            Error::corrupt(format!("corrupt data: {}", b.error)).with_hint(
                "the item cannot be read; a human must repair its ops file before further writes",
            )
        })?;
        Ok(Opened {
            file: file.clone(),
            item,
            ops,
        })
    }

    /// Appends an op of `kind` with `body` to an existing item, after the
    /// checks every write shares. Returns the op written.
    pub fn append(&self, file: &ItemFile, kind: &str, body: Map<String, Value>) -> Result<Op> {
        self.append_to(&mut self.open_item(file)?, kind, body, None, now_utc())
    }

    /// [`Tracker::append`] to an opened item with a caller's timestamp,
    /// reusing branch copies a caller already read; the op is folded into
    /// `it`, which then holds the item's state after the write.
    pub(crate) fn append_to(
        &self,
        it: &mut Opened,
        kind: &str,
        body: Map<String, Value>,
        copies: Option<crate::clock::BranchCopies>,
        at: String,
    ) -> Result<Op> {
        let file = &it.file;
        if HUMAN_ONLY_OPS.contains(&kind) {
            self.require_human(kind)?;
        }
        if self.actor.is_agent() && self.frozen_path(file.tier, &file.id).exists() {
            return Err(Error::new(
                crate::error::ErrorKind::Frozen,
                format!(
                    "{} is frozen: agent writes are refused until a human unfreezes it",
                    file.id
                ),
            )
            .with_hint(format!(
                "ask your human to run 'htrac unfreeze {}'",
                file.id
            )));
        }
        let taken: Vec<String> = it.ops.iter().map(|o| o.nonce.clone()).collect();
        let local_max = it.ops.iter().map(|o| o.clock).max().unwrap_or(0);
        let copies = match copies {
            Some(c) => c,
            None => self.branch_copies(&file.path)?,
        };
        let clock = crate::clock::next_clock(local_max, &copies);
        let mut op = Op::new(
            kind,
            &at,
            self.actor.role,
            &self.actor.name,
            clock,
            &fresh_nonce(&taken),
        );
        op.body = body;
        self.sign_op(&file.id, &mut op)?;
        self.append_op_file(&file.path, &op)?;
        // A human's write to a frozen item is approved state: the sentinel follows it.
        if !self.actor.is_agent() {
            self.refresh_sentinel(file)?;
        }
        it.ops.push(op.clone());
        if !crate::compile::fold_appended(&mut it.item, &op, &self.policy) {
            *it = self.open_item(&it.file)?;
        }
        Ok(op)
    }

    /// Appends one op to an existing file, taking the file over (same-directory
    /// copy + rename) when the other user of a two-user set-up owns it
    /// without group write.
    pub(crate) fn append_op_file(&self, path: &std::path::Path, op: &Op) -> Result<()> {
        let text = crate::emit::emit_op(op);
        self.append_text_file(path, &text)
    }

    /// [`Tracker::append_op_file`] for already-serialized ops.
    pub(crate) fn append_text_file(&self, path: &std::path::Path, text: &str) -> Result<()> {
        // Disk full, file size limit, read-only: the environment, not
        // corrupt data (exit 1); a failed append leaves no partial op.
        let cannot = |e: std::io::Error| append_error(path, &e, "append to");
        let mirror = |t: &str| crate::journal::mirror_or_warn(self, path, t);
        let appended = match oplog::append_text_mirrored(path, text, AppendMode::Existing, &mirror)
        {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                crate::atomic::take_over(path).map_err(|e2| {
                    Error::user(format!("cannot append to {}: {e}", path.display())).with_hint(
                        format!(
                            "the file belongs to another user and cannot be taken over ({e2}); \
                             give the directory group write and setgid: chmod g+ws '{}' (or run 'htrac setup')",
                            path.parent().map(|p| p.display().to_string()).unwrap_or_default()
                        ),
                    )
                })?;
                oplog::append_text_mirrored(path, text, AppendMode::Existing, &mirror)
                    .map_err(cannot)
            }
            r => r.map_err(cannot),
        };
        if appended.is_ok() {
            self.appended();
        }
        appended
    }

    /// Appends an `update` op after checking statuses, priority, field keys
    /// and (for agents) locked fields.
    pub fn update(&self, file: &ItemFile, changes: &Changes) -> Result<Op> {
        let pending = self.prefetch_branch_copies(&file.path);
        self.update_opened(&mut self.open_item(file)?, changes, pending)
    }

    /// [`Tracker::update`] of an opened item, with its branch copies
    /// already being read ([`Tracker::prefetch_branch_copies`], started
    /// before the item was opened so that git runs meanwhile).
    pub fn update_opened(
        &self,
        it: &mut Opened,
        changes: &Changes,
        pending: crate::clock::Prefetch,
    ) -> Result<Op> {
        let file = &it.file.clone();
        for (label, map) in [
            ("set", &changes.set),
            ("add", &changes.add),
            ("remove", &changes.remove),
        ] {
            for key in map.keys() {
                if !UPDATABLE.contains(&key.as_str())
                    || (label != "set" && !SET_VALUED.contains(&key.as_str()))
                {
                    return Err(Error::user(format!(
                        "Unknown field '{key}' in {label}. Valid fields: {}",
                        UPDATABLE.join(", ")
                    )));
                }
            }
        }
        for map in [&changes.set, &changes.add] {
            if let Some(Value::Array(tags)) = map.get("tags") {
                for tag in tags {
                    check_tag(tag.as_str().unwrap_or(""))?;
                }
            }
        }
        self.check_update_refs(file, changes)?;
        let item = &it.item;
        if let Some(status) = changes.set.get("status").and_then(Value::as_str) {
            self.check_status(&item.kind, status)?;
        }
        if let Some(p) = changes.set.get("priority") {
            Self::check_priority(p)?;
        }
        if let Some(Value::Object(fields)) = changes.set.get("fields") {
            let declared: Vec<String> = self
                .config
                .kind(&item.kind)
                .map(|k| k.fields_schema.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default();
            let declared: Vec<&str> = declared.iter().map(String::as_str).collect();
            for (k, v) in fields {
                if !v.is_null() {
                    check_field_key(k, &declared, changes.force_field_key)?;
                }
            }
        }
        let copies = Some(self.copies_or_refusal(pending.wait())?);
        if self.actor.is_agent() {
            let branch = copies.as_ref().expect("read above");
            let locked = self.locked_fields(file, item, branch);
            let mut touched: Vec<String> = Vec::new();
            for map in [&changes.set, &changes.add, &changes.remove] {
                touched.extend(map.keys().cloned());
            }
            if let Some(Value::Object(fields)) = changes.set.get("fields") {
                touched.extend(fields.keys().map(|k| format!("fields.{k}")));
            }
            if let Some(f) = touched.iter().find(|f| locked.contains(f)) {
                return Err(Error::new(
                    crate::error::ErrorKind::Locked,
                    format!(
                        "Field '{f}' on {} is locked. Ask the human to unlock it.",
                        file.id
                    ),
                ));
            }
        }
        let mut body = Map::new();
        body.insert("set".into(), Value::Object(changes.set.clone()));
        if !changes.add.is_empty() {
            body.insert("add".into(), Value::Object(changes.add.clone()));
        }
        if !changes.remove.is_empty() {
            body.insert("remove".into(), Value::Object(changes.remove.clone()));
        }
        self.append_to(it, "update", body, copies, now_utc())
    }

    /// For an agent: refuses when the discussion is locked (here or on a
    /// lamport branch). Returns the branch copies read, for the append.
    pub(crate) fn check_discussion_open(
        &self,
        it: &Opened,
    ) -> Result<Option<crate::clock::BranchCopies>> {
        if !self.actor.is_agent() {
            return Ok(None);
        }
        let (file, item) = (&it.file, &it.item);
        let copies = self.branch_copies(&file.path)?;
        if self
            .locked_fields(file, item, &copies)
            .iter()
            .any(|f| f == "discussion")
        {
            return Err(Error::new(
                crate::error::ErrorKind::Locked,
                format!(
                    "Discussion on {} is locked. Ask the human to unlock it.",
                    file.id
                ),
            ));
        }
        Ok(Some(copies))
    }

    /// Appends a `discuss` (or `discuss_summarize`) op.
    pub fn discuss(&self, file: &ItemFile, message: &str, summarize: bool) -> Result<Op> {
        self.discuss_opened(&mut self.open_item(file)?, message, summarize)
    }

    /// [`Tracker::discuss`] on an opened item.
    pub fn discuss_opened(&self, it: &mut Opened, message: &str, summarize: bool) -> Result<Op> {
        let copies = self.check_discussion_open(it)?;
        let mut body = Map::new();
        body.insert("message".into(), json!(message));
        let kind = if summarize {
            "discuss_summarize"
        } else {
            "discuss"
        };
        self.append_to(it, kind, body, copies, now_utc())
    }

    /// Appends a `discuss_clear` op (human only).
    pub fn discuss_clear(&self, file: &ItemFile) -> Result<Op> {
        self.discuss_clear_opened(&mut self.open_item(file)?)
    }

    /// [`Tracker::discuss_clear`] on an opened item.
    pub fn discuss_clear_opened(&self, it: &mut Opened) -> Result<Op> {
        self.append_to(it, "discuss_clear", Map::new(), None, now_utc())
    }
}
