//! The web page's files, embedded in the binary: one explicit table of URL
//! path, content type and bytes. Nothing is ever read from the file system
//! for a URL, so no path can escape. HTML and JavaScript files get the
//! placeholder `__HTRAC_BUILD__` replaced by [`build_id`] (the service
//! worker's cache name follows the build).

use std::borrow::Cow;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// The URL path it is served at.
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ty:literal) => {
        Asset {
            path: $path,
            content_type: $ty,
            bytes: include_bytes!(concat!("../../frontend", $path)),
        }
    };
}

/// Every file of `frontend/` the server serves. Add a line here when a file
/// is added there.
pub const ASSETS: &[Asset] = &[
    asset!("/index.html", "text/html; charset=utf-8"),
    asset!("/app.css", "text/css; charset=utf-8"),
    asset!("/favicon.svg", "image/svg+xml"),
    asset!("/service-worker.js", "text/javascript; charset=utf-8"),
    asset!("/js/main.js", "text/javascript; charset=utf-8"),
    asset!("/js/api.js", "text/javascript; charset=utf-8"),
    asset!("/js/ws.js", "text/javascript; charset=utf-8"),
    asset!("/js/store.js", "text/javascript; charset=utf-8"),
    asset!("/js/dom.js", "text/javascript; charset=utf-8"),
    asset!("/js/router.js", "text/javascript; charset=utf-8"),
    asset!("/js/passkey.js", "text/javascript; charset=utf-8"),
    asset!("/js/outbox.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/login.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/register.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/shell.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/list.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/detail.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/claim.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/forms.js", "text/javascript; charset=utf-8"),
    asset!("/js/views/trend.js", "text/javascript; charset=utf-8"),
];

/// The file served at `path` (`/` is `/index.html`); the query is ignored.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

/// A short hash of the package version and every embedded file.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        for a in ASSETS {
            h.update(a.path.as_bytes());
            h.update((a.bytes.len() as u64).to_le_bytes());
            h.update(a.bytes);
        }
        h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The bytes to send for `asset`.
pub fn body(asset: &Asset) -> Cow<'static, [u8]> {
    let texty = asset.content_type.starts_with("text/html")
        || asset.content_type.starts_with("text/javascript");
    match std::str::from_utf8(asset.bytes) {
        Ok(s) if texty && s.contains("__HTRAC_BUILD__") => {
            Cow::Owned(s.replace("__HTRAC_BUILD__", build_id()).into_bytes())
        }
        _ => Cow::Borrowed(asset.bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_build_id() {
        assert_eq!(find("/").unwrap().path, "/index.html");
        assert!(find("/index.html?x=1").is_some());
        assert!(find("/../Cargo.toml").is_none());
        assert!(find("/etc/passwd").is_none());
        let page = body(find("/").unwrap());
        let text = String::from_utf8(page.into_owned()).unwrap();
        assert!(!text.contains("__HTRAC_BUILD__"));
        assert!(text.contains(build_id()));
        assert_eq!(build_id().len(), 12);
    }

    /// Every file under `frontend/` is served, and the service worker's
    /// shell lists only served files: a forgotten line here is a 404 for
    /// a module, which blanks the page.
    #[test]
    fn every_frontend_file_is_embedded() {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.push(format!("/{}", p.strip_prefix(base).unwrap().display()));
                }
            }
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend");
        let mut files = Vec::new();
        walk(&base, &base, &mut files);
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        served.sort();
        assert_eq!(files, served, "frontend/ and ASSETS differ");
        let sw = std::str::from_utf8(find("/service-worker.js").unwrap().bytes).unwrap();
        for line in sw.lines() {
            let l = line.trim();
            if let Some(url) = l.strip_prefix('\'').and_then(|l| l.strip_suffix("',")) {
                if url.starts_with('/') {
                    assert!(
                        find(url).is_some(),
                        "service worker caches {url}, not served"
                    );
                }
            }
        }
    }
}
