//! `clusters` and `priority-trend`: the backlog's shape for a human.

use htrac::insight::clusters::{self, Params};
use htrac::insight::tfidf::{IdMasker, MAX_DF, MIN_DF};
use htrac::insight::trend;
use htrac::{Error, Item, Result, Tracker};
use serde_json::{json, Value};

use crate::args::{ClustersArgs, Globals, TrendArgs};
use crate::Output;

/// To four decimals as Python's `round(x, 4)`: `{:.4}` rounds the exact
/// binary value, half to even.
fn round4(x: f64) -> f64 {
    format!("{x:.4}").parse().unwrap_or(x)
}

pub fn clusters(a: &ClustersArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let ClustersArgs {
        k,
        shared,
        status,
        all,
        min_size,
        limit,
    } = a;
    let (k, shared, min_size, limit) = (*k, *shared, *min_size, *limit);
    let snap = t.snapshot()?;
    super::report_broken(&snap, out);
    let tiers = trend::analysis_tiers(t);
    let fit: Vec<&Item> = snap
        .items
        .iter()
        .filter(|i| tiers.contains(&i.tier) && i.status != "deleted")
        .collect();
    let items: Vec<&Item> = if *all {
        fit.clone()
    } else if let Some(wanted) = status {
        fit.iter()
            .copied()
            .filter(|i| wanted.contains(&i.status))
            .collect()
    } else {
        fit.iter()
            .copied()
            .filter(|i| !t.config.is_resolved(&i.status))
            .collect()
    };
    let masker = IdMasker::for_config(&t.config);
    let params = Params {
        k,
        shared,
        min_df: MIN_DF,
        max_df: MAX_DF,
        ids: masker.as_ref(),
    };
    let mut found: Vec<clusters::Cluster> = clusters::compute(&items, &fit, &params)
        .into_iter()
        .filter(|c| c.ids.len() >= min_size)
        .collect();
    if limit > 0 {
        found.truncate(limit);
    }
    let members = |c: &clusters::Cluster| -> Vec<&Item> {
        let mut m: Vec<&Item> = c
            .ids
            .iter()
            .filter_map(|id| items.iter().rev().find(|i| &i.id == id).copied())
            .collect();
        m.sort_by(|a, b| (a.priority_num(), &a.id).cmp(&(b.priority_num(), &b.id)));
        m
    };
    if g.json {
        let list: Vec<Value> = found
            .iter()
            .enumerate()
            .map(|(n, c)| {
                json!({
                    "rank": n + 1,
                    "size": c.ids.len(),
                    "mean_similarity": round4(c.mean_similarity),
                    "members": members(c).iter().map(|m| json!({
                        "id": m.id, "kind": m.kind, "status": m.status,
                        "priority": m.priority, "title": m.title,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let payload = json!({
            "k": k, "shared": shared, "items": items.len(), "fit_items": fit.len(),
            "clusters": list,
        });
        out.line(htrac::py::json::pretty(&payload));
        return Ok(());
    }
    if found.is_empty() {
        out.line(format!(
            "(no clusters)  {} item(s) considered; k={k}, shared={shared}",
            items.len()
        ));
        return Ok(());
    }
    let covered: usize = found.iter().map(|c| c.ids.len()).sum();
    out.line(format!(
        "{} cluster(s) over {covered} of {} item(s)  (k={k}, shared={shared}; fit on {} items)",
        found.len(),
        items.len(),
        fit.len()
    ));
    for (n, c) in found.iter().enumerate() {
        out.line(format!(
            "\n#{}  size {}  mean similarity {:.2}",
            n + 1,
            c.ids.len(),
            c.mean_similarity
        ));
        for m in members(c) {
            out.line(format!("    {}  [{}]  {}", m.id, m.status, m.title));
        }
    }
    Ok(())
}

pub fn priority_trend(a: &TrendArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let TrendArgs {
        out: chart,
        csv,
        since,
        until,
    } = a;
    let csv = *csv;
    if csv && g.json {
        return Err(Error::user("--csv and --json are mutually exclusive")
            .with_hint("use one: --csv prints day,open,mean_priority lines; --json one object"));
    }
    let (since, until) = (*since, *until);
    let (points, warnings) = trend::tracker_series(t, since, until)?;
    for w in warnings {
        out.warn(w);
    }
    let target = match chart {
        Some(o) => Some(o.clone()),
        None if !g.json && !csv => Some(trend::DEFAULT_OUT.to_string()),
        None => None,
    };
    if let Some(path) = &target {
        std::fs::write(path, htrac::insight::svg::trend_svg(&points)).map_err(|e| {
            Error::user(format!("cannot write {path}: {e}"))
                .with_hint("pass --out with a writable path")
        })?;
    }
    if g.json {
        out.line(htrac::py::json::pretty(&json!({
            "resolved_statuses": t.config.resolved_statuses,
            "svg": target,
            "points": trend::points_json(&points),
        })));
        return Ok(());
    }
    if csv {
        out.stdout.push_str(&trend::csv(&points));
        return Ok(());
    }
    let path = target.unwrap_or_default();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        out.line(format!("wrote {path}: no days with history in this window"));
        return Ok(());
    };
    let summary = format!(
        "wrote {path}: {} day(s), {} to {}; ",
        points.len(),
        first.date(),
        last.date()
    );
    let plotted: Vec<&trend::Point> = points
        .iter()
        .filter(|p| p.mean_priority.is_some())
        .collect();
    match (plotted.first(), plotted.last()) {
        (Some(a), Some(b)) => out.line(format!(
            "{summary}mean priority of open items {:.2} ({} open) on {} -> {:.2} ({} open) on {}",
            a.mean_priority.unwrap_or(0.0),
            a.open,
            a.date(),
            b.mean_priority.unwrap_or(0.0),
            b.open,
            b.date()
        )),
        _ => out.line(format!("{summary}no open items on any day")),
    }
    Ok(())
}
