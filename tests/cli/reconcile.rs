//! The journal and `htrac reconcile`, on real git repositories: ops are
//! journalled outside the work tree, destructive git commands lose them,
//! `reconcile` (or the installed hooks) brings every one back, once.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, git, Env, Run};

/// A tracker in a git repository with its own journal state directory.
struct J {
    env: Env,
    state: tempfile::TempDir,
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl J {
    fn new() -> J {
        let j = J {
            env: Env::bare(),
            state: tempfile::tempdir().unwrap(),
        };
        common::git_init(j.path());
        j.run(&["init"]).ok();
        j.git(&["add", "-A"]);
        j.git(&["commit", "-q", "-m", "init"]);
        j
    }

    fn path(&self) -> &Path {
        self.env.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.env.command(args);
        c.env("HTRAC_STATE_DIR", self.state.path())
            .env("PATH", PATH);
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("htrac runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// git with the same journal and PATH, so hooks find this build of htrac.
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("HTRAC_STATE_DIR", self.state.path())
            .env("HTRAC_CACHE_DIR", self.env.cache.path())
            .env("PATH", PATH)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    fn add(&self, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["add", "--kind", "work_item", "--title", title];
        args.extend_from_slice(extra);
        self.run(&args).ok().stdout.trim().to_string()
    }

    fn show(&self, id: &str) -> serde_json::Value {
        self.run(&["--json", "show", id]).ok().json()
    }

    fn journal(&self) -> PathBuf {
        let dirs: Vec<_> = std::fs::read_dir(self.state.path().join("journal"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(dirs.len(), 1, "one journal per tracker: {dirs:?}");
        dirs[0].clone()
    }

    fn journal_file(&self, tier: &str, id: &str) -> PathBuf {
        self.journal().join(tier).join(format!(".{id}.ops"))
    }

    fn ops_file(&self, id: &str) -> PathBuf {
        self.env.workspace_ops(id)
    }

    fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }
}

/// How many ops a file holds.
fn ops(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| l.starts_with("- op:")).count())
        .unwrap_or(0)
}

/// A committed item with unsynced ops on top, and a new uncommitted item.
/// Returns (committed id, new id, their `show --json` and op counts).
fn unsynced(j: &J) -> (String, String, Vec<(serde_json::Value, usize)>) {
    let a = j.add("committed", &[]);
    j.commit_all("a");
    j.run(&["update", &a, "--status", "in_progress"]).ok();
    j.run(&["discuss", &a, "the human said yes"]).ok();
    let b = j.add("brand new", &["--priority", "1"]);
    j.run(&["discuss", &b, "first words"]).ok();
    let before = [&a, &b]
        .iter()
        .map(|id| (j.show(id), ops(&j.ops_file(id))))
        .collect();
    (a, b, before)
}

fn assert_restored(j: &J, ids: &[&str], before: &[(serde_json::Value, usize)]) {
    for (id, (show, n)) in ids.iter().zip(before) {
        assert_eq!(&j.show(id), show, "{id}");
        assert_eq!(ops(&j.ops_file(id)), *n, "{id}: every op once");
    }
}

#[test]
fn every_op_is_journalled_privately_as_a_valid_op_log() {
    let j = J::new();
    let (a, b, _) = unsynced(&j);
    let ja = j.journal_file("workspace", &a);
    // Everything appended since the journal began: create, update, discuss.
    assert_eq!(ops(&ja), 3);
    assert_eq!(ops(&j.journal_file("workspace", &b)), 2);
    // The journal of an item is byte for byte what was appended to it.
    assert_eq!(
        std::fs::read(&ja).unwrap(),
        std::fs::read(j.ops_file(&a)).unwrap()
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&j.journal()), 0o700);
    assert_eq!(mode(&ja), 0o600);
    assert_eq!(
        std::fs::read_to_string(j.journal().join("root"))
            .unwrap()
            .trim(),
        j.env.root().canonicalize().unwrap().to_str().unwrap()
    );
    // Stealth ops are journalled too (git clean -fdx can delete them).
    let s = j.add("private", &["--tier", "stealth"]);
    assert_eq!(ops(&j.journal_file("stealth", &s)), 1);
}

#[test]
fn reset_hard_after_unsynced_ops_then_reconcile_restores_every_one_once() {
    let j = J::new();
    let (a, b, before) = unsynced(&j);
    j.git(&["reset", "-q", "--hard"]);
    j.git(&["clean", "-q", "-fd"]);
    assert_eq!(ops(&j.ops_file(&a)), 1, "reset dropped the unsynced ops");
    assert!(!j.ops_file(&b).exists(), "clean removed the new item");

    let r = j.run(&["reconcile"]).ok();
    assert!(
        r.stdout
            .contains(&format!("restored 2 op(s) to {a} [workspace]\n")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "restored 2 op(s) to {b} [workspace] (file recreated)\n"
        )),
        "{}",
        r.stdout
    );
    assert_restored(&j, &[&a, &b], &before);
    // A recreated item file is group-writable like every item file.
    let mode = std::fs::metadata(j.ops_file(&b))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o664);

    assert_eq!(j.run(&["reconcile"]).ok().stdout, "nothing to restore\n");
    let again = j.run(&["--json", "reconcile"]).ok().json();
    assert_eq!(again["total"], 0);
    assert_eq!(again["restored"], serde_json::json!([]));
    assert_restored(&j, &[&a, &b], &before);
}

