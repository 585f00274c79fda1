//! Keys stored before the move to webauthn-rs 0.6: `webauthn-rs-0.5/`
//! holds a `passkeys.json` written by htrac-serve built on webauthn-rs 0.5
//! (an ES256 and an RS256 key registered and used once over HTTP, counter
//! 5) and the throwaway test keys' secrets, so the keys can answer again.

use super::*;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/serve/passkey/webauthn-rs-0.5"
);

fn fixture_keys() -> Vec<(String, SoftKey)> {
    let text = std::fs::read_to_string(format!("{DIR}/keys.json")).unwrap();
    let keys: Vec<Value> = serde_json::from_str(&text).unwrap();
    keys.iter()
        .map(|k| {
            let alg = match k["alg"].as_str().unwrap() {
                "Es256" => Alg::Es256,
                "Rs256" => Alg::Rs256,
                other => panic!("alg {other}"),
            };
            let key = SoftKey::from_secret(
                alg,
                &unb64(k["secret"].as_str().unwrap()),
                unb64(k["cred_id"].as_str().unwrap()),
                k["next_counter"].as_u64().unwrap() as u32,
            );
            (k["user"].as_str().unwrap().to_string(), key)
        })
        .collect()
}

#[test]
fn keys_stored_by_webauthn_rs_0_5_still_log_in() {
    let site = Site::new();
    site.open(); // creates .agent/serve/ (0700)
    let store = site.serve_dir().join("passkeys.json");
    std::fs::copy(format!("{DIR}/passkeys.json"), &store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o600)).unwrap();
    let pk = site.open();

    let listed: Vec<(String, String, u32)> = pk
        .list_keys()
        .unwrap()
        .into_iter()
        .map(|k| (k.user, k.algorithm, k.sign_count))
        .collect();
    assert_eq!(
        listed,
        [
            ("amy".to_string(), "ES256".to_string(), 5),
            ("bob".to_string(), "RS256".to_string(), 5)
        ]
    );
    let mut keys = fixture_keys();
    for (user, key) in keys.iter_mut() {
        assert_eq!(&login(&pk, key).unwrap(), user, "{:?}", key.alg);
    }
    // Rewritten by 0.6, the file loads again and still knows the counters.
    let pk = site.open();
    for (_, key) in keys.iter_mut() {
        key.counter = 6;
        assert_eq!(
            kind(login(&pk, key)),
            PasskeyErrorKind::CounterRegression,
            "{:?}",
            key.alg
        );
    }
    // And a new key joins the old ones.
    let mut fresh = SoftKey::new(Alg::Es256);
    register(&pk, &fresh, "cy");
    assert_eq!(login(&pk, &mut fresh).unwrap(), "cy");
    assert_eq!(pk.list_keys().unwrap().len(), 3);
    // The secrets' encoding in keys.json is the one `secret()` writes.
    let mut again = SoftKey::from_secret(Alg::Es256, &fresh.secret(), fresh.cred_id.clone(), 9);
    assert_eq!(login(&pk, &mut again).unwrap(), "cy");
}
