//! Passkeys (`htrac::serve::passkey`): real WebAuthn registration and login
//! ceremonies against two software authenticators — webauthn-authenticator-rs's
//! SoftPasskey and an openssl one (ES256 and RS256) — and every way a
//! response, a ceremony id, a token or a counter can be wrong.

#![cfg(feature = "serve")]

#[path = "serve_passkey/authenticator.rs"]
mod authenticator;
mod common;

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
    let mut auth = WebauthnAuthenticator::new(SoftPasskey::new(true));

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
    register(&pk, &ec, "amy");
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

#[test]
fn tampered_assertions_are_rejected_and_the_key_still_works() {
    let site = Site::new();
    let pk = site.open();
    for alg in [Alg::Es256, Alg::Rs256] {
        let mut key = SoftKey::new(alg);
        register(&pk, &key, "amy");
        type Tamper = fn(&mut authenticator::Assertion);
        let flips: [(&str, Tamper); 3] = [
            ("signature byte", |a| a.signature[10] ^= 0x01),
            ("clientDataJSON byte", |a| {
                // One character of the challenge: still JSON, another challenge.
                let i = a
                    .client_data
                    .windows(11)
                    .position(|w| w == b"\"challenge\"")
                    .unwrap()
                    + 14;
                a.client_data[i] = if a.client_data[i] == b'A' { b'B' } else { b'A' };
            }),
            ("authenticatorData counter byte", |a| {
                a.auth_data[36] ^= 0x40
            }),
        ];
        for (what, flip) in flips {
            let (ceremony, options) = pk.start_login().unwrap();
            let mut a = key.assertion(&options, &Client::at(ORIGIN));
            flip(&mut a);
            let r = pk.finish_login(&ceremony, &a.to_json());
            assert_eq!(
                kind(r),
                PasskeyErrorKind::VerificationFailed,
                "{alg:?}: {what}"
            );
        }
        let wrong_clients = [
            ("wrong origin", Client::at("http://localhost:7381")),
            ("wrong origin host", Client::at("http://evil.example:7380")),
            (
                "wrong rp id",
                Client {
                    rp_id: Some("evil.example"),
                    ..Client::at(ORIGIN)
                },
            ),
            (
                "wrong type",
                Client {
                    kind: Some("webauthn.create"),
                    ..Client::at(ORIGIN)
                },
            ),
            (
                "user not verified",
                Client {
                    flags: Some(0x01),
                    ..Client::at(ORIGIN)
                },
            ),
        ];
        for (what, client) in wrong_clients {
            // Correctly signed, but for the wrong place.
            let (ceremony, options) = pk.start_login().unwrap();
            let a = key.assertion(&options, &client);
            let r = pk.finish_login(&ceremony, &a.to_json());
            let e = r.unwrap_err();
            assert_eq!(
                e.kind,
                PasskeyErrorKind::VerificationFailed,
                "{alg:?}: {what}: {e}"
            );
            assert_eq!((e.status(), e.code()), (401, "verification_failed"));
        }
        // An assertion answering another ceremony's challenge.
        let (first, options) = pk.start_login().unwrap();
        let (second, _) = pk.start_login().unwrap();
        let a = key.login(&options, ORIGIN);
        assert_eq!(
            kind(pk.finish_login(&second, &a)),
            PasskeyErrorKind::VerificationFailed
        );
        assert_eq!(pk.finish_login(&first, &a).unwrap(), "amy");

        assert_eq!(login(&pk, &mut key).unwrap(), "amy", "{alg:?}: untouched");
        let keys = pk.list_keys().unwrap();
        assert!(
            keys.iter().all(|k| k.disabled.is_none()),
            "failures disable nothing"
        );
    }
}

