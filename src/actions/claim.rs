//! `claim` and `release`: an agent session takes an item (the best ready
//! one, or one it names) for a lease, or gives it up; a human may break
//! anyone's claim. Each decides and writes under the host's claim-board
//! lock ([`crate::claims::board`]), so two sessions on one host never both
//! win one item. See [`crate::claims`] for how a claim is recorded.

use std::time::Duration;

use super::update::{update, Update};
use super::{Outcome, Transaction};
use crate::claims::{self, board, Claim};
use crate::error::{Error, ErrorKind, Result};
use crate::items::item::Item;
use crate::tracker::Tracker;

/// Claim an item for `session`.
#[derive(Debug, Clone, Default)]
pub struct ClaimRequest {
    /// The item (anything `resolve` takes); `None`: the best ready item no
    /// live claim holds.
    pub item: Option<String>,
    /// The lease; `None`: the config's `claims.lease`.
    pub lease: Option<Duration>,
    pub session: String,
}

/// What a claim did.
#[derive(Debug, Clone)]
pub enum Claimed {
    /// The session holds the item now.
    Taken {
        outcome: Box<Outcome>,
        claim: Claim,
        /// The session already held the item: the lease was renewed.
        renewed: bool,
    },
    /// The item named is held by another live session: nothing was written.
    Held {
        id: String,
        title: String,
        holder: Claim,
    },
}

impl Claimed {
    /// `claim --json` (and MCP's `claim`): `{"ok": true, "id", "title",
    /// "claim", "renewed"}`, or `{"ok": false, "id", "title", "reason":
    /// "claimed", "holder"}` for a held item.
    pub fn to_json(&self, now: i64) -> serde_json::Value {
        match self {
            Claimed::Taken {
                outcome,
                claim,
                renewed,
            } => {
                let title = outcome.after.as_ref().map_or("", |i| i.title.as_str());
                serde_json::json!({"ok": true, "id": outcome.id, "title": title,
                    "claim": claim.to_json(now), "renewed": renewed})
            }
            Claimed::Held { id, title, holder } => serde_json::json!({"ok": false, "id": id,
                "title": title, "reason": "claimed", "holder": holder.to_json(now)}),
        }
    }

    /// The refusal of a [`Claimed::Held`] as an error (kind conflict).
    pub fn held_error(id: &str, holder: &Claim) -> Error {
        Error::new(
            ErrorKind::Conflict,
            format!(
                "{id} is claimed by {} until {}",
                holder.session,
                holder.until_utc()
            ),
        )
        .with_hint(
            "run 'htrac claim' without an item to take the next free one; a human can break the claim with 'htrac release ITEM --break'",
        )
    }
}

/// Give up (or, with `breaking`, as a human, break) the claim on an item.
#[derive(Debug, Clone, Default)]
pub struct Release {
    pub item: String,
    pub session: String,
    /// Release a claim another session holds (human only).
    pub breaking: bool,
}

/// The session the current process claims as ([`claims::session_name`]
/// for this tracker's OS user and work tree): the CLI's and MCP's alike.
pub fn session_of(t: &Tracker) -> String {
    claims::session_name(&t.actor.name, t.work_tree.as_deref())
}

/// `release --json` (and MCP's `release`): `{"ok": true, "id", "released",
/// "status"}`.
pub fn released_json(outcome: &Outcome, claim: &Claim, now: i64) -> serde_json::Value {
    let status = outcome.after.as_ref().map_or("", |i| i.status.as_str());
    serde_json::json!({"ok": true, "id": outcome.id, "released": claim.to_json(now),
        "status": status})
}

/// The lease from the config (`claims.lease`), else the default.
pub fn configured_lease(t: &Tracker) -> Result<Duration> {
    let raw = t
        .config
        .raw
        .get("claims")
        .and_then(|c| c.get("lease"))
        .cloned();
    match raw {
        None | Some(serde_json::Value::Null) => Ok(claims::DEFAULT_LEASE),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| Error::user(format!("config claims.lease: {n} is not a lease"))),
        Some(serde_json::Value::String(s)) => claims::parse_lease(&s)
            .map_err(|e| Error::user(format!("config claims.lease: {}", e.message))),
        Some(other) => Err(Error::user(format!(
            "config claims.lease: {other} is not a lease (write e.g. 4h)"
        ))),
    }
}

/// The live claim another session holds on `item`, if any.
fn held_by_other(item: &Item, session: &str, now: i64) -> Option<Claim> {
    Claim::of(item).filter(|c| c.is_live(now) && c.session != session)
}

