//! What a whole-tracker `validate` found in each file on its own, kept in
//! the cache directory, so that the next run reads only the files that
//! changed since.
//!
//! A file's entry holds what the checks of that file alone gave: its
//! findings (format, schema, ops without effect, its ID prefix), the
//! references it makes (judged again on every run, against the tracker as
//! it is then) and its `isbefore` links (cycles are searched on every run).
//! It is keyed as the read cache keys an item: tier, ID, and the file's
//! size, mtime and ctime (ns), inode and device. An append, a rewrite, a
//! `git checkout` all change the ctime, which user space cannot set: a
//! file whose key still matches holds the bytes that were judged. The
//! whole memo is keyed by everything else those checks read: the
//! configuration, the governance policy and the program itself (its
//! version and its executable's identity, so a rebuilt htrac judges anew).
//!
//! With `--check-locks`, an entry also holds the file's git object ID, and
//! is used only while that is the ID of the file's staged and `HEAD` copy:
//! a file with ops new since `HEAD` is always read and judged.
//!
//! Never kept: a file changed within the racy window
//! ([`crate::cache::racy_window`]), a frozen item's (its sentinel is an
//! input too), a file that could not be read whole, the edit-mode logs,
//! and anything of a run with `--similar` or with files named. Best-effort
//! like the read cache: a memo that does not read back whole is ignored
//! (every file is read), a failed write never fails the command, and
//! `HTRAC_NO_CACHE` turns it off.

use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;

use sha2::Digest;

use super::clean::ObjectId;
use super::cross::{Links, Refs};
use super::targets::Target;
use super::{Finding, Level};
use crate::cache::codec::{Dec, Enc};
use crate::cache::listing::{Listed, Listing};
use crate::cache::memo::Sealer;
use crate::cache::FileKey;
use crate::items::tiers::Tier;
use crate::tracker::Tracker;

const MAGIC: &[u8; 8] = b"HTRACVM\x01";
/// Bump when the layout changes.
const FORMAT: u32 = 1;

/// The memo as read, and the key a new one is written under.
pub(super) struct Memo {
    path: PathBuf,
    /// What the memo's entries were judged under ([`inputs`]).
    inputs: [u8; 32],
    bytes: Vec<u8>,
    /// Each entry, sorted by tier then ID.
    entries: Vec<Slot>,
}

/// Where an entry lies in a memo's bytes: its tier, its ID's range and its
/// record's.
type Slot = (u8, Range<usize>, Range<usize>);

/// One file's entry as the memo holds it.
pub(super) struct Entry<'m> {
    /// Its index among the memo's entries.
    at: usize,
    pub(super) key: FileKey,
    /// The file's git object ID (empty: not known).
    pub(super) blob: &'m [u8],
    body: &'m [u8],
}

/// What one file's own checks gave: the findings, then what the checks
/// across files need of it.
pub(super) struct Own {
    pub(super) findings: Vec<Finding>,
    pub(super) refs: Option<Refs>,
    pub(super) links: Option<Links>,
}

/// One file's entry in the memo written next.
pub(super) enum Record {
    /// The entry read (its index among the memo's), still holding.
    Old(usize),
    /// Made on this run: the entry as the memo spells it (tier, ID, then
    /// the record: key, object ID, body).
    New(Box<[u8]>),
}

impl Memo {
    /// The tracker's memo, or an empty one to be filled; `None` when none
    /// can be kept (caching off, no cache directory).
    pub(super) fn open(t: &Tracker) -> Option<Memo> {
        let items = crate::cache::path_for(&t.root)?;
        let path = items.with_file_name(format!(
            "validate-{}.bin",
            crate::alias::fingerprint(&t.root)
        ));
        let mut memo = Memo {
            path,
            inputs: inputs(t),
            bytes: Vec::new(),
            entries: Vec::new(),
        };
        // (Only this user's own: see [`crate::cache::open_own`].)
        if let Some(bytes) = crate::cache::read_own(&memo.path) {
            memo.bytes = bytes;
            match memo.index() {
                Some(entries) => memo.entries = entries,
                None => memo.bytes = Vec::new(),
            }
        }
        Some(memo)
    }

