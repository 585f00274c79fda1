//! The blocking items in scope, counted and fingerprinted exactly as the
//! reference does it (`count-todos`, `hash-todos`).
//!
//! An item blocks when its compiled status is one of
//! `stop_hook.blocking_statuses`; unlike `ready`, neither `isbefore` nor
//! `duplicate_of` excuses it. "Hard" statuses are the blocking ones whose
//! name contains `hard`; "soft" are the rest (so a blocking `violated`
//! counts as soft). The fingerprint is SHA-256 (hex) of the sorted lines
//! `<id>\t<status>\t<title>\n`, concatenated: the SHA-256 of nothing when
//! nothing blocks.

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::items::slim::Listable;

/// Which blocking statuses to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Every blocking status.
    Any,
    /// Blocking statuses whose name contains `hard`.
    Hard,
    /// The other blocking statuses.
    Soft,
}

impl Strength {
    /// From the `--hard` / `--soft` switches (`--hard` wins, as the reference).
    pub fn from_flags(hard: bool, soft: bool) -> Strength {
        if hard {
            Strength::Hard
        } else if soft {
            Strength::Soft
        } else {
            Strength::Any
        }
    }
}

/// Is `status` a hard blocking status (by name)?
pub fn is_hard(status: &str) -> bool {
    status.contains("hard")
}

/// The blocking statuses of `strength`.
pub fn statuses(config: &Config, strength: Strength) -> Vec<&str> {
    config
        .blocking_statuses
        .iter()
        .map(String::as_str)
        .filter(|s| match strength {
            Strength::Any => true,
            Strength::Hard => is_hard(s),
            Strength::Soft => !is_hard(s),
        })
        .collect()
}

/// The items of `items` whose status is blocking with `strength`.
pub fn blocking<'a, T: Listable>(
    items: &[&'a T],
    config: &Config,
    strength: Strength,
) -> Vec<&'a T> {
    let wanted = statuses(config, strength);
    items
        .iter()
        .copied()
        .filter(|i| wanted.contains(&i.status()))
        .collect()
}

/// `count-todos`: how many of `items` (already limited to the scope) block.
pub fn count<T: Listable>(items: &[&T], config: &Config, strength: Strength) -> usize {
    blocking(items, config, strength).len()
}

/// `count-todos --json`: `{"count": N}`.
pub fn count_json(n: usize) -> serde_json::Value {
    serde_json::json!({ "count": n })
}

/// `hash-todos`: the fingerprint of the blocking items among `items`.
pub fn hash<T: Listable>(items: &[&T], config: &Config) -> String {
    let mut lines: Vec<String> = blocking(items, config, Strength::Any)
        .iter()
        .map(|i| format!("{}\t{}\t{}\n", i.id(), i.status(), i.title()))
        .collect();
    // Python sorts str by code point; UTF-8 byte order is the same order.
    lines.sort();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stophook::sample;
    use crate::Tier;

    #[test]
    fn hard_soft_and_any() {
        let c = Config::defaults();
        let items = [
            sample("WI-a", Tier::Workspace, "todo_hard", 1, "a"),
            sample("WI-b", Tier::Workspace, "todo_soft", 1, "b"),
            sample("WI-c", Tier::Canonical, "todo_soft", 1, "c"),
            sample("WI-d", Tier::Workspace, "done", 1, "d"),
        ];
        let refs: Vec<&crate::Item> = items.iter().collect();
        assert_eq!(count(&refs, &c, Strength::Any), 3);
        assert_eq!(count(&refs, &c, Strength::Hard), 1);
        assert_eq!(count(&refs, &c, Strength::Soft), 2);
        assert_eq!(Strength::from_flags(true, true), Strength::Hard);
    }

    #[test]
    fn hash_is_sha256_of_sorted_lines() {
        let c = Config::defaults();
        // Nothing blocks: the SHA-256 of the empty string.
        assert_eq!(
            hash::<crate::Item>(&[], &c),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let a = sample("WI-b", Tier::Workspace, "todo_hard", 3, "second");
        let b = sample("WI-a", Tier::Stealth, "todo_soft", 0, "first");
        let done = sample("WI-c", Tier::Workspace, "done", 0, "ignored");
        let h1 = hash(&[&a, &b, &done], &c);
        // Order of input does not matter; priority does not matter.
        let mut b2 = b.clone();
        b2.priority = serde_json::json!(4);
        assert_eq!(hash(&[&done, &b2, &a], &c), h1);
        // sha256("WI-a\ttodo_soft\tfirst\nWI-b\ttodo_hard\tsecond\n")
        let expected: String = Sha256::digest(b"WI-a\ttodo_soft\tfirst\nWI-b\ttodo_hard\tsecond\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h1, expected);
        // A title change changes it.
        let mut a2 = a.clone();
        a2.title = "renamed".into();
        assert_ne!(hash(&[&a2, &b], &c), h1);
    }
}
