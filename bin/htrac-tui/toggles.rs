//! "Fav 5": the filter entries toggled most often lately, shown first in
//! the filter panel under "── Favorites ──" with a ★. Every toggle of an
//! entry (a number key or a click in the panel) counts once for the
//! current run of the TUI; the counts of the last nine runs are kept in
//! the preferences (`toggle_sessions`, a list of `{"status:done": 3}`
//! maps, oldest first). Unlike the filter favourites of `F` (saved by
//! hand), these follow the user's habits by themselves.

use std::collections::BTreeMap;

use crate::filters::FilterKey;

/// How many runs of the TUI the ranking looks back over.
pub const MAX_SESSIONS: usize = 9;

/// How many entries the Favorites section shows at most.
pub const FAV: usize = 5;

/// One run's toggle counts, by entry key (`FilterKey::pref_key`).
pub type Counts = BTreeMap<String, u64>;

/// The toggle counts of earlier runs and of this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToggleHistory {
    /// Earlier runs, oldest first (as loaded from the preferences).
    pub past: Vec<Counts>,
    /// This run.
    pub now: Counts,
}

impl ToggleHistory {
    pub fn new(past: Vec<Counts>) -> ToggleHistory {
        ToggleHistory {
            past,
            now: Counts::new(),
        }
    }

    /// Counts one toggle of `key` in this run.
    pub fn record(&mut self, key: &FilterKey) {
        *self.now.entry(key.pref_key()).or_insert(0) += 1;
    }

    /// The runs to save: the earlier ones, then this one if it toggled
    /// anything, the last `MAX_SESSIONS` of them.
    pub fn sessions(&self) -> Vec<Counts> {
        let mut all = self.past.clone();
        if !self.now.is_empty() {
            all.push(self.now.clone());
        }
        let skip = all.len().saturating_sub(MAX_SESSIONS);
        all.split_off(skip)
    }

    /// The Favorites, this run's toggles included.
    pub fn favourites(&self) -> Vec<FilterKey> {
        fav_5(&self.sessions())
            .iter()
            .filter_map(|k| FilterKey::from_pref_key(k))
            .collect()
    }
}

/// The "Fav 5" keys: counts summed over the last `MAX_SESSIONS` runs,
/// keys whose sum is zero left out, the five highest taken (a tie goes to
/// the key first in alphabetical order), and those five in alphabetical
/// order.
pub fn fav_5(sessions: &[Counts]) -> Vec<String> {
    let recent = &sessions[sessions.len().saturating_sub(MAX_SESSIONS)..];
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for run in recent {
        for (k, n) in run {
            *totals.entry(k.as_str()).or_insert(0) += n;
        }
    }
    let mut ranked: Vec<(&str, u64)> = totals.into_iter().filter(|(_, n)| *n > 0).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut top: Vec<String> = ranked
        .into_iter()
        .take(FAV)
        .map(|(k, _)| k.to_string())
        .collect();
    top.sort();
    top
}

impl FilterKey {
    /// The key under which toggles of this entry are counted, as the
    /// reference writes it (`status:done`, `tag:docs`, `meta:tagged`; ours
    /// adds `kind:…` and `tier:…`).
    pub fn pref_key(&self) -> String {
        match self {
            FilterKey::Status(s) => format!("status:{s}"),
            FilterKey::Kind(k) => format!("kind:{k}"),
            FilterKey::Tier(t) => format!("tier:{t}"),
            FilterKey::Tagged => "meta:tagged".into(),
            FilterKey::Tag(t) => format!("tag:{t}"),
        }
    }

    pub fn from_pref_key(key: &str) -> Option<FilterKey> {
        if key == "meta:tagged" {
            return Some(FilterKey::Tagged);
        }
        let (what, name) = key.split_once(':')?;
        let name = name.to_string();
        match what {
            "status" => Some(FilterKey::Status(name)),
            "kind" => Some(FilterKey::Kind(name)),
            "tier" => Some(FilterKey::Tier(name)),
            "tag" => Some(FilterKey::Tag(name)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, u64)]) -> Counts {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn fav_5_ranks_the_last_nine_runs() {
        assert!(fav_5(&[]).is_empty());
        // Zero counts are left out; the five are listed alphabetically.
        let runs = vec![
            run(&[("tag:z", 9), ("status:done", 1), ("tag:zero", 0)]),
            run(&[("status:done", 2), ("kind:a", 1)]),
        ];
        assert_eq!(fav_5(&runs), vec!["kind:a", "status:done", "tag:z"]);
        // A tie goes to the key first alphabetically: of six keys counted
        // once, "tag:f" is the one left out.
        let six = vec![run(&[
            ("tag:f", 1),
            ("tag:e", 1),
            ("tag:d", 1),
            ("tag:c", 1),
            ("tag:b", 1),
            ("tag:a", 1),
        ])];
        assert_eq!(
            fav_5(&six),
            vec!["tag:a", "tag:b", "tag:c", "tag:d", "tag:e"]
        );
        // Higher counts win whatever their name.
        let mut heavy = six.clone();
        heavy.push(run(&[("tag:f", 1)]));
        assert_eq!(
            fav_5(&heavy),
            vec!["tag:a", "tag:b", "tag:c", "tag:d", "tag:f"]
        );
        // Only the last nine runs count: a tenth run back is forgotten.
        let mut ten = vec![run(&[("tag:old", 100)])];
        ten.extend((0..9).map(|_| run(&[("tag:new", 1)])));
        assert_eq!(fav_5(&ten), vec!["tag:new"]);
        assert_eq!(fav_5(&ten[..9]), vec!["tag:new", "tag:old"]);
    }

    #[test]
    fn history_keeps_nine_runs_and_counts_this_one() {
        let past: Vec<Counts> = (0..9).map(|n| run(&[(&format!("tag:t{n}"), 1)])).collect();
        let mut h = ToggleHistory::new(past);
        assert_eq!(h.sessions().len(), 9);
        assert_eq!(h.sessions()[0], run(&[("tag:t0", 1)]));
        h.record(&FilterKey::Status("done".into()));
        h.record(&FilterKey::Status("done".into()));
        let s = h.sessions();
        assert_eq!(s.len(), 9, "the oldest run is dropped");
        assert_eq!(s[0], run(&[("tag:t1", 1)]));
        assert_eq!(s[8], run(&[("status:done", 2)]));
        assert_eq!(h.favourites()[0], FilterKey::Status("done".into()));
        for k in [
            FilterKey::Status("a b".into()),
            FilterKey::Kind("invariant".into()),
            FilterKey::Tier("canonical".into()),
            FilterKey::Tagged,
            FilterKey::Tag("x:y".into()),
        ] {
            assert_eq!(FilterKey::from_pref_key(&k.pref_key()), Some(k));
        }
        assert_eq!(FilterKey::from_pref_key("bogus"), None);
    }
}
