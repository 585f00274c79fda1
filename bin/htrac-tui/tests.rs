//! Snapshot tests: a fixed tracker (op files written with fixed times and
//! nonces, in a real git repo) rendered with ratatui's `TestBackend` at
//! the reference's sizes, compared with `tests/snapshots/tui_<name>.txt`.
//! `UPDATE_SNAPSHOTS=1 cargo test --features tui` rewrites them (review
//! the diff by eye).

use std::path::{Path, PathBuf};
use std::process::Command;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::App;

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn root(&self) -> PathBuf {
        self.dir.path().join(".agent")
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs")
        .status
        .success();
    assert!(ok, "git {args:?}");
}

/// One op's YAML lines, each ending with its nonce.
fn op(nonce: &str, kind: &str, at: &str, by: &str, clock: u32, body: &[&str]) -> String {
    let mut lines = vec![
        format!("- op: {kind}"),
        format!("  at: '{at}'"),
        format!("  by: {by}"),
        format!(
            "  actor: {}",
            if by == "agent" { "bot_agent" } else { "amy" }
        ),
        format!("  clock: {clock}"),
        format!("  nonce: '{nonce}'"),
    ];
    lines.extend(body.iter().map(|l| format!("  {l}")));
    lines.iter().map(|l| format!("{l}  # {nonce}\n")).collect()
}

struct Spec<'a> {
    kind: &'a str,
    title: &'a str,
    status: &'a str,
    priority: u8,
    parent: Option<&'a str>,
    tags: &'a [&'a str],
    isbefore: &'a [&'a str],
    extra: &'a [&'a str],
}

fn create(n: &str, at: &str, s: &Spec) -> String {
    let mut body = vec![
        "data:".to_string(),
        format!("  kind: {}", s.kind),
        format!("  title: \"{}\"", s.title),
        format!("  status: {}", s.status),
        format!("  priority: {}", s.priority),
        format!("  parent: {}", s.parent.unwrap_or("")),
    ];
    for (key, list) in [("tags", s.tags), ("isbefore", s.isbefore)] {
        if list.is_empty() {
            body.push(format!("  {key}: []"));
        } else {
            body.push(format!("  {key}:"));
            body.extend(list.iter().map(|v| format!("  - {v}")));
        }
    }
    body.push("  description: \"A line of description.\"".into());
    body.extend(s.extra.iter().map(|l| format!("  {l}")));
    let body: Vec<&str> = body.iter().map(String::as_str).collect();
    op(n, "create", at, "human", 1, &body)
}

pub const A: &str = "WI-bahab-dadif-gadok-halim";
pub const B: &str = "WI-bahab-kilop-mirun-sobav";
pub const C: &str = "WI-fohog-lubid-nosat-tipav";
pub const D: &str = "INV-zumov-posab-ridul-nakit";
pub const E: &str = "WI-tadin-vumok-sajul-gopin";

/// A git repo with an initialised tracker and five items in two tiers.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q", "-b", "dev"]);
    git(p, &["config", "user.email", "t@example.com"]);
    git(p, &["config", "user.name", "T"]);
    git(p, &["config", "commit.gpgsign", "false"]);
    git(p, &["commit", "-q", "--allow-empty", "-m", "root"]);
    let root = p.join(".agent");
    htrac::init::init(&root).unwrap();
    let ws = root.join("tracker-workspace/.ops");
    let canon = root.join("tracker/.ops");
    let t0 = "2026-01-02T10:00:00Z";
    let a = create(
        "a001",
        t0,
        &Spec {
            kind: "work_item",
            title: "Parse the config file",
            status: "todo_hard",
            priority: 1,
            parent: None,
            tags: &["core"],
            isbefore: &[],
            extra: &["fields: {}"],
        },
    ) + &op(
        "a002",
        "discuss",
        "2026-01-02T11:00:00Z",
        "agent",
        2,
        &["message: \"Parser started; question on YAML anchors\""],
    );
    let b = create(
        "b001",
        "2026-01-02T10:01:00Z",
        &Spec {
            kind: "work_item",
            title: "Write the README",
            status: "todo_soft",
            priority: 2,
            parent: None,
            tags: &[],
            isbefore: &[A],
            extra: &["fields: {}"],
        },
    );
    let c = create(
        "c001",
        "2026-01-02T10:02:00Z",
        &Spec {
            kind: "work_item",
            title: "Child of the parser",
            status: "in_progress",
            priority: 2,
            parent: Some(A),
            tags: &["core", "ui"],
            isbefore: &[],
            extra: &["fields: {}"],
        },
    );
    let d = create(
        "d001",
        "2026-01-02T10:03:00Z",
        &Spec {
            kind: "invariant",
            title: "Every op line ends with its nonce",
            status: "todo_hard",
            priority: 0,
            parent: None,
            tags: &[],
            isbefore: &[],
            extra: &[
                "fields:",
                "  statement: \"each line carries # nonce\"",
                "  root_cause: \"union merges\"",
            ],
        },
    );
    let e = create(
        "e001",
        "2026-01-02T10:04:00Z",
        &Spec {
            kind: "work_item",
            title: "Release checklist",
            status: "done",
            priority: 4,
            parent: None,
            tags: &["docs"],
            isbefore: &[],
            extra: &["fields: {}"],
        },
    );
    let _ = (A, B, C, D, E);
    for (dir, id, text) in [
        (&ws, A, a),
        (&ws, B, b),
        (&ws, C, c),
        (&ws, D, d.clone()),
        (&canon, E, e),
    ] {
        std::fs::write(dir.join(format!(".{id}.ops")), text).unwrap();
    }
    // D is frozen: its sentinel is a copy of its log.
    std::fs::write(ws.join(format!(".{D}.frozen")), d).unwrap();
    Fixture { dir }
}

