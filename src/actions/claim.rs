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

/// Claims an item: see [`ClaimRequest`].
pub fn claim(tx: &mut Transaction, req: &ClaimRequest) -> Result<Claimed> {
    let t = tx.tracker;
    let lease = match req.lease {
        Some(l) => l,
        None => configured_lease(t)?,
    };
    let now = claims::now();
    let (file, lock_file) = board::paths(&t.root, t.work_tree.as_deref());
    let here = board::worktree_key(t.work_tree.as_deref());
    let mut locked = board::lock(&file, &lock_file, now)?;
    let mut lost = Vec::new();
    let item = match &req.item {
        Some(spec) => {
            let f = t.resolve(spec)?;
            let mut one = vec![t.load(&f)?];
            claims::overlay(&mut one, &locked.board, now, &here);
            let item = one.remove(0);
            if let Some(holder) = held_by_other(&item, &req.session, now) {
                return Ok(Claimed::Held {
                    id: item.id,
                    title: item.title,
                    holder,
                });
            }
            if t.config.is_resolved(&item.status) {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("{} is {}: there is nothing to claim", item.id, item.status),
                ));
            }
            item
        }
        None => {
            let mut snap = t.snapshot_summary()?;
            // Claims this session lost to another clone's (after a sync):
            // say so, and forget them here.
            let mine = [req.session.clone()];
            for (id, winner) in claims::lost(&locked.board, &snap.items, &here, &mine) {
                lost.push(format!(
                    "warning: you no longer hold {id}: {winner} claimed it at the same time in another clone and won; taking the next free item"
                ));
                locked.board.claims.remove(&id);
            }
            claims::overlay(&mut snap.items, &locked.board, now, &here);
            let ready = crate::items::ready::ready_at(&snap.items, &t.config, now);
            match ready.first() {
                Some(i) => (*i).clone(),
                None => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        "nothing to claim: no ready item is free",
                    )
                    .with_hint("'htrac list --status in_progress' shows what others hold"))
                }
            }
        }
    };
    let previous = Claim::of(&item);
    let renewed = previous
        .as_ref()
        .is_some_and(|c| c.is_live(now) && c.session == req.session);
    // An expired or renewed claim keeps the status from before it.
    let from = match &previous {
        Some(c) if item.status == claims::CLAIMED_STATUS && !c.from.is_empty() => c.from.clone(),
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
    let outcome = update(
        tx,
        &Update {
            item: item.id.clone(),
            status,
            fields: claim.to_fields(),
            ..Update::default()
        },
    )?;
    let mut outcome = outcome;
    outcome.warnings.splice(0..0, lost);
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
    tx.claims_written(&item.id);
    locked.save()?;
    Ok(Claimed::Taken {
        outcome: Box::new(outcome),
        claim,
        renewed,
    })
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
