//! Validation of op logs: the `validate` command and the pre-commit hook.
//!
//! Every problem found is reported, never just the first: each message names
//! the file (relative to the repository, or to the directory holding
//! `.agent/`), the line where one is known, and the key at fault. The checks
//! are split by what they need:
//!
//! * [`file`] reads one file block by block (format, parse, what readers
//!   would silently skip) and compiles it;
//! * [`schema`] judges each op's values and the compiled item against the
//!   configuration;
//! * [`cross`] judges items against each other (references, tiers, ID
//!   prefixes, `isbefore` cycles), always against the whole tracker;
//! * [`locks`] (with `--check-locks`) judges the ops that are new since
//!   `HEAD` for an agent's use of human powers and locked fields, reading
//!   git's copies through [`copies`] for the files [`clean`] cannot show
//!   to be unchanged;
//! * [`similar`] (with `--similar` / `--deep-similar`, whole tracker only)
//!   reports near-duplicate items;
//! * [`targets`] says what a run validates and how messages name it;
//! * [`memo`] keeps what each file's own checks found, so a whole-tracker
//!   run again reads only the files changed since.

mod clean;
mod copies;
mod cross;
mod file;
mod locks;
mod memo;
mod schema;
pub mod similar;
mod targets;

use std::path::Path;

use crate::cache::listing::Listing;
use crate::error::Result;
use crate::items::tiers::Tier;
use crate::tracker::Tracker;
use clean::ObjectId;
use targets::{
    all_targets, classify, frozen_approval, is_frozen, listed_target, shown_path, Role, Source,
    Target,
};

/// What to check beyond the defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Judge new agent ops against locks and human-only powers.
    pub check_locks: bool,
    /// Report warnings as errors.
    pub strict: bool,
    /// Report SimHash near-duplicates (whole tracker only).
    pub similar: bool,
    /// Report embedding near-duplicates: always "skipped" (whole tracker only).
    pub deep_similar: bool,
}

/// The outcome: messages without a severity prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Report {
    /// True when nothing was found that fails validation.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
}

/// One problem in one file.
#[derive(Debug, Clone)]
struct Finding {
    level: Level,
    line: Option<usize>,
    message: String,
}

/// A file read and checked on its own; other checks add to `findings`.
struct Checked {
    target: Target,
    /// The ops readers use, each with the line its block starts on.
    ops: Vec<(usize, crate::oplog::op::Op)>,
    item: Option<crate::items::item::Item>,
    findings: Vec<Finding>,
    /// The file's bytes, when it could be read and is to be judged
    /// against git's copies.
    bytes: Option<Vec<u8>>,
    /// Nonces of ops [`locks`] already reported (as new since `HEAD`).
    judged: Vec<String>,
}

impl Checked {
    fn error(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.findings.push(Finding {
            level: Level::Error,
            line,
            message: message.into(),
        });
    }

    fn warn(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.findings.push(Finding {
            level: Level::Warning,
            line,
            message: message.into(),
        });
    }
}

/// What is kept of one file once it has been validated on its own: its
/// findings, and what the checks across files still need.
struct Kept {
    /// The file, while something may still be reported on it: it has
    /// findings, or links a cycle may run through (most files have
    /// neither, and keep nothing).
    target: Option<Target>,
    findings: Vec<Finding>,
    links: Option<cross::Links>,
    /// The compiled item, with `--similar` only.
    similar: Option<Box<crate::items::item::Item>>,
    /// The file's entry in the next validation memo, when it is kept.
    memo: Option<memo::Record>,
}

/// A file checked on its own: finished, or waiting for git's copies.
enum Step {
    Done(Kept),
    Pending(Box<Checked>),
}

