//! The resident watcher (`htrac watch`), its shared half: where its socket
//! lives, the wire protocol, and the client a warm read asks "which op
//! files changed since (session, seq)?" — so it can `stat` only those
//! instead of every file ([`crate::cache::listing`]). The watcher itself
//! is [`daemon`].
//!
//! The watcher is optional: with none running, asking costs one failed
//! `connect` on a socket path that does not exist. Any failure — no
//! socket, a dead watcher (its socket left behind), another user at the
//! other end, a reply not within [`TIMEOUT`], a malformed reply — makes
//! the read fall back to the full scan, silently.
//!
//! Protocol (one request per connection, then the watcher closes it): the
//! client writes one line, `since SESSION SEQ` (or `since none`),
//! `status` or `stop`. To `since`, the watcher answers `rescan SESSION SEQ`
//! (the client must list everything: it knows no stamp of this session, or
//! events were lost — queue overflow, a watch lost, a directory replaced)
//! or `changed SESSION SEQ N` followed by N records `TIER NAME \0` (TIER
//! one byte, the tier's index in [`crate::items::tiers::Tier::ALL`]):
//! every name in a tier directory with an event after SEQ. Names are raw
//! bytes up to the NUL (no file name holds one).

pub mod auto;
pub mod daemon;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a client waits for the watcher before scanning itself.
pub const TIMEOUT: Duration = Duration::from_millis(100);

/// Where the watcher's state is valid: its session (random per watcher
/// run) and the sequence number of its last recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub session: u64,
    pub seq: u64,
}

/// The watcher's answer to "what changed since".
#[derive(Debug)]
pub enum Answer {
    /// List everything again; the listing is then valid at this stamp.
    Rescan(Stamp),
    /// Only these (tier index, file name) changed; valid at this stamp.
    Changed(Stamp, Vec<(u8, String)>),
}

/// What `status` reports.
#[derive(Debug, Clone)]
pub struct Status {
    pub pid: u32,
    pub stamp: Stamp,
    /// Names with an event recorded since the last rescan.
    pub names: usize,
    /// Times the watcher told its clients to list everything.
    pub rescans: u64,
    pub root: String,
}

/// The watcher socket of the tracker at `root`: `watch-<fingerprint>.sock`
/// in its cache directory ([`crate::alias::cache_dir`]), unless there is
/// none.
pub fn socket_path(root: &Path) -> Option<PathBuf> {
    let dir = crate::alias::cache_dir(root)?;
    Some(dir.join(format!("watch-{}.sock", crate::alias::fingerprint(root))))
}

/// The watcher's private directory, where it makes its cookie files.
pub fn cookie_dir(socket: &Path) -> PathBuf {
    socket.with_extension("d")
}

/// Connects to the watcher at `socket`, if one is there and runs as us.
pub fn connect(socket: &Path) -> Option<UnixStream> {
    let s = UnixStream::connect(socket).ok()?;
    let peer = rustix::net::sockopt::socket_peercred(&s).ok()?;
    if peer.uid != rustix::process::getuid() {
        return None;
    }
    s.set_read_timeout(Some(TIMEOUT)).ok()?;
    s.set_write_timeout(Some(TIMEOUT)).ok()?;
    Some(s)
}

