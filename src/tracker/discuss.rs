//! Discussion ops: a message (`discuss`, `discuss_summarize`) appended
//! unless, for an agent, the discussion is locked; and a human's
//! `discuss_clear`.

use serde_json::{json, Map};

use super::write::Opened;
use super::{ItemFile, Tracker};
use crate::error::{Error, Result};
use crate::oplog::op::Op;
use crate::timestamp::now_utc;

impl Tracker {
    /// For an agent: refuses when the discussion is locked (here or on a
    /// lamport branch). Returns the branch copies read, for the append.
    pub(crate) fn check_discussion_open(
        &self,
        it: &Opened,
    ) -> Result<Option<crate::tracker::clock::BranchCopies>> {
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
            )
            .with_hint(format!(
                "a human locked the discussion; ask them to run 'htrac unlock {} discussion'",
                crate::items::ids::short_id(&file.id)
            )));
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