#[test]
fn an_unknown_key_and_malformed_credentials_are_rejected() {
    let site = Site::new();
    let pk = site.open();
    let key = SoftKey::new(Alg::Es256);
    register(&pk, &key, "amy");

    // A key the server never registered signs its challenge.
    let (ceremony, options) = pk.start_login().unwrap();
    let mut stranger = SoftKey::new(Alg::Es256);
    stranger.cred_id = key.cred_id.clone(); // claims to be the registered key
    let a = stranger.login(&options, ORIGIN);
    assert_eq!(
        kind(pk.finish_login(&ceremony, &a)),
        PasskeyErrorKind::VerificationFailed
    );

    for bad in [
        json!({}),
        json!("x"),
        json!({"id": "a", "rawId": "!!", "type": "public-key"}),
    ] {
        let (ceremony, _) = pk.start_login().unwrap();
        let e = pk.finish_login(&ceremony, &bad).unwrap_err();
        assert_eq!(
            (e.kind, e.status()),
            (PasskeyErrorKind::BadRequest, 400),
            "{bad}"
        );
        assert_eq!(e.to_json()["code"], "bad_request");
    }
}

#[test]
fn registration_is_verified_too() {
    let site = Site::new();
    let pk = site.open();
    let key = SoftKey::new(Alg::Rs256);
    let token = pk.issue_registration_token("amy").unwrap();
    for client in [
        Client::at("http://evil.example:7380"),
        Client {
            rp_id: Some("evil.example"),
            ..Client::at(ORIGIN)
        },
        Client {
            kind: Some("webauthn.get"),
            ..Client::at(ORIGIN)
        },
    ] {
        let (ceremony, options) = pk.start_registration(&token).unwrap();
        let cred = key.register(&options, &client);
        assert_eq!(
            kind(pk.finish_registration(&ceremony, &cred)),
            PasskeyErrorKind::VerificationFailed
        );
    }
    // An authenticator that did not verify the user (presence only).
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    let cred = key.register(
        &options,
        &Client {
            flags: Some(0x01),
            ..Client::at(ORIGIN)
        },
    );
    assert_eq!(
        kind(pk.finish_registration(&ceremony, &cred)),
        PasskeyErrorKind::VerificationFailed
    );
    assert!(pk.list_keys().unwrap().is_empty(), "nothing stored");

    // Failed attempts do not use the token up; the first success does.
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    let cred = key.register(&options, &Client::at(ORIGIN));
    assert_eq!(pk.finish_registration(&ceremony, &cred).unwrap(), "amy");
    assert_eq!(pk.list_keys().unwrap().len(), 1);
}

#[test]
fn ceremony_ids_are_single_use_and_kind_bound() {
    let site = Site::new();
    let pk = site.open();
    let mut key = SoftKey::new(Alg::Es256);
    let token = pk.issue_registration_token("amy").unwrap();
    let (reg_id, options) = pk.start_registration(&token).unwrap();
    let cred = key.register(&options, &Client::at(ORIGIN));
    pk.finish_registration(&reg_id, &cred).unwrap();
    assert_eq!(
        kind(pk.finish_registration(&reg_id, &cred)),
        PasskeyErrorKind::UnknownCeremony
    );

    let (login_id, options) = pk.start_login().unwrap();
    let a = key.login(&options, ORIGIN);
    pk.finish_login(&login_id, &a).unwrap();
    let e = pk.finish_login(&login_id, &a).unwrap_err();
    assert_eq!(
        (e.kind, e.status(), e.code()),
        (PasskeyErrorKind::UnknownCeremony, 400, "unknown_ceremony")
    );

    // A failed finish uses the ceremony up as well: no second guess.
    let (login_id, options) = pk.start_login().unwrap();
    let good = key.login(&options, ORIGIN);
    let mut bad = good.clone();
    bad["response"]["signature"] = json!("AAAA");
    assert!(pk.finish_login(&login_id, &bad).is_err());
    assert_eq!(
        kind(pk.finish_login(&login_id, &good)),
        PasskeyErrorKind::UnknownCeremony
    );

    // A login ceremony id does not finish a registration, nor the reverse.
    let (login_id, _) = pk.start_login().unwrap();
    assert_eq!(
        kind(pk.finish_registration(&login_id, &cred)),
        PasskeyErrorKind::UnknownCeremony
    );
    let token = pk.issue_registration_token("amy").unwrap();
    let (reg_id, _) = pk.start_registration(&token).unwrap();
    assert_eq!(
        kind(pk.finish_login(&reg_id, &good)),
        PasskeyErrorKind::UnknownCeremony
    );
    assert_eq!(
        kind(pk.finish_login("made-up", &good)),
        PasskeyErrorKind::UnknownCeremony
    );
    assert_eq!(pk.ceremonies_in_flight(), 0);
}

