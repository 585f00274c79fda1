//! The terminal UI from outside: `htrac tui` says how to install a missing
//! `htrac-tui`, and (with the `tui` feature) tmux drives the real binary in
//! a real terminal: `n` adds an item, Enter... the pane shows it and its op
//! is in the ops file.

use crate::common::{self, Env};

#[test]
fn htrac_tui_without_the_binary_says_how_to_install_it() {
    let env = Env::new();
    // A copy of htrac alone in a directory, and nothing on PATH.
    let lonely = tempfile::tempdir().unwrap();
    let exe = lonely.path().join("htrac");
    std::fs::copy(common::bin(), &exe).unwrap();
    let out = std::process::Command::new(&exe)
        .arg("tui")
        .current_dir(env.path())
        .env("PATH", lonely.path().join("nothing-here"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("htrac-tui is not installed"), "{err}");
    assert!(
        err.contains("cargo install --path . --features tui"),
        "{err}"
    );
}

#[cfg(feature = "tui")]
mod tmux {
    use crate::common::Env;
    use std::process::Command;
    use std::time::{Duration, Instant};

    struct Server(String);

    impl Server {
        fn run(&self, args: &[&str]) -> String {
            let out = Command::new("tmux")
                .arg("-L")
                .arg(&self.0)
                .args(args)
                .output()
                .expect("tmux runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        fn capture(&self) -> String {
            self.run(&["capture-pane", "-p", "-t", "tui"])
        }

        /// Polls the pane until `want` shows (10 s at most).
        fn wait_for(&self, want: &str) -> String {
            self.wait_until(&format!("'{want}'"), |pane| pane.contains(want))
        }

        /// Polls the pane until one screen satisfies `ok` (10 s at most):
        /// every check of a screen is made on the frame it waited for.
        fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
            let start = Instant::now();
            loop {
                let pane = self.capture();
                if ok(&pane) {
                    return pane;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{what} never showed; the pane shows:\n{pane}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        /// Types keys. The terminal queues them in order, so no wait is
        /// needed between keys; a test waits for the screen it expects.
        fn keys(&self, keys: &[&str]) {
            let mut args = vec!["send-keys", "-t", "tui"];
            args.extend_from_slice(keys);
            self.run(&args);
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .output();
        }
    }

    /// Fails the test unless tmux can run (a missing prerequisite).
    fn require_tmux() {
        let have = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !have {
            crate::common::missing("tmux", "apt-get install tmux");
        }
    }

    /// A tmux server (private socket `name`) running `htrac-tui` on `env`'s
    /// tracker in a 100×30 window, with `extra_env` (`KEY=VALUE` words).
    fn start(name: &str, env: &Env, extra_env: &str) -> Server {
        let server = Server(format!("{name}-{}", std::process::id()));
        let cmd = format!(
            "env XDG_CONFIG_HOME={cfg} {extra_env} {bin} --tracker-root {root}",
            cfg = env.cache.path().display(),
            bin = env!("CARGO_BIN_EXE_htrac-tui"),
            root = env.root().display()
        );
        server.run(&[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ]);
        server
    }

    #[test]
    fn tmux_adds_an_item_and_opens_its_detail() {
        require_tmux();
        let env = Env::new();
        let existing = env.add("Existing item", &[]);
        let server = start("htrac-tui-test", &env, "");
        server.wait_for("Existing item");
        // New item: Tab to the title, type it, Enter creates it.
        server.keys(&["n"]);
        server.wait_for("New item");
        server.keys(&["Tab"]);
        server.keys(&["-l", "Typed in tmux"]);
        server.keys(&["Enter"]);
        let pane = server.wait_for("created WI-");
        // The ID's short form (kind prefix and first syllable), as the list shows it.
        let short: String = pane
            .split("created ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap()
            .split('-')
            .take(2)
            .collect::<Vec<_>>()
            .join("-");
        // The new item is selected (the cursor on its row) and its detail
        // is in the right pane, on one screen.
        server.wait_until("the new item selected, its detail shown", |p| {
            p.contains(" Kind  work_item")
                && p.matches("Typed in tmux").count() >= 2
                && p.lines()
                    .any(|l| l.contains('▶') && l.contains(&short) && l.contains("Typed in tmux"))
        });
        // Live refresh: an item added by another process appears.
        env.add("Added from outside", &[]);
        server.wait_for("Added from outside");
        // The op is in the ops file, read back through the library.
        let tracker = htrac::Tracker::open(&env.root()).unwrap();
        let snap = tracker.snapshot().unwrap();
        let new = snap
            .items
            .iter()
            .find(|i| i.title == "Typed in tmux")
            .expect("the item was written");
        assert_ne!(new.id, existing);
        let text = std::fs::read_to_string(env.workspace_ops(&new.id)).unwrap();
        assert!(text.starts_with("- op: create"), "{text}");
        assert!(text.contains("title: \"Typed in tmux\""), "{text}");
        // Compact layout: Enter opens the full-screen detail.
        server.run(&["resize-window", "-t", "tui", "-x", "50", "-y", "18"]);
        // Redrawn for 50 columns: the list alone, no detail beside it.
        server.wait_until("the compact layout", |p| {
            p.contains("Typed in tmux")
                && !p.contains(" Kind ")
                && p.lines().all(|l| l.chars().count() <= 50)
        });
        server.keys(&["Enter"]);
        server.wait_for("Esc back");
        server.keys(&["q"]);
    }

    #[test]
    fn tmux_shows_who_holds_a_claimed_item() {
        require_tmux();
        let env = Env::new();
        let id = env.add("Claimed elsewhere", &[]);
        let out = env
            .command(&["claim", &id])
            .env("HTRAC_SESSION", "agent-7")
            .output()
            .unwrap();
        assert!(out.status.success());
        let server = start("htrac-tui-claims", &env, "");
        server.wait_until("the holder beside the title", |p| {
            p.lines().any(|l| l.contains("⚑ agent-7 Claimed")) && p.contains("claimed_by")
        });
        server.keys(&["q"]);
    }

    #[test]
    fn library_warnings_become_toasts_not_screen_garbage() {
        require_tmux();
        let env = Env::new();
        env.add("Existing item", &[]);
        // A journal that cannot be written: every write warns on stderr.
        let blocker = env.cache.path().join("not-a-dir");
        std::fs::write(&blocker, "").unwrap();
        let extra = format!(
            "HTRAC_CACHE_DIR={} HTRAC_STATE_DIR={}",
            env.cache.path().join("tui-cache").display(),
            blocker.display()
        );
        let server = start("htrac-tui-warn", &env, &extra);
        server.wait_for("Existing item");
        server.keys(&["n"]);
        server.wait_for("New item");
        server.keys(&["Tab"]);
        server.keys(&["-l", "Warned about"]);
        server.keys(&["Enter"]);
        // The warning arrives as a toast inside the UI (its box border
        // right before it), not as raw text drawn over the panes...
        let pane = server.wait_until("the warning and both items", |p| {
            p.contains("not journalled")
                && p.contains("Warned about")
                && p.contains("Existing item")
        });
        assert!(
            pane.contains("│warning: op written but not journalled"),
            "the warning is not in a toast:\n{pane}"
        );
        server.keys(&["q"]);
    }

    /// The item the library reads back for `id`.
    fn item(env: &Env, id: &str) -> htrac::Item {
        let t = htrac::Tracker::open(&env.root()).unwrap();
        t.load(&t.resolve(id).unwrap()).unwrap()
    }

    /// The right pane's first line shows this title (the selected item).
    fn detail_of(pane: &str, title: &str) -> bool {
        pane.lines()
            .next()
            .and_then(|l| l.split('│').nth(1))
            .is_some_and(|d| d.trim_start().starts_with(title))
    }

    #[test]
    fn tmux_links_open_items_and_history_goes_back() {
        require_tmux();
        let env = Env::new();
        let parent = env.add("Parent item", &["--priority", "1"]);
        let desc = format!("Mentions {parent} too.");
        env.add(
            "Child item",
            &[
                "--priority",
                "0",
                "--parent",
                &parent,
                "--description",
                &desc,
            ],
        );
        let server = start("htrac-tui-links", &env, "");
        server.wait_until("the child selected", |p| detail_of(p, "Child item"));
        // Tab selects the parent link, Enter opens it.
        server.keys(&["Tab"]);
        server.wait_for("link 1/2 → WI-");
        server.keys(&["Enter"]);
        server.wait_until("the parent opened", |p| {
            detail_of(p, "Parent item") && p.contains("Children") && p.contains("[2/2] Alt+")
        });
        // Alt+← goes back, Alt+→ forward again.
        server.keys(&["M-Left"]);
        server.wait_until("back at the child", |p| {
            detail_of(p, "Child item") && p.contains("[1/2] Alt+")
        });
        server.keys(&["M-Right"]);
        server.wait_until("forward at the parent", |p| {
            detail_of(p, "Parent item") && p.contains("[2/2] Alt+")
        });
        server.keys(&["q"]);
    }

    #[test]
    fn tmux_ctrl_e_toggles_edit_mode() {
        require_tmux();
        let env = Env::new();
        env.add("Some item", &[]);
        let server = start("htrac-tui-editmode", &env, "");
        server.wait_for("Some item");
        server.keys(&["C-e"]);
        server.wait_for("EDIT MODE 30 min left, 0/500 edits");
        let status = env.run(&["edit-mode", "status"]).ok().stdout;
        assert!(status.starts_with("edit-mode ON"), "{status}");
        server.keys(&["C-e"]);
        server.wait_until("edit mode closed", |p| {
            p.contains("edit mode OFF") && !p.contains("EDIT MODE")
        });
        let status = env.run(&["edit-mode", "status"]).ok().stdout;
        assert!(status.starts_with("edit-mode OFF"), "{status}");
        server.keys(&["q"]);
    }

    #[test]
    fn tmux_filter_favourite_saved_and_recalled() {
        require_tmux();
        let env = Env::new();
        env.add("Alpha item", &[]);
        env.add("Beta item", &[]);
        let server = start("htrac-tui-favs", &env, "");
        server.wait_for("Beta item");
        server.keys(&["/"]);
        server.keys(&["-l", "alpha"]);
        server.keys(&["Enter"]);
        server.wait_until("the text filter", |p| !p.contains("Beta item"));
        // F, then s: the filter is favourite 1.
        server.keys(&["F"]);
        server.wait_for("Filter favourites");
        server.keys(&["s"]);
        server.wait_for("[1] /alpha");
        server.keys(&["Escape"]);
        // Two Escapes sent together can read as one Alt+Escape: wait for
        // the panel to close before the second.
        server.wait_until("the favourites closed", |p| {
            !p.contains("Filter favourites")
        });
        server.keys(&["Escape"]); // clears the text filter
        server.wait_until("everything shown", |p| {
            p.contains("Beta item") && !p.contains("Filter favourites")
        });
        server.keys(&["F"]);
        server.keys(&["1"]);
        server.wait_until("favourite 1 applied", |p| {
            p.contains("favourite 1 applied") && !p.contains("Beta item")
        });
        server.keys(&["q"]);
        // Saved in the preferences file.
        let found = walk(env.cache.path())
            .into_iter()
            .filter(|p| p.ends_with("tui.json"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .any(|t| t.contains("filter_favourites") && t.contains("\"text\": \"alpha\""));
        assert!(found, "no favourite in the preferences");
    }

    /// "Fav 5": an entry toggled several times in one run is listed under
    /// Favorites with a ★, numbered first, when the TUI is run again.
    #[test]
    fn tmux_fav_5_carries_toggles_into_the_next_run() {
        require_tmux();
        let env = Env::new();
        env.add("Alpha item", &[]);
        let first = {
            let server = start("htrac-tui-fav5a", &env, "");
            server.wait_for("Alpha item");
            server.keys(&["f"]);
            let pane = server.wait_for("── Statuses (1/4) ──");
            assert!(!pane.contains("Favorites"), "{pane}");
            let status = pane
                .lines()
                .find_map(|l| l.split("[1] [X] ").nth(1))
                .and_then(|rest| rest.split(" (").next())
                .expect("a first status")
                .to_string();
            // Four toggles of entry 1: hidden, shown, hidden, shown. From the
            // first on it is favourite 1, so 1 stays on it.
            server.keys(&["1", "1", "1", "1"]);
            server.wait_for(&format!("[1] [X] ★ {status} ("));
            // q comes after the four toggles: once the TUI has quit, all
            // four were counted and saved.
            server.keys(&["q"]);
            let start = Instant::now();
            while server.run(&["list-sessions"]).contains("tui:") {
                assert!(start.elapsed() < Duration::from_secs(10), "q never quit");
                std::thread::sleep(Duration::from_millis(50));
            }
            status
        };
        let server = start("htrac-tui-fav5b", &env, "");
        server.wait_for("Alpha item");
        server.keys(&["f"]);
        let pane = server.wait_for("── Favorites ──");
        let lines: Vec<&str> = pane.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("── Favorites ──"))
            .unwrap();
        assert!(
            lines[at + 1].contains(&format!("[1] [X] ★ {first} (")),
            "{pane}"
        );
        assert!(lines[at + 2].contains("── Statuses (1/4) ──"), "{pane}");
        assert!(
            lines[at + 3].contains(&format!("[2] [X] {first} (")),
            "{pane}"
        );
        server.keys(&["q"]);
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn tmux_annotator_click_places_the_label_being_typed() {
        require_tmux();
        let env = Env::new();
        env.add("Some item", &[]);
        let server = start("htrac-tui-annotate", &env, "");
        server.wait_for("Some item");
        server.keys(&["S"]);
        server.wait_for("ANNOTATE");
        server.keys(&["l"]);
        server.keys(&["-l", "hey"]);
        server.wait_for("label [1]: hey");
        // A left click (SGR mouse report) at column 10, row 5 (1-based),
        // still in the label's keyboard mode.
        server.keys(&["-l", "\u{1b}[<0;10;5M"]);
        server.wait_until("the label at the click", |p| {
            p.lines()
                .nth(4)
                .is_some_and(|l| l.chars().skip(9).collect::<String>().starts_with("[1] hey"))
        });
        server.keys(&["Enter"]); // places it
        server.keys(&["Enter"]); // saves
        server.wait_for("screenshot saved");
        let svg = walk(&env.root())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "svg"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .expect("the screenshot in .agent/screenshots");
        assert!(svg.contains("[1] hey"), "{svg}");
        server.keys(&["q"]);
    }

    #[test]
    fn tmux_multi_line_description_in_the_edit_form() {
        require_tmux();
        let env = Env::new();
        let id = env.add("Some item", &[]);
        let server = start("htrac-tui-multiline", &env, "");
        server.wait_for("Some item");
        server.keys(&["e"]);
        server.wait_for("Ctrl+S save");
        for _ in 0..4 {
            server.keys(&["Tab"]);
        }
        server.keys(&["-l", "first line"]);
        server.keys(&["Enter"]);
        server.keys(&["-l", "  second"]);
        server.wait_until("two lines in the form", |p| {
            p.contains("first line") && p.contains("  second") && p.contains("Edit WI-")
        });
        server.keys(&["C-s"]);
        server.wait_for("updated WI-");
        assert_eq!(item(&env, &id).description, "first line\n  second");
        let ops = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
        assert!(
            ops.contains(r#"description: "first line\n  second""#),
            "{ops}"
        );
        server.keys(&["q"]);
    }
}
