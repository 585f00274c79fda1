//! Which items the stop hook sees: `stop_hook.scope` is `all` (every tier)
//! or `workspace` (the workspace and stealth tiers only, for forks whose
//! canonical tier belongs upstream).

use crate::config::{Config, Scope};
use crate::items::slim::Listable;
use crate::items::tiers::Tier;

/// The tiers a scope covers, in tier order.
pub fn tiers(scope: Scope) -> &'static [Tier] {
    match scope {
        Scope::All => &Tier::ALL,
        Scope::Workspace => &[Tier::Workspace, Tier::Stealth],
    }
}

/// The scope's name as the config spells it.
pub fn name(scope: Scope) -> &'static str {
    match scope {
        Scope::All => "all",
        Scope::Workspace => "workspace",
    }
}

pub fn covers(scope: Scope, tier: Tier) -> bool {
    tiers(scope).contains(&tier)
}

/// The items of `items` in the configured scope, in their given order.
pub fn in_scope<'a, T: Listable>(items: &'a [T], config: &Config) -> Vec<&'a T> {
    items
        .iter()
        .filter(|i| covers(config.scope, i.tier()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_scope_leaves_out_canonical_only() {
        assert!(covers(Scope::All, Tier::Canonical));
        assert!(!covers(Scope::Workspace, Tier::Canonical));
        assert!(covers(Scope::Workspace, Tier::Workspace));
        assert!(covers(Scope::Workspace, Tier::Stealth));
        assert_eq!(name(Scope::Workspace), "workspace");
    }
}