#[test]
fn ceremonies_expire() {
    let site = Site::new();
    let cfg = PasskeyConfig {
        ceremony_ttl: Duration::ZERO,
        ..PasskeyConfig::for_port(7380)
    };
    let pk = site.open_with(&cfg);
    let key = SoftKey::new(Alg::Es256);
    let token = pk.issue_registration_token("amy").unwrap();
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    let cred = key.register(&options, &Client::at(ORIGIN));
    assert_eq!(
        kind(pk.finish_registration(&ceremony, &cred)),
        PasskeyErrorKind::UnknownCeremony
    );
}

#[test]
fn registration_tokens_are_one_time_expire_and_are_stored_hashed() {
    let site = Site::new();
    let pk = site.open();
    let key = SoftKey::new(Alg::Es256);
    let token = pk.issue_registration_token("amy").unwrap();
    let stored =
        std::fs::read_to_string(site.serve_dir().join("registration-tokens.json")).unwrap();
    assert!(!stored.contains(&token), "only a hash on disk");

    let (ceremony, options) = pk.start_registration(&token).unwrap();
    // A second start with the same token (another tab) is allowed until one finishes.
    let (ceremony2, options2) = pk.start_registration(&token).unwrap();
    pk.finish_registration(&ceremony, &key.register(&options, &Client::at(ORIGIN)))
        .unwrap();
    let other = SoftKey::new(Alg::Es256);
    let e = pk
        .finish_registration(&ceremony2, &other.register(&options2, &Client::at(ORIGIN)))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.status()),
        (PasskeyErrorKind::ExpiredToken, 401),
        "{e}"
    );
    assert!(e.message.contains("used"), "{e}");
    assert_eq!(
        kind(pk.start_registration(&token)),
        PasskeyErrorKind::ExpiredToken
    );
    assert_eq!(pk.list_keys().unwrap().len(), 1);

    // Unknown and malformed tokens.
    let unknown = "0".repeat(64);
    assert_eq!(
        kind(pk.start_registration(&unknown)),
        PasskeyErrorKind::ExpiredToken
    );
    assert_eq!(
        kind(pk.start_registration("../../etc/passwd")),
        PasskeyErrorKind::BadRequest
    );

    // Expired tokens (a zero lifetime), issued by another process's view.
    let short = site.open_with(&PasskeyConfig {
        token_ttl: Duration::ZERO,
        ..PasskeyConfig::for_port(7380)
    });
    let token = short.issue_registration_token("amy").unwrap();
    let e = pk.start_registration(&token).unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::ExpiredToken);
    assert!(
        e.message.contains("expired") && e.message.contains("register-key"),
        "{e}"
    );

    // A token that expires between start and finish cannot register.
    let token = pk.issue_registration_token("amy").unwrap();
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    let tokens_file = site.serve_dir().join("registration-tokens.json");
    let mut tokens: Value =
        serde_json::from_str(&std::fs::read_to_string(&tokens_file).unwrap()).unwrap();
    for t in tokens["tokens"].as_array_mut().unwrap() {
        t["expires_at_ms"] = json!(1);
    }
    std::fs::write(&tokens_file, tokens.to_string()).unwrap();
    let late = SoftKey::new(Alg::Es256);
    let r = pk.finish_registration(&ceremony, &late.register(&options, &Client::at(ORIGIN)));
    assert_eq!(kind(r), PasskeyErrorKind::ExpiredToken);
    assert_eq!(pk.list_keys().unwrap().len(), 1);

    // User names are checked when the token is issued.
    for bad in ["", "a b", "amy\n", "../x", &"x".repeat(65)] {
        assert_eq!(
            kind(pk.issue_registration_token(bad)),
            PasskeyErrorKind::Config,
            "{bad:?}"
        );
    }
}

