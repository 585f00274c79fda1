//! The stop hook's decision, as `htrac-hook` prints it: find the tracker,
//! look at the blocking items in scope, and block the stop (with a reason
//! the agent can act on) or allow it, guarded by the circuit breaker and
//! the failure policy.
//!
//! * Blocking items in scope → block, unless the circuit breaker trips
//!   ([`super::breaker`]); then allow and say why on stderr.
//! * None → allow (and forget the breaker's count).
//! * The tracker cannot be read (no `.agent/`, a bad config, unreadable
//!   files, a malformed hook event) → `stop_hook.on_error`: `block` (the
//!   default, fail closed; the breaker still guards against a loop) or
//!   `allow`. When the config itself cannot be read the policy is the
//!   caller's default (`--on-error`, else block). Always said on stderr.
//! * `stop_hook_active` (the agent is already continuing because of a stop
//!   hook) does not by itself let the agent stop — the breaker is the loop
//!   guard — but the reason says so, and if the breaker cannot keep its
//!   count (its state cannot be written) such a stop is allowed rather than
//!   risk a loop without end.

use std::path::{Path, PathBuf};

use crate::config::OnError;
use crate::error::{Error, Result};
use crate::items::item::Item;
use crate::tracker::load::Broken;
use crate::tracker::{find_agent_dir, Tracker};

use super::breaker::{self, Breaker, Progress, Verdict};
use super::event::{EventError, HookEvent};
use super::reason::{self, Facts};
use super::scope;
use super::todos::{self, Strength};

/// Where to look and what to assume.
#[derive(Debug, Clone)]
pub struct Options {
    /// The process's working directory.
    pub cwd: PathBuf,
    /// `--tracker-root PATH`, relative to `cwd`.
    pub tracker_root: Option<PathBuf>,
    /// A project directory the harness names (`$CLAUDE_PROJECT_DIR`),
    /// searched after the event's `cwd` and before the process's.
    pub project_dir: Option<PathBuf>,
    /// Where the breaker keeps its state (`None`: nowhere, the breaker
    /// cannot count).
    pub state_dir: Option<PathBuf>,
    /// The policy when the tracker's own `on_error` cannot be read.
    pub on_error: OnError,
}

/// Block (with the reason the agent reads) or allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Block(String),
}

/// The decision and what to say about it on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    /// Errors, warnings, and why a stop was let through: always worth saying.
    pub notes: Vec<String>,
    /// The routine line about a blocked stop (with the breaker's count), for
    /// logs. Not for the agent's eyes: harnesses that show stderr to the
    /// agent (`check`) leave it out.
    pub status: Option<String>,
}

/// The tracker found from the event's `cwd`, the project directory, or the
/// process's working directory (in that order), or by `--tracker-root`.
pub fn locate(event: &HookEvent, opts: &Options) -> Result<Tracker> {
    if let Some(root) = &opts.tracker_root {
        return Tracker::discover(&opts.cwd, Some(root));
    }
    let mut looked = Vec::new();
    let starts = [
        event.cwd.clone(),
        opts.project_dir.clone(),
        Some(opts.cwd.clone()),
    ];
    for start in starts.into_iter().flatten() {
        let start = opts.cwd.join(start);
        if let Some(root) = find_agent_dir(&start) {
            return Tracker::open(&root);
        }
        looked.push(start.display().to_string());
    }
    Err(Error::user(format!(
        "no .agent/ directory found at or above {}",
        looked.join(", ")
    ))
    .with_hint("run the hook inside the repository, or pass --tracker-root PATH/.agent"))
}

/// Everything the hook reads from one tracker.
pub struct Survey {
    pub tracker: Tracker,
    pub items: Vec<Item>,
    pub broken: Vec<Broken>,
    pub warnings: Vec<String>,
}

impl Survey {
    pub fn read(tracker: Tracker) -> Result<Survey> {
        let snap = tracker.snapshot()?;
        Ok(Survey {
            tracker,
            items: snap.items,
            broken: snap.broken,
            warnings: snap.warnings,
        })
    }

    pub fn in_scope(&self) -> Vec<&Item> {
        scope::in_scope(&self.items, &self.tracker.config)
    }

    pub fn broken_in_scope(&self) -> Vec<&Broken> {
        let s = self.tracker.config.scope;
        self.broken
            .iter()
            .filter(|b| scope::covers(s, b.file.tier))
            .collect()
    }

