//! `htrac fork-setup`: the stop hook's scope set, the human's comments kept.

use super::*;

#[test]
fn fork_setup_sets_the_scope_keeping_the_humans_comments() {
    let repo = Repo::new();
    repo.run(&["init"]).ok();
    let config = repo.root().join("tracker/config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    let r = repo.run(&["fork-setup"]).ok();
    assert_eq!(r.stdout, "scope set to 'workspace'\n");
    let after = std::fs::read_to_string(&config).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed, [("  scope: all", "  scope: workspace")]);
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let c = htrac::config::Config::load(&repo.root()).unwrap();
    assert_eq!(c.scope, htrac::config::Scope::Workspace);
    // Again: nothing to do, same answer, same bytes.
    let r = repo.run(&["--json", "fork-setup"]).ok();
    assert_eq!(r.stdout, "{\"ok\": true, \"scope\": \"workspace\"}\n");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
    // No config.yaml: it is made from the template first.
    std::fs::remove_file(&config).unwrap();
    repo.run(&["fork-setup"]).ok();
    let made = std::fs::read_to_string(&config).unwrap();
    assert_eq!(made, after);
}
