//! Text rendering shared by commands: item rows, the full `show` view, the
//! unread-human notice, short IDs. A title is shown on one line (its
//! newlines escaped); every other control character in text output is
//! escaped by `main::emit`.

use htrac::items::item::{value_text, Item};
use htrac::items::slim::Listable;
// Control characters in any text output are escaped where it is printed
// (`main::emit`); a title's newlines too, here, where a title is one line.
use htrac::safetext::one_line;
use serde_json::Value;

pub use htrac::items::ids::short_id;
pub use htrac::py::repr::py_str;

fn priority_text<T: Listable>(item: &T) -> String {
    match &*item.priority() {
        Value::Number(n) => n.to_string(),
        other => py_str(other),
    }
}

/// One row of `list` / `ready`, appended to `out`: what
/// `format!("{n:>2}  {id}  {status:<12} P{priority}  {tier:<12} {title}{claim}")`
/// makes, without its per-row allocations and formatter calls.
pub fn push_row<T: Listable>(out: &mut String, n: usize, item: &T) {
    let tier = match item.tier() {
        htrac::Tier::Canonical => "[canonical] ",
        htrac::Tier::Workspace => "[workspace] ",
        htrac::Tier::Stealth => "[stealth]   ",
    };
    if n < 10 {
        out.push(' ');
    }
    push_int(out, n as i64);
    out.push_str("  ");
    out.push_str(item.id());
    out.push_str("  ");
    pad(out, item.status(), 12);
    out.push_str(" P");
    match item.priority_int() {
        Some(i) => push_int(out, i),
        None => match &*item.priority() {
            Value::Number(n) => out.push_str(&n.to_string()),
            other => out.push_str(&py_str(other)),
        },
    }
    out.push_str("  ");
    out.push_str(tier);
    out.push(' ');
    out.push_str(&one_line(item.title()));
    if let Some(c) = item.claim() {
        out.push_str(&note(&c));
    }
}

/// `s` left-aligned in `width` characters (as `{:<width}`: it counts
/// characters, and never cuts).
fn pad(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    for _ in s.chars().count()..width {
        out.push(' ');
    }
}

/// `i` in decimal, as `Display` writes it.
fn push_int(out: &mut String, i: i64) {
    if (0..10).contains(&i) {
        out.push((b'0' + i as u8) as char);
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = i.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    digits[at..].iter().for_each(|&d| out.push(d as char));
}

/// `  (claimed by S until T)` / `  (claim by S expired T)` after a row of
/// a claimed item.
fn note(c: &htrac::claims::Claim) -> String {
    match c {
        c if c.is_live(htrac::claims::now()) => {
            format!(
                "  (claimed by {} until {})",
                one_line(&c.session),
                c.until_utc()
            )
        }
        c => format!(
            "  (claim by {} expired {})",
            one_line(&c.session),
            c.until_utc()
        ),
    }
}

fn list_text(values: &[Value]) -> String {
    format!(
        "[{}]",
        values.iter().map(value_text).collect::<Vec<_>>().join(", ")
    )
}

fn opt_text(v: Option<&str>) -> String {
    match v {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "null".into(),
    }
}

/// The full plain-text `show` view.
pub fn show(item: &Item, include_deleted: bool, include_history: bool) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("{}  {}", item.id, one_line(&item.title)));
    line(format!(
        "  status: {}  priority: P{}  tags: {}",
        item.status,
        priority_text(item),
        list_text(&item.tags)
    ));
    let pr_ref = match &item.pr_ref {
        Value::Null => None,
        v => Some(py_str(v)),
    };
    line(format!(
        "  parent: {}  isbefore: {}  pr_ref: {}",
        opt_text(item.parent.as_deref()),
        list_text(&item.isbefore),
        opt_text(pr_ref.as_deref())
    ));
    for (k, v) in &item.fields {
        line(format!("  fields.{k}: {}", py_str(v)));
    }
    if !item.description.is_empty() {
        line(format!("  description: {}", item.description));
    }
    let shown: Vec<_> = item
        .discussion
        .iter()
        .filter(|e| include_deleted || !e.is_tombstoned)
        .collect();
    let hidden = item.discussion.len() - shown.len();
    if shown.is_empty() && hidden == 0 {
        line("  discussion: (none)".into());
    } else {
        line(format!("  discussion: ({} entries)", shown.len()));
        for e in shown {
            let deleted = if e.is_tombstoned { "[DELETED] " } else { "" };
            let summary = if e.is_summary { "[summary] " } else { "" };
            line(format!(
                "    {deleted}[{}] {} ({}): {summary}{}",
                e.at, e.actor, e.by, e.message
            ));
            if include_history {
                for h in &e.edit_history {
                    line(format!("      edit-history: {h}"));
                }
            }
        }
        if hidden > 0 {
            line(format!("  (not shown: {hidden} deleted messages)"));
        }
    }
    if !item.locked_fields.is_empty() {
        let mut locked = item.locked_fields.clone();
        locked.sort();
        line(format!("  locked: [{}]", locked.join(", ")));
    }
    if !item.duplicate_of.is_empty() {
        line(format!("  duplicate_of: {}", list_text(&item.duplicate_of)));
    }
    if !item.not_duplicate_of.is_empty() {
        line(format!(
            "  not_duplicate_of: {}",
            list_text(&item.not_duplicate_of)
        ));
    }
    line(format!(
        "  tier: {}  created: {}  updated: {}",
        item.tier.as_str(),
        item.created_at,
        item.updated_at
    ));
    if item.frozen {
        line("  *** FROZEN ***".into());
    }
    if item.cross_tier_conflict {
        line("  *** CROSS-TIER CONFLICT ***".into());
    }
    if !item.rejected_ops.is_empty() {
        line(format!(
            "  rejected ops: {} (kept in the file, without effect)",
            item.rejected_ops.len()
        ));
        for r in &item.rejected_ops {
            line(format!(
                "    [{}] {} op by {} ({}), nonce {}: {}",
                r.at, r.kind, r.actor, r.by, r.nonce, r.reason
            ));
        }
    }
    out
}

/// The notice for a discuss refused after unread human messages.
pub fn unread_notice(item: &Item, typed: &str) -> String {
    htrac::items::messages::unread_notice(
        item,
        htrac::items::messages::Gate::Refused {
            ack: "--ack-thread",
            example: &format!("htrac discuss {typed} \"<your reply>\" --ack-thread"),
        },
    )
}

/// The `error:` a discuss refused by the unread-message gate exits with.
pub fn unread_refusal(item: &Item, typed: &str) -> htrac::Error {
    let n = item.unread_human().len();
    htrac::Error::new(
        htrac::ErrorKind::Conflict,
        format!(
            "not written: {typed} has {n} unread message{} from the human (shown above)",
            if n == 1 { "" } else { "s" }
        ),
    )
    .with_hint(format!(
        "read them, then re-run: htrac discuss {typed} \"<your reply>\" --ack-thread"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_what_format_makes() {
        for n in [1usize, 9, 10, 123] {
            for i in [0i64, 7, -3, 42, i64::MIN, i64::MAX] {
                let mut s = String::new();
                push_int(&mut s, i);
                assert_eq!(s, i.to_string());
                let mut s = String::new();
                push_int(&mut s, n as i64);
                assert_eq!(format!("{:>2}", s), format!("{n:>2}"));
            }
        }
        for (text, w) in [
            ("todo", 12),
            ("needs_human_review", 12),
            ("café", 6),
            ("", 3),
        ] {
            let mut s = String::new();
            pad(&mut s, text, w);
            assert_eq!(s, format!("{text:<w$}"));
        }
    }
}
