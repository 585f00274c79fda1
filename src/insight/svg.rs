//! The priority-trend chart as a self-contained SVG document: a title,
//! a legend, the mean priority of the open items (left axis) and how many
//! items were open (right axis) as two lines over the days, date ticks
//! below, and a hover title on every point. Plain text, no scripts, no
//! external resources; every piece of text is escaped. The same string
//! serves the `priority-trend` command and the web page.

use std::fmt::Write;

use super::trend::Point;
use crate::safetext;

pub const DEFAULT_TITLE: &str = "Mean priority of open tracker items";

const W: f64 = 960.0;
const H: f64 = 480.0;
const LEFT: f64 = 76.0;
const RIGHT: f64 = 76.0;
const TOP: f64 = 84.0;
const BOTTOM: f64 = 64.0;
const INK: &str = "#222222";
const GRID: &str = "#dddddd";
const MEAN: &str = "#2a6fdb";
const OPEN: &str = "#e07b00";

/// The priority axis: the data range rounded out to quarter steps, inside 0-4.
fn priority_range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = ((lo * 4.0).floor() / 4.0, (hi * 4.0).ceil() / 4.0);
    if lo == hi {
        lo -= 0.25;
        hi += 0.25;
    }
    (lo.max(0.0), hi.min(4.0))
}

/// Tick values: multiples of `step` from `lo` to `hi`.
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() * step;
    let n = ((hi - first) / step + 1e-9).floor() as i64;
    (0..=n.max(0)).map(|k| first + k as f64 * step).collect()
}

/// A round step (1, 2 or 5 times a power of ten) giving at most about six ticks.
fn count_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

/// The chart of `points` with the default title.
pub fn trend_svg(points: &[Point]) -> String {
    trend_svg_titled(points, DEFAULT_TITLE)
}

