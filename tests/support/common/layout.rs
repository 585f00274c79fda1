//! The layout of `tests/`: one test binary per directory (`tests/NAME/main.rs`,
//! declared as a `[[test]]` in Cargo.toml, where `autotests = false`), each
//! declaring its files as modules. A file nobody declares would never be
//! compiled — its tests would silently never run — so each binary checks its
//! own directory, and the `cli` binary checks the directory list.

use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// `p` as the repository names it (`tests/cli/add.rs`).
fn shown(p: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Whether `owner`'s text declares `mod name;` (`pub`, `pub(crate)` or not).
fn declares(owner: &str, name: &str) -> bool {
    owner.lines().any(|l| {
        let l = l.trim();
        let l = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        l == format!("mod {name};")
    })
}

/// Every `.rs` file under `dir` (whose module file is `owner`, `main.rs` or
/// `mod.rs`) is declared by its owner; a subdirectory is a module with a
/// `mod.rs`. Returns what is not.
fn forgotten(dir: &Path, owner: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(owner)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", shown(owner)));
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", shown(dir)))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            let sub = p.join("mod.rs");
            let has_rust = std::fs::read_dir(&p)
                .unwrap()
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "rs"));
            if !has_rust {
                continue; // data, not code
            }
            if !sub.is_file() {
                out.push(format!("{}: Rust files but no mod.rs", shown(&p)));
            } else if !declares(&text, &name) {
                out.push(format!("{} is not declared (`mod {name};`)", shown(&p)));
            } else {
                out.extend(forgotten(&p, &sub));
            }
        } else if let Some(stem) = name.strip_suffix(".rs") {
            if p == owner || stem == "main" || stem == "mod" {
                continue;
            }
            if !declares(&text, stem) {
                out.push(format!(
                    "{} is not declared in {} (`mod {stem};`)",
                    shown(&p),
                    shown(owner)
                ));
            }
        }
    }
    out
}

/// Fails naming every `.rs` file under `tests/<binary>/` that its `main.rs`
/// (or a subdirectory's `mod.rs`) does not declare.
pub fn assert_no_forgotten_test_files(binary: &str) {
    let dir = tests_dir().join(binary);
    let missing = forgotten(&dir, &dir.join("main.rs"));
    assert!(
        missing.is_empty(),
        "test files that never compile, so their tests never run:\n  {}",
        missing.join("\n  ")
    );
}

/// No `tests/*.rs` (with `autotests = false` cargo would ignore it), and every
/// `tests/NAME/main.rs` is a `[[test]]` of Cargo.toml.
pub fn assert_every_test_binary_is_declared() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let mut problems = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(tests_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() && name.ends_with(".rs") {
            problems.push(format!(
                "tests/{name}: a test file outside every test binary (move it into one)"
            ));
        }
        if p.join("main.rs").is_file()
            && !manifest.contains(&format!("path = \"tests/{name}/main.rs\""))
        {
            problems.push(format!(
                "tests/{name}/main.rs is no [[test]] of Cargo.toml (autotests = false)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