/// Sends `request` and reads the whole reply (the watcher closes the
/// connection after it), within [`TIMEOUT`] overall.
fn exchange(mut s: UnixStream, request: &str) -> Option<Vec<u8>> {
    let deadline = Instant::now() + TIMEOUT;
    s.write_all(request.as_bytes()).ok()?;
    let mut reply = Vec::with_capacity(256);
    let mut buf = [0u8; 1 << 14];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match s.read(&mut buf) {
            Ok(0) => return Some(reply),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Asks the watcher on `s` what changed since `since` (`None`: never
/// asked, so everything).
pub fn ask(s: UnixStream, since: Option<Stamp>) -> Option<Answer> {
    let request = match since {
        Some(st) => format!("since {:016x} {}\n", st.session, st.seq),
        None => "since none\n".to_string(),
    };
    parse_answer(&exchange(s, &request)?)
}

/// Parses a reply to `since`.
pub fn parse_answer(reply: &[u8]) -> Option<Answer> {
    let nl = reply.iter().position(|&b| b == b'\n')?;
    let head = std::str::from_utf8(&reply[..nl]).ok()?;
    let mut words = head.split(' ');
    let kind = words.next()?;
    let stamp = Stamp {
        session: u64::from_str_radix(words.next()?, 16).ok()?,
        seq: words.next()?.parse().ok()?,
    };
    match kind {
        "rescan" if words.next().is_none() && nl + 1 == reply.len() => Some(Answer::Rescan(stamp)),
        "changed" => {
            let n: usize = words.next()?.parse().ok()?;
            if words.next().is_some() {
                return None;
            }
            let mut names = Vec::with_capacity(n.min(1 << 20));
            let mut rest = &reply[nl + 1..];
            while !rest.is_empty() {
                let tier = rest[0];
                let end = 1 + rest[1..].iter().position(|&b| b == 0)?;
                let name = String::from_utf8(rest[1..end].to_vec()).ok()?;
                if usize::from(tier) >= 3 {
                    return None;
                }
                names.push((tier, name));
                rest = &rest[end + 1..];
            }
            (names.len() == n).then_some(Answer::Changed(stamp, names))
        }
        _ => None,
    }
}

/// The status of the watcher at `socket` (`None`: none answers).
pub fn status(socket: &Path) -> Option<Status> {
    let reply = exchange(connect(socket)?, "status\n")?;
    let text = String::from_utf8(reply).ok()?;
    let (head, root) = text.strip_suffix('\n')?.split_once('\n')?;
    let w: Vec<&str> = head.split(' ').collect();
    match w.as_slice() {
        ["status", pid, session, seq, names, rescans] => Some(Status {
            pid: pid.parse().ok()?,
            stamp: Stamp {
                session: u64::from_str_radix(session, 16).ok()?,
                seq: seq.parse().ok()?,
            },
            names: names.parse().ok()?,
            rescans: rescans.parse().ok()?,
            root: root.to_string(),
        }),
        _ => None,
    }
}

/// Asks the watcher at `socket` to stop; true once it said it would. Waits
/// (up to 2 s) until it has removed its socket, so a watcher started next
/// finds none running.
pub fn stop(socket: &Path) -> bool {
    let stopping = connect(socket)
        .and_then(|s| exchange(s, "stop\n"))
        .is_some_and(|r| r == b"stopping\n");
    if stopping {
        let deadline = Instant::now() + Duration::from_secs(2);
        while socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    stopping
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_back() {
        let st = Stamp {
            session: 0xabc,
            seq: 7,
        };
        match parse_answer(b"rescan 0000000000000abc 7\n") {
            Some(Answer::Rescan(s)) => assert_eq!(s, st),
            other => panic!("{other:?}"),
        }
        match parse_answer(b"changed 0000000000000abc 7 2\n\x00.a.ops\0\x02.b c.frozen\0") {
            Some(Answer::Changed(s, names)) => {
                assert_eq!(s, st);
                assert_eq!(
                    names,
                    vec![(0, ".a.ops".to_string()), (2, ".b c.frozen".to_string())]
                );
            }
            other => panic!("{other:?}"),
        }
        // Truncated, miscounted, or a bad tier: no answer (the caller scans).
        assert!(parse_answer(b"changed 0000000000000abc 7 2\n\x00.a.ops\0").is_none());
        assert!(parse_answer(b"changed 0000000000000abc 7 1\n\x00.a.ops").is_none());
        assert!(parse_answer(b"changed 0000000000000abc 7 1\n\x05.a.ops\0").is_none());
        assert!(parse_answer(b"rescan 0000000000000abc 7\nextra").is_none());
        assert!(parse_answer(b"").is_none());
    }
}