#[test]
fn a_counter_regression_is_rejected_and_disables_the_key() {
    let site = Site::new();
    let pk = site.open();
    let mut key = SoftKey::new(Alg::Es256);
    let mut spare = SoftKey::new(Alg::Rs256);
    register(&pk, &key, "amy");
    register(&pk, &spare, "amy");
    key.counter = 5;
    login(&pk, &mut key).unwrap();

    // webauthn-rs's own check: the ceremony knew counter 5, the key says 3.
    key.counter = 3;
    let e = login(&pk, &mut key).unwrap_err();
    assert_eq!(
        (e.kind, e.status(), e.code()),
        (
            PasskeyErrorKind::CounterRegression,
            401,
            "counter_regression"
        )
    );
    let keys = pk.list_keys().unwrap();
    let k = keys.iter().find(|k| k.algorithm == "ES256").unwrap();
    assert!(k.disabled.as_deref().unwrap().contains("counter"), "{k:?}");
    assert_eq!(k.sign_count, 5);
    // Disabled keys are not offered, and refused if they answer anyway.
    let (ceremony, options) = pk.start_login().unwrap();
    let offered = options["allowCredentials"].as_array().unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(unb64(offered[0]["id"].as_str().unwrap()), spare.cred_id);
    key.counter = 100;
    let mut forced = options.clone();
    forced["allowCredentials"] = json!([{"type": "public-key", "id": b64(&key.cred_id)}]);
    let a = key.login(&forced, ORIGIN);
    assert!(
        pk.finish_login(&ceremony, &a).is_err(),
        "not in this ceremony's keys"
    );
    assert_eq!(
        login(&pk, &mut spare).unwrap(),
        "amy",
        "the other key still works"
    );

    // Ours: two ceremonies started when the stored counter was 1; the
    // first finishes with 8, the second then with 6 — above what its
    // ceremony knew, but below what is stored now.
    let site2 = Site::new();
    let pk2 = site2.open();
    let mut k2 = SoftKey::new(Alg::Es256);
    register(&pk2, &k2, "bob");
    k2.counter = 1;
    login(&pk2, &mut k2).unwrap();
    let (c1, o1) = pk2.start_login().unwrap();
    let (c2, o2) = pk2.start_login().unwrap();
    k2.counter = 8;
    pk2.finish_login(&c1, &k2.login(&o1, ORIGIN)).unwrap();
    k2.counter = 6;
    let e = pk2.finish_login(&c2, &k2.login(&o2, ORIGIN)).unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::CounterRegression, "{e}");
    assert_eq!(kind(pk2.start_login()), PasskeyErrorKind::NoPasskeys);

    // An equal counter is a regression too.
    let site3 = Site::new();
    let pk3 = site3.open();
    let mut k3 = SoftKey::new(Alg::Rs256);
    register(&pk3, &k3, "cy");
    k3.counter = 4;
    login(&pk3, &mut k3).unwrap();
    k3.counter = 4;
    assert_eq!(
        kind(login(&pk3, &mut k3)),
        PasskeyErrorKind::CounterRegression
    );
}

#[test]
fn keys_persist_across_reopening_in_private_files() {
    let env = common::Env::new();
    let root = env.root();
    let mut key = SoftKey::new(Alg::Es256);
    {
        let pk = Passkeys::open(&root, &PasskeyConfig::for_port(7380)).unwrap();
        register(&pk, &key, "amy");
        key.counter = 3;
        login(&pk, &mut key).unwrap();
    }
    let pk = Passkeys::open(&root, &PasskeyConfig::for_port(7380)).unwrap();
    let keys = pk.list_keys().unwrap();
    assert_eq!((keys.len(), keys[0].sign_count), (1, 3));
    assert_eq!(
        login(&pk, &mut key).unwrap(),
        "amy",
        "a reopened store verifies"
    );
    key.counter = 2;
    assert_eq!(
        kind(login(&pk, &mut key)),
        PasskeyErrorKind::CounterRegression,
        "the counter persisted"
    );

    let dir = root.join("serve");
    assert_eq!(mode(&dir), 0o700);
    for f in [
        "passkeys.json",
        "registration-tokens.json",
        "passkeys.lock",
        ".gitignore",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "*\n"
    );
    let status = common::git(
        env.path(),
        &["status", "--porcelain", "--untracked-files=all"],
    );
    assert!(
        !status.contains("serve"),
        "nothing of .agent/serve reaches git:\n{status}"
    );
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("passkeys.json")).unwrap()).unwrap();
    assert_eq!(stored["credentials"][0]["user"], "amy");
    assert!(
        stored["credentials"][0]["passkey"]["cred"].is_object(),
        "webauthn-rs's Passkey"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".htrac-tmp")),
        "no temp files: {names:?}"
    );
}

