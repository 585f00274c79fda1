//! `list`'s text output kept whole ([`htrac::cache::memo`]): stdout, the
//! notes on stderr and the rows' `:N` stash, under the exact listing of
//! every op file, the read cache's keys (edit-mode ops, policy), the
//! configuration, the actor, the host's claim board and the arguments —
//! so a `list` of an unchanged tracker prints what it printed last time
//! without decoding, sorting or rendering an item. A claim's lease ending
//! changes rows and statuses: a kept output is used only before the first
//! lease it shows ends.
//!
//! Not used when `HTRAC_CACHE_STATS` is set: that knob reports how many
//! items each read took from the read cache, so the read takes place.

use htrac::cache::memo::{Keeper, Lookup};
use htrac::items::slim::{Listable, Slim};
use htrac::tracker::load::Snapshot;
use htrac::{Result, Tracker};

use crate::args::ListArgs;
use crate::Output;

/// Kept outputs per tracker, one per slot (the arguments pick one): a few
/// listings with different filters taking turns each keep theirs.
const SLOTS: u64 = 4;

/// What a `list` must produce itself, and how to keep it.
pub struct Miss {
    pub snap: Snapshot<Slim>,
    keeper: Option<Keeper>,
    /// Where this command's output starts in `out` (a batch shares it).
    stdout_at: usize,
    stderr_at: usize,
    /// The tracker's warnings from before this command (put back after).
    earlier: Vec<String>,
}

/// `list a`'s kept output, added to `out` (`None`), or the snapshot to
/// list from.
pub fn lookup(a: &ListArgs, t: &Tracker, out: &mut Output) -> Result<Option<Miss>> {
    if std::env::var_os("HTRAC_CACHE_STATS").is_some() {
        return Ok(Some(Miss::plain(t.snapshot_slim()?, out)));
    }
    let args = format!("{a:?}");
    let (board_path, _) = htrac::claims::board::paths(&t.root, t.work_tree.as_deref());
    let mut inputs = format!(
        "list 1\0{args}\0{:?}\0{}\0{}\0{:?}\0",
        t.config,
        t.actor.name,
        t.actor.role.as_str(),
        t.work_tree,
    )
    .into_bytes();
    inputs.extend(std::fs::read(&board_path).unwrap_or_default());
    let slot = htrac::cache::checksum(0, args.as_bytes()) % SLOTS;
    let earlier = t.take_warnings();
    let put_back = |t: &Tracker, earlier: Vec<String>| {
        let now = t.take_warnings();
        earlier.into_iter().chain(now).for_each(|w| t.warn(w));
    };
    let (snap, keeper) =
        match htrac::cache::memo::summary_or_memo(t, &format!("list{slot}"), &inputs) {
            Ok(Lookup::Hit(kept)) => {
                let found = Kept::decode(kept.result()).filter(Kept::current).map(|k| {
                    htrac::alias::save_text(&t.root, k.stash);
                    (k.stderr.to_string(), k.stdout_at)
                });
                if let Some((stderr, at)) = found {
                    out.stderr.push_str(&stderr);
                    // The rest of the memo file's bytes: stdout as it was
                    // printed (its control characters escaped), sealed with
                    // the rest — printed as they are, not copied.
                    let stdout = kept.into_tail(at);
                    if out.escaped.is_empty() {
                        out.escaped = stdout;
                    } else {
                        out.escaped.extend_from_slice(&stdout);
                    }
                    put_back(t, earlier);
                    return Ok(None);
                }
                (t.snapshot_slim()?, None)
            }
            Ok(Lookup::Miss(snap, keeper)) => (snap, keeper),
            Err(e) => {
                put_back(t, earlier);
                return Err(e);
            }
        };
    Ok(Some(Miss {
        snap,
        keeper,
        stdout_at: out.stdout.len(),
        stderr_at: out.stderr.len(),
        earlier,
    }))
}

impl Miss {
    fn plain(snap: Snapshot<Slim>, out: &Output) -> Miss {
        Miss {
            snap,
            keeper: None,
            stdout_at: out.stdout.len(),
            stderr_at: out.stderr.len(),
            earlier: Vec::new(),
        }
    }