pub fn app(fx: &Fixture) -> App {
    let tracker = htrac::Tracker::open(&fx.root()).unwrap();
    let app = App::new(tracker, None);
    assert_eq!(app.items.len(), 5, "fixture items load");
    app
}

pub fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Presses Ctrl+`c`.
pub fn ctrl(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

#[allow(dead_code)]
pub fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// Renders and returns the screen's lines (trailing spaces trimmed).
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| crate::view::render(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    app.last_frame = Some(buf.clone());
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..w {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            line.push_str(sym);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Puts the cursor on `id`.
pub fn select(a: &mut App, id: &str) {
    key(a, KeyCode::Home);
    while a.selected().map(|i| i.id.as_str()) != Some(id) {
        let before = a.cursor;
        key(a, KeyCode::Down);
        assert_ne!(a.cursor, before, "{id} not in the list");
    }
}

/// A left click at (`column`, `row`).
pub fn click(a: &mut App, column: u16, row: u16) {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    a.handle_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    });
}

/// The op file of `id`, as on disk.
pub fn ops(fx: &Fixture, id: &str) -> String {
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    std::fs::read_to_string(t.resolve(id).unwrap().path).unwrap()
}

pub fn check(name: &str, got: &str) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/tui_{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {} (UPDATE_SNAPSHOTS=1 writes it)\n{got}",
            path.display()
        )
    });
    assert_eq!(got, want, "snapshot {name} differs; got:\n{got}");
}

#[test]
fn compact_list_40x16() {
    let fx = fixture();
    let mut a = app(&fx);
    let s = screen(&mut a, 40, 16);
    // Compact: no Status column below 55 wide, no detail pane.
    assert!(s.lines().next().unwrap().starts_with("# T P ID"));
    assert!(!s.contains("Status"));
    check("compact_list", &s);
}

#[test]
fn compact_with_status_55x18() {
    let fx = fixture();
    let mut a = app(&fx);
    let s = screen(&mut a, 55, 18);
    assert!(s.contains("Status"));
    check("compact_with_status", &s);
}

#[test]
fn compact_detail_50x18() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 50, 18);
    key(&mut a, KeyCode::Enter);
    let s = screen(&mut a, 50, 18);
    assert!(s.contains("Esc back") && s.contains(D), "{s}");
    check("compact_detail", &s);
    key(&mut a, KeyCode::Esc);
    assert!(screen(&mut a, 50, 18).starts_with("# T P ID"));
}

#[test]
fn standard_two_pane_80x24() {
    let fx = fixture();
    let mut a = app(&fx);
    let s = screen(&mut a, 80, 24);
    // Short IDs snap to syllables: A and B share "WI-bahab".
    assert!(s.contains("WI-bahab-dadif") && s.contains("WI-fohog ") && s.contains("INV-zumov "));
    assert!(s.contains("*** FROZEN ***"), "{s}");
    check("standard_two_pane", &s);
}

#[test]
fn standard_tree_view_80x24() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Char('t'));
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("└ Child of the parser"), "{s}");
    check("standard_tree_view", &s);
}

#[test]
fn wide_layout_160x45() {
    let fx = fixture();
    let mut a = app(&fx);
    key(&mut a, KeyCode::Down); // A: blocked by B, has an agent message
    let s = screen(&mut a, 160, 45);
    for want in [
        "Created",
        "Updated",
        "Activity",
        "Parser started",
        "Message · d to write",
        "blocked by WI-bahab-kilop",
    ] {
        assert!(s.contains(want), "missing {want}:\n{s}");
    }
    check("wide_layout", &s);
}

