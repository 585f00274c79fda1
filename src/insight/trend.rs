//! The open items' mean priority, day by day, replayed from the op logs
//! (as the reference's `priority-trend` replays them).
//!
//! For each item, every UTC day on which it has an op is a candidate change
//! point; its state at the end of that day is the fold ([`compile`]) of
//! the ops whose `at` falls on or before it — an op without a readable
//! `at` counts from the item's first day, and a prefix without a create op
//! is no item yet. An item is open on a day when its status then is not a
//! resolved one; every item starts out not open. The series has one point
//! per calendar day from the first change point to the last (or the
//! `since`/`until` window), quiet days carrying the state forward.
//!
//! [`svg::trend_svg`](super::svg::trend_svg) draws the series as a chart;
//! [`csv`] and [`points_json`] print it.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::config::Scope;
use crate::items::compile::compile;
use crate::items::tiers::Tier;
use crate::oplog::op::Op;
use crate::tracker::Tracker;

/// The default SVG file name (in the working directory), as the reference's.
pub const DEFAULT_OUT: &str = "tracker-priority-trend.svg";

/// The open items at the end of one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Days since 1970-01-01.
    pub day: i64,
    pub open: usize,
    /// `None` when nothing was open.
    pub mean_priority: Option<f64>,
}

impl Point {
    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format_day(self.day)
    }

    /// The mean to four decimals, as the JSON and CSV report it.
    pub fn rounded_mean(&self) -> Option<f64> {
        self.mean_priority.map(round4)
    }
}

fn round4(x: f64) -> f64 {
    // `{:.4}` rounds the exact binary value half to even, as Python's round().
    format!("{x:.4}").parse().unwrap_or(x)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    crate::timestamp::format_utc(day * 86400)[..10].to_string()
}

/// The day number of a `YYYY-MM-DD` date (a real calendar date).
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        s.get(r.clone())
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    Some(crate::timestamp::days_from_civil(y, m, d))
}

/// The day of an op's `at` (its first ten characters), if readable.
fn op_day(op: &Op) -> Option<i64> {
    parse_day(op.at.get(..10)?)
}

/// One item's change points: (day, Some(priority)) while open, (day, None) once not.
pub fn item_timeline(id: &str, ops: &[Op], resolved: &[String]) -> Vec<(i64, Option<f64>)> {
    // Compiling does not depend on op order, so sort by day (undated
    // first) once and fold growing prefixes.
    let mut dated: Vec<(i64, &Op)> = ops
        .iter()
        .map(|o| (op_day(o).unwrap_or(i64::MIN), o))
        .collect();
    dated.sort_by_key(|(d, _)| *d);
    let sorted: Vec<Op> = dated.iter().map(|(_, o)| (*o).clone()).collect();
    let mut out = Vec::new();
    let mut previous: Option<f64> = None;
    let mut end = 0;
    while end < dated.len() {
        let day = dated[end].0;
        while end < dated.len() && dated[end].0 == day {
            end += 1;
        }
        if day == i64::MIN {
            continue;
        }
        let state = match compile(id, Tier::Workspace, &sorted[..end]) {
            Ok(item) if !resolved.contains(&item.status) => item.priority.as_f64(),
            _ => None,
        };
        if state != previous {
            out.push((day, state));
            previous = state;
        }
    }
    out
}

/// One point per day from `since` (default: the first change) to `until`
/// (default: the last change); state from before `since` carries in.
pub fn series(
    ops_by_item: &[(String, Vec<Op>)],
    resolved: &[String],
    since: Option<i64>,
    until: Option<i64>,
) -> Vec<Point> {
    let mut events: Vec<(i64, &str, Option<f64>)> = ops_by_item
        .iter()
        .flat_map(|(id, ops)| {
            item_timeline(id, ops, resolved)
                .into_iter()
                .map(move |(d, s)| (d, id.as_str(), s))
        })
        .collect();
    events.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    let (mut day, last) = (since.unwrap_or(first.0), until.unwrap_or(last.0));
    let mut open: HashMap<&str, f64> = HashMap::new();
    let mut points = Vec::new();
    let mut i = 0;
    while day <= last {
        while i < events.len() && events[i].0 <= day {
            let (_, id, state) = events[i];
            match state {
                Some(p) => open.insert(id, p),
                None => open.remove(id),
            };
            i += 1;
        }
        let n = open.len();
        points.push(Point {
            day,
            open: n,
            mean_priority: (n > 0).then(|| open.values().sum::<f64>() / n as f64),
        });
        day += 1;
    }
    points
}

