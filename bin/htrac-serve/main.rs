//! `htrac-serve`: the web interface. Runs the server (foreground or
//! `--background`), reports `--status`, `--stop`s it, and manages logins:
//! `passwd` (bcrypt hash into config.yaml) and `unlock-login` (clear a
//! brute-force lockout). A thin shell over `htrac::serve`.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use htrac::governance::actor::Actor;
use htrac::serve::passkey::cli as passkey_cli;
use htrac::serve::{daemon, http, password, passwords, pidfile, ratelimit};
use htrac::{Error, Result, Tracker};

const HELP: &str = "\
htrac-serve — the web interface of an htrac tracker

usage:
  htrac-serve [--port 7380] [--bind 127.0.0.1] [--allow-remote] [--background] [--log FILE]
  htrac-serve --status [--json]      is a server running for this tracker?
  htrac-serve --stop                 stop it (SIGTERM, waits until it has exited)
  htrac-serve passwd [--user NAME] [--cost 12]
                                     set a login password (human OS user only; not for
                                     an agent's name), kept in .agent/serve/passwords.json;
                                     reads it twice from the terminal, or once from stdin
  htrac-serve unlock-login USER|KEY|--all
                                     clear a password lockout (a name from one source; human only)
  htrac-serve register-key [--user NAME] [--port N] [--json]
                                     print a one-time link (valid 10 minutes) that registers
                                     a passkey for NAME (default: you) in the browser
  htrac-serve keys [--json] [--remove ID]
                                     list registered passkeys, or remove one

flags:
  --tracker-root PATH   the .agent/ directory (default: nearest one upwards)
  --port N              port to listen on (default 7380; 0 picks a free one)
  --bind ADDR           address to listen on (default 127.0.0.1)
  --allow-remote        allow a non-loopback --bind (needs a password or passkey configured)
  --background          detach; output goes to --log (default .agent/serve/htrac-serve.log)

Also run as 'htrac serve ...'.
";

#[derive(Default)]
struct Args {
    command: Option<String>,
    positional: Vec<String>,
    tracker_root: Option<PathBuf>,
    port: Option<u16>,
    bind: Option<IpAddr>,
    allow_remote: bool,
    background: bool,
    log: Option<PathBuf>,
    status: bool,
    stop: bool,
    json: bool,
    user: Option<String>,
    cost: Option<u32>,
    remove: Option<String>,
    help: bool,
    version: bool,
}

fn parse(args: Vec<OsString>) -> Result<Args> {
    use lexopt::Arg as A;
    let mut p = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    let bad = |e: lexopt::Error| Error::user(e.to_string()).with_hint("see 'htrac-serve --help'");
    let text = |v: OsString| {
        v.into_string()
            .map_err(|_| Error::user("arguments must be valid UTF-8"))
    };
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            A::Long("help") | A::Short('h') => a.help = true,
            A::Long("version") | A::Short('V') => a.version = true,
            A::Long("tracker-root") => a.tracker_root = Some(p.value().map_err(bad)?.into()),
            A::Long("port") => {
                let v = text(p.value().map_err(bad)?)?;
                a.port = Some(v.parse().map_err(|_| {
                    Error::user(format!(
                        "--port must be a number from 0 to 65535, got '{v}'"
                    ))
                })?);
            }
            A::Long("bind") => {
                let v = text(p.value().map_err(bad)?)?;
                let v = if v == "localhost" {
                    "127.0.0.1".to_string()
                } else {
                    v
                };
                a.bind = Some(v.trim_matches(['[', ']']).parse().map_err(|_| {
                    Error::user(format!("--bind must be an IP address, got '{v}'"))
                        .with_hint("e.g. --bind 127.0.0.1 or --bind ::1")
                })?);
            }
            A::Long("allow-remote") => a.allow_remote = true,
            A::Long("background") => a.background = true,
            A::Long("log") => a.log = Some(p.value().map_err(bad)?.into()),
            A::Long("status") => a.status = true,
            A::Long("stop") => a.stop = true,
            A::Long("json") => a.json = true,
            A::Long("user") => a.user = Some(text(p.value().map_err(bad)?)?),
            A::Long("cost") => {
                let v = text(p.value().map_err(bad)?)?;
                a.cost = Some(
                    v.parse()
                        .ok()
                        .filter(|c| (4..=31).contains(c))
                        .ok_or_else(|| Error::user(format!("--cost must be 4 to 31, got '{v}'")))?,
                );
            }
            A::Long("all") => a.positional.push("--all".into()),
            A::Long("remove") => a.remove = Some(text(p.value().map_err(bad)?)?),
            A::Value(v) if a.command.is_none() => a.command = Some(text(v)?),
            A::Value(v) => a.positional.push(text(v)?),
            other => return Err(bad(other.unexpected())),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    // SAFETY: at start-up, before any thread: a file size limit must fail
    // a write, not kill the server.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(h) = &e.hint {
                eprintln!("hint: {h}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(args: Vec<OsString>) -> Result<()> {
    let a = parse(args)?;
    if a.help {
        print!("{HELP}");
        return Ok(());
    }
    if a.version {
        println!("htrac-serve {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Error::internal(format!("cannot read the working directory: {e}")))?;
    let tracker = Tracker::discover(&cwd, a.tracker_root.as_deref())?;
    match a.command.as_deref() {
        Some("passwd") => return passwd(&tracker, &a),
        Some("unlock-login") => return unlock_login(&tracker, &a),
        Some("register-key") => return register_key(&tracker, &a),
        Some("keys") => return keys(&tracker, &a),
        Some(other) => {
            return Err(Error::user(format!("unknown command '{other}'")).with_hint(
                "commands: passwd, unlock-login, register-key, keys; see 'htrac-serve --help'",
            ))
        }
        None => {}
    }
    if a.status {
        return status(&tracker.root, a.json);
    }
    if a.stop {
        return stop(&tracker.root);
    }
    let opts = http::Options {
        bind: a.bind.unwrap_or(IpAddr::from([127, 0, 0, 1])),
        port: a.port.unwrap_or(7380),
        allow_remote: a.allow_remote,
    };
    let notifier = if a.background {
        let dir = ratelimit::ensure_state_dir(&tracker.root)
            .map_err(|e| Error::user(format!("cannot create .agent/serve/: {e}")))?;
        let log = match &a.log {
            Some(l) if l.is_absolute() => l.clone(),
            Some(l) => cwd.join(l),
            None => dir.join("htrac-serve.log"),
        };
        daemon::daemonize(&log)?
    } else {
        daemon::Notifier::none()
    };
    http::serve(tracker, &opts, notifier)
}

fn status(root: &Path, json: bool) -> Result<()> {
    let s = pidfile::status(root);
    if json {
        println!("{}", s.to_json());
    } else {
        match &s {
            pidfile::Status::NotRunning => println!("htrac-serve is not running"),
            pidfile::Status::Stale { pid } => println!(
                "htrac-serve is not running (stale pid file{})",
                pid.map(|p| format!(" naming pid {p}")).unwrap_or_default()
            ),
            pidfile::Status::Running { pid, url } => println!(
                "htrac-serve is running: pid {pid}{}",
                url.as_ref().map(|u| format!(", {u}")).unwrap_or_default()
            ),
        }
    }
    Ok(())
}

fn stop(root: &Path) -> Result<()> {
    match pidfile::stop(root, Duration::from_secs(10))? {
        pidfile::Stopped::NotRunning => println!("htrac-serve is not running"),
        pidfile::Stopped::StaleRemoved(pid) => println!(
            "htrac-serve is not running; removed a stale pid file{} (nothing was signalled)",
            pid.map(|p| format!(" naming pid {p}")).unwrap_or_default()
        ),
        pidfile::Stopped::Stopped(pid) => println!("stopped htrac-serve (pid {pid})"),
    }
    Ok(())
}

/// Refuses unless the OS user is a human (agents may not manage logins).
fn require_human(tracker: &Tracker, what: &str) -> Result<Actor> {
    let actor = Actor::current(&tracker.config.agent_usernames);
    if actor.is_agent() {
        return Err(Error::user(format!(
            "{what} requires human authority: OS user '{}' is an agent",
            actor.name
        ))
        .with_hint(format!("ask your human to run 'htrac-serve {what}'")));
    }
    Ok(actor)
}

/// Reads a line from the terminal without echo.
fn read_hidden(prompt: &str) -> Result<String> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let fd = 0;
    // SAFETY: termios calls on stdin with a zeroed, then filled, struct.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            None
        } else {
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(fd, libc::TCSANOW, &t);
            Some(saved)
        }
    };
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    if let Some(t) = saved {
        // SAFETY: restoring the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) };
    }
    let _ = writeln!(err);
    r.map_err(|e| Error::user(format!("cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn passwd(tracker: &Tracker, a: &Args) -> Result<()> {
    let actor = require_human(tracker, "passwd")?;
    let user = a.user.clone().unwrap_or(actor.name);
    // Refused before the password is asked for.
    if Actor::for_name(&user, &tracker.config.agent_usernames).is_agent() {
        return Err(passwords::agent_name_error(&user));
    }
    let pw = if std::io::stdin().is_terminal() {
        let one = read_hidden(&format!("New password for {user}: "))?;
        let two = read_hidden("Again: ")?;
        if one != two {
            return Err(Error::user("the passwords differ; nothing was changed"));
        }
        one
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::user(format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    let hash = password::hash(&pw, a.cost.unwrap_or(password::DEFAULT_COST))?;
    for line in passwords::set(&tracker.root, &user, &hash, &tracker.config.agent_usernames)? {
        println!("{line}");
    }
    Ok(())
}

fn unlock_login(tracker: &Tracker, a: &Args) -> Result<()> {
    require_human(tracker, "unlock-login")?;
    let who = a.positional.first().ok_or_else(|| {
        Error::user("unlock-login needs a USER (or a key such as pair:amy@loopback, or --all)")
            .with_hint("e.g. 'htrac-serve unlock-login amy'")
    })?;
    for k in ratelimit::unlock(&tracker.root, who)? {
        println!("cleared the lockout of {k}");
    }
    Ok(())
}

fn register_key(tracker: &Tracker, a: &Args) -> Result<()> {
    // The link points at the running server when there is one.
    let port = a
        .port
        .unwrap_or_else(|| match pidfile::status(&tracker.root) {
            pidfile::Status::Running { url: Some(u), .. } => u
                .rsplit(':')
                .next()
                .and_then(|p| p.trim_end_matches('/').parse().ok())
                .unwrap_or(7380),
            _ => 7380,
        });
    let link = passkey_cli::register_key(tracker, a.user.as_deref(), port)?;
    if a.json {
        let v = serde_json::json!({"url": link.url, "user": link.user,
                                   "valid_for_seconds": link.valid_for.as_secs()});
        println!("{v}");
        return Ok(());
    }
    println!(
        "Open this link in the browser that holds the key, within {} minutes:",
        link.valid_for.as_secs() / 60
    );
    println!("{}", link.url);
    println!(
        "(it registers a passkey that logs in as '{}'; it works once)",
        link.user
    );
    Ok(())
}

fn keys(tracker: &Tracker, a: &Args) -> Result<()> {
    if let Some(id) = &a.remove {
        let k = passkey_cli::remove_key(tracker, id)?;
        println!("removed passkey {} of {}", k.id, k.user);
        return Ok(());
    }
    let keys = passkey_cli::list_keys(tracker)?;
    if a.json {
        let list: Vec<serde_json::Value> = keys.iter().map(|k| k.to_json()).collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        print!("{}", passkey_cli::render_keys(&keys));
    }
    Ok(())
}