#[test]
fn checkout_dot_then_reconcile_restores_and_reports_json() {
    let j = J::new();
    let (a, b, before) = unsynced(&j);
    j.git(&["checkout", "-q", "--", "."]);
    assert_eq!(ops(&j.ops_file(&a)), 1);
    assert!(j.ops_file(&b).exists(), "checkout leaves untracked files");
    let r = j.run(&["--json", "reconcile"]).ok().json();
    assert_eq!(r["total"], 2, "{r}");
    assert_eq!(
        r["restored"],
        serde_json::json!([{"id": a, "tier": "workspace", "ops": 2, "created": false}])
    );
    assert_restored(&j, &[&a, &b], &before);
}

#[test]
fn dry_run_reports_and_changes_nothing() {
    let j = J::new();
    let (a, b, _) = unsynced(&j);
    j.git(&["reset", "-q", "--hard"]);
    j.git(&["clean", "-q", "-fd"]);
    let tree = j.env.tree();
    let journal = std::fs::read(j.journal_file("workspace", &a)).unwrap();
    let r = j.run(&["reconcile", "--dry-run"]).ok();
    assert!(
        r.stdout
            .contains(&format!("would restore 2 op(s) to {a} [workspace]\n")),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains(&format!("{b} [workspace] (file recreated)")));
    let json = j.run(&["--json", "reconcile", "--dry-run"]).ok().json();
    assert_eq!(json["total"], 4);
    assert_eq!(json["dry_run"], true);
    assert_eq!(j.env.tree(), tree, "the working tree is untouched");
    assert_eq!(
        std::fs::read(j.journal_file("workspace", &a)).unwrap(),
        journal,
        "and the journal is not pruned"
    );
    // The real run then restores exactly that.
    assert_eq!(j.run(&["--json", "reconcile"]).ok().json()["total"], 4);
}

