//! Passkeys (`htrac::serve::passkey`): real WebAuthn registration and login
//! ceremonies against two software authenticators — webauthn-authenticator-rs's
//! SoftPasskey and one on RustCrypto's p256 and rsa (ES256 and RS256) — and every way a
//! response, a ceremony id, a token or a counter can be wrong.

pub mod authenticator;
mod compat;
mod rejections;
mod store;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use authenticator::{unb64, Alg, Client, SoftKey};
use htrac::serve::passkey::cli;
use htrac::serve::passkey::{PasskeyConfig, PasskeyError, PasskeyErrorKind, Passkeys};
use serde_json::{json, Value};

const ORIGIN: &str = "http://localhost:7380";

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".agent");
        std::fs::create_dir(&root).unwrap();
        Site { _dir: dir, root }
    }

    fn open(&self) -> Passkeys {
        self.open_with(&PasskeyConfig::for_port(7380))
    }

    fn open_with(&self, cfg: &PasskeyConfig) -> Passkeys {
        Passkeys::open(&self.root, cfg).unwrap()
    }

    fn serve_dir(&self) -> PathBuf {
        self.root.join("serve")
    }
}

fn kind<T: std::fmt::Debug>(r: Result<T, PasskeyError>) -> PasskeyErrorKind {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.kind,
    }
}

/// Registers `key` for `user` through the whole ceremony.
fn register(pk: &Passkeys, key: &SoftKey, user: &str) {
    let token = pk.issue_registration_token(user).unwrap();
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    let cred = key.register(&options, &Client::at(ORIGIN));
    assert_eq!(pk.finish_registration(&ceremony, &cred).unwrap(), user);
}

/// Logs in with `key` through the whole ceremony.
fn login(pk: &Passkeys, key: &mut SoftKey) -> Result<String, PasskeyError> {
    let (ceremony, options) = pk.start_login()?;
    let cred = key.login(&options, ORIGIN);
    pk.finish_login(&ceremony, &cred)
}

fn b64(b: &[u8]) -> String {
    htrac::serve::passkey::b64url(b)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn soft_passkey_from_webauthn_authenticator_rs_registers_and_logs_in() {
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

    let site = Site::new();
    let pk = site.open();
    let origin = Url::parse(ORIGIN).unwrap();
    // `true`: the soft token claims user verification, as a passkey must.
    let mut auth = SoftPasskey::new(true);

    let token = pk.issue_registration_token("amy").unwrap();
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    // The browser side wraps the options as navigator.credentials.create does.
    let ccr: CreationChallengeResponse =
        serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let cred = auth.do_registration(origin.clone(), ccr).unwrap();
    let cred = serde_json::to_value(&cred).unwrap();
    assert_eq!(pk.finish_registration(&ceremony, &cred).unwrap(), "amy");

    let keys = pk.list_keys().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].user.as_str(), keys[0].algorithm.as_str()),
        ("amy", "ES256")
    );
    assert_eq!(keys[0].id, cred["rawId"].as_str().unwrap());

    for round in 1..=2 {
        let (ceremony, options) = pk.start_login().unwrap();
        let rcr: RequestChallengeResponse =
            serde_json::from_value(json!({ "publicKey": options })).unwrap();
        let assertion = auth.do_authentication(origin.clone(), rcr).unwrap();
        let assertion = serde_json::to_value(&assertion).unwrap();
        assert_eq!(
            pk.finish_login(&ceremony, &assertion).unwrap(),
            "amy",
            "login {round}"
        );
    }
    let keys = pk.list_keys().unwrap();
    assert!(keys[0].last_used_at.is_some());

    // The same soft token answering a login for another origin (the page of
    // another local server) is refused.
    let (ceremony, options) = pk.start_login().unwrap();
    let rcr: RequestChallengeResponse =
        serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let evil = Url::parse("http://localhost:8080").unwrap();
    let assertion = serde_json::to_value(auth.do_authentication(evil, rcr).unwrap()).unwrap();
    assert_eq!(
        kind(pk.finish_login(&ceremony, &assertion)),
        PasskeyErrorKind::VerificationFailed
    );
}

#[test]
fn es256_and_rs256_keys_register_and_log_in_and_their_counters_are_recorded() {
    let site = Site::new();
    let pk = site.open();
    let mut ec = SoftKey::new(Alg::Es256);
    let mut rsa = SoftKey::new(Alg::Rs256);
    assert!(!pk.has_usable_keys().unwrap());
    register(&pk, &ec, "amy");
    assert!(pk.has_usable_keys().unwrap());
    register(&pk, &rsa, "bob");

    ec.counter = 7;
    assert_eq!(login(&pk, &mut ec).unwrap(), "amy");
    assert_eq!(login(&pk, &mut rsa).unwrap(), "bob");
    assert_eq!(login(&pk, &mut rsa).unwrap(), "bob");

    let keys = pk.list_keys().unwrap();
    let by_user = |u: &str| keys.iter().find(|k| k.user == u).unwrap().clone();
    assert_eq!(by_user("amy").algorithm, "ES256");
    assert_eq!(by_user("amy").sign_count, 7);
    assert_eq!(by_user("bob").algorithm, "RS256");
    assert_eq!(by_user("bob").sign_count, 2);
    assert!(keys.iter().all(|k| k.disabled.is_none()));
}

#[test]
fn options_are_what_navigator_credentials_takes() {
    let site = Site::new();
    let pk = site.open();
    let token = pk.issue_registration_token("amy").unwrap();
    let (ceremony, reg) = pk.start_registration(&token).unwrap();
    assert!(
        ceremony.len() >= 32,
        "an unguessable ceremony id: {ceremony}"
    );
    assert!(reg.get("publicKey").is_none(), "the inner object: {reg}");
    assert_eq!(reg["rp"], json!({"id": "localhost", "name": "htrac"}));
    assert_eq!(reg["user"]["name"], "amy");
    let challenge = reg["challenge"].as_str().unwrap();
    assert!(
        !challenge.contains(['=', '+', '/']),
        "unpadded base64url: {challenge}"
    );
    assert!(unb64(challenge).len() >= 16);
    assert_eq!(unb64(reg["user"]["id"].as_str().unwrap()).len(), 16);
    let algs: Vec<i64> = reg["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "public-key");
            p["alg"].as_i64().unwrap()
        })
        .collect();
    assert!(
        algs.contains(&-7) && algs.contains(&-257),
        "ES256 and RS256: {algs:?}"
    );
    assert_eq!(
        reg["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(reg["attestation"], "none");

    let key = SoftKey::new(Alg::Es256);
    let cred = key.register(&reg, &Client::at(ORIGIN));
    pk.finish_registration(&ceremony, &cred).unwrap();

    let (_, get) = pk.start_login().unwrap();
    assert_eq!(get["rpId"], "localhost");
    assert_eq!(get["userVerification"], "required");
    let allowed = get["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["type"], "public-key");
    assert_eq!(unb64(allowed[0]["id"].as_str().unwrap()), key.cred_id);
    assert_ne!(
        get["challenge"], reg["challenge"],
        "a fresh challenge per ceremony"
    );

    // A second registration for the same user excludes the key they have.
    let token = pk.issue_registration_token("amy").unwrap();
    let (_, again) = pk.start_registration(&token).unwrap();
    let excluded = again["excludeCredentials"].as_array().unwrap();
    assert_eq!(unb64(excluded[0]["id"].as_str().unwrap()), key.cred_id);
    assert_eq!(
        again["user"]["id"], reg["user"]["id"],
        "one user handle per user"
    );
}
