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

/// A set-up repository whose config makes every user (this one too) an agent.
fn everyone_an_agent() -> Repo {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("- \"*_agent\"", "- \"*\"")).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    repo
}

#[test]
fn an_agent_reads_the_configuration_but_may_not_change_it() {
    let repo = everyone_an_agent();
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

/// Runs `htrac setup configure` with `input` on standard input.
fn configure(repo: &Repo, input: &str) -> Run {
    common::run_with_input(repo.command(&["setup", "configure"]), input)
}

#[test]
fn setup_configure_walks_the_keys_checks_each_answer_and_writes_on_yes() {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    let questions = htrac::settings::QUESTIONS.len();
    // First answer is refused (not a list) and asked again; then a new
    // status list; the rest kept, except sync.base_branch; then one other
    // key; a malformed line; Enter; and "no" to writing.
    let mut answers = vec![
        "not-a-list",
        "[todo_hard, todo_soft, in_progress, done, wont_do, deleted, blocked]",
    ];
    let base = htrac::settings::QUESTIONS
        .iter()
        .position(|q| q.1 == "sync.base_branch")
        .unwrap();
    for n in 1..questions {
        answers.push(if n == base { "trunk" } else { "" });
    }
    answers.extend(["kinds.bug.prefix BUG", "just-a-key", "", "n"]);
    let input = answers.join("\n") + "\n";
    let r = configure(&repo, &input);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("statuses: must be a list"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("write KEY VALUE"), "{}", r.stdout);
    assert!(
        r.stdout.contains("+  base_branch: \"trunk\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("+    prefix: \"BUG\""), "{}", r.stdout);
    assert!(
        r.stdout.contains("-  - needs_human_review") || r.stdout.contains("-statuses:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("Nothing written.\n"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    // The same answers and "y": written, read-only, and in force.
    let r = configure(&repo, &input.replace("\nn\n", "\ny\n"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("config.yaml written.\n"), "{}", r.stdout);
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_eq!(
        repo.run(&["config", "get", "sync.base_branch"]).stdout,
        "trunk\n"
    );
    assert_eq!(
        repo.run(&["config", "get", "kinds.bug.prefix"]).stdout,
        "BUG\n"
    );
    let r = repo.run(&["--json", "config", "get", "statuses"]);
    assert!(r.stdout.contains("\"blocked\""), "{}", r.stdout);
    // Comments in the file are kept.
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains("# Tags every agent should know about."));

    // Nothing typed at all (end of input at once): no change, no question.
    let r = configure(&repo, "");
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("No change"), "{}", r.stdout);
}

#[test]
fn setup_configure_is_the_humans() {
    let repo = everyone_an_agent();
    let r = configure(&repo, "[a]\n");
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("only a human"), "{}", r.stderr);
    assert!(!r.stdout.contains("now:"), "{}", r.stdout);
}
