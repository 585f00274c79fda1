//! What an agent needs at the start of a session or after its context was
//! compacted (`htrac prime`, `htrac-hook session-start`, the MCP server's
//! instructions): the workflow and its commands, then this tracker's state
//! from one summary read — items with unread human messages, items in
//! progress, the top ready items, fields a human locked, the human-only
//! statuses, and whether a stop hook holds the agent to its work.
//! [`session`] wraps it for a harness's session-start hook.

pub mod session;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cache::memo::Lookup;
use crate::error::Result;
use crate::items::slim::{Listable, Slim};
use crate::tracker::load::Snapshot;
use crate::tracker::Tracker;

/// How many items each list shows (the totals are given beside them).
pub const SHOWN: usize = 5;

/// The workflow, step by step: (step, command, what it does).
pub const WORKFLOW: &[(&str, &str, &str)] = &[
    (
        "ready",
        "htrac --json ready --limit 5",
        "what to work on next, best first",
    ),
    (
        "claim",
        "htrac --json claim",
        "take the best free item for this session (or: claim ID)",
    ),
    (
        "read",
        "htrac --json show ID",
        "its description and discussion",
    ),
    (
        "discuss",
        "htrac --json discuss ID \"what you found\"",
        "record progress and decisions",
    ),
    (
        "update",
        "htrac --json update ID --add-tag T --note \"why\"",
        "change its fields",
    ),
    (
        "done",
        "htrac --json update ID --status done --note \"what changed\"",
        "finish it",
    ),
    (
        "add",
        "htrac --json add --kind work_item --title \"...\"",
        "record new work you found",
    ),
    (
        "messages",
        "htrac --json check-messages",
        "what your human wrote to you",
    ),
];

/// One item, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub id: String,
    pub title: String,
    pub status: String,
    pub priority: Value,
    /// The session holding a live claim on it, and the lease's end.
    #[serde(default)]
    pub claim: Option<(String, String)>,
}

impl Brief {
    fn of(i: &Slim) -> Brief {
        Brief {
            id: i.id().to_string(),
            title: i.title().to_string(),
            status: i.status().to_string(),
            priority: i.priority().into_owned(),
            claim: i
                .claim()
                .filter(|c| c.is_live(crate::claims::now()))
                .map(|c| (c.session.clone(), c.until_utc())),
        }
    }

    fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("title".into(), json!(self.title));
        m.insert("status".into(), json!(self.status));
        m.insert("priority".into(), self.priority.clone());
        if let Some((session, until)) = &self.claim {
            m.insert("claimed_by".into(), json!(session));
            m.insert("claim_until".into(), json!(until));
        }
        m
    }
}

/// An open item a human restricted: locked fields, or frozen whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Locked {
    pub item: Brief,
    pub fields: Vec<String>,
    pub frozen: bool,
}

/// Everything `prime` says, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Prime {
    pub actor: String,
    /// `agent` or `human`.
    pub role: &'static str,
    /// The `.agent/` directory.
    pub root: PathBuf,
    /// Items in the stop hook's scope whose discussion ends with unread
    /// human messages (at most [`SHOWN`]), with the count of those messages.
    pub unread: Vec<(Brief, usize)>,
    pub unread_total: usize,
    /// Items in status `in_progress` (at most [`SHOWN`]).
    pub in_progress: Vec<Brief>,
    pub in_progress_total: usize,
    /// The best ready items (at most [`SHOWN`]).
    pub ready: Vec<Brief>,
    pub ready_total: usize,
    /// Open items with locked fields or frozen (at most [`SHOWN`]).
    pub locked: Vec<Locked>,
    pub locked_total: usize,
    /// Open items waiting on a human (status `needs_human_review`, where
    /// the configuration has it; at most [`SHOWN`]).
    pub review: Vec<Brief>,
    pub review_total: usize,
    pub human_only_statuses: Vec<String>,
    /// Blocking items in the stop hook's scope.
    pub blocking: usize,
    /// Where a stop hook that asks htrac is installed, if anywhere.
    pub stop_hook: Option<PathBuf>,
    /// Warnings from reading (torn ops, unreadable items), for stderr.
    pub warnings: Vec<String>,
}

/// The first [`SHOWN`] of `items` in list order, and how many there are.
fn first(items: Vec<&Slim>) -> (Vec<&Slim>, usize) {
    let total = items.len();
    (crate::items::slim::best(items, SHOWN), total)
}

