//! `htrac claim [ITEM] [--lease D]`, `htrac ready --claim` and `htrac
//! release ITEM [--break]`: the command line's requests for
//! [`htrac::actions::claim`] and [`htrac::actions::release`], and their
//! outcomes as a line or the library's JSON.

use htrac::actions::{self, ClaimRequest, Claimed, Release, Transaction};
use htrac::claims;
use htrac::Result;

use crate::args::{ClaimArgs, Globals, ReleaseArgs};
use crate::render::short_id;
use crate::Output;

pub fn run(a: &ClaimArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let ClaimArgs { item, lease } = a;
    let lease = lease.as_deref().map(claims::parse_lease).transpose()?;
    let req = ClaimRequest {
        item: item.clone(),
        lease,
        session: actions::session_of(tx.tracker()),
    };
    let done = actions::claim(tx, &req)?;
    if g.json {
        out.line(htrac::py::json::compact(&done.to_json(claims::now())));
    }
    match done {
        Claimed::Taken {
            outcome,
            claim,
            renewed,
        } => {
            for w in &outcome.warnings {
                out.warn(w);
            }
            if !g.json {
                let title = outcome.after.as_ref().map_or("", |i| i.title.as_str());
                let verb = if renewed { "renewed" } else { "claimed" };
                out.line(format!(
                    "{verb} {} \"{title}\" until {} (session {})",
                    short_id(&outcome.id),
                    claim.until_utc(),
                    claim.session
                ));
            }
            Ok(())
        }
        Claimed::Held { id, holder, .. } => Err(Claimed::held_error(&id, &holder)),
    }
}

pub fn release(a: &ReleaseArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let ReleaseArgs { item, breaking } = a;
    let req = Release {
        item: item.clone(),
        session: actions::session_of(tx.tracker()),
        breaking: *breaking,
    };
    let (outcome, claim) = actions::release(tx, &req)?;
    for w in &outcome.warnings {
        out.warn(w);
    }
    if g.json {
        let v = actions::released_json(&outcome, &claim, claims::now());
        out.line(htrac::py::json::compact(&v));
    } else {
        let status = outcome.after.as_ref().map_or("", |i| i.status.as_str());
        out.line(format!(
            "released {} (was {}'s; status {status})",
            short_id(&outcome.id),
            claim.session
        ));
    }
    Ok(())
}
