//! The concept scan of `AGENTS.md` (and `CLAUDE.md`): the things an agent
//! must be told to use the tracker well, each with the phrases that show a
//! file tells it, and a suggestion to add when none is there. As the
//! reference's scan, a phrase matches case-insensitively within one line;
//! unlike it, the concepts are htrac's own (project policies such as TDD or
//! coverage targets are the project's business, not the tracker's).

use crate::config::Config;

/// One concept: `phrases` are alternatives, each a list of fragments that
/// must appear in that order on one line.
pub struct Concept {
    pub name: &'static str,
    pub description: &'static str,
    phrases: &'static [&'static [&'static str]],
    pub suggestion: &'static str,
    /// The status the concept is about, when it only applies if the
    /// configuration has that status.
    status: Option<&'static str>,
}

pub const CONCEPTS: &[Concept] = &[
    Concept {
        name: "context_protection",
        description: "Agents read items through the CLI, not the op files",
        phrases: &[&["htrac", "show"], &["tracker", "show"], &[".ops", "never"], &["never", ".ops"], &["not edit", ".agent"]],
        suggestion: "Read items with `htrac show ID` (or `htrac --json show ID`); never read or edit the files under .agent/ (op logs that only pollute the context).",
        status: None,
    },
    Concept {
        name: "session_start",
        description: "Agents start each session with the briefing",
        phrases: &[&["htrac", "prime"], &["tracker", "prime"]],
        suggestion: "Start every session (and after a context compaction) with `htrac prime`.",
        status: None,
    },
    Concept {
        name: "task_selection",
        description: "Agents pick work with `ready`",
        phrases: &[&["htrac", "ready"], &["tracker", "ready"]],
        suggestion: "Pick the next item with `htrac ready` (not `list`): actionable items, by priority.",
        status: None,
    },
    Concept {
        name: "unread_messages",
        description: "Agents answer the human's messages first",
        phrases: &[&["check-messages"]],
        suggestion: "Answer unread human messages first: `htrac check-messages`.",
        status: None,
    },
    Concept {
        name: "resolution_rationale",
        description: "Agents say why when they resolve an item",
        phrases: &[&["--note"], &["rationale"]],
        suggestion: "Resolve with a reason: `htrac update ID --status done --note \"why\"`.",
        status: None,
    },
    Concept {
        name: "human_authority",
        description: "Agents leave human-locked fields and human-only statuses alone",
        phrases: &[&["human", "lock"], &["lock", "human"], &["human-only"], &["human_only"]],
        suggestion: "Never change fields a human locked, nor set human-only statuses.",
        status: None,
    },
    Concept {
        name: "batching",
        description: "Many tracker changes go in one batch",
        phrases: &[&["htrac", "batch"], &["tracker", "batch"], &["batch", "tracker"]],
        suggestion: "Make many changes at once with `htrac batch FILE` (or `htrac batch < plan`).",
        status: None,
    },
    Concept {
        name: "auto_sync",
        description: "Agents do not commit tracker files themselves",
        phrases: &[&["commit", ".agent"], &["commit", ".ops"], &["htrac", "sync"]],
        suggestion: "Do not commit or push files under .agent/ yourself: htrac syncs them (`htrac sync`).",
        status: None,
    },
    Concept {
        name: "human_review_status",
        description: "Agents know `needs_human_review` hands an item to the human",
        phrases: &[&["needs_human_review"]],
        suggestion: "Set `needs_human_review` on anything that needs a human's judgment; it does not block stopping, and the human triages it.",
        status: Some("needs_human_review"),
    },
];

/// The concepts (that apply under `config`) which `text` never mentions.
pub fn missing<'a>(text: &str, config: &Config) -> Vec<&'a Concept> {
    let lines: Vec<String> = text.lines().map(str::to_lowercase).collect();
    CONCEPTS
        .iter()
        .filter(|c| {
            c.status
                .is_none_or(|s| config.statuses.iter().any(|x| x == s))
        })
        .filter(|c| {
            !c.phrases
                .iter()
                .any(|p| lines.iter().any(|line| in_order(line, p)))
        })
        .collect()
}

/// Whether `fragments` occur in `line` in order, without overlapping.
fn in_order(line: &str, fragments: &[&str]) -> bool {
    let mut rest = line;
    for f in fragments {
        match rest.find(f) {
            Some(i) => rest = &rest[i + f.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_block_covers_every_concept() {
        let config = Config::defaults();
        let names: Vec<&str> = missing(&super::super::agentsmd::block(), &config)
            .iter()
            .map(|c| c.name)
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn phrases_match_in_order_on_one_line_in_any_case() {
        let config = Config::defaults();
        let text = "Use HTRAC   READY to choose.\nhtrac\nprime\nready htrac show";
        let names: Vec<&str> = missing(text, &config).iter().map(|c| c.name).collect();
        assert!(!names.contains(&"task_selection"));
        // Split over two lines does not count.
        assert!(names.contains(&"session_start"));
        // "ready htrac show": show after htrac, in order.
        assert!(!names.contains(&"context_protection"));
        assert!(names.contains(&"human_review_status"));
        let mut no_review = Config::defaults();
        no_review.statuses.retain(|s| s != "needs_human_review");
        assert!(!missing(text, &no_review)
            .iter()
            .any(|c| c.name == "human_review_status"));
    }
}