/// What the briefing derives from the items: the part [`gather`] keeps in
/// the memo ([`crate::cache::memo`]).
#[derive(Serialize, Deserialize)]
struct Derived {
    unread: Vec<(Brief, usize)>,
    unread_total: usize,
    in_progress: Vec<Brief>,
    in_progress_total: usize,
    ready: Vec<Brief>,
    ready_total: usize,
    locked: Vec<Locked>,
    locked_total: usize,
    #[serde(default)]
    review: Vec<Brief>,
    #[serde(default)]
    review_total: usize,
    blocking: usize,
    warnings: Vec<String>,
    /// When the first live claim's lease ends (Unix seconds).
    #[serde(default)]
    next_lapse: Option<i64>,
}

/// Gathers the briefing from one summary read (no long texts), or from the
/// memo when no op file, edit-mode window, configuration or actor changed
/// since it was last gathered.
pub fn gather(t: &Tracker) -> Result<Prime> {
    gather_then(t, Snapshot::discard)
}

/// [`gather`], handing the snapshot it read (if it read one) to `dispose`
/// once done with it — a process about to exit need not free it.
pub fn gather_then(t: &Tracker, dispose: impl FnOnce(Snapshot<Slim>)) -> Result<Prime> {
    // The host's claim board lays claims from other worktrees over the
    // items, so it is an input too.
    let (board, _) = crate::claims::board::paths(&t.root, t.work_tree.as_deref());
    let board = std::fs::read(&board).unwrap_or_default();
    // With claims on the board, whether one was lost is asked of the
    // remote's copies (`git fetch` moves them without touching an op
    // file): the remote-tracking refs are an input too.
    let remotes = if board.is_empty() {
        String::new()
    } else {
        t.work_tree
            .as_deref()
            .and_then(crate::git::refs::RefTable::read)
            .map(|refs| {
                refs.ids_under("refs/remotes/")
                    .iter()
                    .map(|(name, id)| format!("{name} {id}\n"))
                    .collect()
            })
            // Refs htrac cannot read (reftable): nothing is kept.
            .unwrap_or_else(|| format!("unread refs {}", crate::cache::now_ns()))
    };
    let inputs = format!(
        "prime 2\0{:?}\0{}\0{}\0{}\0{remotes}",
        t.config,
        t.actor.name,
        t.actor.role.as_str(),
        String::from_utf8_lossy(&board),
    );
    let derived = match crate::cache::memo::summary_or_memo(t, "prime", inputs.as_bytes())? {
        Lookup::Hit(kept) => match serde_json::from_slice::<Derived>(kept.result()) {
            // A claim's lease ending changes what is ready and in progress.
            Ok(d) if crate::claims::still_live(d.next_lapse) => d,
            _ => {
                let snap = t.snapshot_slim()?;
                let d = derive(t, &snap);
                dispose(snap);
                d
            }
        },
        Lookup::Miss(snap, keeper) => {
            let d = derive(t, &snap);
            dispose(snap);
            if let (Some(k), Ok(bytes)) = (keeper, serde_json::to_vec(&d)) {
                k.keep(bytes);
            }
            d
        }
    };
    let top = t
        .work_tree
        .clone()
        .or_else(|| t.root.parent().map(PathBuf::from))
        .unwrap_or_else(|| t.root.clone());
    Ok(Prime {
        actor: t.actor.name.clone(),
        role: t.actor.role.as_str(),
        root: t.root.clone(),
        unread: derived.unread,
        unread_total: derived.unread_total,
        in_progress: derived.in_progress,
        in_progress_total: derived.in_progress_total,
        ready: derived.ready,
        ready_total: derived.ready_total,
        locked: derived.locked,
        locked_total: derived.locked_total,
        review: derived.review,
        review_total: derived.review_total,
        human_only_statuses: t.config.human_only_statuses.clone(),
        blocking: derived.blocking,
        stop_hook: crate::setup::hooks::installed_stop_hook(&t.root, &top),
        warnings: derived.warnings,
    })
}

