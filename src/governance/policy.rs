//! Human authority applied when ops are read: which ops count as a human's,
//! and which agent ops have no effect on the compiled item.
//!
//! The write path refuses an agent's use of human powers up front; this is
//! what makes the refusal binding for ops that reached the file some other
//! way (appended by hand, merged from a branch). An op is a human's only
//! when it says `by: human` and its actor is not an agent by the
//! configuration's `actor_resolution.agent_usernames`; every other op is an
//! agent's. At its causal position in the fold, an agent op has no effect
//! when it
//!
//! * is a human-only op (`lock`, `unlock`, `discuss_clear`, tier moves,
//!   edit mode),
//! * was written to a frozen item (it is not among the ops the human
//!   approved in the freeze sentinel),
//! * sets a status of `stop_hook.human_only_statuses`, or
//! * changes a field locked at that point (`discussion` for messages).
//!
//! Such ops stay in the file (op logs are append-only) and are listed on
//! the item as [`Rejected`]. On clock and time ties a human's op folds after
//! an agent's, so the human's wins. [`Policy::none`] judges nothing: the
//! reference's behaviour, for trusted input.
//!
//! With signed authority on ([`crate::governance::signing`]), a human claim must also
//! carry a valid signature: under `required` one without counts as an
//! agent's op (the compile step works out which claims fail, with
//! [`Policy::signature_problem`], and judges them with [`Policy::judge_as`]).

use std::sync::Arc;

use serde_json::Value;

use crate::governance::signing::{Problem, Verifier};
use crate::oplog::op::{canonical_field, lookup, Op};

/// The authority rules in force for one tracker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `actor_resolution.agent_usernames`: an actor matching one is an agent.
    pub agent_patterns: Vec<String>,
    /// `stop_hook.human_only_statuses`.
    pub human_only_statuses: Vec<String>,
    /// Whether anything is judged ([`Policy::none`] judges nothing).
    pub enforced: bool,
    /// Signed human authority, when `authority.signing` is not off.
    pub signing: Option<Arc<Verifier>>,
}

/// Human-only op kinds: an agent's has no effect.
pub const HUMAN_ONLY_OPS: &[&str] = &[
    "lock",
    "unlock",
    "discuss_clear",
    "stealth",
    "unstealth",
    "edit-mode-on",
    "edit-mode-off",
];

/// An op kept in the file that had no effect, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub kind: String,
    /// As the op claims (`human` or `agent`).
    pub by: String,
    pub actor: String,
    pub at: String,
    pub clock: i64,
    pub nonce: String,
    pub reason: String,
}

impl Rejected {
    /// The entry for `op`, with `reason`.
    pub fn of(op: &Op, reason: String) -> Rejected {
        Rejected {
            kind: op.kind.clone(),
            by: op.by.clone(),
            actor: op.actor.clone(),
            at: op.at.clone(),
            clock: op.clock,
            nonce: op.nonce.clone(),
            reason,
        }
    }

    /// The `rejected_ops` entry of `show --json`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "op": self.kind,
            "by": self.by,
            "actor": self.actor,
            "at": self.at,
            "clock": self.clock,
            "nonce": self.nonce,
            "reason": self.reason,
        })
    }
}

impl Policy {
    /// Judges nothing: every op has its effect, as in the reference.
    pub fn none() -> Policy {
        Policy::default()
    }

    /// The rules of a configuration.
    pub fn new(agent_patterns: &[String], human_only_statuses: &[String]) -> Policy {
        Policy {
            agent_patterns: agent_patterns.to_vec(),
            human_only_statuses: human_only_statuses.to_vec(),
            enforced: true,
            signing: None,
        }
    }

    /// Whether `actor` is an agent's user name by the configuration.
    pub fn is_agent_name(&self, actor: &str) -> bool {
        !actor.is_empty()
            && self
                .agent_patterns
                .iter()
                .any(|p| crate::governance::actor::fnmatch(p, actor))
    }

    /// Whether `op` carries a human's authority: it says `by: human` and,
    /// under an enforced policy, its actor is not an agent.
    pub fn is_human(&self, op: &Op) -> bool {
        op.by == "human" && !(self.enforced && self.is_agent_name(&op.actor))
    }

    /// The tie-break rank of `op` in the fold: agents' ops first, so that
    /// on equal clock and time a human's op is applied last and wins.
    pub fn rank(&self, op: &Op) -> u8 {
        u8::from(self.is_human(op))
    }

    /// A digest of the rules, for caches of what they compiled.
    pub fn fingerprint(&self) -> String {
        format!(
            "policy v2 enforced={} agents={:?} human_only={:?} {}",
            self.enforced,
            self.agent_patterns,
            self.human_only_statuses,
            self.signing
                .as_deref()
                .map(Verifier::fingerprint)
                .unwrap_or("signing=off")
        )
    }

    /// Why the human claim of `op` (bound to `binding`: its item's ID, see
    /// [`crate::governance::signing::binding`]) lacks a valid signature, when signing
    /// is on; `None` for agent ops and when it holds.
    pub fn signature_problem(&self, binding: &str, op: &Op) -> Option<Problem> {
        let v = self.signing.as_deref()?;
        if !self.enforced || !self.is_human(op) {
            return None;
        }
        v.check(binding, op).err()
    }

    /// Whether a human claim without a valid signature counts as an agent's.
    pub fn signatures_required(&self) -> bool {
        self.signing
            .as_deref()
            .is_some_and(|v| v.mode == crate::config::SigningMode::Required)
    }

