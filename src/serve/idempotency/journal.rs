//! Where kept answers survive a restart: `.agent/serve/idempotency.jsonl`,
//! mode 0600, one JSON line per kept answer, appended (and synced) before
//! the answer goes out. At start it is read (bad lines skipped, expired
//! answers and those past the per-user caps dropped) and rewritten compacted;
//! it is compacted again when it holds about twice what is kept. A file
//! that is not this user's private plain file is left alone and the keys
//! live in memory only: the server starts whatever the file holds.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use serde_json::{json, Value};

use super::{Answer, Entry, State, PER_USER, TTL};

/// The file's name in the server's private directory.
pub const FILE: &str = "idempotency.jsonl";

type Users = HashMap<String, HashMap<String, Entry>>;

/// The open journal.
#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    file: File,
    /// Lines and bytes in the file.
    lines: usize,
    bytes: usize,
    /// An append failed part-way: the next compaction rewrites the file.
    torn: bool,
}

/// Why `md` is not a file to trust, if it is not.
fn unsafe_file(md: &std::fs::Metadata) -> Option<String> {
    if !md.file_type().is_file() {
        return Some("is not a plain file".into());
    }
    if md.uid() != rustix::process::geteuid().as_raw() {
        return Some("belongs to another user".into());
    }
    if md.mode() & 0o077 != 0 {
        return Some(format!(
            "is open to other users (mode {:o})",
            md.mode() & 0o7777
        ));
    }
    None
}

/// One line: the user, the key, and its entry.
fn parse_line(line: &[u8]) -> Option<(String, String, Entry)> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let status = v.get("status").and_then(Value::as_u64)?;
    if !(100..=599).contains(&status) {
        return None;
    }
    let body = v.get("body")?.clone();
    let entry = Entry {
        fp: text("fp")?,
        size: body.to_string().len(),
        state: State::Done(Answer {
            status: status as u16,
            body,
        }),
        at: v.get("at").and_then(Value::as_u64)?,
        order: 0,
    };
    Some((text("user")?, text("key")?, entry))
}

/// Reads the journal in `dir` as of `now`: the journal (`None`: keys in
/// memory only), the kept answers, the next keeping order, and warnings.
pub(super) fn load(dir: &Path, now: u64) -> (Option<Journal>, Users, u64, Vec<String>) {
    let path = dir.join(FILE);
    let mut warnings = Vec::new();
    let mut users: Users = HashMap::new();
    let memory_only =
        "idempotency keys are kept in memory only (a retry after a restart may be applied again)";
    let bytes = match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            warnings.push(format!(
                "cannot read {}: {e}; {memory_only}",
                path.display()
            ));
            return (None, users, 0, warnings);
        }
        Ok(md) => match unsafe_file(&md) {
            Some(why) => {
                warnings.push(format!(
                    "{} {why}, so it is left alone; {memory_only} until it is removed",
                    path.display()
                ));
                return (None, users, 0, warnings);
            }
            None => match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    warnings.push(format!(
                        "cannot read {}: {e}; {memory_only}",
                        path.display()
                    ));
                    return (None, users, 0, warnings);
                }
            },
        },
    };
    let mut order = 0;
    let mut bad = 0;
    for line in bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        match parse_line(line) {
            Some((user, key, mut e)) if e.at + TTL.as_secs() > now => {
                order += 1;
                e.order = order;
                users.entry(user).or_default().insert(key, e);
            }
            Some(_) => {}
            None => bad += 1,
        }
    }
    if bad > 0 {
        warnings.push(format!(
            "{bad} unreadable line(s) in {} were skipped",
            path.display()
        ));
    }
    for m in users.values_mut() {
        if m.len() > PER_USER {
            let mut orders: Vec<u64> = m.values().map(|e| e.order).collect();
            orders.sort_unstable();
            let cut = orders[m.len() - PER_USER];
            m.retain(|_, e| e.order >= cut);
        }
        let newest = m
            .iter()
            .max_by_key(|(_, e)| e.order)
            .map(|(k, _)| k.clone());
        super::trim_bytes(m, newest.as_deref().unwrap_or(""));
    }
    users.retain(|_, m| !m.is_empty());
    match Journal::write(path, &users) {
        Ok(j) => (Some(j), users, order + 1, warnings),
        Err(w) => {
            warnings.push(format!("{w}; {memory_only}"));
            (None, users, order + 1, warnings)
        }
    }
}

impl Journal {
    /// Replaces the file at `path` with the kept answers of `users`, oldest
    /// first, and opens it for appending.
    fn write(path: PathBuf, users: &Users) -> Result<Journal, String> {
        let mut kept: Vec<(&String, &String, &Entry)> = users
            .iter()
            .flat_map(|(u, m)| m.iter().map(move |(k, e)| (u, k, e)))
            .filter(|(_, _, e)| matches!(e.state, State::Done(_)))
            .collect();
        kept.sort_by_key(|(_, _, e)| e.order);
        let lines: Vec<String> = kept
            .iter()
            .filter_map(|(u, k, e)| match &e.state {
                State::Done(a) => Some(line(u, k, &e.fp, a, e.at)),
                State::Running => None,
            })
            .collect();
        let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        crate::atomic::replace_with(&path, 0o600, true, |w| {
            lines.iter().try_for_each(|l| w.write_all(l.as_bytes()))
        })
        .map_err(cannot)?;
        let fd = rustix::fs::open(
            &path,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| cannot(e.into()))?;
        Ok(Journal {
            path,
            file: File::from(fd),
            lines: lines.len(),
            bytes: lines.iter().map(String::len).sum(),
            torn: false,
        })
    }

    /// Appends one kept answer and syncs it.
    pub(super) fn append(
        &mut self,
        user: &str,
        key: &str,
        fp: &str,
        answer: &Answer,
        at: u64,
    ) -> Result<(), String> {
        let text = line(user, key, fp, answer, at);
        match self
            .file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
        {
            Ok(()) => {
                self.lines += 1;
                self.bytes += text.len();
                Ok(())
            }
            Err(e) => {
                self.torn = true;
                Err(format!(
                    "cannot write {}: {e}; that answer is kept in memory only",
                    self.path.display()
                ))
            }
        }
    }

    /// Whether the file should be rewritten, `kept` answers of
    /// `kept_bytes` bytes being kept: when it holds twice as much.
    pub(super) fn needs_compaction(&self, kept: usize, kept_bytes: usize) -> bool {
        self.torn || self.lines > 2 * kept + 64 || self.bytes > 2 * kept_bytes + (1 << 20)
    }

    /// Rewrites the file with what `users` keep.
    pub(super) fn compact(&mut self, users: &Users) -> Result<(), String> {
        *self = Journal::write(self.path.clone(), users)?;
        Ok(())
    }
}

fn line(user: &str, key: &str, fp: &str, a: &Answer, at: u64) -> String {
    let mut s =
        json!({"user": user, "key": key, "fp": fp, "status": a.status, "body": a.body, "at": at})
            .to_string();
    s.push('\n');
    s
}
