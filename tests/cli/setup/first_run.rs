//! A first `htrac setup` fixes what it can and a second changes no byte;
//! after `init` it adds only what init leaves out; what it cannot fix is an
//! error.

use super::*;

use crate::common;

#[test]
fn a_fresh_repository_is_set_up_and_a_second_run_changes_nothing() {
    let repo = Repo::new();
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    let names: Vec<String> = statuses(&first).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, CHECKS);
    for fixed in [
        "directory_structure",
        "gitattributes",
        "gitignore",
        "config_template",
        "config_yaml",
        "textconv",
        "precommit_hook",
        "journal_hooks",
        "tracker_wrapper",
        "agents_md",
    ] {
        assert_eq!(
            check(&first, fixed)["status"],
            "fixed",
            "{fixed}: {first:#}"
        );
    }
    assert_eq!(first["summary"]["fixed"], 10);
    assert_eq!(first["summary"]["error"], 0);

    // The layout is the tracker `init` makes, plus the diff driver.
    let root = repo.root();
    let config = root.join("tracker/config.yaml");
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert_eq!(
        std::fs::read(&config).unwrap(),
        std::fs::read(root.join("tracker/config.yaml.template")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker/.ops/.gitattributes")).unwrap(),
        "*.ops merge=union\n*.ops diff=tracker\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tracker-workspace/stealth/.gitignore")).unwrap(),
        "*.ops\n"
    );
    let top = std::fs::read_to_string(repo.path().join(".gitattributes")).unwrap();
    assert!(
        top.contains(
            ".agent/tracker-workspace/.ops/.*.ops   linguist-generated  merge=union  diff=tracker"
        ),
        "{top}"
    );
    let driver = String::from_utf8(
        repo.git_cmd(&["config", "--local", "diff.tracker.textconv"])
            .stdout,
    )
    .unwrap();
    assert_eq!(driver.trim(), format!("{} textconv", common::bin()));
    // git sees the attributes on a real op-log path.
    let attrs = String::from_utf8(
        repo.git_cmd(&[
            "check-attr",
            "merge",
            "diff",
            "--",
            ".agent/tracker-workspace/.ops/.WI-x.ops",
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        attrs.contains("merge: union") && attrs.contains("diff: tracker"),
        "{attrs}"
    );

    // An item, so the data and driver checks have something to look at.
    repo.run(&["add", "--kind", "work_item", "--title", "first"])
        .ok();
    let extra = [repo.global_config()];
    let before = fingerprint(repo.path(), &extra);
    let (code, second) = repo.setup_json();
    assert_eq!(code, 0, "{second:#}");
    assert_eq!(second["summary"]["fixed"], 0, "{second:#}");
    assert_eq!(check(&second, "existing_data")["status"], "ok");
    assert_eq!(fingerprint(repo.path(), &extra), before);
    // And the plain report says the same.
    let text = repo.run(&["setup"]).ok().stdout;
    let rule = "-".repeat(47);
    assert!(
        text.starts_with(&format!("{rule}\n[ok]    Git repository detected\n")),
        "{text}"
    );
    assert!(text.contains("\n[warn]  No stop hook found\n"), "{text}");
    assert!(!text.contains("[fixed]"), "{text}");
    assert!(
        text.ends_with(&format!("{rule}\nSetup complete. {}.\n", {
            let w = second["summary"]["warn"].as_u64().unwrap();
            format!("{w} warning{}", if w == 1 { "" } else { "s" })
        })),
        "{text}"
    );
    assert_eq!(fingerprint(repo.path(), &extra), before);
}

#[test]
fn setup_after_init_adds_only_what_init_leaves_out() {
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "directory_structure")["status"], "ok");
    assert_eq!(check(&r, "config_yaml")["status"], "ok");
    assert_eq!(check(&r, "gitignore")["status"], "ok");
    // The tier files gain the diff line; the repository gets its root lines.
    assert_eq!(check(&r, "gitattributes")["status"], "fixed");
    // Found from a subdirectory too, with --root relative to it.
    let sub = repo.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let r = repo
        .command(&["--json", "setup", "--root", "../../.agent"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["summary"]["fixed"], 0, "{v:#}");
    let r = repo
        .command(&["--json", "setup"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["summary"]["fixed"], 0, "{v:#}");
    assert!(!sub.join(".agent").exists());
}

#[test]
fn problems_it_cannot_fix_are_errors_with_exit_1() {
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("scope: all", "scope: everything");
    std::fs::write(&config, text).unwrap();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 1);
    let c = check(&r, "config_validation");
    assert_eq!(c["status"], "error");
    assert!(
        c["message"].as_str().unwrap().contains("stop_hook.scope"),
        "{c}"
    );
    // The mode is still put back.
    assert_eq!(check(&r, "config_permissions")["status"], "fixed");
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );

    // A broken item file is an error naming the item.
    let repo = Repo::new();
    repo.run(&["setup"]).ok();
    let id = repo
        .run(&["add", "--kind", "work_item", "--title", "x"])
        .ok()
        .stdout;
    let id = id.trim();
    let path = repo.env.workspace_ops(id);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("- op: update\n  set: [unclosed\n");
    std::fs::write(&path, text).unwrap();
    let r = repo.run(&["setup"]).fails(1);
    assert!(
        r.stdout
            .contains("[error] 1 of 1 item file(s) cannot be read"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(id), "{}", r.stdout);
    assert!(r.stdout.contains(" 1 error.\n"), "{}", r.stdout);
}