    /// Why an agent op has no effect on an item whose locked fields are
    /// `locked`, or `None` when it may have it. `approved`: the ops of the
    /// freeze sentinel when the item is frozen. Signatures are not looked
    /// at (see [`Policy::judge_as`]).
    pub fn judge(&self, op: &Op, locked: &[String], approved: Option<&[Op]>) -> Option<String> {
        self.judge_as(op, self.is_human(op), None, locked, approved)
    }

    /// [`Policy::judge`] for an op that counts as a human's or not
    /// (`human`), `unsigned` saying why its human claim failed its
    /// signature check.
    pub fn judge_as(
        &self,
        op: &Op,
        human: bool,
        unsigned: Option<&Problem>,
        locked: &[String],
        approved: Option<&[Op]>,
    ) -> Option<String> {
        if !self.enforced || human {
            return None;
        }
        let mut reason = self.violation(op, locked, approved)?;
        if op.by == "human" {
            reason.push_str(&match unsigned {
                Some(p) => format!(" (it claims 'by: human', but the claim does not hold: {p})"),
                None => format!(
                    " (it claims 'by: human', but actor '{}' is an agent)",
                    op.actor
                ),
            });
        }
        Some(reason)
    }

    /// What an agent op does that only a human may, if anything.
    fn violation(&self, op: &Op, locked: &[String], approved: Option<&[Op]>) -> Option<String> {
        if HUMAN_ONLY_OPS.contains(&op.kind.as_str()) {
            return Some(format!("'{}' needs human authority", op.kind));
        }
        if let Some(approved) = approved {
            if op.kind != "create" && !approved.contains(op) {
                return Some(
                    "written to a frozen item: agent writes are refused until a human unfreezes it"
                        .into(),
                );
            }
        }
        if op.kind == "update" {
            if let Some(status) = status_set(op) {
                if self.human_only_statuses.iter().any(|s| s == status) {
                    return Some(format!(
                        "sets status '{status}', which only a human may set (stop_hook.human_only_statuses)"
                    ));
                }
            }
        }
        if !locked.is_empty() {
            if let Some(f) = touched(op).into_iter().find(|f| locked.contains(f)) {
                return Some(format!("changes locked field '{f}'"));
            }
        }
        None
    }
}

/// The status an `update` or `create` op sets, if any.
pub fn status_set(op: &Op) -> Option<&str> {
    let key = match op.kind.as_str() {
        "create" => "data",
        "update" => "set",
        _ => return None,
    };
    lookup(op.get_map(key)?, "status")?.as_str()
}

/// The lockable names an op changes (`fields.<key>` for each custom field
/// it sets, `discussion` for messages), sorted, without repeats.
pub fn touched(op: &Op) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    match op.kind.as_str() {
        "update" => {
            for which in ["set", "add", "remove"] {
                for (k, v) in op.get_map(which).into_iter().flatten() {
                    out.push(canonical_field(k).to_string());
                    if k == "fields" {
                        if let Value::Object(f) = v {
                            out.extend(f.keys().map(|n| format!("fields.{n}")));
                        }
                    }
                }
            }
        }
        "discuss" | "discuss_summarize" | "discuss_clear" => out.push("discussion".into()),
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oplog::op::Role;

    fn op(kind: &str, by: Role, actor: &str, body: Value) -> Op {
        let mut o = Op::new(kind, "2026-01-01T00:00:00Z", by, actor, 2, "abcd");
        o.body = body.as_object().cloned().unwrap_or_default();
        o
    }

    fn policy() -> Policy {
        Policy::new(&["*_agent".into()], &["deleted".into()])
    }

    #[test]
    fn a_human_claim_by_an_agent_name_is_an_agent_op() {
        let p = policy();
        let forged = op(
            "unlock",
            Role::Human,
            "amy_agent",
            serde_json::json!({"unlock": ["status"]}),
        );
        assert!(!p.is_human(&forged));
        assert!(p
            .judge(&forged, &[], None)
            .unwrap()
            .contains("claims 'by: human'"));
        let real = op(
            "unlock",
            Role::Human,
            "amy",
            serde_json::json!({"unlock": ["status"]}),
        );
        assert!(p.is_human(&real));
        assert_eq!(p.judge(&real, &[], None), None);
        // Policy::none judges nothing, whoever wrote it.
        assert_eq!(Policy::none().judge(&forged, &[], None), None);
    }

    #[test]
    fn locked_fields_human_only_statuses_and_freezes() {
        let p = policy();
        let set = |k: &str, v: Value| {
            op(
                "update",
                Role::Agent,
                "amy_agent",
                serde_json::json!({"set": {k: v}}),
            )
        };
        let locked = vec!["status".to_string(), "fields.x".to_string()];
        assert!(p
            .judge(&set("status", "done".into()), &locked, None)
            .unwrap()
            .contains("locked field 'status'"));
        assert_eq!(p.judge(&set("title", "t".into()), &locked, None), None);
        assert!(p
            .judge(&set("fields", serde_json::json!({"x": 1})), &locked, None)
            .unwrap()
            .contains("'fields.x'"));
        assert!(p
            .judge(&set("status", "deleted".into()), &[], None)
            .unwrap()
            .contains("only a human"));
        let note = op(
            "discuss",
            Role::Agent,
            "amy_agent",
            serde_json::json!({"message": "hi"}),
        );
        assert!(p.judge(&note, &["discussion".into()], None).is_some());
        let title = set("title", "t".into());
        assert!(p.judge(&title, &[], Some(&[])).unwrap().contains("frozen"));
        assert_eq!(
            p.judge(&title, &[], Some(std::slice::from_ref(&title))),
            None
        );
    }
}
