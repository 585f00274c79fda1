//! Claims: which agent session is working on an item, until when.
//!
//! A claim is recorded twice. The durable record is an ordinary `update` op
//! on the item — `status: in_progress` and three custom fields,
//! `claimed_by` (the session), `claim_until` (the lease's end, UTC) and
//! `claim_from` (the status before the claim) — so the reference and every
//! other clone can read it and git merges it like any other op. The
//! coordination record is the host's claim board ([`board`]), in the git
//! common directory shared by every worktree of the repository and guarded
//! by a file lock: a claim is decided and written while holding that lock,
//! so on one host two claims of one item can never both succeed, and every
//! worktree sees a claim made in another at once, before any commit.
//!
//! A claim is *live* until its lease ends. The holder's writes renew it by
//! its lease: claiming again, or any `update` (in the op itself, so every
//! clone sees it), or any other write through htrac (on this host's board). An expired claim leaves the item `in_progress`, and `ready`
//! offers it again. `release` gives a claim up (the status goes back to
//! `claim_from`); a human can break anyone's claim the same way.
//!
//! A session names one agent: `HTRAC_SESSION` when set (see the README's
//! "Many agents"), else `USER@HOST:WORKTREE` — one agent per worktree.

pub mod board;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::items::item::Item;

/// The custom field naming the session that holds the claim.
pub const CLAIMED_BY: &str = "claimed_by";
/// The custom field holding the lease's end (`YYYY-MM-DDTHH:MM:SSZ`).
pub const CLAIM_UNTIL: &str = "claim_until";
/// The custom field holding the status the item had before the claim.
pub const CLAIM_FROM: &str = "claim_from";
/// Every claim field.
pub const FIELDS: [&str; 3] = [CLAIMED_BY, CLAIM_UNTIL, CLAIM_FROM];

/// The lease when the config names none (`claims.lease`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(4 * 3600);

/// The status a claimed item has.
pub const CLAIMED_STATUS: &str = "in_progress";

/// A claim as the item's fields record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub session: String,
    /// The lease's end, Unix seconds.
    pub until: i64,
    /// The status before the claim ("" when unknown).
    pub from: String,
}

impl Claim {
    /// The claim `item`'s fields record, if any.
    pub fn of(item: &Item) -> Option<Claim> {
        Claim::from_fields(&item.fields)
    }

    pub fn from_fields(fields: &Map<String, Value>) -> Option<Claim> {
        let session = fields.get(CLAIMED_BY)?.as_str()?.to_string();
        let until = fields
            .get(CLAIM_UNTIL)
            .and_then(Value::as_str)
            .and_then(crate::timestamp::parse_utc)?;
        let from = fields
            .get(CLAIM_FROM)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Some(Claim {
            session,
            until,
            from,
        })
    }

    /// Whether the lease still runs at `now` (Unix seconds).
    pub fn is_live(&self, now: i64) -> bool {
        self.until > now
    }

    /// The lease's end as written in ops.
    pub fn until_utc(&self) -> String {
        crate::timestamp::format_utc(self.until)
    }

    /// The `fields` of the op that records this claim.
    pub fn to_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(CLAIMED_BY.into(), json!(self.session));
        m.insert(CLAIM_UNTIL.into(), json!(self.until_utc()));
        m.insert(CLAIM_FROM.into(), json!(self.from));
        m
    }

    /// `{"session", "until", "live"}` for `--json` views.
    pub fn to_json(&self, now: i64) -> Value {
        json!({"session": self.session, "until": self.until_utc(), "live": self.is_live(now)})
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The first of these lease ends still to come (Unix seconds): a result
/// derived from claims (a briefing, a listing) holds until then.
pub fn next_lapse(untils: impl IntoIterator<Item = i64>) -> Option<i64> {
    let now = now();
    untils.into_iter().filter(|&until| until > now).min()
}

/// Whether a result kept with [`next_lapse`] `at` shows no claim whose
/// lease has ended since.
pub fn still_live(at: Option<i64>) -> bool {
    at.is_none_or(|at| now() < at)
}

/// The current session's name: `HTRAC_SESSION`, else
/// `USER@HOST:WORKTREE` (`work_tree`, or `-` outside git).
pub fn session_name(user: &str, work_tree: Option<&Path>) -> String {
    // Control characters are dropped and the name cut to 200 characters:
    // it is shown in listings and written into ops.
    if let Some(s) = std::env::var("HTRAC_SESSION")
        .ok()
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty())
    {
        return s;
    }
    default_name(user, work_tree)
}

/// `USER@HOST:WORKTREE`: the session name when nothing names one.
fn default_name(user: &str, work_tree: Option<&Path>) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let tree = work_tree.map_or("-".to_string(), |p| p.display().to_string());
    format!("{user}@{host}:{tree}")
}

/// The names the current agent's claims may carry: `HTRAC_SESSION`, the
/// harness's session id (`session_id` of a hook event; our session-start
/// hook exports it as `HTRAC_SESSION` for the agent's commands where the
/// harness allows, see [`export_session`]), and the default name.
pub fn own_sessions(
    user: &str,
    work_tree: Option<&Path>,
    hook_session: Option<&str>,
) -> Vec<String> {
    let mut names = vec![session_name(user, work_tree)];
    if let Some(s) = hook_session.map(str::trim).filter(|s| !s.is_empty()) {
        names.push(s.to_string());
    }
    names.push(default_name(user, work_tree));
    names.dedup();
    names
}

