//! `htrac claim [ITEM] [--lease D]`, `htrac ready --claim` and `htrac
//! release ITEM [--break]`: the command line's requests for
//! [`htrac::actions::claim`] and [`htrac::actions::release`], and their
//! outcomes as a line or JSON.

use htrac::actions::{self, ClaimRequest, Claimed, Release, Transaction};
use htrac::claims::{self, Claim};
use htrac::Result;
use serde_json::json;

use crate::args::{ClaimArgs, Globals, ReleaseArgs};
use crate::render::short_id;
use crate::Output;

/// This process's session, for claims.
pub fn session(tx: &Transaction) -> String {
    let t = tx.tracker();
    claims::session_name(&t.actor.name, t.work_tree.as_deref())
}

pub fn run(a: &ClaimArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let ClaimArgs { item, lease } = a;
    let lease = lease.as_deref().map(claims::parse_lease).transpose()?;
    let req = ClaimRequest {
        item: item.clone(),
        lease,
        session: session(tx),
    };
    let done = actions::claim(tx, &req)?;
    let now = claims::now();
    match done {
        Claimed::Taken {
            outcome,
            claim,
            renewed,
        } => {
            for w in &outcome.warnings {
                out.warn(w);
            }
            let title = outcome.after.as_ref().map_or("", |i| i.title.as_str());
            if g.json {
                let v = json!({"ok": true, "id": outcome.id, "title": title,
                               "claim": claim.to_json(now), "renewed": renewed});
                out.line(htrac::py::json::compact(&v));
            } else {
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
        Claimed::Held { id, title, holder } => {
            if g.json {
                let v = json!({"ok": false, "id": id, "title": title,
                               "reason": "claimed", "holder": holder.to_json(now)});
                out.line(htrac::py::json::compact(&v));
            }
            Err(Claimed::held_error(&id, &holder))
        }
    }
}

pub fn release(a: &ReleaseArgs, g: &Globals, tx: &mut Transaction, out: &mut Output) -> Result<()> {
    let ReleaseArgs { item, breaking } = a;
    let req = Release {
        item: item.clone(),
        session: session(tx),
        breaking: *breaking,
    };
    let (outcome, claim): (_, Claim) = actions::release(tx, &req)?;
    for w in &outcome.warnings {
        out.warn(w);
    }
    let status = outcome.after.as_ref().map_or("", |i| i.status.as_str());
    if g.json {
        let v = json!({"ok": true, "id": outcome.id, "released": claim.to_json(claims::now()),
                       "status": status});
        out.line(htrac::py::json::compact(&v));
    } else {
        out.line(format!(
            "released {} (was {}'s; status {status})",
            short_id(&outcome.id),
            claim.session
        ));
    }
    Ok(())
}
