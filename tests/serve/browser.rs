//! The web page in a real browser: runs `tests/browser/web.test.mjs` (node +
//! playwright-core driving Debian's chromium) against the `htrac` and
//! `htrac-serve` binaries cargo built for this test. Without chromium, node
//! or `npm ci` in tests/browser it fails, naming what is missing: it never
//! reports `ok` without running.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the browser test lacks here, if anything, and how to install it.
fn missing_tool(root: &Path, chromium: &Path) -> Option<(String, &'static str)> {
    if !chromium.exists() {
        return Some((
            format!("chromium at {} (or set HTRAC_CHROMIUM)", chromium.display()),
            "apt-get install chromium",
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some(("node".into(), "apt-get install nodejs npm"));
    }
    if !root
        .join("tests/browser/node_modules/playwright-core/package.json")
        .exists()
    {
        return Some((
            "playwright-core".into(),
            "cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci",
        ));
    }
    None
}

#[test]
fn the_web_page_works_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = PathBuf::from(
        std::env::var("HTRAC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    if let Some((what, install)) = missing_tool(root, &chromium) {
        panic!(
            "missing prerequisite: {what}; install it with: {install} \
             (`make test` checks and, as root, installs every prerequisite: tests/prereqs.sh)"
        );
    }
    let out = Command::new("node")
        .arg(root.join("tests/browser/web.test.mjs"))
        .current_dir(root)
        .env("HTRAC_BIN", env!("CARGO_BIN_EXE_htrac"))
        .env("HTRAC_SERVE_BIN", env!("CARGO_BIN_EXE_htrac-serve"))
        .env("HTRAC_CHROMIUM", &chromium)
        .env("HTRAC_BROWSER_ARTIFACTS", root.join("target/browser"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser test failed (screenshots, server log and console in target/browser/)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all browser checks passed"), "{stdout}");
}