/// How many items a claim without an ID tries when the remote shows that
/// other clones took them first.
const ATTEMPTS: usize = 8;

/// Claims an item: see [`ClaimRequest`]. With a remote configured (and
/// auto-sync on), the claim is confirmed at once by a sync — its
/// compare-and-swap push — and the item read again: a claim another clone
/// made first wins in the merged fold order, and then this one is refused
/// (with an ID) or the next free item is tried (without one).
pub fn claim(tx: &mut Transaction, req: &ClaimRequest) -> Result<Claimed> {
    let t = tx.tracker;
    let lease = match req.lease {
        Some(l) => l,
        None => configured_lease(t)?,
    };
    let (file, lock_file) = board::paths(&t.root, t.work_tree.as_deref());
    let here = board::worktree_key(t.work_tree.as_deref());
    let mut locked = board::lock(&file, &lock_file, claims::now())?;
    let mut notes = Vec::new();
    let mut confirm = tx.auto_sync && crate::sync::has_remote(t);
    // A remote that just failed is not asked again per claim (each try can
    // wait on the network): the claim holds here, unconfirmed, as offline.
    if let Some(why) = confirm.then(|| crate::sync::breaker_holds(t)).flatten() {
        notes.push(format!(
            "warning: claims are not confirmed with the remote while {why}; a claim another clone made first wins when they sync"
        ));
        confirm = false;
    }
    let mut passed_over: Vec<String> = Vec::new();
    for _ in 0..ATTEMPTS {
        let now = claims::now();
        let item = match pick(
            t,
            req,
            confirm,
            &mut locked,
            &here,
            &passed_over,
            &mut notes,
            now,
        )? {
            Ok(item) => item,
            Err(held) => return Ok(held),
        };
        let previous = Claim::of(&item);
        let renewed = previous
            .as_ref()
            .is_some_and(|c| c.is_live(now) && c.session == req.session);
        // An expired or renewed claim keeps the status from before it.
        let from = match &previous {
            Some(c) if item.status == claims::CLAIMED_STATUS && !c.from.is_empty() => {
                c.from.clone()
            }
            _ => item.status.clone(),
        };
        let claim = Claim {
            session: req.session.clone(),
            until: now + lease.as_secs() as i64,
            from,
        };
        let status = (item.status != claims::CLAIMED_STATUS
            && t.status_allowed(&item.kind, claims::CLAIMED_STATUS))
        .then(|| claims::CLAIMED_STATUS.to_string());
        let file = t.resolve(&item.id)?;
        // The item's ops before this claim: a claim arriving with the
        // confirming sync was pushed before this one.
        let known: std::collections::HashSet<String> = match t.read_item(&file) {
            Ok((_, ops)) => ops.into_iter().map(|o| o.nonce).collect(),
            Err(_) => Default::default(),
        };
        let mut outcome = update(
            tx,
            &Update {
                item: item.id.clone(),
                status,
                fields: claim.to_fields(),
                ..Update::default()
            },
        )?;
        tx.claims_written(&item.id);
        if confirm {
            match confirm_sync(t) {
                Ok(_) => {
                    if let Some(winner) = pushed_first(tx, &file, &known, &req.session)? {
                        notes.push(format!(
                            "warning: {} was claimed first in another clone, by {}",
                            item.id, winner.session
                        ));
                        if req.item.is_some() {
                            locked.save()?;
                            return Ok(Claimed::Held {
                                id: item.id,
                                title: item.title,
                                holder: winner,
                            });
                        }
                        passed_over.push(item.id.clone());
                        continue;
                    }
                }
                Err(e) => notes.push(format!(
                    "warning: the claim of {} is not confirmed with the remote ({}): it holds on this host; a claim another clone made first wins when they sync",
                    item.id, e.message
                )),
            }
        }
        outcome.warnings.splice(0..0, std::mem::take(&mut notes));
        locked.board.claims.insert(
            item.id.clone(),
            board::Entry {
                session: claim.session.clone(),
                actor: t.actor.name.clone(),
                until: claim.until,
                from: claim.from.clone(),
                worktree: here,
                lease: lease.as_secs() as i64,
            },
        );
        locked.save()?;
        return Ok(Claimed::Taken {
            outcome: Box::new(outcome),
            claim,
            renewed,
        });
    }
    locked.save()?;
    Err(Error::new(
        ErrorKind::Conflict,
        format!(
            "other clones claimed each of the {ATTEMPTS} items tried first: {}",
            passed_over.join(", ")
        ),
    )
    .with_hint("run 'htrac claim' again"))
}

