//! `watch`: the resident watcher (see `htrac::watch`) — start it in the
//! background (the default), run it in the foreground, stop it, or show
//! whether it runs.

use std::io::{Read, Write};
use std::path::Path;
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
        "start" if a.foreground => htrac::watch::daemon::run(t, || {
            let _ = writeln!(
                std::io::stderr(),
                "htrac watch: watching {} (pid {}); 'htrac watch stop' stops it",
                t.root.display(),
                std::process::id()
            );
        }),
        "start" => start(g, t, &socket, out),
        "stop" => {
            let stopped = htrac::watch::stop(&socket);
            if stopped {
                // Gone once its socket is.
                let deadline = Instant::now() + Duration::from_secs(2);
                while socket.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
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
fn start(g: &Globals, t: &Tracker, socket: &Path, out: &mut Output) -> Result<()> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
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
    if let Some(st) = htrac::watch::status(socket) {
        report(out, st.pid, true);
        return Ok(());
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::internal(format!("cannot find htrac's own binary: {e}")))?;
    let mut child = Command::new(exe)
        .arg("--tracker-root")
        .arg(&t.root)
        .args(["watch", "--foreground"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C in this terminal does not stop it.
        .process_group(0)
        .spawn()
        .map_err(|e| Error::internal(format!("cannot start the watcher: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(5);
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
            return Err(Error::internal("the watcher did not answer within 5 s"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