    /// Keeps what `list` added to `out` (its rows' stash is `stash`), when
    /// it may be kept: nothing else warned meanwhile. What it printed is
    /// then kept as printed: escaped ([`htrac::safetext::escape`]), and
    /// handed to `out` so (not to be escaped again).
    pub fn keep(self, t: &Tracker, out: &mut Output, stash: &str) -> Snapshot<Slim> {
        let during = t.take_warnings();
        if let (Some(keeper), true) = (self.keeper, during.is_empty()) {
            let printed = if self.stdout_at == 0 {
                std::mem::take(&mut out.stdout)
            } else {
                out.stdout.split_off(self.stdout_at)
            };
            let escaped = match htrac::safetext::escape(&printed) {
                std::borrow::Cow::Borrowed(_) => printed.into_bytes(),
                std::borrow::Cow::Owned(e) => e.into_bytes(),
            };
            let kept = Kept {
                next_lapse: next_lapse(&self.snap, t),
                stash,
                stderr: &out.stderr[self.stderr_at..],
                stdout: &escaped,
                stdout_at: 0,
            };
            keeper.keep(kept.encode());
            out.escaped.extend_from_slice(&escaped);
        }
        self.earlier
            .into_iter()
            .chain(during)
            .for_each(|w| t.warn(w));
        self.snap
    }
}

/// When the first live claim the output could show ends (Unix seconds):
/// an item's (the board's laid over it), or the host board's own.
fn next_lapse(snap: &Snapshot<Slim>, t: &Tracker) -> Option<i64> {
    let (board_path, _) = htrac::claims::board::paths(&t.root, t.work_tree.as_deref());
    let board = htrac::claims::board::read(&board_path);
    htrac::claims::next_lapse(
        snap.items
            .iter()
            .filter_map(Listable::claim)
            .map(|c| c.until)
            .chain(board.claims.values().map(|e| e.until)),
    )
}

/// A kept output, as [`Kept::encode`] lays it out: the lease end (or
/// `i64::MAX`), then the stash, stderr and stdout, each after its length
/// (stdout last: a hit takes it as it lies).
struct Kept<'a> {
    next_lapse: Option<i64>,
    stash: &'a str,
    stderr: &'a str,
    /// As printed: escaped.
    stdout: &'a [u8],
    /// Where stdout begins in the encoded bytes.
    stdout_at: usize,
}

impl<'a> Kept<'a> {
    fn encode(&self) -> Vec<u8> {
        let parts = [self.stash.as_bytes(), self.stderr.as_bytes(), self.stdout];
        let mut v = Vec::with_capacity(32 + parts.iter().map(|p| p.len()).sum::<usize>());
        v.extend_from_slice(&self.next_lapse.unwrap_or(i64::MAX).to_le_bytes());
        for p in parts {
            v.extend_from_slice(&(p.len() as u64).to_le_bytes());
            v.extend_from_slice(p);
        }
        v
    }

    fn decode(bytes: &'a [u8]) -> Option<Kept<'a>> {
        fn take<'b>(b: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
            let (x, rest) = b.split_at_checked(n)?;
            *b = rest;
            Some(x)
        }
        fn part<'b>(b: &mut &'b [u8]) -> Option<&'b str> {
            let n = u64::from_le_bytes(take(b, 8)?.try_into().ok()?);
            std::str::from_utf8(take(b, usize::try_from(n).ok()?)?).ok()
        }
        let mut b = bytes;
        let lapse = i64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
        let stash = part(&mut b)?;
        let stderr = part(&mut b)?;
        // Stdout: bytes to print as they are.
        let n = u64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
        let stdout_at = bytes.len() - b.len();
        let stdout = take(&mut b, usize::try_from(n).ok()?)?;
        b.is_empty().then_some(Kept {
            next_lapse: (lapse != i64::MAX).then_some(lapse),
            stash,
            stderr,
            stdout,
            stdout_at,
        })
    }

    /// Shows no claim whose lease has ended since.
    fn current(&self) -> bool {
        htrac::claims::still_live(self.next_lapse)
    }
}
