//! Signed human authority through the web server (the rest of signing:
//! tests/governance/signing.rs).

use crate::common;
use crate::signhelp::*;
use serde_json::json;

/// `htrac-serve` acts as each logged-in web user and signs with the
/// server's key, which allowed_signers lists under the web users' names.
#[test]
fn the_web_server_signs_its_users_ops_with_the_server_key() {
    // This process writes too (caches, journal): keep it out of $HOME, in a
    // process of its own whose environment says where (no test may change
    // the environment of the process the other tests share).
    let own = tempfile::tempdir().unwrap();
    let (cache, state) = (own.path().join("cache"), own.path().join("state"));
    let envs = [("HTRAC_CACHE_DIR", &*cache), ("HTRAC_STATE_DIR", &*state)];
    if !common::in_own_process(
        module_path!(),
        "the_web_server_signs_its_users_ops_with_the_server_key",
        &envs,
    ) {
        return;
    }
    let s = Signed::new("required");
    let id = s.env.add("served", &[]);
    let server = keygen(s.keys.path(), "server");
    let public = std::fs::read_to_string(server.with_extension("pub")).unwrap();
    let mut allowed = std::fs::read_to_string(&s.allowed).unwrap();
    allowed.push_str(&format!("webamy,webbob namespaces=\"htrac-op\" {public}"));
    std::fs::write(&s.allowed, allowed).unwrap();
    let mut base = htrac::Tracker::open(&s.env.root()).unwrap();
    base.config.authority.server_key = Some(server.clone());
    let amy = htrac::serve::api::acting_as(&base, "webamy");
    assert_eq!(amy.signing_key(), Some(server));
    let file = amy.resolve(&id).unwrap();
    amy.lock(&file, &["status".to_string()], false).unwrap();
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!(["status"]), "{shown}");
    assert!(shown.get("unverified_ops").is_none(), "{shown}");
    // A web user allowed_signers does not list for the server's key is refused.
    let eve = htrac::serve::api::acting_as(&base, "webeve");
    let e = eve.lock(&file, &["title".to_string()], false).unwrap_err();
    assert!(e.message.contains("does not verify"), "{}", e.message);
}
