//! What the cache directory holds shapes what reads show (compiled items,
//! the `:N` rows of the last listing): a cache file another user could have
//! written — a cache directory shared through `HTRAC_CACHE_DIR`, or a file
//! left writable to the group an agent shares with its human — is not
//! believed. It is read around and written again as the user's own.

use std::os::unix::fs::PermissionsExt;

use crate::cache::{hits, run};
use crate::common::Env;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn set_mode(p: &std::path::Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

#[test]
fn cache_files_others_may_write_are_not_believed_and_are_rebuilt_as_ones_own() {
    let env = Env::new();
    let ids: Vec<String> = (0..3)
        .map(|i| env.add(&format!("item {i}"), &["--no-auto-sync"]))
        .collect();
    run(&env, &["--json", "list"]).ok();
    let want = run(&env, &["--json", "list"]).ok();
    assert_eq!(hits(&want), 3);
    let items = env.cache_files("items-").pop().expect("a read cache");
    assert_eq!(mode(&items), 0o600);
    // Writable by the group: as good as anyone's.
    for m in [0o660, 0o606] {
        set_mode(&items, m);
        let r = run(&env, &["--json", "list"]).ok();
        assert_eq!(hits(&r), 0, "a cache file of mode {m:o} was believed");
        assert_eq!(r.stdout, want.stdout);
        assert_eq!(mode(&items), 0o600, "rewritten as this user's own");
        assert_eq!(hits(&run(&env, &["--json", "list"]).ok()), 3);
    }
    // The `:N` rows of the last listing: stashed as this user's own …
    let stash = env.cache.path().join("last_list");
    run(&env, &["list"]).ok();
    assert_eq!(mode(&stash), 0o600);
    let shown = run(&env, &["--json", "show", ":1"]).ok().json();
    assert!(ids.contains(&shown["id"].as_str().unwrap().to_string()));
    // … and a stash others may write names no item.
    set_mode(&stash, 0o666);
    run(&env, &["show", ":1"]).fails(1);
    // A new listing writes it again as this user's own.
    run(&env, &["list"]).ok();
    assert_eq!(mode(&stash), 0o600);
    run(&env, &["show", ":1"]).ok();
}
