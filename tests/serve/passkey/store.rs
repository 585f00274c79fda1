//! Where passkeys and registration tokens live and who may touch them:
//! one-time tokens, private files that survive a restart, listing and
//! removing keys, `register-key`, and `auth.webauthn` in config.yaml.

use super::*;
use crate::common;
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
    assert!(!pk.has_usable_keys().unwrap());
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

    tracker.actor =
        htrac::governance::actor::Actor::for_name("bot_agent", &tracker.config.agent_usernames);
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
