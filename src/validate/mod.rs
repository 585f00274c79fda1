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
//!   git's copies through [`copies`];
//! * [`similar`] (with `--similar` / `--deep-similar`, whole tracker only)
//!   reports near-duplicate items.

mod copies;
mod cross;
mod file;
mod locks;
mod schema;
pub mod similar;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::items::tiers::{id_from_file_name, Tier};
use crate::tracker::Tracker;

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

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// One item's op log (`.<ID>.ops`).
    Item,
    /// A tier's global edit-mode log (`.edit-mode/edit-mode.ops`).
    EditModeLog,
}

/// A file to validate.
#[derive(Debug, Clone)]
struct Target {
    path: PathBuf,
    /// The path as messages show it.
    shown: String,
    role: Role,
    id: Option<String>,
    /// The tier whose directory holds the file, if any.
    tier: Option<Tier>,
}

/// A file read and checked on its own; other checks add to `findings`.
struct Checked {
    target: Target,
    /// The ops readers use, each with the line its block starts on.
    ops: Vec<(usize, crate::oplog::op::Op)>,
    item: Option<crate::items::item::Item>,
    findings: Vec<Finding>,
    /// The file's bytes, when it could be read.
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

/// Validates `files` (paths relative to `cwd`), or every file of every tier
/// when `files` is empty. References are always resolved against the whole
/// tracker.
pub fn validate(tracker: &Tracker, cwd: &Path, files: &[String], opts: Options) -> Result<Report> {
    let mut report = Report::default();
    let whole = files.is_empty();
    let targets = if whole {
        all_targets(tracker)?
    } else {
        let mut targets = Vec::new();
        for f in files {
            let path = cwd.join(f);
            if !path.exists() {
                report.errors.push(format!("{f}: file not found"));
            } else if !path.is_file() {
                report.errors.push(format!("{f}: not a file"));
            } else {
                targets.push(classify(tracker, &path, f));
            }
        }
        targets
    };
    let mut checked: Vec<Checked> = targets
        .into_iter()
        .map(|t| {
            let approved = frozen_approval(tracker, &t);
            file::check(t, &tracker.config, &tracker.policy, approved.as_deref())
        })
        .collect();
    if opts.check_locks {
        if let Some(w) = locks::check(tracker, &mut checked) {
            report.warnings.push(w);
        }
    }
    report_rejected(&mut checked, &tracker.policy);
    if let Some(v) = tracker.policy.signing.as_deref() {
        report.warnings.extend(v.warnings.iter().cloned());
    }
    cross::check(tracker, &mut checked, whole)?;
    for c in &mut checked {
        c.findings.sort_by_key(|f| f.line.unwrap_or(0));
        for f in &c.findings {
            let msg = match f.line {
                Some(l) => format!("{}:{l}: {}", c.target.shown, f.message),
                None => format!("{}: {}", c.target.shown, f.message),
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
            let items = similar::items_of(&checked);
            report.warnings.extend(similar::simhash_warnings(&items));
        }
        if opts.deep_similar {
            report
                .warnings
                .push(similar::DEEP_SIMILAR_SKIPPED.to_string());
        }
    }
    if opts.strict {
        let warnings = std::mem::take(&mut report.warnings);
        report.errors.extend(warnings);
    }
    Ok(report)
}

/// The ops of the item's freeze sentinel, when `t` is a frozen item's file.
fn frozen_approval(tracker: &Tracker, t: &Target) -> Option<Vec<crate::oplog::op::Op>> {
    let (Some(id), Some(tier), Role::Item) = (&t.id, t.tier, t.role) else {
        return None;
    };
    let file = crate::tracker::ItemFile {
        id: id.clone(),
        tier,
        path: t.path.clone(),
    };
    if !tracker.frozen_path(tier, id).exists() {
        return None;
    }
    Some(tracker.approved_ops(&file, &mut Vec::new()))
}

/// Every op of the whole history that compiled without effect (an agent's
/// use of a human's power: see [`crate::governance::policy`]) is a warning — an error
/// with `--strict` — whether or not it is new since `HEAD`: a commit made
/// with `--no-verify` does not make it pass. Ops [`locks`] already reported
/// are not reported twice.
fn report_rejected(checked: &mut [Checked], policy: &crate::governance::policy::Policy) {
    for c in checked {
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

/// Every item file of every tier, then the edit-mode logs.
fn all_targets(tracker: &Tracker) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for f in tracker.files()? {
        let shown = shown_path(tracker, &f.path);
        out.push(Target {
            path: f.path,
            shown,
            role: Role::Item,
            id: Some(f.id),
            tier: Some(f.tier),
        });
    }
    let mut logs: Vec<PathBuf> = Vec::new();
    for tier in Tier::ALL {
        let log = tier.edit_mode_log(&tracker.root);
        if log.is_file() && !logs.contains(&log) {
            logs.push(log);
        }
    }
    for path in logs {
        out.push(Target {
            shown: shown_path(tracker, &path),
            path,
            role: Role::EditModeLog,
            id: None,
            tier: None,
        });
    }
    Ok(out)
}

/// What a file named on the command line is: its tier from its directory,
/// its ID from its name.
fn classify(tracker: &Tracker, path: &Path, given: &str) -> Target {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let shown = if path.starts_with(tracker.work_tree.as_deref().unwrap_or(&tracker.root))
        || tracker.root.parent().is_some_and(|p| path.starts_with(p))
    {
        shown_path(tracker, &path)
    } else {
        given.to_string()
    };
    let is_edit_log = name == "edit-mode.ops" && dir.file_name().is_some_and(|d| d == ".edit-mode");
    let tier = Tier::ALL
        .into_iter()
        .find(|t| tracker.tier_dir(*t).canonicalize().is_ok_and(|d| d == dir));
    Target {
        path,
        shown,
        role: if is_edit_log {
            Role::EditModeLog
        } else {
            Role::Item
        },
        id: id_from_file_name(&name).map(str::to_string),
        tier,
    }
}

/// `path` relative to the git work tree, else to the directory holding
/// `.agent/`, else as it is.
fn shown_path(tracker: &Tracker, path: &Path) -> String {
    let bases = [
        tracker.work_tree.clone(),
        tracker.root.parent().map(Path::to_path_buf),
    ];
    for base in bases.into_iter().flatten() {
        if let Ok(rel) = path.strip_prefix(&base) {
            return rel.to_string_lossy().into_owned();
        }
    }
    path.to_string_lossy().into_owned()
}