/// The chart of `points` under `title`.
pub fn trend_svg_titled(points: &[Point], title: &str) -> String {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{}\">",
        safetext::xml(title)
    );
    let _ = writeln!(s, "<title>{}</title>", safetext::xml(title));
    let _ = writeln!(s, "<rect width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>");
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
        W / 2.0,
        safetext::xml(title)
    );
    let means: Vec<f64> = points.iter().filter_map(|p| p.mean_priority).collect();
    if means.is_empty() {
        let what = if points.is_empty() {
            "no history in this window"
        } else {
            "no open items in this window"
        };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{what}</text>\n</svg>",
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    let (first, last) = (points[0].day, points[points.len() - 1].day);
    let span = (last - first) as f64;
    let x = |day: i64| {
        if span > 0.0 {
            LEFT + (day - first) as f64 / span * pw
        } else {
            LEFT + pw / 2.0
        }
    };
    let (lo, hi) = priority_range(&means);
    let y_mean = |v: f64| TOP + ph - (v - lo) / (hi - lo) * ph;
    let max_open = points.iter().map(|p| p.open).max().unwrap_or(0) as f64;
    let cstep = count_step(max_open);
    let ctop = ((max_open / cstep).ceil() * cstep).max(cstep);
    let y_open = |v: f64| TOP + ph - v / ctop * ph;

    // Grid and left axis (mean priority).
    let pstep = if hi - lo <= 1.5 {
        0.25
    } else if hi - lo <= 3.0 {
        0.5
    } else {
        1.0
    };
    for v in ticks(lo, hi, pstep) {
        let yy = fmt1(y_mean(v));
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{GRID}\"/>",
            LEFT + pw
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MEAN}\">{v:.2}</text>",
            LEFT - 8.0,
            fmt1(y_mean(v) + 4.0)
        );
    }
    // Right axis (open items).
    for v in ticks(0.0, ctop, cstep) {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"start\" fill=\"{OPEN}\">{v}</text>",
            LEFT + pw + 8.0,
            fmt1(y_open(v) + 4.0)
        );
    }
    // Date ticks: at most six, evenly spread, always the first and last day.
    let n_ticks = (last - first + 1).min(6);
    let mut tick_days: Vec<i64> = (0..n_ticks)
        .map(|k| {
            if n_ticks > 1 {
                first + ((k as f64) * span / (n_ticks - 1) as f64).round() as i64
            } else {
                first
            }
        })
        .collect();
    tick_days.dedup();
    for d in tick_days {
        let xx = fmt1(x(d));
        let _ = writeln!(
            s,
            "<line x1=\"{xx}\" y1=\"{}\" x2=\"{xx}\" y2=\"{}\" stroke=\"{INK}\"/>",
            TOP + ph,
            TOP + ph + 5.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{xx}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
            TOP + ph + 20.0,
            super::trend::format_day(d)
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"{INK}\"/>"
    );
    // Axis titles.
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">day (UTC; state at the end of the day)</text>",
        LEFT + pw / 2.0,
        H - 16.0
    );
    let mid = TOP + ph / 2.0;
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{mid}\" text-anchor=\"middle\" fill=\"{MEAN}\" transform=\"rotate(-90 20 {mid})\">mean priority (0 = most urgent)</text>"
    );
    let rx = W - 20.0;
    let _ = writeln!(
        s,
        "<text x=\"{rx}\" y=\"{mid}\" text-anchor=\"middle\" fill=\"{OPEN}\" transform=\"rotate(90 {rx} {mid})\">open items</text>"
    );
    // Open items: one line over every day.
    let open_path: Vec<String> = points
        .iter()
        .map(|p| format!("{},{}", fmt1(x(p.day)), fmt1(y_open(p.open as f64))))
        .collect();
    let _ = writeln!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{OPEN}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>",
        open_path.join(" ")
    );
    // Mean priority: a line through the days with open items, broken
    // where nothing was open.
    let mut runs: Vec<Vec<String>> = vec![Vec::new()];
    for p in points {
        match p.mean_priority {
            Some(m) => runs.last_mut().expect("a run").push(format!(
                "{},{}",
                fmt1(x(p.day)),
                fmt1(y_mean(m))
            )),
            None if !runs.last().expect("a run").is_empty() => runs.push(Vec::new()),
            None => {}
        }
    }
    for run in runs.iter().filter(|r| r.len() > 1) {
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{MEAN}\" stroke-width=\"2\"/>",
            run.join(" ")
        );
    }
    for p in points {
        if let Some(m) = p.mean_priority {
            let _ = writeln!(
                s,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{MEAN}\"><title>{}: mean {m:.2} over {} open</title></circle>",
                fmt1(x(p.day)),
                fmt1(y_mean(m)),
                p.date(),
                p.open
            );
        }
    }
    // Legend, above the plot on the right.
    let lx = LEFT + pw - 250.0;
    let ly = 52.0;
    let _ = writeln!(
        s,
        "<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"250\" height=\"24\" fill=\"#ffffff\" stroke=\"{GRID}\"/>\
         <line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{MEAN}\" stroke-width=\"2\"/>\
         <text x=\"{}\" y=\"{}\" fill=\"{INK}\">mean priority</text>\
         <line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{OPEN}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\
         <text x=\"{}\" y=\"{}\" fill=\"{INK}\">open items</text></g>",
        lx,
        ly - 12.0,
        lx + 8.0,
        lx + 32.0,
        lx + 38.0,
        ly + 4.0,
        lx + 130.0,
        lx + 154.0,
        lx + 160.0,
        ly + 4.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_round_out_and_step_sensibly() {
        assert_eq!(priority_range(&[1.1, 2.6]), (1.0, 2.75));
        assert_eq!(priority_range(&[2.0]), (1.75, 2.25));
        assert_eq!(priority_range(&[0.0, 4.0]), (0.0, 4.0));
        assert_eq!(ticks(1.0, 2.0, 0.25), vec![1.0, 1.25, 1.5, 1.75, 2.0]);
        assert_eq!(count_step(3.0), 1.0);
        assert_eq!(count_step(23.0), 5.0);
        assert_eq!(count_step(140.0), 50.0);
    }
}