#[test]
fn filter_panel_80x24() {
    let fx = fixture();
    let mut a = app(&fx);
    screen(&mut a, 80, 24);
    key(&mut a, KeyCode::Char('f'));
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("Filters active: 0") && s.contains("[5] [X] done (1)"),
        "{s}"
    );
    assert!(s.contains("── Statuses (1/4) ──"), "{s}");
    // 5 toggles "done": E disappears, the panel counts it, and "done"
    // is now a favourite, numbered first.
    key(&mut a, KeyCode::Char('5'));
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("── Favorites ──")
            && s.contains("[1] [ ] ★ done (1)")
            && s.contains("[6] [ ] done (1)"),
        "{s}"
    );
    assert!(!s.contains("Release checklist"), "{s}");
    check("filter_panel", &s);
}

#[test]
fn filter_sections_hide_kinds_tiers_and_tags() {
    let fx = fixture();
    let mut a = app(&fx);
    key(&mut a, KeyCode::Char('f'));
    key(&mut a, KeyCode::Tab);
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("── Kinds (2/4) ──") && s.contains("[1] [X] invariant (1)"),
        "{s}"
    );
    key(&mut a, KeyCode::Char('1'));
    assert!(!screen(&mut a, 80, 24).contains("Every op line"));
    // That toggle made "kind invariant" a favourite, numbered first.
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('2')); // canonical
    assert!(!screen(&mut a, 80, 24).contains("Release checklist"));
    key(&mut a, KeyCode::Tab);
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("[3] [X] Tagged (3)") && s.contains("#ui (1)"),
        "{s}"
    );
    key(&mut a, KeyCode::Char('3')); // hide every tagged item
    let titles: Vec<&str> = a
        .rows
        .iter()
        .filter(|r| !r.forced && !r.ghost)
        .map(|r| a.items[r.idx].title.as_str())
        .collect();
    assert_eq!(titles, vec!["Write the README"]);
    assert_eq!(a.filters.active(), 3);
    key(&mut a, KeyCode::Tab);
    assert!(screen(&mut a, 80, 24).contains("── Statuses (1/4) ──"));
}

#[test]
fn too_small_30x10() {
    let fx = fixture();
    let mut a = app(&fx);
    let s = screen(&mut a, 30, 10);
    assert!(s.starts_with("Terminal too small (need"), "{s}");
    check("too_small", &s);
}

#[test]
fn help_lists_every_key() {
    let fx = fixture();
    let mut a = app(&fx);
    key(&mut a, KeyCode::Char('?'));
    let s = screen(&mut a, 100, 40);
    for (k, _) in crate::app::KEYS {
        assert!(s.contains(k), "help lacks {k}:\n{s}");
    }
    key(&mut a, KeyCode::Char('x'));
    assert!(!screen(&mut a, 100, 40).contains("Any key closes"));
}

/// Titles and messages come from agents: their control characters (ESC,
/// OSC 52, CR, BEL) must never reach the human's terminal. Every cell of
/// the list and the detail pane is free of them.
#[test]
fn control_characters_in_titles_and_messages_never_reach_the_terminal() {
    let fx = fixture();
    let t = htrac::Tracker::open(&fx.root()).unwrap();
    let f = t.resolve(A).unwrap();
    let evil = "evil \u{1b}[31mred\u{1b}]52;c;aGk=\u{7} cr\rbell\u{7} c1\u{9b}2J del\u{7f}";
    let mut ch = htrac::tracker::update::Changes::default();
    ch.set.insert("title".into(), serde_json::json!(evil));
    t.update(&f, &ch).unwrap();
    t.discuss(&f, evil, false).unwrap();
    let mut app = app(&fx);
    key(&mut app, KeyCode::Down); // select it: its detail and activity show
    for (w, h) in [(80, 24), (160, 45), (50, 18)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("evil") && s.contains('␛'), "{s}");
        let bad: Vec<char> = s.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(
            bad.is_empty(),
            "{w}x{h}: control characters {bad:?} in\n{s}"
        );
    }
    // Nor does the text copied to the clipboard carry them.
    let item = app.selected().unwrap().clone();
    let copied = crate::detail::detail_plain(&app, &item);
    assert!(copied.contains("evil \\e[31mred"), "{copied}");
    assert!(
        !copied.chars().any(|c| c.is_control() && c != '\n'),
        "{copied:?}"
    );
}
