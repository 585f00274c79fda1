//! `scripts/tracker` and `scripts/tracker-textconv`, the shims setup
//! installs as the reference's does: they run htrac, and setup never
//! rewrites one that is there.

use super::*;

#[test]
fn setup_installs_shims_that_run_htrac_and_leaves_existing_ones() {
    let repo = Repo::new();
    let (_, v) = repo.setup_json();
    let c = check(&v, "tracker_wrapper");
    assert_eq!(c["status"], "fixed", "{c:#}");
    let tracker = repo.path().join("scripts/tracker");
    let textconv = repo.path().join("scripts/tracker-textconv");
    for s in [&tracker, &textconv] {
        let mode = std::fs::metadata(s).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{}", s.display());
    }
    // htrac on PATH: the shim runs it.
    let dir = Path::new(common::bin()).parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let run = |args: &[&str], path: &str| {
        let out = Command::new(&tracker)
            .args(args)
            .current_dir(repo.path())
            .env("PATH", path)
            .env("HOME", repo.path())
            .env("HTRAC_CACHE_DIR", repo.path().join(".cache"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(
        &["add", "--kind", "work_item", "--title", "Through the shim"],
        &path,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let (_, out, _) = run(&["--json", "list"], &path);
    assert!(out.contains("Through the shim"), "{out}");
    // The textconv shim renders an op file.
    let ops: Vec<_> = std::fs::read_dir(repo.root().join("tracker-workspace/.ops"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ops"))
        .collect();
    let out = Command::new(&textconv)
        .arg(&ops[0])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Through the shim"));
    // Without htrac anywhere: a clear error, exit 127; textconv shows the raw file.
    let (code, _, err) = run(&["ready"], "/usr/bin:/bin");
    assert_eq!(code, Some(127));
    assert!(err.contains("htrac is not installed"), "{err}");
    let out = Command::new(&textconv)
        .arg(&ops[0])
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", repo.path())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.starts_with("# htrac is not installed") && shown.contains("op: create"),
        "{shown}"
    );

    // A script of the project's (say, the reference's) is never rewritten;
    // one that lost its x bit gets it back.
    std::fs::write(&tracker, "#!/bin/sh\nexec hypergumbo-tracker \"$@\"\n").unwrap();
    std::fs::set_permissions(&tracker, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, v) = repo.setup_json();
    let c = check(&v, "tracker_wrapper");
    assert_eq!(c["status"], "fixed", "{c:#}");
    assert!(details(c).contains("made executable"), "{c:#}");
    assert_eq!(
        std::fs::read_to_string(&tracker).unwrap(),
        "#!/bin/sh\nexec hypergumbo-tracker \"$@\"\n"
    );
    assert_eq!(
        std::fs::metadata(&tracker).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let (_, v) = repo.setup_json();
    assert_eq!(check(&v, "tracker_wrapper")["status"], "ok");
}