/// The confirming sync: many agents pushing at once can outlast one sync's
/// retries, so it is tried a few more times, pausing longer each time.
/// The circuit breaker counts them as one failure, so one claim against a
/// remote that is gone does not switch auto-sync off.
fn confirm_sync(t: &Tracker) -> Result<crate::sync::Report> {
    let mut last = None;
    for attempt in 1..=4 {
        match crate::sync::sync_attempt(t) {
            Ok(r) => return Ok(r),
            Err(e) => last = Some(e),
        }
        if attempt < 4 {
            std::thread::sleep(crate::sync::push::backoff(100, attempt));
        }
    }
    let e = last.expect("tried");
    crate::sync::record_failure(t, &e);
    Err(e)
}

/// After the confirming sync: the claim that beat this session's to the
/// remote, if any. A live claim by another session that this session had
/// not seen before its own was pushed first, whatever the fold order of
/// the two ops; when the fold still gives the item to this session, an op
/// restoring the other claim is written (and sent), so every clone ends
/// with the claim that reached the remote first.
fn pushed_first(
    tx: &mut Transaction,
    file: &crate::tracker::ItemFile,
    known: &std::collections::HashSet<String>,
    session: &str,
) -> Result<Option<Claim>> {
    let t = tx.tracker;
    let (item, mut ops) = t
        .read_item(file)
        .map_err(|b| Error::corrupt(format!("corrupt data: {}", b.error)))?;
    // What the remote holds now: it reaches this work tree's files only on
    // the base branch itself (not in a linked worktree, say).
    ops.extend(remote_ops(t, &[&file.path]).into_iter().flatten());
    let now = claims::now();
    let arrived = ops
        .iter()
        .filter(|op| op.kind == "update" && !known.contains(&op.nonce))
        .filter_map(|op| op.get_map("set")?.get("fields")?.as_object())
        .filter_map(Claim::from_fields)
        .find(|c| c.session != session && c.is_live(now));
    let Some(first) = arrived else {
        return Ok(None);
    };
    if Claim::of(&item).is_some_and(|c| c.session == session) {
        // Give it up, then give it back: two ops, since a claim over a
        // live one does not take (see `items::compile`).
        for fields in [None, Some(first.to_fields())] {
            let remove_fields = match fields {
                None => claims::FIELDS.iter().map(|f| f.to_string()).collect(),
                Some(_) => Vec::new(),
            };
            update(
                tx,
                &Update {
                    item: item.id.clone(),
                    fields: fields.unwrap_or_default(),
                    remove_fields,
                    ..Update::default()
                },
            )?;
        }
        if let Err(e) = crate::sync::sync_now(t, &mut |_| {}) {
            t.warn(format!(
                "warning: giving {} back to {} is not sent yet ({}); the next sync sends it",
                item.id, first.session, e.message
            ));
        }
    }
    Ok(Some(first))
}

