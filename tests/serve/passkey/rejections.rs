//! Everything a passkey ceremony must refuse: tampered or misdirected
//! answers, reused or expired ceremonies, and sign counters going backwards.

use super::*;
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
    // Only finishes are remembered (against replays), refused ones too
    // once their seal verified; the made-up id and the starts add nothing.
    let remembered = pk.ceremonies_remembered();
    for _ in 0..50 {
        pk.start_login().unwrap();
    }
    assert_eq!(pk.ceremonies_remembered(), remembered);
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
    let e = pk.finish_registration(&ceremony, &cred).unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::UnknownCeremony);
    assert!(e.message.contains("expired"), "{e}");

    // A login sealed with a zero lifetime is expired on arrival too.
    let mut key = SoftKey::new(Alg::Es256);
    register(&site.open(), &key, "amy");
    let (ceremony, options) = pk.start_login().unwrap();
    let e = pk
        .finish_login(&ceremony, &key.login(&options, ORIGIN))
        .unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::UnknownCeremony);
    assert!(e.message.contains("expired"), "{e}");
    // A seal from another server process (another key) is not ours.
    let (ceremony, options) = site.open().start_login().unwrap();
    let e = pk
        .finish_login(&ceremony, &key.login(&options, ORIGIN))
        .unwrap_err();
    assert_eq!(e.kind, PasskeyErrorKind::UnknownCeremony);
    assert!(e.message.contains("not started by this server"), "{e}");
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
