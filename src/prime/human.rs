//! `prime` for a human: the same facts as the agent's briefing, told to
//! the person who supervises the agents — what they are doing, what waits
//! for the human, and the commands that are the human's.

use super::{heading, row, section, Prime};

impl Prime {
    pub(super) fn to_text_for_human(&self) -> String {
        let mut out = format!(
            "# htrac: this repository's work tracker\n\nYou are human '{}': you set the work and the rules; agents work through it. Items live in {}.\n",
            self.actor,
            self.root.display()
        );
        if !self.review.is_empty() {
            section(
                &mut out,
                (
                    "Waiting for your decision",
                    "agents set these to needs_human_review (htrac show ID; then update or discuss)",
                ),
                &self.review,
                self.review_total,
                "",
            );
        }
        section(
            &mut out,
            ("What the agents are doing", "in progress"),
            &self.in_progress,
            self.in_progress_total,
            "(nothing in progress)",
        );
        if !self.unread.is_empty() {
            heading(
                &mut out,
                "Your messages no agent has answered yet",
                "an agent must read them before it writes there again",
                self.unread.len(),
                self.unread_total,
            );
            for (b, n) in &self.unread {
                out.push_str(&format!("{}  ({n} message(s))\n", row(b)));
            }
        }
        section(
            &mut out,
            (
                "Next for the agents",
                "what 'ready' offers them, best first",
            ),
            &self.ready,
            self.ready_total,
            "(nothing ready)",
        );
        self.held(&mut out, "Held by you", "frozen");
        out.push('\n');
        match &self.stop_hook {
            Some(p) => out.push_str(&format!(
                "Stop hook: active ({}); it keeps agents at work while {} blocking item(s) remain.\n",
                p.display(),
                self.blocking
            )),
            None => out.push_str(&format!(
                "Stop hook: not installed, so agents may stop with {} blocking item(s) left (see docs/agents.md, the stop hook).\n",
                self.blocking
            )),
        }
        out.push_str("Yours: htrac tui (browse and edit) · htrac discuss ID \"...\" · htrac lock ID FIELD · htrac freeze ID");
        if !self.human_only_statuses.is_empty() {
            out.push_str(&format!(
                " · statuses only you may set: {}",
                self.human_only_statuses.join(", ")
            ));
        }
        out.push('\n');
        out
    }
}
