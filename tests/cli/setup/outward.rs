//! Setup's look outward: the sync target (remote, reachable, base branch)
//! and which htrac the shell and the hooks run.

use super::*;

fn message(v: &serde_json::Value, name: &str) -> (String, String) {
    let c = check(v, name);
    (
        c["status"].as_str().unwrap().to_string(),
        c["message"].as_str().unwrap().to_string(),
    )
}

#[test]
fn setup_says_whether_sync_has_somewhere_to_go() {
    let repo = Repo::new();
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(status, "ok");
    assert!(msg.contains("No git remote"), "{msg}");

    let remote = tempfile::tempdir().unwrap();
    let bare = remote.path().join("r.git");
    let out = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "dev"])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    repo.git_cmd(&["remote", "add", "origin", bare.to_str().unwrap()]);
    // The remote exists but lacks the base branch.
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(status, "warn", "{v:#}");
    assert!(
        msg.contains("origin/dev does not exist on the remote"),
        "{msg}"
    );
    // Pushed: reachable.
    repo.git_cmd(&["commit", "-q", "--allow-empty", "-m", "root"]);
    let out = repo.git_cmd(&["push", "-q", "origin", "HEAD:dev"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(status, "ok", "{v:#}");
    assert!(msg.contains("Sync target origin/dev is reachable"), "{msg}");
    // A remote that is gone does not answer.
    std::fs::rename(&bare, remote.path().join("moved")).unwrap();
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(
        (status.as_str(), msg.contains("does not answer")),
        ("warn", true),
        "{msg}"
    );
}

#[test]
fn setup_says_which_htrac_runs() {
    let repo = Repo::new();
    // Not on PATH (as this harness runs it): a warning naming the fallback.
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "install_provenance");
    assert_eq!(status, "warn");
    assert!(msg.contains("htrac is not on PATH"), "{msg}");
    // On PATH: its version, and that it is this very binary.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_htrac")).parent().unwrap();
    let out = repo
        .command(&["--json", "setup"])
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (status, msg) = message(&v, "install_provenance");
    assert_eq!(status, "ok", "{v:#}");
    assert!(
        msg.contains(&format!("htrac {} on PATH", env!("CARGO_PKG_VERSION")))
            && msg.contains("the one running setup"),
        "{msg}"
    );
}

#[test]
fn setup_warns_when_the_forge_presets_cli_is_missing() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new();
    repo.setup_json();
    let cfg = repo.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}\nsync:\n  mode: pr\n  pr:\n    forge: github\n"),
    )
    .unwrap();
    let (_, v) = repo.setup_json();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(status, "warn", "{v:#}");
    assert!(
        msg.contains("sync.pr.forge is 'github' but the gh CLI is not on PATH"),
        "{msg}"
    );
    // With gh on PATH the check is back to the remote's state.
    let bin = tempfile::tempdir().unwrap();
    let gh = bin.path().join("gh");
    std::fs::write(&gh, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = repo
        .command(&["--json", "setup"])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (status, msg) = message(&v, "sync_remote");
    assert_eq!(
        (status.as_str(), msg.contains("No git remote")),
        ("ok", true),
        "{msg}"
    );
}