#[test]
fn pruning_drops_ops_on_the_base_branch_and_keeps_the_rest() {
    let j = J::new();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    j.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    let a = j.add("pushed", &[]);
    j.run(&["update", &a, "--priority", "0"]).ok();
    j.commit_all("a");
    j.git(&["push", "-q", "origin", "dev"]);
    j.git(&["fetch", "-q", "origin"]);
    // Committed on the local dev, not pushed: origin/dev is the base.
    j.run(&["update", &a, "--priority", "3"]).ok();
    j.commit_all("local only");
    j.run(&["discuss", &a, "unsynced"]).ok();
    assert_eq!(ops(&j.journal_file("workspace", &a)), 4);

    // (--no-auto-sync: the journal's own pruning, without reconcile's sync.)
    let r = j
        .run(&["--no-auto-sync", "--json", "reconcile"])
        .ok()
        .json();
    assert_eq!(r["total"], 0);
    assert_eq!(r["pruned"], 2, "{r}");
    let kept = std::fs::read_to_string(j.journal_file("workspace", &a)).unwrap();
    assert_eq!(ops(&j.journal_file("workspace", &a)), 2, "{kept}");
    assert!(kept.contains("priority: 3") && kept.contains("unsynced"));

    // Pushed: everything is safe, the journal file goes away.
    j.commit_all("discuss");
    j.git(&["push", "-q", "origin", "dev"]);
    j.git(&["fetch", "-q", "origin"]);
    assert_eq!(
        j.run(&["--no-auto-sync", "--json", "reconcile"])
            .ok()
            .json()["pruned"],
        2
    );
    assert!(!j.journal_file("workspace", &a).exists());
}