/// The ops of each of `paths` on the remote's base branch (empty when
/// unknown), for [`pushed_first`] and [`pick`].
fn remote_ops(t: &Tracker, paths: &[&std::path::Path]) -> Vec<Vec<crate::oplog::op::Op>> {
    crate::sync::remote_copies(t, paths)
        .into_iter()
        .zip(paths)
        .map(|(text, path)| {
            text.and_then(|text| crate::oplog::parse(path, &text).ok())
                .map(|log| log.ops.into_iter().map(|(_, op)| op).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// The items `ids` as the remote's base branch has them (`None`: not
/// there, no remote, or unreadable), from one git process.
pub fn remote_items(t: &Tracker, ids: &[&str]) -> Vec<Option<Item>> {
    let files: Vec<Option<crate::tracker::ItemFile>> =
        ids.iter().map(|id| t.resolve(id).ok()).collect();
    let paths: Vec<&std::path::Path> = files.iter().flatten().map(|f| f.path.as_path()).collect();
    let mut ops = remote_ops(t, &paths).into_iter();
    files
        .iter()
        .map(|f| {
            let f = f.as_ref()?;
            let ops = ops.next()?;
            crate::items::compile::compile(&f.id, f.tier, &ops).ok()
        })
        .collect()
}

/// How many of the best ready items [`pick`] checks against the remote.
const CHECKED: usize = 16;

/// The item to claim: the one named (or [`Claimed::Held`] when another
/// live session holds it), or the best ready item nobody holds, leaving
/// out `passed_over`. Claims this session lost to another clone's since
/// its last look are noted and forgotten.
#[allow(clippy::too_many_arguments)]
fn pick(
    t: &Tracker,
    req: &ClaimRequest,
    confirm: bool,
    locked: &mut board::Locked,
    here: &str,
    passed_over: &[String],
    notes: &mut Vec<String>,
    now: i64,
) -> Result<std::result::Result<Item, Claimed>> {
    if let Some(spec) = &req.item {
        let f = t.resolve(spec)?;
        let mut one = vec![t.load(&f)?];
        claims::overlay(&mut one, &locked.board, now, here);
        let item = one.remove(0);
        if let Some(holder) = held_by_other(&item, &req.session, now) {
            return Ok(Err(Claimed::Held {
                id: item.id,
                title: item.title,
                holder,
            }));
        }
        if t.config.is_resolved(&item.status) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("{} is {}: there is nothing to claim", item.id, item.status),
            ));
        }
        return Ok(Ok(item));
    }
    let mut snap = t.snapshot_summary()?;
    let mine = [req.session.clone()];
    let remote = |ids: &[&str]| remote_items(t, ids);
    for (id, winner) in claims::lost(&locked.board, &snap.items, here, &mine, &remote) {
        notes.push(format!(
            "warning: you no longer hold {id}: {winner} claimed it at the same time in another clone and won; taking the next free item"
        ));
        locked.board.claims.remove(&id);
    }
    claims::overlay(&mut snap.items, &locked.board, now, here);
    let ready = crate::items::ready::ready_at(&snap.items, &t.config, now);
    let candidates: Vec<&Item> = ready
        .into_iter()
        .filter(|i| !passed_over.contains(&i.id))
        .collect();
    // With a remote, leave out the best candidates the remote shows claimed
    // by others (claims from other clones reach this work tree's files only
    // on the base branch).
    let mut taken = std::collections::HashSet::new();
    if confirm {
        let head: Vec<&str> = candidates
            .iter()
            .take(CHECKED)
            .map(|i| i.id.as_str())
            .collect();
        for (id, remote) in head.iter().zip(remote_items(t, &head)) {
            if remote.is_some_and(|r| held_by_other(&r, &req.session, now).is_some()) {
                taken.insert(id.to_string());
            }
        }
    }
    let best = candidates
        .iter()
        .find(|i| !taken.contains(&i.id))
        .map(|i| (*i).clone());
    drop(candidates);
    // Freeing 10,000 items is a tenth of a claim's time: not waited for.
    snap.discard();
    match best {
        Some(i) => Ok(Ok(i)),
        None => Err(Error::new(
            ErrorKind::NotFound,
            "nothing to claim: no ready item is free",
        )
        .with_hint("'htrac list --status in_progress' shows what others hold")),
    }
}

/// Releases a claim: see [`Release`]. The item's status goes back to what
/// it was before the claim (when it is still `in_progress`).
pub fn release(tx: &mut Transaction, req: &Release) -> Result<(Outcome, Claim)> {
    let t = tx.tracker;
    let now = claims::now();
    let (file, lock_file) = board::paths(&t.root, t.work_tree.as_deref());
    let here = board::worktree_key(t.work_tree.as_deref());
    let mut locked = board::lock(&file, &lock_file, now)?;
    let f = t.resolve(&req.item)?;
    let mut one = vec![t.load(&f)?];
    claims::overlay(&mut one, &locked.board, now, &here);
    let item = one.remove(0);
    let Some(claim) = Claim::of(&item) else {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!("{} is not claimed", item.id),
        ));
    };
    if claim.session != req.session && claim.is_live(now) {
        if !req.breaking {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} is claimed by {} until {}, not by this session ({})",
                    item.id,
                    claim.session,
                    claim.until_utc(),
                    req.session
                ),
            )
            .with_hint("only its holder releases a claim; a human can break it with --break"));
        }
        if t.actor.is_agent() {
            return Err(Error::new(
                ErrorKind::HumanOnly,
                format!(
                    "only a human can break {}'s claim on {}",
                    claim.session, item.id
                ),
            ));
        }
    }
    let status = (item.status == claims::CLAIMED_STATUS
        && !claim.from.is_empty()
        && claim.from != item.status)
        .then(|| claim.from.clone());
    let outcome = update(
        tx,
        &Update {
            item: item.id.clone(),
            status,
            remove_fields: claims::FIELDS.iter().map(|s| s.to_string()).collect(),
            ..Update::default()
        },
    )?;
    locked.board.claims.remove(&item.id);
    locked.save()?;
    tx.claims_written(&item.id);
    Ok((outcome, claim))
}