    /// Whether it holds any entry (else the files need not be stat-ed to
    /// match it).
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where each entry lies, if the memo reads back whole and was kept
    /// under the same inputs.
    fn index(&self) -> Option<Vec<Slot>> {
        let body = self.bytes.strip_prefix(MAGIC)?;
        let (body, sum) = body.split_at(body.len().checked_sub(8)?);
        if crate::cache::memo::seal(body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let base = MAGIC.len();
        let mut d = Dec::new(body);
        if d.u32()? != FORMAT || d.bytes()? != self.inputs {
            return None;
        }
        let at = |part: &[u8]| {
            let start = part.as_ptr() as usize - body.as_ptr() as usize + base;
            start..start + part.len()
        };
        let n = d.u32()? as usize;
        let mut entries = Vec::with_capacity(n.min(body.len() / 16));
        for _ in 0..n {
            let tier = d.u8()?;
            let id = at(d.str()?.as_bytes());
            let record = at(d.bytes()?);
            entries.push((tier, id, record));
        }
        if !d.at_end() {
            return None;
        }
        // Looked up by binary search: written sorted, checked sorted.
        let sorted = entries
            .windows(2)
            .all(|w| (w[0].0, &self.bytes[w[0].1.clone()]) < (w[1].0, &self.bytes[w[1].1.clone()]));
        sorted.then_some(entries)
    }

    /// The entry of item `id` in `tier`, if any.
    pub(super) fn get(&self, tier: Tier, id: &str) -> Option<Entry<'_>> {
        let t = crate::cache::tier_index(tier) as u8;
        let i = self
            .entries
            .binary_search_by(|(et, eid, _)| {
                (*et, &self.bytes[eid.clone()]).cmp(&(t, id.as_bytes()))
            })
            .ok()?;
        let mut d = Dec::new(&self.bytes[self.entries[i].2.clone()]);
        let key = FileKey::decode(&mut d)?;
        let blob = d.bytes()?;
        let body = d.bytes()?;
        d.at_end().then_some(Entry {
            at: i,
            key,
            blob,
            body,
        })
    }

    /// The (tier, ID) an entry of a [`Next`] (its new ones in `fresh`) is
    /// kept under.
    fn name_of<'a>(&'a self, fresh: &'a [u8], r: &Queued) -> (u8, &'a [u8]) {
        match r {
            Queued::Old(i) => (self.entries[*i].0, &self.bytes[self.entries[*i].1.clone()]),
            Queued::New(at) => {
                // As [`record`] spells it: tier, a `u32` length, the ID.
                let b = &fresh[at.clone()];
                let n = u32::from_le_bytes(b[1..5].try_into().expect("4 bytes")) as usize;
                (b[0], &b[5..5 + n])
            }
        }
    }

    /// Writes the memo of `next` (best-effort: a failure is ignored, the
    /// next run reads every file). Nothing is written when it holds the
    /// entries read, all of them.
    pub(super) fn save(&self, next: Next) {
        let Next {
            fresh,
            queued: mut records,
        } = next;
        let unchanged = records.len() == self.entries.len()
            && records.iter().all(|r| matches!(r, Queued::Old(_)));
        if unchanged {
            return;
        }
        // In the order they are looked up in (the listing's, mostly already).
        let names = |a: &Queued, b: &Queued| self.name_of(&fresh, a).cmp(&self.name_of(&fresh, b));
        if !records.windows(2).all(|w| names(&w[0], &w[1]).is_lt()) {
            records.sort_by(names);
            records.dedup_by(|a, b| names(a, b).is_eq());
        }
        if let Some(dir) = self.path.parent() {
            if std::fs::create_dir_all(dir).is_err() {
                return;
            }
        }
        // Written as it is spelled, sealed as it goes.
        let _ = crate::atomic::replace_with(&self.path, 0o600, false, |w| {
            w.write_all(MAGIC)?;
            let mut body = Sealer::new(w);
            let mut head = Vec::with_capacity(64);
            let mut e = Enc(&mut head);
            e.u32(FORMAT);
            e.bytes(&self.inputs);
            e.u32(records.len() as u32);
            body.put(&head)?;
            for r in &records {
                match r {
                    Queued::Old(i) => {
                        let (tier, id, rec) = &self.entries[*i];
                        head.clear();
                        let mut e = Enc(&mut head);
                        e.u8(*tier);
                        e.u32(id.len() as u32);
                        e.0.extend_from_slice(&self.bytes[id.clone()]);
                        e.u64(rec.len() as u64);
                        body.put(&head)?;
                        body.put(&self.bytes[rec.clone()])?;
                    }
                    Queued::New(at) => body.put(&fresh[at.clone()])?,
                }
            }
            let sum = body.finish()?;
            w.write_all(&sum.to_le_bytes())
        });
    }
}

/// The entries of the memo written next, gathered batch by batch: the new
/// ones side by side in one buffer (not one allocation each, kept to the
/// end of a run among the parser's).
#[derive(Default)]
pub(super) struct Next {
    fresh: Vec<u8>,
    queued: Vec<Queued>,
}

/// An entry of [`Next`].
enum Queued {
    /// The entry read (its index among the memo's).
    Old(usize),
    /// A new one: where it lies in [`Next::fresh`].
    New(Range<usize>),
}

impl Next {
    pub(super) fn add(&mut self, r: Record) {
        match r {
            Record::Old(i) => self.queued.push(Queued::Old(i)),
            Record::New(b) => {
                let start = self.fresh.len();
                self.fresh.extend_from_slice(&b);
                self.queued.push(Queued::New(start..self.fresh.len()));
            }
        }
    }
}

