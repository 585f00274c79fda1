//! `htrac config get KEY` / `htrac config set KEY VALUE`: the configuration
//! one key at a time, for scripts and agents (setting is the human's); and
//! setup taking the config back from another user.

use super::*;

#[test]
fn config_get_and_set_one_key_keeping_the_rest_of_the_file() {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    let r = repo.run(&["config", "set", "sync.base_branch", "main"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "sync.base_branch = main\n");
    assert_eq!(
        repo.run(&["config", "get", "sync.base_branch"]).stdout,
        "main\n"
    );
    let r = repo.run(&["--json", "config", "set", "claims.lease", "2h"]);
    assert_eq!(r.json()["value"], "2h");
    assert_eq!(
        repo.run(&["--json", "config", "get", "claims"]).json(),
        serde_json::json!({"lease": "2h"})
    );
    // Every line of the file that was there is still there, comments too,
    // and the file is the human's, read-only.
    let after = std::fs::read_to_string(&config).unwrap();
    for line in before.lines() {
        assert!(after.contains(line), "lost: {line}");
    }
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    // A value the configuration refuses changes nothing.
    let r = repo.run(&["config", "set", "statuses", "not-a-list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("statuses") && r.stderr.contains("unchanged"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    // An unknown key is not found.
    let r = repo.run(&["config", "get", "no.such.key"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no configuration key"), "{}", r.stderr);
}

#[test]
fn an_agent_reads_the_configuration_but_may_not_change_it() {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("- \"*_agent\"", "- \"*\"")).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    let r = repo.run(&["config", "get", "actor_resolution.agent_usernames"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "[\"*\"]\n"),
        "{}",
        r.stderr
    );
    let r = repo.run(&["config", "set", "sync.base_branch", "main"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("only a human"), "{}", r.stderr);
}

#[test]
fn setup_takes_back_a_config_another_user_owns() {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    // nobody (uid 65534) is no agent: say, a config written by another login.
    std::os::unix::fs::chown(&config, Some(65534), None).unwrap();
    let (_, v) = repo.setup_json();
    let c = check(&v, "config_ownership");
    assert_eq!(c["status"], "fixed", "{v:#}");
    assert!(
        c["message"].as_str().unwrap().contains("taken from user"),
        "{c}"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&config).unwrap().uid(),
        rustix::process::getuid().as_raw()
    );
    let (_, v) = repo.setup_json();
    assert_eq!(check(&v, "config_ownership")["status"], "ok", "{v:#}");
}