#[test]
fn a_file_whose_create_was_pruned_is_recreated_from_the_base_branch() {
    let j = J::new();
    j.git(&["branch", "old"]);
    let a = j.add("on dev", &[]);
    j.commit_all("a");
    j.run(&["update", &a, "--status", "in_progress"]).ok();
    // No remote: the local dev branch is the base; the create is pruned.
    assert_eq!(j.run(&["--json", "reconcile"]).ok().json()["pruned"], 1);
    assert_eq!(ops(&j.journal_file("workspace", &a)), 1);
    let before = j.show(&a);
    j.git(&["checkout", "-q", "-f", "old"]);
    assert!(!j.ops_file(&a).exists());
    let r = j.run(&["reconcile"]).ok();
    assert!(
        r.stdout.contains(&format!(
            "restored 2 op(s) to {a} [workspace] (file recreated)"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(j.show(&a), before);
}

#[test]
fn a_promoted_item_gets_its_ops_where_it_lives_now() {
    let j = J::new();
    let a = j.add("to promote", &[]);
    j.commit_all("a");
    j.run(&["promote", &a]).ok();
    j.run(&["update", &a, "--priority", "0"]).ok();
    let canonical = j.env.ops_path("tracker/.ops", &a);
    assert!(canonical.exists() && !j.ops_file(&a).exists());
    // reset --hard brings the committed workspace copy back; clean drops
    // the untracked canonical one.
    j.git(&["reset", "-q", "--hard"]);
    j.git(&["clean", "-q", "-fd"]);
    assert!(!canonical.exists() && j.ops_file(&a).exists());
    j.run(&["reconcile"]).ok();
    let item = j.show(&a);
    assert_eq!(item["priority"], 0, "{item}");
    assert_eq!(item["tier"], "workspace");
    assert!(!canonical.exists(), "one copy, no cross-tier conflict");
    assert_eq!(ops(&j.ops_file(&a)), 3);
}

#[test]
fn a_stealth_item_removed_by_clean_fdx_is_recreated_in_stealth() {
    let j = J::new();
    let s = j.add("private", &["--tier", "stealth"]);
    j.run(&["discuss", &s, "secret"]).ok();
    let path = j.env.ops_path("tracker-workspace/stealth", &s);
    let before = j.show(&s);
    j.git(&["clean", "-q", "-fdx"]);
    assert!(!path.exists());
    j.run(&["reconcile"]).ok();
    assert_eq!(j.show(&s), before);
    assert_eq!(ops(&path), 2);
    assert!(!j.ops_file(&s).exists(), "never into a committed tier");
}

#[test]
fn the_installed_hooks_restore_after_checkout_and_merge_but_not_reset() {
    let j = J::new();
    let r = j.run(&["--json", "setup"]);
    let report = r.json();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "journal_hooks")
        .unwrap();
    assert_eq!(check["status"], "fixed", "{check}");
    for h in ["post-checkout", "post-merge"] {
        let p = j.path().join(".git/hooks").join(h);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{h} is executable");
    }
    j.commit_all("setup");
    j.git(&["checkout", "-q", "-b", "side"]);
    j.git(&["commit", "-q", "--allow-empty", "-m", "side"]);
    j.git(&["checkout", "-q", "dev"]);
    let (a, b, before) = unsynced(&j);

    // git checkout -- . runs post-checkout: restored at once.
    let said = j.git(&["checkout", "--", "."]);
    assert!(
        said.contains(&format!("htrac: restored 2 op(s) to {a} [workspace]")),
        "{said}"
    );
    assert_restored(&j, &[&a, &b], &before);

    // reset --hard runs no hook: the ops stay lost until reconcile.
    j.git(&["reset", "-q", "--hard"]);
    assert_eq!(ops(&j.ops_file(&a)), 1);
    // ...but the next merge (post-merge) brings them back.
    j.git(&["merge", "-q", "--no-edit", "side"]);
    assert_restored(&j, &[&a, &b], &before);

    // A forced checkout of the same commit (post-checkout) restores them.
    j.git(&["reset", "-q", "--hard"]);
    j.git(&["checkout", "-q", "-f"]);
    assert_restored(&j, &[&a, &b], &before);

    // A switch to another commit only says what the journal holds: files
    // restored there would stop the next checkout.
    j.git(&["stash", "-q", "-u"]);
    let said = j.git(&["checkout", "-q", "side"]);
    assert!(
        said.contains(
            "htrac: 5 journalled op(s) are not in this checkout; 'htrac reconcile' restores them"
        ),
        "{said}"
    );
    assert!(!j.ops_file(&a).exists() && !j.ops_file(&b).exists());
    let said = j.git(&["checkout", "-q", "dev"]);
    assert!(said.contains("htrac: 4 journalled op(s)"), "{said}");
    j.git(&["stash", "pop", "-q"]);
    assert_restored(&j, &[&a, &b], &before);

    // The sync engine silences the hooks around its own git commands.
    j.git(&["reset", "-q", "--hard"]);
    let out = Command::new("git")
        .arg("-C")
        .arg(j.path())
        .args(["checkout", "-q", "--", "."])
        .env("HTRAC_STATE_DIR", j.state.path())
        .env("PATH", PATH)
        .env("HTRAC_NO_RECONCILE", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(ops(&j.ops_file(&a)), 1);

    // A second setup changes nothing.
    let again = j.run(&["--json", "setup"]).json();
    assert_eq!(again["summary"]["fixed"], 0, "{again}");
}

#[test]
fn a_foreign_hook_is_left_alone_with_the_line_to_add() {
    let j = J::new();
    let hook = j.path().join(".git/hooks/post-merge");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let report = j.run(&["--json", "setup"]).json();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "journal_hooks")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "warn", "{check}");
    let details = check["details"].to_string();
    assert!(
        details.contains("  htrac --tracker-root .agent --no-auto-sync reconcile --hook || true"),
        "{details}"
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(j.path().join(".git/hooks/post-checkout").exists());
}

#[test]
fn an_unwritable_journal_warns_and_the_op_stands_once() {
    let j = J::new();
    let blocker = j.state.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let run = |args: &[&str]| {
        let out = j
            .command(args)
            .env("HTRAC_STATE_DIR", &blocker)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let r = run(&["add", "--kind", "work_item", "--title", "x"]).ok();
    assert!(
        r.stderr.contains("warning: op written but not journalled"),
        "{}",
        r.stderr
    );
    let id = r.stdout.trim().to_string();
    let u = run(&["update", &id, "--priority", "0"]).ok();
    assert!(u.stderr.contains("not journalled"), "{}", u.stderr);
    assert_eq!(ops(&j.ops_file(&id)), 2, "each op written exactly once");
    assert_eq!(j.show(&id)["priority"], 0);
    // Nothing journalled, nothing to restore, and reconcile says so.
    assert_eq!(run(&["reconcile"]).ok().stdout, "nothing to restore\n");
}