/// Each item's ID and ops, in tier-then-ID order of first appearance.
pub type OpsByItem = Vec<(String, Vec<Op>)>;

/// Every item's op log (file order) from the tiers an analysis reads —
/// workspace and stealth only when the scope is `workspace` — with the
/// ops of one ID in several tiers put together. Unreadable files are left
/// out, and reported in the returned warnings.
pub fn ops_by_item(t: &Tracker) -> crate::Result<(OpsByItem, Vec<String>)> {
    let mut out: Vec<(String, Vec<Op>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut warnings = Vec::new();
    for tier in analysis_tiers(t) {
        for f in t.tier_files(tier)? {
            let log = match crate::oplog::read(&f.path) {
                Ok(l) => l,
                Err(e) => {
                    warnings.push(format!(
                        "warning: item {} [{}] cannot be read and is left out: {e}",
                        f.id,
                        tier.as_str()
                    ));
                    continue;
                }
            };
            for torn in &log.torn {
                warnings.push(format!("warning: {torn}"));
            }
            let ops = log.ops.into_iter().map(|(_, o)| o);
            match index.get(&f.id) {
                Some(&n) => out[n].1.extend(ops),
                None => {
                    index.insert(f.id.clone(), out.len());
                    out.push((f.id, ops.collect()));
                }
            }
        }
    }
    Ok((out, warnings))
}

/// The tiers `clusters` and `priority-trend` read.
pub fn analysis_tiers(t: &Tracker) -> Vec<Tier> {
    match t.config.scope {
        Scope::Workspace => vec![Tier::Workspace, Tier::Stealth],
        Scope::All => Tier::ALL.to_vec(),
    }
}

/// The tracker's series, ready to draw or print.
pub fn tracker_series(
    t: &Tracker,
    since: Option<i64>,
    until: Option<i64>,
) -> crate::Result<(Vec<Point>, Vec<String>)> {
    let (ops, warnings) = ops_by_item(t)?;
    Ok((
        series(&ops, &t.config.resolved_statuses, since, until),
        warnings,
    ))
}

/// `day,open,mean_priority` lines (the mean empty when nothing was open).
pub fn csv(points: &[Point]) -> String {
    let mut s = String::from("day,open,mean_priority\n");
    for p in points {
        let mean = p
            .rounded_mean()
            .map(crate::items::ids::python_float_repr)
            .unwrap_or_default();
        s.push_str(&format!("{},{},{mean}\n", p.date(), p.open));
    }
    s
}

/// The points as the `--json` output lists them.
pub fn points_json(points: &[Point]) -> Value {
    Value::Array(
        points
            .iter()
            .map(|p| json!({"day": p.date(), "open": p.open, "mean_priority": p.rounded_mean()}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_format() {
        assert_eq!(parse_day("1970-01-02"), Some(1));
        assert_eq!(
            format_day(parse_day("2026-02-28").unwrap() + 1),
            "2026-03-01"
        );
        assert_eq!(
            format_day(parse_day("2024-02-28").unwrap() + 1),
            "2024-02-29"
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "2026-01-0x",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn means_round_half_even_on_the_exact_value() {
        assert_eq!(round4(65.0 / 32.0), 2.0312);
        assert_eq!(round4(111.0 / 32.0), 3.4688);
        assert_eq!(round4(2.0 / 3.0), 0.6667);
    }
}
