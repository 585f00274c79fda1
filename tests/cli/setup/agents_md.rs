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
    assert!(
        c["message"].as_str().unwrap().contains("agents_md: false"),
        "{c:#}"
    );
    assert!(!agents.exists());
    // The key breaks nothing else: the config still validates.
    assert_eq!(check(&r, "config_validation")["status"], "ok", "{r:#}");
    repo.run(&["add", "--kind", "work_item", "--title", "still works"])
        .ok();
}

/// The concept scan: with the block off and instructions of the project's
/// own, setup names each concept the file never mentions, with advice.
#[test]
fn setup_names_the_tracker_concepts_agents_md_leaves_out() {
    let repo = Repo::new();
    repo.setup_json();
    let config = repo.root().join("tracker/config.yaml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}agents_md: false\n")).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).unwrap();
    let agents = repo.path().join("AGENTS.md");
    std::fs::write(
        &agents,
        "# Rules\n\nStart with htrac prime.\nChoose work: htrac ready.\nRead items with htrac show ID.\n",
    )
    .unwrap();
    let (_, v) = repo.setup_json();
    let c = check(&v, "agents_md");
    assert_eq!(c["status"], "warn", "{c:#}");
    let d = details(c);
    for absent in [
        "unread_messages",
        "resolution_rationale",
        "human_authority",
        "batching",
        "auto_sync",
        "human_review_status",
    ] {
        assert!(
            d.contains(&format!("Missing concept '{absent}'")),
            "{absent}: {d}"
        );
    }
    for present in ["session_start", "task_selection", "context_protection"] {
        assert!(!d.contains(&format!("'{present}'")), "{present}: {d}");
    }
    assert!(d.contains("htrac check-messages"), "{d}");
    // The file is the project's: untouched.
    assert!(std::fs::read_to_string(&agents)
        .unwrap()
        .ends_with("htrac show ID.\n"));
    // With the block on, everything is covered.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&config, &text).unwrap();
    let (_, v) = repo.setup_json();
    let c = check(&v, "agents_md");
    assert_eq!(c["status"], "fixed", "{c:#}");
    assert!(!details(c).contains("Missing concept"), "{c:#}");
}

/// `--with-policy-template` adds the project's status policy section once,
/// from the configuration's statuses; setup never touches it again.
#[test]
fn with_policy_template_adds_the_status_policy_once() {
    use htrac::setup::agentsmd::{END, POLICY_HEADING};
    let repo = Repo::new();
    let r = repo.run(&["--json", "setup", "--with-policy-template"]);
    assert_eq!(check(&r.json(), "agents_md")["status"], "fixed");
    let agents = repo.path().join("AGENTS.md");
    let text = std::fs::read_to_string(&agents).unwrap();
    let at = text.find(POLICY_HEADING).expect("policy section");
    assert!(at > text.find(END).unwrap(), "outside the managed block");
    assert!(text.contains("| `todo_hard` | Yes |"), "{text}");
    assert!(
        text.contains("| `deleted` | No | Set by a human only |"),
        "{text}"
    );
    // The project edits its section; setup with the flag again keeps it as is.
    let edited = text.replace(
        "| `todo_soft` | Yes | Work on it (`htrac ready` offers it) |",
        "| `todo_soft` | Yes | Only on Fridays |",
    );
    assert_ne!(edited, text);
    std::fs::write(&agents, &edited).unwrap();
    let r = repo.run(&["--json", "setup", "--with-policy-template"]);
    assert_eq!(check(&r.json(), "agents_md")["status"], "ok");
    assert_eq!(std::fs::read_to_string(&agents).unwrap(), edited);
    assert_eq!(edited.matches(POLICY_HEADING).count(), 1);
}
