//! The AGENTS.md block `htrac setup` writes: inserted once, kept current in
//! place, left alone when unclear, and turned off on request.

use super::*;

/// The managed AGENTS.md block: inserted once, refreshed in place, never
/// duplicated, the user's text kept byte for byte, CLAUDE.md handled too.
#[test]
fn agents_md_block_is_inserted_once_and_kept_current_in_place() {
    use htrac::setup::agentsmd::{block, BEGIN, END};
    let repo = Repo::new();
    let agents = repo.path().join("AGENTS.md");
    let claude = repo.path().join("CLAUDE.md");
    let user = "# Our agents\r\n\nRule one: be kind.\nNo trailing newline";
    std::fs::write(&agents, user).unwrap();
    // CLAUDE.md holds an older block between the user's own text.
    let (head, tail) = ("# Claude\n\nBefore.\n", "\nAfter, untouched.\n");
    std::fs::write(
        &claude,
        format!("{head}{BEGIN}\nan old version of the block\n{END}{tail}"),
    )
    .unwrap();
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    let c = check(&first, "agents_md");
    assert_eq!(c["status"], "fixed", "{c:#}");
    assert_eq!(c["details"].as_array().unwrap().len(), 2, "{c:#}");
    let b = block();
    assert_eq!(
        std::fs::read_to_string(&agents).unwrap(),
        format!("{user}\n\n{b}\n")
    );
    assert_eq!(
        std::fs::read_to_string(&claude).unwrap(),
        format!("{head}{b}{tail}")
    );

    // Run again: nothing changes; the user edits around the block, still nothing.
    let (_, second) = repo.setup_json();
    assert_eq!(check(&second, "agents_md")["status"], "ok");
    let edited = format!("{user}\n\n{b}\n\nMore rules below the block.\n");
    std::fs::write(&agents, &edited).unwrap();
    let (_, third) = repo.setup_json();
    assert_eq!(check(&third, "agents_md")["status"], "ok");
    assert_eq!(std::fs::read_to_string(&agents).unwrap(), edited);

    // A stale block (someone edited inside it) is replaced where it is.
    std::fs::write(&agents, edited.replace("htrac prime", "htrac PRIME")).unwrap();
    let (_, fourth) = repo.setup_json();
    assert_eq!(check(&fourth, "agents_md")["status"], "fixed");
    let now = std::fs::read_to_string(&agents).unwrap();
    assert_eq!(now, edited);
    assert_eq!(now.matches(BEGIN).count(), 1);
    assert_eq!(now.matches(END).count(), 1);
}

#[test]
fn agents_md_is_created_left_alone_when_unclear_and_can_be_turned_off() {
    use htrac::setup::agentsmd::{block, BEGIN};
    let repo = Repo::new();
    let agents = repo.path().join("AGENTS.md");
    let (code, first) = repo.setup_json();
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(check(&first, "agents_md")["status"], "fixed");
    assert_eq!(
        std::fs::read_to_string(&agents).unwrap(),
        format!("{}\n", block())
    );
    // No CLAUDE.md is made when there is none.
    assert!(!repo.path().join("CLAUDE.md").exists());

    // Two begin markers: left alone, with a warning saying why.
    let doubled = format!("{BEGIN}\nx\n{BEGIN}\n");
    std::fs::write(&agents, &doubled).unwrap();
    let (_, r) = repo.setup_json();
    let c = check(&r, "agents_md");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(details(c).contains("there must be one of each"), "{c:#}");
    assert_eq!(std::fs::read_to_string(&agents).unwrap(), doubled);

    // The human opts out in the config: nothing is written any more.
    std::fs::remove_file(&agents).unwrap();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\nagents_md: false\n");
    std::fs::write(&config, &text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, r) = repo.setup_json();
    assert_eq!(code, 0, "{r:#}");
    let c = check(&r, "agents_md");
    assert_eq!(c["status"], "ok");
    assert!(c["message"].as_str().unwrap().contains("agents_md: false"));
    assert!(!agents.exists());
    // The key breaks nothing else: the config still validates.
    assert_eq!(check(&r, "config_validation")["status"], "ok", "{r:#}");
    repo.run(&["add", "--kind", "work_item", "--title", "still works"])
        .ok();
}