/// Writes `export HTRAC_SESSION=ID` to the harness's environment file
/// (Claude Code's `CLAUDE_ENV_FILE`, read before each of the agent's shell
/// commands), so the agent's claims carry the harness's session id. Does
/// nothing when `HTRAC_SESSION` is already set, there is no such file, or
/// the id has characters a shell would read specially.
pub fn export_session(session_id: Option<&str>) -> Option<String> {
    if std::env::var_os("HTRAC_SESSION").is_some() {
        return None;
    }
    let id = session_id?.trim();
    let safe = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'));
    if !safe {
        return None;
    }
    let file = std::env::var_os("CLAUDE_ENV_FILE")?;
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .ok()?;
    f.write_all(format!("export HTRAC_SESSION={id}\n").as_bytes())
        .ok()?;
    Some(id.to_string())
}

/// Whether a live claim on `item` is held by one of `mine` (`Some(true)`),
/// by another session (`Some(false)`), or there is none (`None`).
pub fn held_by_me(item: &Item, mine: &[String], now: i64) -> Option<bool> {
    Claim::of(item)
        .filter(|c| c.is_live(now))
        .map(|c| mine.contains(&c.session))
}

/// What a write through htrac does to the host board's claim on `item`
/// (made in this work tree, `here`): a claim gone from the item's fields,
/// or an item now resolved, leaves the board; a write by the holder
/// (`session`) renews the lease by its length. `None`: nothing to change.
pub fn after_write(
    entry: &board::Entry,
    item: &Item,
    resolved: bool,
    session: &str,
    now: i64,
) -> Option<Option<board::Entry>> {
    let recorded = Claim::of(item);
    if resolved || recorded.as_ref().is_none_or(|c| c.session != entry.session) {
        return Some(None);
    }
    if entry.session == session && entry.lease > 0 && now + entry.lease > entry.until {
        let mut renewed = entry.clone();
        renewed.until = now + entry.lease;
        return Some(Some(renewed));
    }
    None
}

/// Claims this host's board gives to one of `mine` in work tree `here`
/// that another session holds now: claims made at the same time in another
/// clone, which won. The holder comes from `items` (this work tree's op
/// files) and, where those still show this session, from `remote` (the
/// item as the remote's base branch has it, which reaches a work tree's
/// files only on the base branch). Returns `(item ID, winner)`.
pub fn lost<T: crate::items::slim::Listable>(
    board: &board::Board,
    items: &[T],
    here: &str,
    mine: &[String],
    remote: &dyn Fn(&[&str]) -> Vec<Option<Item>>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut ask = Vec::new();
    for (id, entry) in &board.claims {
        if entry.worktree != here || !mine.contains(&entry.session) {
            continue;
        }
        let Some(item) = items.iter().find(|i| i.id() == id) else {
            continue;
        };
        match item.claim() {
            Some(c) if c.session != entry.session => out.push((id.clone(), c.session)),
            _ => ask.push((id.as_str(), entry.session.as_str())),
        }
    }
    if ask.is_empty() {
        return out;
    }
    let ids: Vec<&str> = ask.iter().map(|(id, _)| *id).collect();
    for ((id, session), item) in ask.iter().zip(remote(&ids)) {
        if let Some(c) = item.as_ref().and_then(Claim::of) {
            if c.session != *session {
                out.push((id.to_string(), c.session));
            }
        }
    }
    out
}

/// Parses a lease: a number with a unit, `90s`, `45m`, `4h`, `2d` (a bare
/// number is seconds).
pub fn parse_lease(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        Error::user(format!("'{text}' is not a lease")).with_hint("write e.g. 90s, 45m, 4h or 2d")
    })?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(Error::user(format!("'{text}' has an unknown unit"))
                .with_hint("write e.g. 90s, 45m, 4h or 2d"))
        }
    };
    if secs == 0 {
        return Err(Error::user("a lease must be longer than 0 s"));
    }
    Ok(Duration::from_secs(secs))
}

/// Lays the host board's live claims made in *other* work trees over
/// `items` (as if their ops had been read here), so a claim made in another
/// worktree shows at once. In `here`, the work tree the items were read
/// from ([`board::worktree_key`]), its own op files are the truth: a claim
/// released there by any means is not brought back. Claims the items' ops
/// record with a later lease are kept.
pub fn overlay<T: crate::items::slim::Listable>(
    items: &mut [T],
    board: &board::Board,
    now: i64,
    here: &str,
) {
    if board.claims.is_empty() {
        return;
    }
    for item in items.iter_mut() {
        let Some(entry) = board.claims.get(item.id()) else {
            continue;
        };
        if !entry.is_live(now) || entry.worktree == here {
            continue;
        }
        let mine = item.claim();
        if mine.as_ref().is_some_and(|c| c.until >= entry.until) {
            continue;
        }
        let claim = Claim {
            session: entry.session.clone(),
            until: entry.until,
            from: entry.from.clone(),
        };
        item.set_claim(&claim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_parse_with_units() {
        assert_eq!(parse_lease("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_lease("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_lease("45m").unwrap(), Duration::from_secs(2700));
        assert_eq!(parse_lease("4h").unwrap(), Duration::from_secs(14_400));
        assert_eq!(parse_lease("2d").unwrap(), Duration::from_secs(172_800));
        for bad in ["", "h", "4x", "-1h", "0", "1.5h"] {
            assert!(parse_lease(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_claim_round_trips_through_fields() {
        let c = Claim {
            session: "s1".into(),
            until: 1_800_000_000,
            from: "todo_hard".into(),
        };
        assert_eq!(Claim::from_fields(&c.to_fields()), Some(c.clone()));
        assert!(c.is_live(1_799_999_999));
        assert!(!c.is_live(1_800_000_000));
        let mut f = c.to_fields();
        f.remove(CLAIMED_BY);
        assert_eq!(Claim::from_fields(&f), None);
    }
}
