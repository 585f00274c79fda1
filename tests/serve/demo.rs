//! `make demo-web` (tests/demo/web.sh): its set-up part, against the
//! binaries under test. The backlog it builds has what the demo promises —
//! a dependency, a discussion with both roles, a locked item, a frozen
//! one, priority history — and the password it prints signs in.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{self, Env};
use crate::support::Server;

/// The value printed after `label` (`  password: xyz`).
fn printed<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in the demo's output:\n{out}"))
        .trim()
}

fn items(env: &Env) -> Vec<Value> {
    let v = env.run(&["--json", "list"]).ok().json();
    v.as_array().expect("list --json is an array").clone()
}

fn by_title<'a>(items: &'a [Value], title: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("no item {title:?}"))
}

#[test]
fn the_web_demo_builds_its_backlog_and_its_printed_password_signs_in() {
    let env = Env::bare();
    let bin_dir = Path::new(common::bin()).parent().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo/web.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(bin_dir)
        .arg("--setup-only")
        .arg(env.path())
        .env("DEMO_BCRYPT_COST", "4")
        .env("DEMO_PORT", "7399")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the demo failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Open   http://localhost:7399"), "{text}");
    let user = printed(&text, "user:").to_string();
    let password = printed(&text, "password:").to_string();
    assert!(password.len() >= 12, "a weak password: {password:?}");

    let all = items(&env);
    let readme = by_title(&all, "Write the README");
    assert_eq!(
        readme["locked_fields"],
        serde_json::json!(["priority", "status"])
    );
    assert_eq!(by_title(&all, "Support TOML configs too")["frozen"], true);
    let release = by_title(&all, "Release 1.0");
    assert!(
        readme["isbefore"]
            .as_array()
            .unwrap()
            .contains(&release["id"]),
        "the README comes before the release: {readme}"
    );
    let anchors = by_title(&all, "Reject YAML anchors in the config");
    let discussion = anchors["discussion"].as_array().unwrap();
    let roles: Vec<&str> = discussion
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["agent", "human", "agent", "human"], "{anchors}");
    // The agent's ops count as the agent's: the human's lock and freeze hold.
    assert!(anchors.get("rejected_ops").is_none(), "{anchors}");

    // The printed password signs in, the wrong one does not.
    passwd_check(env, &user, &password, &text);
}

fn passwd_check(env: Env, user: &str, password: &str, text: &str) {
    let s = Server::start_in(env);
    let r = s.try_login(user, password).expect(200, None);
    let cookie = r
        .header("Set-Cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        r.json()["human"],
        true,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let login = crate::support::Login {
        cookie,
        csrf: r.json()["csrf"].as_str().unwrap().to_string(),
    };
    s.try_login(user, "not the password").expect(401, None);
    let trend = s
        .get("/api/priority-trend", Some(&login))
        .expect(200, None)
        .json();
    let points = trend["points"].as_array().unwrap();
    if text.contains("written under faketime") {
        // Two weeks of days, and the mean priority moved over them.
        assert!(points.len() >= 14, "{trend}");
        let means: Vec<&Value> = points.iter().map(|p| &p["mean_priority"]).collect();
        assert!(means.windows(2).any(|w| w[0] != w[1]), "{trend}");
    } else {
        assert!(!points.is_empty(), "{trend}");
    }
}