fn derive(t: &Tracker, snap: &Snapshot<Slim>) -> Derived {
    let items = &snap.items;
    let scoped = crate::stophook::scope::in_scope(items, &t.config);
    let (unread, unread_total) = first(
        scoped
            .iter()
            .copied()
            .filter(|i| i.unread_count() > 0)
            .collect(),
    );
    let (in_progress, in_progress_total) = first(
        items
            .iter()
            .filter(|i| i.status() == "in_progress")
            .collect(),
    );
    let (ready, ready_total) = first(crate::items::ready::unsorted(items, &t.config));
    let (locked, locked_total) = first(
        items
            .iter()
            .filter(|i| !t.config.is_resolved(i.status()))
            .filter(|i| i.frozen || !i.locked_fields.is_empty())
            .collect(),
    );
    let (review, review_total) = first(
        items
            .iter()
            .filter(|i| i.status() == REVIEW_STATUS)
            .collect(),
    );
    let blocking =
        crate::stophook::todos::count(&scoped, &t.config, crate::stophook::todos::Strength::Any);
    let mut warnings = snap.warnings.clone();
    for b in &snap.broken {
        warnings.push(format!(
            "warning: item {} [{}] cannot be read and is left out: {}",
            b.file.id,
            b.file.tier.as_str(),
            b.error
        ));
    }
    let (board_file, _) = crate::claims::board::paths(&t.root, t.work_tree.as_deref());
    let here = crate::claims::board::worktree_key(t.work_tree.as_deref());
    let mine = crate::claims::own_sessions(&t.actor.name, t.work_tree.as_deref(), None);
    let board = crate::claims::board::read(&board_file);
    let remote = |ids: &[&str]| crate::actions::remote_items(t, ids);
    for (id, winner) in crate::claims::lost(&board, items, &here, &mine, &remote) {
        warnings.push(format!(
            "warning: you no longer hold {id}: {winner} claimed it at the same time in another clone and won (htrac claim takes the next free item)"
        ));
    }
    let next_lapse =
        crate::claims::next_lapse(items.iter().filter_map(Listable::claim).map(|c| c.until));
    Derived {
        next_lapse,
        unread_total,
        unread: unread
            .iter()
            .map(|i| (Brief::of(i), i.unread_count()))
            .collect(),
        in_progress_total,
        in_progress: in_progress.iter().map(|i| Brief::of(i)).collect(),
        ready_total,
        ready: ready.iter().map(|i| Brief::of(i)).collect(),
        locked_total,
        locked: locked
            .iter()
            .map(|i| {
                let mut fields: Vec<String> =
                    i.locked_fields.iter().map(|f| f.to_string()).collect();
                fields.sort();
                Locked {
                    item: Brief::of(i),
                    fields,
                    frozen: i.frozen,
                }
            })
            .collect(),
        review_total,
        review: review.iter().map(|i| Brief::of(i)).collect(),
        blocking,
        warnings,
    }
}

/// Whom the text briefing speaks to. The role alone cannot say: in a
/// single-user set-up the agent runs as the human's own OS user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Agent,
    Human,
}

/// The status that hands an item to a human for a decision.
pub const REVIEW_STATUS: &str = "needs_human_review";

mod human;

fn priority(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("P{n}"),
        Value::String(s) => format!("P{s}"),
        _ => "P?".into(),
    }
}

fn row(b: &Brief) -> String {
    let claim = match &b.claim {
        Some((session, until)) => format!("  (claimed by {session} until {until})"),
        None => String::new(),
    };
    format!(
        "  {}  {}  [{}]  {}{claim}",
        b.id,
        priority(&b.priority),
        b.status,
        b.title
    )
}

impl Prime {
    /// The items a human holds (locked fields, frozen), under `title`;
    /// nothing when there are none.
    fn held(&self, out: &mut String, title: &str, frozen: &str) {
        if self.locked.is_empty() {
            return;
        }
        heading(
            out,
            title,
            "agents may not change these",
            self.locked.len(),
            self.locked_total,
        );
        for l in &self.locked {
            let what = if l.frozen {
                frozen.to_string()
            } else {
                format!("locked: {}", l.fields.join(", "))
            };
            out.push_str(&format!("  {}  {}  ({what})\n", l.item.id, l.item.title));
        }
    }
}

/// A heading (`(title, note)`) and one row per item; `empty` (when not
/// "") says there are none.
fn section(
    out: &mut String,
    (title, note): (&str, &str),
    items: &[Brief],
    total: usize,
    empty: &str,
) {
    heading(out, title, note, items.len(), total);
    if items.is_empty() && !empty.is_empty() {
        out.push_str(&format!("  {empty}\n"));
    }
    for b in items {
        out.push_str(&row(b));
        out.push('\n');
    }
}