thread_local! {
    /// The bytes of the file a thread is validating, kept from file to
    /// file (one allocation a thread, not one a file).
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Files validated a batch at a time (`HTRAC_VALIDATE_BATCH`, for tests):
/// what is held in memory at once is a batch and the next one's files
/// already checked, beside what [`Kept`] keeps of every file.
fn batch_size() -> usize {
    std::env::var("HTRAC_VALIDATE_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1024)
}

/// Validates `files` (paths relative to `cwd`), or every file of every tier
/// when `files` is empty. References are always resolved against the whole
/// tracker.
///
/// Files are validated each on its own (on all cores) and gathered a batch
/// at a time (while the next batch's are checked), and only their findings
/// and `isbefore` links are kept for the checks across files; the report is
/// the same however the files were batched.
pub fn validate(tracker: &Tracker, cwd: &Path, files: &[String], opts: Options) -> Result<Report> {
    let mut report = Report::default();
    let whole = files.is_empty();
    // Git is asked which files are unchanged since HEAD while the tiers are listed.
    let mut git = opts.check_locks.then(|| locks::Git::new(tracker, whole));
    // What an earlier whole-tracker run found in each file, for the files
    // unchanged since (see [`memo`]).
    let memo = (whole && !opts.similar)
        .then(|| memo::Memo::open(tracker))
        .flatten();
    let (now, window) = (crate::cache::now_ns(), crate::cache::racy_window());
    // Every op file and freeze sentinel of the tracker, one `getdents` pass
    // per tier: the files to check, and what references resolve against
    // (each file stat-ed when there is a memo to match).
    let listing = Listing::scan_with(tracker, memo.as_ref().is_some_and(|m| !m.is_empty()))?;
    // A whole-tracker run's item files are made targets as they are
    // validated (on all cores), from the listing.
    let targets = if whole {
        all_targets(tracker, &listing)
    } else {
        let mut targets = Vec::new();
        for f in files {
            let path = cwd.join(f);
            if !path.exists() {
                report.errors.push(format!("{f}: file not found"));
            } else if !path.is_file() {
                report.errors.push(format!("{f}: not a file"));
            } else {
                targets.push(Source::Given(classify(tracker, &path, f)));
            }
        }
        targets
    };
    let tier_dirs = Tier::ALL.map(|t| tracker.tier_dir(t));
    let index = cross::Index::of(&listing);
    if let Some(g) = &mut git {
        g.settle();
    }
    let mut kept: Vec<Kept> = Vec::with_capacity(targets.len());
    let batch = batch_size();
    let threads = crate::par::threads_for(targets.len(), 64);
    // What is left of one file once it has been checked on its own: the
    // checks against git's copies (when it may have new ops) and across files.
    // What is kept of a file checked on its own, whether it was read or
    // judged from the memo. A whole-tracker run's file has the only file
    // of its ID unless the ID is in another tier: without links then, it
    // can be on no cycle nor hide another file's links.
    let kept_of = |target: Target, findings: Vec<Finding>, links: Option<cross::Links>| {
        let links = links.filter(|l| {
            !whole
                || l.has_edges()
                || target
                    .id
                    .as_deref()
                    .is_some_and(|id| index.in_many_tiers(id))
        });
        Kept {
            target: (links.is_some() || !findings.is_empty()).then_some(target),
            links,
            similar: None,
            findings,
            memo: None,
        }
    };
    // `keep`: the file's key and git object ID when its entry is to be
    // kept in the memo.
    let finish = |mut c: Checked,
                  copies: Option<copies::Copies>,
                  keep: Option<(crate::cache::FileKey, ObjectId)>| {
        if let Some(copies) = copies {
            locks::check(tracker, &mut c, copies);
        }
        report_rejected(&mut c, &tracker.policy);
        // What the file's own checks found, for its memo entry.
        let own = keep.as_ref().map(|_| c.findings.clone());
        let refs = cross::check(tracker, &index, &mut c);
        let links = cross::Links::of(&c);
        // Its memo entry holds the links as they are (the filter below is
        // this run's).
        let memo = match (keep, own, &c.target) {
            (
                Some((key, blob)),
                Some(own),
                Target {
                    id: Some(id),
                    tier: Some(tier),
                    ..
                },
            ) => Some(memo::record(
                *tier,
                id,
                key,
                blob.as_bytes(),
                &own,
                refs.as_ref(),
                links.as_ref(),
            )),
            _ => None,
        };
        let similar = if opts.similar && c.target.role == Role::Item && c.target.tier.is_some() {
            c.item
                .take()
                .filter(|_| c.target.id.is_some())
                .map(Box::new)
        } else {
            None
        };
        let mut k = kept_of(c.target, c.findings, links);
        k.similar = similar;
        k.memo = memo;
        k
    };
    // A file whose memo entry still holds, judged from it: its findings,
    // its references against the tracker as it is now, its links.
    let recall = |target: Target, own: memo::Own, record: memo::Record| {
        let mut findings = own.findings;
        cross::judge(tracker, &index, &target, own.refs.as_ref(), &mut findings);
        let mut k = kept_of(target, findings, own.links);
        k.memo = Some(record);
        k
    };
    // Files judged from the memo (told with `HTRAC_CACHE_STATS`).
    let recalled_n = std::sync::atomic::AtomicUsize::new(0);
    let total = targets.len();
    let mut next = memo::Next::default();
    let (git_ref, memo_ref) = (git.as_ref(), memo.as_ref());
    // Each file on its own, on all cores; a batch of them at a time, in
    // order, on this thread: those that may have new ops judged against
    // git's copies, then what is kept of each (the others go on with the
    // next batch meanwhile).
    crate::par::map_chunks(
        targets,
        threads,
        16,
        batch,
        |t| {
            let t = match t {
                Source::Listed(i) => {
                    let f = &listing.files[i];
                    let t = listed_target(&tier_dirs, &listing, f);
                    match memo_ref.and_then(|m| memo::recalled(m, &listing, f, &t, git_ref)) {
                        Some((own, record)) => {
                            recalled_n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return Step::Done(recall(t, own, record));
                        }
                        None => t,
                    }
                }
                Source::Given(t) => t,
            };
            let approved = frozen_approval(tracker, &listing, &t);
            // A listed file is opened by name in its tier's open directory.
            let dir = t
                .tier
                .filter(|_| t.listed)
                .and_then(|tier| listing.dir(tier));
            // Kept in the memo: a listed item's file, not frozen, read whole
            // and not changed within the racy window.
            let memo_ok =
                memo_ref.is_some() && t.listed && approved.is_none() && !is_frozen(&listing, &t);
            READ_BUF.with_borrow_mut(|buf| {
                let (mut c, key) = file::check(
                    t,
                    dir,
                    &tracker.config,
                    &tracker.policy,
                    approved.as_deref(),
                    buf,
                );
                let bytes = key.is_some().then_some(&buf[..]);
                let key = key
                    .filter(|k| memo_ok && k.size == buf.len() as u64 && !k.is_racy(now, window));
                let step = match git_ref.map(|g| g.unchanged(&c, bytes)) {
                    Some(None) => {
                        // Judged against git's copies later: its bytes kept.
                        c.bytes = bytes.map(<[u8]>::to_vec);
                        Step::Pending(Box::new(c))
                    }
                    // Unchanged since HEAD: kept with its object ID.
                    Some(Some(id)) => Step::Done(finish(c, None, key.map(|k| (k, id)))),
                    None => Step::Done(finish(c, None, key.map(|k| (k, ObjectId::default())))),
                };
                // (A large file's buffer is not kept for the next ones.)
                if buf.capacity() > 1 << 20 {
                    *buf = Vec::new();
                }
                step
            })
        },
        |steps| {
            // The files that may have new ops, judged against git's copies.
            let mut pending: Vec<Checked> = Vec::new();
            let mut at: Vec<usize> = Vec::new();
            let mut done: Vec<Option<Kept>> = Vec::with_capacity(steps.len());
            for (i, step) in steps.into_iter().enumerate() {
                match step {
                    Step::Done(k) => done.push(Some(k)),
                    Step::Pending(c) => {
                        pending.push(*c);
                        at.push(i);
                        done.push(None);
                    }
                }
            }
            if let (Some(g), false) = (git_ref, pending.is_empty()) {
                let copies = g.copies(&pending.iter().map(|c| &c.target).collect::<Vec<_>>());
                // Judged here: the other threads are checking the next
                // batch's files meanwhile.
                for ((i, c), copies) in at.into_iter().zip(pending).zip(copies) {
                    done[i] = Some(finish(c, Some(copies), None));
                }
            }
            let from = kept.len();
            kept.extend(done.into_iter().flatten());
            // The batch's memo entries gathered now (each file's is freed).
            for k in &mut kept[from..] {
                if let Some(r) = k.memo.take() {
                    next.add(r);
                }
            }
        },
    );
    if let (Some(_), Some(_)) = (&memo, std::env::var_os("HTRAC_CACHE_STATS")) {
        tracker.warn(format!(
            "cache: validate: {} of {total} files from the memo",
            recalled_n.into_inner()
        ));
    }
    if let Some(w) = git.and_then(locks::Git::warning) {
        report.warnings.push(w);
    }
    if let Some(v) = tracker.policy.signing.as_deref() {
        report.warnings.extend(v.warnings.iter().cloned());
    }
    // Each file's item ID (its file's) and links.
    let files: Vec<Option<(&str, &cross::Links)>> = kept
        .iter()
        .map(|k| {
            let id = k.target.as_ref().and_then(|t| t.id.as_deref());
            k.links.as_ref().map(|l| (id.unwrap_or_default(), l))
        })
        .collect();
    // The memo is written while cycles are searched: on the other core
    // when the files were checked on more than one (its tens of megabytes
    // at 100,000 items would otherwise leave that core idle).
    let found = std::thread::scope(|s| {
        let saving = memo.as_ref().and_then(|m| {
            if threads > 1 {
                Some(s.spawn(move || m.save(next)))
            } else {
                m.save(next);
                None
            }
        });
        let found = cross::cycles(tracker, &files, whole);
        if let Some(h) = saving {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        found
    })?;
    drop(files);
    for (i, line, message) in found {
        kept[i].findings.push(Finding {
            level: Level::Error,
            line,
            message,
        });
    }
    for k in &mut kept {
        let Some(target) = k.target.as_ref().filter(|_| !k.findings.is_empty()) else {
            continue;
        };
        k.findings.sort_by_key(|f| f.line.unwrap_or(0));
        let shown = match &target.shown {
            Some(s) => s.clone(),
            None => shown_path(tracker, &target.path),
        };
        for f in &k.findings {
            let msg = match f.line {
                Some(l) => format!("{shown}:{l}: {}", f.message),
                None => format!("{shown}: {}", f.message),
            };
            match f.level {
                Level::Error => report.errors.push(msg),
                Level::Warning => report.warnings.push(msg),
            }
        }
    }
    if whole {
        report.warnings.extend(cross::config_kinds(&tracker.root));
        if opts.similar {
            let items = similar::items_of(&kept);
            report.warnings.extend(similar::simhash_warnings(&items));
        }
        if opts.deep_similar {
            report
                .warnings
                .push(similar::DEEP_SIMILAR_SKIPPED.to_string());
        }
    }
    drop_aside(kept);
    if opts.strict {
        let warnings = std::mem::take(&mut report.warnings);
        report.errors.extend(warnings);
    }
    Ok(report)
}

/// Drops what was kept of the files on another thread when there is much
/// of it (at 100,000 files, some 60 ms of freeing memory that the report
/// need not wait for), else here.
fn drop_aside(kept: Vec<Kept>) {
    if kept.len() >= 10_000 {
        // (Should no thread start, the vector is dropped here with the closure.)
        let _ = std::thread::Builder::new().spawn(move || drop(kept));
    }
}

/// Every op of the whole history that compiled without effect (an agent's
/// use of a human's power: see [`crate::governance::policy`]) is a warning — an error
/// with `--strict` — whether or not it is new since `HEAD`: a commit made
/// with `--no-verify` does not make it pass. Ops [`locks`] already reported
/// are not reported twice.
fn report_rejected(c: &mut Checked, policy: &crate::governance::policy::Policy) {
    {
        // (line, kind, actor, nonce, reason) of each op of this file without effect.
        let mut found: Vec<(usize, String, String, String, String)> = Vec::new();
        // The same for human claims without a valid signature that had their effect.
        let mut unsigned: Vec<(usize, String, String, String, String)> = Vec::new();
        match (&c.item, c.target.role) {
            (Some(item), _) => {
                // The line of an op of this file (ops of the tier's edit-mode
                // log are reported there).
                let line_of = |nonce: &str, kind: &str| {
                    c.ops
                        .iter()
                        .find(|(_, o)| o.nonce == nonce && o.kind == kind)
                        .map(|(l, _)| *l)
                };
                for r in &item.unverified_ops {
                    let Some(line) = line_of(&r.nonce, &r.kind) else {
                        continue;
                    };
                    if !item
                        .rejected_ops
                        .iter()
                        .any(|x| x.nonce == r.nonce && x.kind == r.kind)
                    {
                        let r = r.clone();
                        unsigned.push((line, r.kind, r.actor, r.nonce, r.reason));
                    }
                }
                for r in &item.rejected_ops {
                    let Some(line) = line_of(&r.nonce, &r.kind) else {
                        continue;
                    };
                    let r = r.clone();
                    found.push((line, r.kind, r.actor, r.nonce, r.reason));
                }
            }
            (None, Role::EditModeLog) => {
                for (line, op) in &c.ops {
                    let (k, a, n) = (op.kind.clone(), op.actor.clone(), op.nonce.clone());
                    let problem =
                        policy.signature_problem(crate::governance::signing::EDIT_MODE_BINDING, op);
                    let demoted = problem.as_ref().filter(|_| policy.signatures_required());
                    let human = policy.is_human(op) && demoted.is_none();
                    if let Some(reason) = policy.judge_as(op, human, demoted, &[], None) {
                        found.push((*line, k, a, n, reason));
                    } else if let Some(p) = problem {
                        unsigned.push((*line, k, a, n, p.to_string()));
                    }
                }
            }
            (None, Role::Item) => {}
        }
        for (line, kind, actor, nonce, reason) in unsigned {
            c.warn(
                Some(line),
                format!(
                    "human op '{kind}' by {actor} (nonce {nonce}) has no valid signature: {reason}"
                ),
            );
        }
        for (line, kind, actor, nonce, reason) in found {
            if c.judged.contains(&nonce) {
                continue;
            }
            let who = if actor.is_empty() { "?" } else { &actor };
            c.warn(
                Some(line),
                format!("agent op '{kind}' by {who} (nonce {nonce}) has no effect: {reason}"),
            );
        }
    }
}
