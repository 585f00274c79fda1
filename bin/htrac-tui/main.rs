//! `htrac-tui`: the terminal UI for the human supervising agents. Parses
//! its two flags, opens the tracker through the htrac library, sets up
//! the terminal, and runs the event loop (keys, mouse, resize, live
//! refresh from `watch`, toasts expiring, OSC 52 copies).

mod actions;
mod annotate;
mod app;
mod detail;
mod filters;
mod forms;
mod keys;
mod logic;
mod mouse;
mod nav;
mod panels;
mod prefs;
mod stderr;
mod svg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_favs;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_links;
#[cfg(test)]
mod tests_modes;
#[cfg(test)]
mod tests_rules;
mod toggles;
mod view;
mod watch;

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::ExecutableCommand;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use app::App;

const HELP: &str = "\
htrac-tui: the terminal UI of htrac, for the human supervising agents

usage: htrac-tui [--tracker-root PATH]

  --tracker-root PATH  the .agent/ directory (default: the nearest one
                       from the current directory upwards)
  -h, --help           this help
  -V, --version        the version

Inside, press ? for every key. Layouts follow the terminal size.
";

fn main() -> ExitCode {
    let mut root: Option<std::path::PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("-h" | "--help") => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            Some("-V" | "--version") => {
                println!("htrac-tui {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            Some("--tracker-root") => match args.next() {
                Some(v) => root = Some(v.into()),
                None => return fail("--tracker-root needs a PATH", None),
            },
            Some(s) if s.starts_with("--tracker-root=") => {
                root = Some(s["--tracker-root=".len()..].into())
            }
            _ => {
                return fail(
                    &format!("unexpected argument '{}'", a.to_string_lossy()),
                    Some("run 'htrac-tui --help'"),
                )
            }
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => return fail(&format!("cannot read the working directory: {e}"), None),
    };
    let tracker = match htrac::Tracker::discover(&cwd, root.as_deref()) {
        Ok(t) => t,
        Err(e) => return fail(&e.message, e.hint.as_deref()),
    };
    let prefs = prefs::path_for(&tracker.root);
    let app = App::new(tracker, prefs);
    match run(app) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("terminal error: {e}"), None),
    }
}

fn fail(msg: &str, hint: Option<&str>) -> ExitCode {
    eprintln!("error: {msg}");
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
    ExitCode::from(1)
}

fn restore() {
    stderr::restore_now();
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = out.execute(DisableMouseCapture);
    let _ = out.execute(LeaveAlternateScreen);
}

/// Base64 for OSC 52.
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn run(mut app: App) -> std::io::Result<()> {
    let mut captured =
        htrac::alias::cache_dir(&app.tracker.root).and_then(|d| stderr::Captured::start(&d));
    enable_raw_mode()?;
    let mut out = std::io::stdout();
    out.execute(EnterAlternateScreen)?;
    out.execute(EnableMouseCapture)?;
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev(info);
    }));
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    let (tx, rx) = mpsc::channel();
    watch::spawn(&app.tracker.root, tx);
    let mut refresh_due: Option<Instant> = None;
    let result = (|| -> std::io::Result<()> {
        while !app.quit {
            terminal.draw(|f| {
                view::render(f, &mut app);
                if app.annotate.is_none() {
                    app.last_frame = Some(f.buffer_mut().clone());
                }
            })?;
            if let Some(text) = app.clipboard.take() {
                let mut o = std::io::stdout();
                write!(o, "\x1b]52;c;{}\x07", base64(text.as_bytes()))?;
                o.flush()?;
            }
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => app.handle_key(k),
                    Event::Mouse(m) => app.handle_mouse(m),
                    Event::Resize(w, h) => {
                        app.size = (w, h);
                        if app.layout() != logic::Layout::Compact {
                            app.detail_open = false;
                        }
                    }
                    _ => {}
                }
            }
            // Debounce: act 150 ms after the last change signal.
            while rx.try_recv().is_ok() {
                refresh_due = Some(Instant::now() + Duration::from_millis(150));
            }
            if refresh_due.is_some_and(|t| Instant::now() >= t) {
                refresh_due = None;
                app.reload();
            }
            // The library's warnings, and (as a safety net) anything a child
            // process wrote to stderr, become toasts instead of screen garbage.
            if let Some(line) = app.tracker.take_warnings().pop() {
                app.toast(line);
            }
            if let Some(line) = captured.as_mut().and_then(|c| c.new_lines().pop()) {
                app.toast(line);
            }
            app.tick();
        }
        Ok(())
    })();
    restore();
    if let Some(c) = captured {
        c.release();
    }
    result
}

#[cfg(test)]
mod main_tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