    pub fn count(&self, strength: Strength) -> usize {
        todos::count(&self.in_scope(), &self.tracker.config, strength)
    }

    pub fn progress(&self) -> Result<Progress> {
        Ok(Progress {
            hash: todos::hash(&self.in_scope(), &self.tracker.config),
            op_bytes: breaker::op_bytes(&self.tracker)?,
        })
    }
}

/// `htrac-hook stop` / `check`: the decision for one stop attempt.
/// `event` is the parsed stdin (or why it could not be parsed).
pub fn stop(event: std::result::Result<HookEvent, EventError>, opts: &Options) -> Outcome {
    let (event, bad_event) = match event {
        Ok(e) => (e, None),
        Err(e) => (HookEvent::default(), Some(e)),
    };
    let active = event.stop_hook_active;
    let mut notes = Vec::new();
    if let Some(name) = event
        .hook_event_name
        .as_deref()
        .filter(|n| !matches!(*n, "Stop" | "SubagentStop"))
    {
        notes.push(format!(
            "htrac-hook: note: answering a '{name}' event as a stop (it is meant for Stop and SubagentStop)"
        ));
    }
    let tracker = match locate(&event, opts) {
        Ok(t) => t,
        Err(e) => {
            let about = event.cwd.clone().unwrap_or_else(|| opts.cwd.clone());
            return failure(&describe(&e), opts.on_error, 3, &about, opts, active, notes);
        }
    };
    let (policy, max) = (tracker.config.on_error, tracker.config.max_blocked_stops);
    let root = tracker.root.clone();
    if let Some(e) = bad_event {
        return failure(&e.0, policy, max, &root, opts, active, notes);
    }
    let survey = match Survey::read(tracker).and_then(|s| s.progress().map(|p| (s, p))) {
        Ok(x) => x,
        Err(e) => return failure(&describe(&e), policy, max, &root, opts, active, notes),
    };
    let (survey, progress) = survey;
    notes.extend(survey.warnings.iter().cloned());
    let config = &survey.tracker.config;
    let in_scope = survey.in_scope();
    // Claims: another live session's items are its work, not this one's;
    // this session's own live claims block until done or released.
    let mine = crate::claims::own_sessions(
        &survey.tracker.actor.name,
        survey.tracker.work_tree.as_deref(),
        event.session_id.as_deref(),
    );
    let now = crate::claims::now();
    let claimed = |i: &Item| crate::claims::held_by_me(i, &mine, now);
    let mut blocking: Vec<&Item> = todos::blocking(&in_scope, config, Strength::Any)
        .into_iter()
        .filter(|i| claimed(i) != Some(false))
        .collect();
    for i in &in_scope {
        if claimed(i) == Some(true)
            && !config.is_resolved(&i.status)
            && !blocking.iter().any(|b| b.id == i.id)
        {
            blocking.push(i);
        }
    }
    blocking.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let broken = survey.broken_in_scope();
    for b in &broken {
        notes.push(format!(
            "htrac-hook: warning: item {} [{}] cannot be read and is left out: {}",
            b.file.id,
            b.file.tier.as_str(),
            b.error
        ));
    }
    let breaker = opts.state_dir.as_ref().map(|d| Breaker::new(d, &root));

    if blocking.is_empty() {
        if !broken.is_empty() && policy == OnError::Block {
            let why = format!(
                "{} item file(s) cannot be read, so they may hide blocking work: {}",
                broken.len(),
                broken
                    .iter()
                    .map(|b| format!("{} ({})", b.file.id, b.error))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            return failure(&why, policy, max, &root, opts, active, notes);
        }
        if let Some(b) = &breaker {
            let _ = b.reset();
        }
        let unread = in_scope
            .iter()
            .filter(|i| !i.unread_human().is_empty())
            .count();
        if unread > 0 {
            notes.push(format!(
                "htrac-hook: no blocking items; note: {unread} item(s) have unread human messages (htrac check-messages)"
            ));
        }
        return Outcome {
            decision: Decision::Allow,
            notes,
            status: None,
        };
    }

    // This session's claims count as hard: it took them on.
    let hard = blocking
        .iter()
        .filter(|i| todos::is_hard(&i.status) || claimed(i) == Some(true))
        .count();
    let ready: Vec<&Item> = crate::items::ready::ready(&survey.items, config)
        .into_iter()
        .filter(|i| scope::covers(config.scope, i.tier))
        .collect();
    let mut unread: Vec<&Item> = in_scope
        .iter()
        .copied()
        .filter(|i| !i.unread_human().is_empty())
        .collect();
    unread.sort_by(|a, b| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
    let text = reason::block_reason(&Facts {
        config,
        scope: config.scope,
        blocking: &blocking,
        hard,
        soft: blocking.len() - hard,
        ready: &ready,
        unread: &unread,
        broken: &broken,
        stop_hook_active: active,
    });
    let what = format!("{} blocking item(s) remain", blocking.len());
    guarded(text, &what, &progress, max, breaker.as_ref(), active, notes)
}

/// Blocks with `reason` unless the breaker trips (or cannot count while
/// the agent is already continuing because of the hook).
fn guarded(
    reason: String,
    what: &str,
    progress: &Progress,
    max: u32,
    breaker: Option<&Breaker>,
    active: bool,
    mut notes: Vec<String>,
) -> Outcome {
    let verdict = match breaker {
        Some(b) => b
            .on_block(progress, max)
            .map_err(|e| format!("cannot write {}: {e}", b.path.display())),
        None => Err("no state directory (set HTRAC_STATE_DIR, XDG_STATE_HOME or HOME)".into()),
    };
    match verdict {
        Ok(Verdict::Block { stalls }) => Outcome {
            decision: Decision::Block(reason),
            notes,
            status: Some(format!(
                "htrac-hook: blocked: {what} (blocked stop {stalls} of at most {max} in a row without progress)"
            )),
        },
        Ok(Verdict::Trip { stalls }) => {
            notes.push(format!(
                "htrac-hook: circuit breaker: letting the agent stop although {what}: the last {stalls} \
                 stop(s) were blocked with no progress at all (no op written, the same blocking \
                 items; stop_hook.max_blocked_stops = {max}). A human should look at why it is stuck."
            ));
            Outcome {
                decision: Decision::Allow,
                notes,
                status: None,
            }
        }
        Err(why) if active => {
            notes.push(format!(
                "htrac-hook: the circuit breaker cannot keep count ({why}); the agent is already \
                 continuing because of this hook (stop_hook_active), so it may stop rather than loop \
                 without end, although {what}"
            ));
            Outcome {
                decision: Decision::Allow,
                notes,
                status: None,
            }
        }
        Err(why) => {
            notes.push(format!(
                "htrac-hook: warning: the circuit breaker cannot keep count ({why}); blocking: {what}"
            ));
            Outcome {
                decision: Decision::Block(reason),
                notes,
                status: None,
            }
        }
    }
}

/// The tracker cannot be read: apply the failure policy.
fn failure(
    error: &str,
    policy: OnError,
    max: u32,
    about: &Path,
    opts: &Options,
    active: bool,
    mut notes: Vec<String>,
) -> Outcome {
    notes.push(format!("htrac-hook: error: {error}"));
    match policy {
        OnError::Allow => {
            notes.push(
                "htrac-hook: the failure policy (stop_hook.on_error) is allow, so the agent may stop"
                    .into(),
            );
            Outcome {
                decision: Decision::Allow,
                notes,
                status: None,
            }
        }
        OnError::Block => {
            use sha2::{Digest, Sha256};
            let progress = Progress {
                hash: format!("error:{:x}", Sha256::digest(error.as_bytes())),
                op_bytes: 0,
            };
            let breaker = opts.state_dir.as_ref().map(|d| Breaker::new(d, about));
            let what = "the tracker cannot be read (stop_hook.on_error: block)";
            guarded(
                reason::error_reason(error, active),
                what,
                &progress,
                max,
                breaker.as_ref(),
                active,
                notes,
            )
        }
    }
}

fn describe(e: &Error) -> String {
    match &e.hint {
        Some(h) => format!("{} ({h})", e.message),
        None => e.message.clone(),
    }
}

/// `htrac-hook count`: the blocking items in scope, or the failure as an
/// error message.
pub fn count(opts: &Options, strength: Strength) -> std::result::Result<usize, (String, OnError)> {
    let tracker = locate(&HookEvent::default(), opts).map_err(|e| (describe(&e), opts.on_error))?;
    let policy = tracker.config.on_error;
    let survey = Survey::read(tracker).map_err(|e| (describe(&e), policy))?;
    Ok(survey.count(strength))
}
