//! `watch`: the resident watcher (see `htrac::watch`) — start it in the
//! background (the default), run it in the foreground, stop it, or show
//! whether it runs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use htrac::{Error, Result, Tracker};
use serde_json::json;

use crate::args::{Globals, WatchArgs};
use crate::Output;

pub fn run(a: &WatchArgs, g: &Globals, t: &Tracker, out: &mut Output) -> Result<()> {
    let socket = htrac::watch::socket_path(&t.root).ok_or_else(|| {
        Error::user("htrac watch: no cache directory (set HOME or HTRAC_CACHE_DIR)")
    })?;
    match a.action.as_deref().unwrap_or("start") {
        "start" if a.foreground => {
            htrac::watch::daemon::run(t, a.idle.map(Duration::from_secs), || {
                let _ = writeln!(
                    std::io::stderr(),
                    "htrac watch: watching {} (pid {}); 'htrac watch stop' stops it",
                    t.root.display(),
                    std::process::id()
                );
            })
        }
        "start" => start(g, t, &socket, a.idle, out),
        "stop" => {
            htrac::watch::auto::mark_stopped(&t.root);
            let stopped = htrac::watch::stop(&socket);
            if g.json {
                out.line(htrac::py::json::compact(
                    &json!({"ok": true, "stopped": stopped}),
                ));
            } else if stopped {
                out.line("watcher stopped");
            } else {
                out.line("no watcher runs for this tracker");
            }
            Ok(())
        }
        "status" => {
            let st = htrac::watch::status(&socket);
            if g.json {
                out.line(htrac::py::json::compact(&match &st {
                    Some(s) => json!({
                        "running": true,
                        "pid": s.pid,
                        "session": format!("{:016x}", s.stamp.session),
                        "seq": s.stamp.seq,
                        "names": s.names,
                        "rescans": s.rescans,
                        "root": s.root,
                        "socket": socket.to_string_lossy(),
                    }),
                    None => json!({"running": false, "socket": socket.to_string_lossy()}),
                }));
            } else {
                match &st {
                    Some(s) => out.line(format!(
                        "watcher running (pid {}): {} events, {} names changed since its last rescan, {} rescans",
                        s.pid, s.stamp.seq, s.names, s.rescans
                    )),
                    None => out.line("no watcher runs for this tracker"),
                }
            }
            Ok(())
        }
        other => Err(Error::user(format!(
            "unknown watch action '{other}' (start, stop or status)"
        ))),
    }
}

/// Starts the watcher in the background and waits until it answers.
fn start(
    g: &Globals,
    t: &Tracker,
    socket: &Path,
    idle: Option<u64>,
    out: &mut Output,
) -> Result<()> {
    let report = |out: &mut Output, pid: u32, already: bool| {
        if g.json {
            out.line(htrac::py::json::compact(
                &json!({"ok": true, "pid": pid, "already_running": already}),
            ));
        } else if already {
            out.line(format!(
                "a watcher already runs for this tracker (pid {pid})"
            ));
        } else {
            out.line(format!("watcher started (pid {pid})"));
        }
    };
    htrac::watch::auto::clear(&t.root);
    if let Some(st) = htrac::watch::status(socket) {
        report(out, st.pid, true);
        return Ok(());
    }
    let mut child = spawn(t, idle, Stdio::piped())?;
    // (It may first wait its turn behind another start.)
    let wait = htrac::watch::daemon::START_WAIT + Duration::from_secs(5);
    let deadline = Instant::now() + wait;
    loop {
        if let Some(st) = htrac::watch::status(socket) {
            report(out, st.pid, st.pid != child.id());
            return Ok(());
        }
        if let Ok(Some(_)) = child.try_wait() {
            let mut why = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut why);
            }
            let why = why.trim().trim_start_matches("error: ");
            return Err(Error::user(format!("the watcher did not start: {why}")));
        }
        if Instant::now() > deadline {
            return Err(Error::internal(format!(
                "the watcher did not answer within {} s",
                wait.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `htrac watch --foreground [--idle SECS]` for `t` as a child in its own
/// process group (a Ctrl-C in this terminal does not stop it).
fn spawn(t: &Tracker, idle: Option<u64>, stderr: Stdio) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| Error::internal(format!("cannot find htrac's own binary: {e}")))?;
    let mut c = Command::new(exe);
    c.arg("--tracker-root")
        .arg(&t.root)
        .args(["watch", "--foreground"]);
    if let Some(secs) = idle {
        c.arg("--idle").arg(secs.to_string());
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| Error::internal(format!("cannot start the watcher: {e}")))
}

/// After reads that listed and stat-ed every op file of a large tracker
/// with no watcher running (`files`, from `htrac::watch::auto::take`):
/// starts one in the background, without waiting for it, and says so on
/// stderr. Returns the child, which a long-running caller reaps once it
/// exits (a command that ends at once leaves that to init).
pub fn auto_start(t: &Tracker, files: usize, out: &mut Output) -> Option<Child> {
    let files = match htrac::watch::auto::wanted(t, files) {
        Ok(Some(files)) => files,
        Ok(None) => return None,
        Err(e) => {
            out.warn(format!("htrac: no watcher started: {}", crate::message(&e)));
            return None;
        }
    };
    if !htrac::watch::auto::mark_started(&t.root) {
        return None;
    }
    let idle = htrac::watch::auto::IDLE_EXIT.as_secs();
    match spawn(t, Some(idle), Stdio::null()) {
        Ok(child) => {
            out.warn(format!(
                "htrac: started a resident watcher (pid {}) for this tracker's {files} op files, so reads stat only what changed; it exits after {} min unused ('htrac watch stop' stops it, 'watch: {{auto_start: off}}' in config.yaml keeps it off)",
                child.id(),
                idle / 60
            ));
            Some(child)
        }
        Err(e) => {
            out.warn(format!("htrac: no watcher started: {}", crate::message(&e)));
            None
        }
    }
}
