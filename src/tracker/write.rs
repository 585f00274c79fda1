//! The one way ops get written: policy checks (actor, human-only statuses
//! and ops, locked fields, frozen items, broken items), then the Lamport
//! clock, a fresh nonce, and an atomic append.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::items::item::Item;
use crate::oplog::op::Op;
use crate::oplog::{self, AppendMode};
use crate::timestamp::now_utc;
use crate::tracker::{ItemFile, Tracker};

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

/// What an append did: the op is in the file, or its nonce was taken.
enum Appended {
    Done,
    NonceTaken,
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
    /// The fields locked on `file`'s item here, on any lamport branch or on
    /// HEAD (`copies` from [`crate::tracker::clock::branch_copies`]).
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
            if let Ok(other) = crate::items::compile::compile_governed(
                &file.id,
                file.tier,
                &ops,
                &self.policy,
                None,
            ) {
                for f in other.locked_fields {
                    if !locked.contains(&f) {
                        locked.push(f);
                    }
                }
            }
        }
        locked
    }

    /// The item file's copies on other branches (one git process, or none
    /// when the peek cache has them: [`crate::git::peek`]). When git
    /// cannot read them, an agent's write is refused — locks set there could
    /// not be checked — and a human's goes on with the local clock.
    pub(crate) fn branch_copies(
        &self,
        path: &std::path::Path,
    ) -> Result<crate::tracker::clock::BranchCopies> {
        self.copies_or_refusal(crate::tracker::clock::branch_copies(
            path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
            crate::git::peek::dir_for(&self.root).as_deref(),
        ))
    }

    /// [`Tracker::branch_copies`], started now (on a thread of its own when
    /// git must be asked, so that git runs while the caller reads and checks
    /// the item).
    pub fn prefetch_branch_copies(
        &self,
        path: &std::path::Path,
    ) -> crate::tracker::clock::Prefetch {
        crate::tracker::clock::Prefetch::start(
            path,
            self.work_tree.as_deref(),
            &self.config.lamport_branches,
            crate::git::peek::dir_for(&self.root).as_deref(),
        )
    }

    pub(super) fn copies_or_refusal(
        &self,
        read: std::io::Result<crate::tracker::clock::BranchCopies>,
    ) -> Result<crate::tracker::clock::BranchCopies> {
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
        copies: Option<crate::tracker::clock::BranchCopies>,
        at: String,
    ) -> Result<Op> {
        let file = &it.file;
        if crate::governance::policy::HUMAN_ONLY_OPS.contains(&kind) {
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
        let mut taken: Vec<String> = it.ops.iter().map(|o| o.nonce.clone()).collect();
        let local_max = it.ops.iter().map(|o| o.clock).max().unwrap_or(0);
        let copies = match copies {
            Some(c) => c,
            None => self.branch_copies(&file.path)?,
        };
        let clock = crate::tracker::clock::next_clock(local_max, &copies);
        // Another writer may take the chosen nonce between the read and the
        // append's lock: the append refuses then, and another is chosen.
        let mut attempt = 0;
        let op = loop {
            attempt += 1;
            let mut op = Op::new(
                kind,
                &at,
                self.actor.role,
                &self.actor.name,
                clock,
                &fresh_nonce(&taken),
            );
            op.body = body.clone();
            self.sign_op(&file.id, &mut op)?;
            match self.append_op_checked(&file.path, &op)? {
                Appended::Done => break op,
                Appended::NonceTaken if attempt < 16 => {
                    taken.push(op.nonce.clone());
                    if let Ok(log) = crate::oplog::read(&file.path) {
                        taken.extend(log.ops.into_iter().map(|(_, o)| o.nonce));
                    }
                }
                Appended::NonceTaken => {
                    return Err(Error::internal(format!(
                    "cannot append to {}: every nonce tried was taken by other writers meanwhile",
                    file.path.display()
                )))
                }
            }
        };
        // A human's write to a frozen item is approved state: the sentinel follows it.
        if !self.actor.is_agent() {
            self.refresh_sentinel(file)?;
        }
        it.ops.push(op.clone());
        if !crate::items::compile::fold_appended(&mut it.item, &op, &self.policy) {
            *it = self.open_item(&it.file)?;
        }
        Ok(op)
    }

    /// Appends one op to an existing file, taking the file over (same-directory
    /// copy + rename) when the other user of a two-user set-up owns it
    /// without group write; a taken nonce is told apart from every other
    /// failure (the caller that chose the nonce chooses again).
    fn append_op_checked(&self, path: &std::path::Path, op: &Op) -> Result<Appended> {
        let text = crate::oplog::emit::emit_op(op);
        self.append_text_checked(path, &text, AppendMode::Fresh)
    }

    /// [`Tracker::append_op_checked`] for already-serialized ops.
    pub(crate) fn append_text_file(&self, path: &std::path::Path, text: &str) -> Result<()> {
        match self.append_text_checked(path, text, AppendMode::Existing)? {
            Appended::Done => Ok(()),
            Appended::NonceTaken => Err(Error::internal(format!(
                "cannot append to {}: a nonce of the op was taken by another writer meanwhile; try again",
                path.display()
            ))),
        }
    }

    /// The append itself, with the take-over of another user's file, the
    /// journal mirror and the append count.
    fn append_text_checked(
        &self,
        path: &std::path::Path,
        text: &str,
        mode: AppendMode,
    ) -> Result<Appended> {
        let mirror = |t: &str| crate::journal::mirror_or_warn(self, path, t);
        let mut io = oplog::append_text_mirrored(path, text, mode, &mirror);
        if matches!(&io, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied) {
            let e = io.expect_err("matched");
            crate::atomic::take_over(path).map_err(|e2| {
                Error::user(format!("cannot append to {}: {e}", path.display())).with_hint(
                    format!(
                        "the file belongs to another user and cannot be taken over ({e2}); \
                         give the directory group write and setgid: chmod g+ws '{}' (or run 'htrac setup')",
                        path.parent().map(|p| p.display().to_string()).unwrap_or_default()
                    ),
                )
            })?;
            io = oplog::append_text_mirrored(path, text, mode, &mirror);
        }
        match io {
            Ok(()) => {
                self.appended();
                Ok(Appended::Done)
            }
            Err(e) if oplog::nonce_taken(&e) => Ok(Appended::NonceTaken),
            // Disk full, file size limit, read-only: the environment, not
            // corrupt data (exit 1); a failed append leaves no partial op.
            Err(e) => Err(append_error(path, &e, "append to")),
        }
    }
}