/// `Title (N)`, or `Title (N; the first M)`, then ` — note` and a colon.
fn heading(out: &mut String, title: &str, note: &str, shown: usize, total: usize) {
    out.push('\n');
    out.push_str(title);
    if total > shown {
        out.push_str(&format!(" ({total}; the first {shown})"));
    } else {
        out.push_str(&format!(" ({total})"));
    }
    if !note.is_empty() {
        out.push_str(" — ");
        out.push_str(note);
    }
    out.push_str(":\n");
}

impl Prime {
    /// The briefing as text for `audience`: for an agent, the workflow and
    /// its work (a few hundred words at most); for a human, what the agents
    /// are doing and what waits for them.
    pub fn to_text(&self, audience: Audience) -> String {
        if audience == Audience::Human {
            return self.to_text_for_human();
        }
        let mut out = format!(
            "# htrac: this repository's work tracker\n\nYou are {} '{}'. Work items live in {}; read and change them only with htrac.\n",
            self.role,
            self.actor,
            self.root.display()
        );
        out.push_str("\nWorkflow: ready -> claim -> work -> update/discuss -> done.\n");
        for (step, cmd, _) in WORKFLOW {
            out.push_str(&format!("  {step:<9} {cmd}\n"));
        }
        out.push_str(
            "IDs: the full ID, any unique prefix (WI-foh), or :N (row N of the last list/ready).\n",
        );
        if !self.unread.is_empty() {
            heading(
                &mut out,
                "Unread human messages",
                "answer these first (htrac --json show ID, then htrac --json discuss ID \"reply\" --ack-thread)",
                self.unread.len(),
                self.unread_total,
            );
            for (b, n) in &self.unread {
                out.push_str(&format!("{}  ({n} unread)\n", row(b)));
            }
        }
        if !self.in_progress.is_empty() {
            section(
                &mut out,
                (
                    "In progress",
                    "finish these, or say in their discussion why not",
                ),
                &self.in_progress,
                self.in_progress_total,
                "",
            );
        }
        section(
            &mut out,
            ("Ready", "best first"),
            &self.ready,
            self.ready_total,
            "(nothing ready)",
        );
        self.held(
            &mut out,
            "Locked by a human",
            "frozen: no agent writes at all",
        );
        out.push('\n');
        if !self.human_only_statuses.is_empty() {
            out.push_str(&format!(
                "Only a human may set status: {}.\n",
                self.human_only_statuses.join(", ")
            ));
        }
        match &self.stop_hook {
            Some(p) => out.push_str(&format!(
                "Stop hook: active ({}). You cannot stop while blocking items remain ({} now).\n",
                p.display(),
                self.blocking
            )),
            None => out.push_str(&format!(
                "Stop hook: not installed. {} blocking item(s) remain; finish them before you stop.\n",
                self.blocking
            )),
        }
        out
    }

    /// `prime --json`: the same as data (see the README for the shape).
    pub fn to_json(&self) -> Value {
        let briefs = |v: &[Brief]| -> Value {
            Value::Array(v.iter().map(|b| Value::Object(b.to_json())).collect())
        };
        json!({
            "actor": {"name": self.actor, "role": self.role},
            "root": self.root.to_string_lossy(),
            "workflow": WORKFLOW.iter().map(|(step, cmd, what)| json!({"step": step, "command": cmd, "what": what})).collect::<Vec<_>>(),
            "unread_messages": self.unread.iter().map(|(b, n)| {
                let mut m = b.to_json();
                m.insert("unread_count".into(), json!(n));
                Value::Object(m)
            }).collect::<Vec<_>>(),
            "unread_total": self.unread_total,
            "in_progress": briefs(&self.in_progress),
            "in_progress_total": self.in_progress_total,
            "ready": briefs(&self.ready),
            "ready_total": self.ready_total,
            "locked": self.locked.iter().map(|l| {
                let mut m = l.item.to_json();
                m.insert("locked_fields".into(), json!(l.fields));
                m.insert("frozen".into(), json!(l.frozen));
                Value::Object(m)
            }).collect::<Vec<_>>(),
            "locked_total": self.locked_total,
            "needs_review": briefs(&self.review),
            "needs_review_total": self.review_total,
            "human_only_statuses": self.human_only_statuses,
            "blocking_count": self.blocking,
            "stop_hook": {
                "active": self.stop_hook.is_some(),
                "path": self.stop_hook.as_ref().map(|p| p.to_string_lossy()),
            },
        })
    }
}