#[test]
fn store_files_others_could_write_are_refused_not_trusted() {
    let site = Site::new();
    let pk = site.open();
    register(&pk, &SoftKey::new(Alg::Es256), "amy");
    let file = site.serve_dir().join("passkeys.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = pk.start_login().unwrap_err();
    assert_eq!((e.kind, e.status()), (PasskeyErrorKind::Storage, 500));
    assert!(e.message.contains("chmod 600"), "{e}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    pk.start_login().unwrap();

    std::fs::set_permissions(site.serve_dir(), std::fs::Permissions::from_mode(0o775)).unwrap();
    let e = Passkeys::open(&site.root, &PasskeyConfig::for_port(7380))
        .err()
        .unwrap();
    assert!(e.message.contains("chmod 700"), "{e}");
    std::fs::set_permissions(site.serve_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();

    // A corrupt file is reported and left as it is.
    std::fs::write(&file, "{not json").unwrap();
    let e = pk.list_keys().unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::Storage);
    assert_eq!(
        kind(
            pk.issue_registration_token("amy")
                .and_then(|t| pk.start_registration(&t))
        ),
        PasskeyErrorKind::Storage
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{not json");

    // A symlink in place of the store is refused.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &file).unwrap();
    assert_eq!(kind(pk.list_keys()), PasskeyErrorKind::Storage);
}

#[test]
fn keys_are_listed_and_removed_by_id_or_unique_prefix() {
    let site = Site::new();
    let pk = site.open();
    let mut a = SoftKey::new(Alg::Es256);
    let b = SoftKey::new(Alg::Rs256);
    register(&pk, &a, "amy");
    register(&pk, &b, "bob");
    assert_eq!(kind(pk.remove_key("nope")), PasskeyErrorKind::UnknownKey);
    assert_eq!(kind(pk.remove_key("")), PasskeyErrorKind::UnknownKey);
    let keys = pk.list_keys().unwrap();
    let bob = keys.iter().find(|k| k.user == "bob").unwrap();
    let removed = pk.remove_key(&bob.id[..10]).unwrap();
    assert_eq!(removed.user, "bob");
    assert_eq!(pk.list_keys().unwrap().len(), 1);
    assert_eq!(login(&pk, &mut a).unwrap(), "amy");
    let listing = cli::render_keys(&pk.list_keys().unwrap());
    assert!(
        listing.contains("amy") && listing.contains("ES256") && !listing.contains("bob"),
        "{listing}"
    );

    // A key removed while its login is in flight cannot finish it.
    let (ceremony, options) = pk.start_login().unwrap();
    let assertion = a.login(&options, ORIGIN);
    pk.remove_key(&b64(&a.cred_id)).unwrap();
    assert_eq!(
        kind(pk.finish_login(&ceremony, &assertion)),
        PasskeyErrorKind::VerificationFailed
    );
    assert_eq!(kind(pk.start_login()), PasskeyErrorKind::NoPasskeys);
}

fn b64(b: &[u8]) -> String {
    htrac::serve::passkey::b64url(b)
}

#[test]
fn register_key_issues_a_link_for_humans_only() {
    let env = common::Env::new();
    let mut tracker = htrac::Tracker::open(&env.root()).unwrap();
    assert!(
        !tracker.actor.is_agent(),
        "the test runs as a human OS user"
    );

    let link = cli::register_key(&tracker, None, 7399).unwrap();
    assert_eq!(link.user, tracker.actor.name);
    assert_eq!(link.valid_for, Duration::from_secs(600));
    let token = link
        .url
        .strip_prefix("http://localhost:7399/#register=")
        .unwrap_or_else(|| panic!("{}", link.url));
    let pk = cli::open(&tracker, 7399).unwrap();
    let (ceremony, options) = pk.start_registration(token).unwrap();
    assert_eq!(options["user"]["name"], tracker.actor.name.as_str());
    let key = SoftKey::new(Alg::Es256);
    let cred = key.register(&options, &Client::at("http://localhost:7399"));
    pk.finish_registration(&ceremony, &cred).unwrap();
    assert_eq!(cli::list_keys(&tracker).unwrap().len(), 1);

    let link = cli::register_key(&tracker, Some("carol"), 7399).unwrap();
    assert_eq!(link.user, "carol");

    let e = cli::register_key(&tracker, Some("bot_agent"), 7399).unwrap_err();
    assert!(e.message.contains("agent_usernames"), "{e}");

    tracker.actor = htrac::actor::Actor::for_name("bot_agent", &tracker.config.agent_usernames);
    for e in [
        cli::register_key(&tracker, Some("carol"), 7399).unwrap_err(),
        cli::list_keys(&tracker).unwrap_err(),
        cli::remove_key(&tracker, "x").unwrap_err(),
    ] {
        assert!(e.message.contains("requires human authority"), "{e}");
    }
    assert_eq!(
        cli::list_keys(&htrac::Tracker::open(&env.root()).unwrap())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn webauthn_config_comes_from_auth_webauthn() {
    let yaml = format!(
        "{}\nauth:\n  webauthn: {{rp_id: example.test, rp_name: Team, origin: 'https://htrac.example.test'}}\n",
        htrac::config::DEFAULT_CONFIG_YAML
    );
    let config = htrac::config::Config::parse(&yaml, htrac::config::Source::Defaults).unwrap();
    let cfg = PasskeyConfig::from_config(&config, 7380).unwrap();
    assert_eq!(
        (
            cfg.rp_id.as_str(),
            cfg.rp_name.as_str(),
            cfg.origin.as_str()
        ),
        ("example.test", "Team", "https://htrac.example.test")
    );
    let site = Site::new();
    let pk = site.open_with(&cfg);
    let token = pk.issue_registration_token("amy").unwrap();
    assert_eq!(
        pk.registration_url(&token),
        format!("https://htrac.example.test/#register={token}")
    );
    let (ceremony, options) = pk.start_registration(&token).unwrap();
    assert_eq!(options["rp"], json!({"id": "example.test", "name": "Team"}));
    let mut key = SoftKey::new(Alg::Es256);
    let cred = key.register(&options, &Client::at("https://htrac.example.test"));
    pk.finish_registration(&ceremony, &cred).unwrap();
    let (ceremony, options) = pk.start_login().unwrap();
    // The default origin is no longer accepted.
    let a = key.login(&options, ORIGIN);
    assert_eq!(
        kind(pk.finish_login(&ceremony, &a)),
        PasskeyErrorKind::VerificationFailed
    );
    let (ceremony, options) = pk.start_login().unwrap();
    let a = key.login(&options, "https://htrac.example.test");
    assert_eq!(pk.finish_login(&ceremony, &a).unwrap(), "amy");

    // Defaults without the section; a non-mapping section counts as empty.
    let plain = htrac::config::Config::defaults();
    assert_eq!(
        PasskeyConfig::from_config(&plain, 7390).unwrap(),
        PasskeyConfig::for_port(7390)
    );
    let yaml = format!(
        "{}\nauth:\n  webauthn: 3\n",
        htrac::config::DEFAULT_CONFIG_YAML
    );
    let config = htrac::config::Config::parse(&yaml, htrac::config::Source::Defaults).unwrap();
    assert_eq!(
        PasskeyConfig::from_config(&config, 7390).unwrap(),
        PasskeyConfig::for_port(7390)
    );
    let yaml = format!(
        "{}\nauth:\n  webauthn: {{rp_id: [1]}}\n",
        htrac::config::DEFAULT_CONFIG_YAML
    );
    let config = htrac::config::Config::parse(&yaml, htrac::config::Source::Defaults).unwrap();
    let e = PasskeyConfig::from_config(&config, 7390).unwrap_err();
    assert!(e.message.contains("auth.webauthn.rp_id"), "{e}");

    // An rp id that is not the origin's host is refused at startup.
    let bad = PasskeyConfig {
        rp_id: "other.test".into(),
        ..cfg
    };
    let e = Passkeys::open(&site.root, &bad).err().unwrap();
    assert!(e.message.contains("rp_id"), "{e}");
}