impl Entry<'_> {
    /// What the file's own checks gave, if the entry decodes.
    pub(super) fn own(&self) -> Option<Own> {
        let mut d = Dec::new(self.body);
        let findings = findings_of(&mut d)?;
        let refs = match d.u8()? {
            0 => None,
            _ => {
                let n = d.u32()? as usize;
                let mut refs = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    refs.push((d.u8()?, d.string()?, line(d.u64()?)));
                }
                Some(Refs {
                    refs,
                    tail: findings_of(&mut d)?,
                })
            }
        };
        let links = match d.u8()? {
            0 => None,
            _ => Some(Links::decode(&mut d)?),
        };
        d.at_end().then_some(Own {
            findings,
            refs,
            links,
        })
    }

    /// This entry again, for the memo written next.
    pub(super) fn record(&self) -> Record {
        Record::Old(self.at)
    }
}

/// The entry of a file just checked: what its own checks found.
pub(super) fn record(
    tier: Tier,
    id: &str,
    key: FileKey,
    blob: &[u8],
    findings: &[Finding],
    refs: Option<&Refs>,
    links: Option<&Links>,
) -> Record {
    let mut body = Vec::with_capacity(32);
    let mut e = Enc(&mut body);
    put_findings(&mut e, findings);
    match refs {
        None => e.u8(0),
        Some(r) => {
            e.u8(1);
            e.u32(r.refs.len() as u32);
            for (field, target, line) in &r.refs {
                e.u8(*field);
                e.str(target);
                e.u64(line.map_or(0, |l| l as u64));
            }
            put_findings(&mut e, &r.tail);
        }
    }
    match links {
        None => e.u8(0),
        Some(l) => {
            e.u8(1);
            l.encode(&mut e);
        }
    }
    let mut entry = Vec::with_capacity(id.len() + body.len() + 128);
    let mut e = Enc(&mut entry);
    e.u8(crate::cache::tier_index(tier) as u8);
    e.str(id);
    let len = 40 + 8 + blob.len() + 8 + body.len();
    e.u64(len as u64);
    key.encode(&mut e);
    e.bytes(blob);
    e.bytes(&body);
    debug_assert_eq!(entry.len(), 1 + 4 + id.len() + 8 + len);
    Record::New(entry.into_boxed_slice())
}

fn put_findings(e: &mut Enc<'_>, findings: &[Finding]) {
    e.u32(findings.len() as u32);
    for f in findings {
        e.u8(match f.level {
            Level::Error => 0,
            Level::Warning => 1,
        });
        e.u64(f.line.map_or(0, |l| l as u64));
        e.str(&f.message);
    }
}

fn findings_of(d: &mut Dec<'_>) -> Option<Vec<Finding>> {
    let n = d.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let level = match d.u8()? {
            0 => Level::Error,
            1 => Level::Warning,
            _ => return None,
        };
        let line = line(d.u64()?);
        out.push(Finding {
            level,
            line,
            message: d.string()?,
        });
    }
    Some(out)
}

/// A line number as kept: 0 for none (lines count from 1).
fn line(n: u64) -> Option<usize> {
    (n != 0).then_some(n as usize)
}

/// What every entry's checks read beside its file: the configuration, the
/// policy, and the program (its version and its executable's identity).
fn inputs(t: &Tracker) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(format!(
        "validate memo {FORMAT}\0{}\0",
        env!("CARGO_PKG_VERSION")
    ));
    h.update(t.root.to_string_lossy().as_bytes());
    h.update(format!("\0{:?}\0{}\0", t.config, t.policy.fingerprint()));
    // A rebuilt htrac (other rules, same version) judges anew.
    match std::env::current_exe().and_then(std::fs::metadata) {
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            h.update(format!(
                "{} {} {} {}.{}",
                m.dev(),
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec()
            ));
        }
        // Not knowing the program, nothing kept matches.
        Err(_) => h.update(crate::cache::now_ns().to_le_bytes()),
    }
    h.finalize().into()
}

/// What the memo holds of listed file `f` (target `t`), when its entry
/// still holds: the file's key is the one judged, it is not frozen, and,
/// with `--check-locks`, it is (by its object ID) its staged and `HEAD`
/// copy. Also the entry again, for the next memo.
pub(super) fn recalled(
    m: &Memo,
    listing: &Listing,
    f: &Listed,
    t: &Target,
    git: Option<&super::locks::Git<'_>>,
) -> Option<(Own, Record)> {
    let key = f.key?;
    if super::targets::is_frozen(listing, t) {
        return None;
    }
    let id = listing.id(f);
    let entry = m.get(f.tier, id)?;
    if entry.key != key {
        return None;
    }
    if let Some(g) = git {
        if entry.blob.is_empty()
            || g.staged_id(t).as_ref().map(ObjectId::as_bytes) != Some(entry.blob)
        {
            return None;
        }
    }
    Some((entry.own()?, entry.record()))
}
