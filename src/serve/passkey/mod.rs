//! Passkeys (WebAuthn) for the web interface, verified for real by
//! webauthn-rs: registration with a one-time token from
//! `htrac-serve register-key`, login with any registered key. JSON goes in
//! and out as `serde_json::Value` in the browser's shapes, so the HTTP layer
//! only passes it through. Ceremony state travels sealed with the browser,
//! so a flood of starts fills nothing ([`ceremony`], [`seal`]); keys and
//! token hashes live in private files under `.agent/serve/` ([`store`]).
//!
//! ```text
//! register: issue_registration_token(user) → (CLI prints the link)
//!           start_registration(token) → {publicKey} → navigator.credentials.create
//!           finish_registration(ceremony, credential) → user
//! login:    start_login() → {publicKey} → navigator.credentials.get
//!           finish_login(ceremony, credential) → user
//! ```

pub mod ceremony;
pub mod cli;
pub mod error;
pub mod seal;
pub mod store;
pub mod tokens;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use webauthn_rs::prelude::{
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use ceremony::{source_of, Ceremonies, Kind};
pub use error::{PasskeyError, PasskeyErrorKind};
use store::{
    CredentialFile, CredentialRecord, PrivateDir, TokenFile, CREDENTIALS_FILE, TOKENS_FILE,
};

/// The server's default port (the origin's port when none is configured).
pub const DEFAULT_PORT: u16 = 7380;

/// Where WebAuthn ceremonies happen: config.yaml `auth.webauthn`
/// (`rp_id`, `rp_name`, `origin`), plus lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyConfig {
    /// The relying party id: the host name the browser sees ("localhost").
    pub rp_id: String,
    /// Shown by the browser when it asks for a key ("htrac").
    pub rp_name: String,
    /// The page's origin, e.g. `http://localhost:7380`.
    pub origin: String,
    /// How long a started ceremony may be finished (5 minutes).
    pub ceremony_ttl: Duration,
    /// How long a registration token is valid (10 minutes).
    pub token_ttl: Duration,
}

impl PasskeyConfig {
    /// The defaults for a server on `port`.
    pub fn for_port(port: u16) -> PasskeyConfig {
        PasskeyConfig {
            rp_id: "localhost".into(),
            rp_name: "htrac".into(),
            origin: format!("http://localhost:{port}"),
            ceremony_ttl: Duration::from_secs(300),
            token_ttl: Duration::from_secs(600),
        }
    }

    /// The tracker config's `auth.webauthn` over the defaults for `port`.
    /// A non-mapping `webauthn` counts as empty (as in the reference).
    pub fn from_config(
        config: &crate::config::Config,
        port: u16,
    ) -> Result<PasskeyConfig, PasskeyError> {
        let mut cfg = PasskeyConfig::for_port(port);
        let section = config.raw.get("auth").and_then(|a| a.get("webauthn"));
        let Some(section) = section.and_then(Value::as_object) else {
            return Ok(cfg);
        };
        for (key, slot) in [
            ("rp_id", &mut cfg.rp_id),
            ("rp_name", &mut cfg.rp_name),
            ("origin", &mut cfg.origin),
        ] {
            match section.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if !s.trim().is_empty() => *slot = s.trim().to_string(),
                Some(v) => {
                    return Err(PasskeyError::config(format!(
                        "config auth.webauthn.{key} must be a non-empty string, not {v}; fix it in .agent/tracker/config.yaml"
                    )))
                }
            }
        }
        Ok(cfg)
    }
}

/// A registered key as `htrac-serve keys` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The credential id, base64url.
    pub id: String,
    pub user: String,
    /// "ES256" or "RS256".
    pub algorithm: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub sign_count: u32,
    /// Why the key can no longer log in, if it cannot.
    pub disabled: Option<String>,
}

impl KeyInfo {
    fn of(r: &CredentialRecord) -> KeyInfo {
        let alg = format!("{:?}", r.passkey.cred_algorithm());
        KeyInfo {
            id: r.id.clone(),
            user: r.user.clone(),
            algorithm: alg,
            created_at: r.created_at.clone(),
            last_used_at: r.last_used_at.clone(),
            sign_count: r.sign_count,
            disabled: r.disabled.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("KeyInfo serializes")
    }
}

/// The passkey service of one tracker: thread-safe, one per server.
pub struct Passkeys {
    webauthn: Webauthn,
    dir: PrivateDir,
    origin: String,
    token_ttl: Duration,
    ceremonies: Ceremonies,
}

/// What a registration's finish needs from its start (sealed).
#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    webauthn: PasskeyRegistration,
    user: String,
    user_handle: Uuid,
    /// The registration token's hash, consumed when the key is stored.
    token_sha256: String,
}

impl Passkeys {
    /// Opens the passkeys of the tracker whose `.agent/` directory is
    /// `root`, creating `.agent/serve/` (private, git-ignored) if needed.
    pub fn open(root: &Path, cfg: &PasskeyConfig) -> Result<Passkeys, PasskeyError> {
        let origin = Url::parse(&cfg.origin).map_err(|e| {
            PasskeyError::config(format!(
                "auth.webauthn.origin '{}' is not a URL ({e}); use e.g. http://localhost:7380",
                cfg.origin
            ))
        })?;
        // The browser gives up a little before the server forgets the ceremony.
        let browser_timeout = cfg
            .ceremony_ttl
            .saturating_sub(Duration::from_secs(30))
            .max(Duration::from_secs(30));
        let webauthn = WebauthnBuilder::new(&cfg.rp_id, &origin)
            .and_then(|b| b.rp_name(&cfg.rp_name).timeout(browser_timeout).build())
            .map_err(|e| {
                PasskeyError::config(format!(
                    "auth.webauthn: rp_id '{}' does not fit origin '{}' ({e}); the rp_id must be the origin's host name (or a parent domain of it), and browsers refuse IP addresses",
                    cfg.rp_id, cfg.origin
                ))
            })?;
        let dir = PrivateDir::open(root)?;
        Ok(Passkeys {
            webauthn,
            dir,
            origin: cfg.origin.trim_end_matches('/').to_string(),
            token_ttl: cfg.token_ttl,
            ceremonies: Ceremonies::new(cfg.ceremony_ttl)?,
        })
    }

    /// The directory holding the passkey files (`.agent/serve/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a one-time registration token for `user` (valid for the
    /// configured 10 minutes); only its hash is stored.
    pub fn issue_registration_token(&self, user: &str) -> Result<String, PasskeyError> {
        check_user_name(user)?;
        tokens::issue(&self.dir, user, self.token_ttl)
    }

    /// The link that opens the registration page with `token`.
    pub fn registration_url(&self, token: &str) -> String {
        format!("{}/#register={token}", self.origin)
    }

    /// Starts registering a key with a registration token: returns the
    /// ceremony id and the `publicKey` options for
    /// `navigator.credentials.create({publicKey})` (binary fields base64url).
    pub fn start_registration(&self, token: &str) -> Result<(String, Value), PasskeyError> {
        let (token_sha256, user) = tokens::check(&self.dir, token)?;
        let creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        let mine: Vec<&CredentialRecord> = creds
            .credentials
            .iter()
            .filter(|c| c.user == user)
            .collect();
        let user_handle = mine
            .first()
            .map(|c| c.user_handle)
            .unwrap_or_else(Uuid::new_v4);
        let exclude: Vec<_> = mine.iter().map(|c| c.passkey.cred_id().clone()).collect();
        let exclude = (!exclude.is_empty()).then_some(exclude);
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(user_handle, &user, &user, exclude)
            .map_err(|e| {
                PasskeyError::storage(format!("cannot start a passkey registration: {e}"))
            })?;
        let options = inner_public_key(&ccr)?;
        let pending = PendingRegistration {
            webauthn: state,
            user,
            user_handle,
            token_sha256,
        };
        let id = self
            .ceremonies
            .start(Kind::Registration, encode_state(&pending)?)?;
        Ok((id, options))
    }

    /// Finishes a registration with the browser's `PublicKeyCredential`
    /// (as JSON, binary fields base64url): verifies it, stores the key, uses
    /// up the token, and returns the user the key belongs to. The ceremony
    /// counts as coming from this host (loopback).
    pub fn finish_registration(
        &self,
        ceremony_id: &str,
        credential: &Value,
    ) -> Result<String, PasskeyError> {
        self.finish_registration_from(LOCAL, ceremony_id, credential)
    }

    /// [`Passkeys::finish_registration`] for a request from `client`.
    pub fn finish_registration_from(
        &self,
        client: IpAddr,
        ceremony_id: &str,
        credential: &Value,
    ) -> Result<String, PasskeyError> {
        let sealed = self
            .ceremonies
            .finish(Kind::Registration, ceremony_id, &source_of(client))?;
        let PendingRegistration {
            webauthn: state,
            user,
            user_handle,
            token_sha256,
        } = decode_state(sealed)?;
        let reg: RegisterPublicKeyCredential = parse_credential(credential)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&reg, &state)
            .map_err(|e| {
                PasskeyError::verification(format!("the new passkey did not verify: {e}"))
            })?;
        let id = b64url(passkey.cred_id().as_ref());
        let _lock = self.dir.lock()?;
        let mut tokens: TokenFile = self.dir.read(TOKENS_FILE)?;
        tokens::valid(&mut tokens, &token_sha256)?.used = true;
        let mut creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        if creds.credentials.iter().any(|c| c.id == id) {
            return Err(PasskeyError::new(
                PasskeyErrorKind::AlreadyRegistered,
                "this passkey is registered already; log in with it",
            ));
        }
        creds.credentials.push(CredentialRecord {
            id,
            user: user.clone(),
            user_handle,
            created_at: crate::timestamp::now_utc(),
            last_used_at: None,
            sign_count: 0,
            disabled: None,
            passkey,
        });
        self.dir.write(CREDENTIALS_FILE, &creds)?;
        self.dir.write(TOKENS_FILE, &tokens)?;
        Ok(user)
    }

    /// Starts a login with any registered (enabled) key: returns the
    /// ceremony id and the `publicKey` options for
    /// `navigator.credentials.get({publicKey})`.
    pub fn start_login(&self) -> Result<(String, Value), PasskeyError> {
        let creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        let keys: Vec<_> = creds
            .credentials
            .iter()
            .filter(|c| c.disabled.is_none())
            .map(|c| c.passkey.clone())
            .collect();
        if keys.is_empty() {
            return Err(PasskeyError::new(
                PasskeyErrorKind::NoPasskeys,
                "no passkey is registered; run 'htrac-serve register-key' and open the link it prints",
            ));
        }
        let (rcr, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| PasskeyError::storage(format!("cannot start a passkey login: {e}")))?;
        let options = inner_public_key(&rcr)?;
        // The keys go back in at the finish, fresh from the store: the seal
        // carries no more than the options do (and a removed or disabled
        // key cannot finish a ceremony started before).
        let mut state = encode_state(&state)?;
        *credentials_of(&mut state)? = json!([]);
        let id = self.ceremonies.start(Kind::Login, state)?;
        Ok((id, options))
    }

    /// Finishes a login with the browser's `PublicKeyCredential` (JSON):
    /// verifies the assertion, checks and records the sign counter, and
    /// returns the user the key belongs to. The ceremony counts as coming
    /// from this host (loopback).
    pub fn finish_login(
        &self,
        ceremony_id: &str,
        credential: &Value,
    ) -> Result<String, PasskeyError> {
        self.finish_login_from(LOCAL, ceremony_id, credential)
    }

    /// [`Passkeys::finish_login`] for a request from `client`.
    pub fn finish_login_from(
        &self,
        client: IpAddr,
        ceremony_id: &str,
        credential: &Value,
    ) -> Result<String, PasskeyError> {
        let mut state = self
            .ceremonies
            .finish(Kind::Login, ceremony_id, &source_of(client))?;
        let creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        let usable = creds
            .credentials
            .iter()
            .filter(|c| c.disabled.is_none())
            .map(|c| {
                let mut passkey = encode_state(&c.passkey)?;
                Ok(passkey["cred"].take())
            })
            .collect::<Result<Vec<Value>, PasskeyError>>()?;
        *credentials_of(&mut state)? = Value::Array(usable);
        let state: PasskeyAuthentication = decode_state(state)?;
        let cred: PublicKeyCredential = parse_credential(credential)?;
        let result = match self.webauthn.finish_passkey_authentication(&cred, &state) {
            Ok(r) => r,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                // The signature verified but the counter did not go up.
                return Err(self.disable(&b64url(cred.raw_id.as_ref()))?);
            }
            Err(e) => {
                return Err(PasskeyError::verification(format!(
                    "the passkey's answer did not verify: {e}"
                )))
            }
        };
        let id = b64url(result.cred_id().as_ref());
        let _lock = self.dir.lock()?;
        let mut creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        let Some(rec) = creds.credentials.iter_mut().find(|c| c.id == id) else {
            return Err(PasskeyError::verification(
                "this passkey has been removed; register it again",
            ));
        };
        if let Some(why) = &rec.disabled {
            return Err(disabled_error(why));
        }
        // Checked against the stored counter, not the one the ceremony
        // started with, so two logins racing cannot both pass one value.
        let counter = result.counter();
        if (counter > 0 || rec.sign_count > 0) && counter <= rec.sign_count {
            mark_disabled(rec);
            self.dir.write(CREDENTIALS_FILE, &creds)?;
            return Err(counter_regression());
        }
        rec.passkey.update_credential(&result);
        rec.sign_count = counter;
        rec.last_used_at = Some(crate::timestamp::now_utc());
        let user = rec.user.clone();
        self.dir.write(CREDENTIALS_FILE, &creds)?;
        Ok(user)
    }

    /// Every registered key, in registration order.
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>, PasskeyError> {
        let creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        Ok(creds.credentials.iter().map(KeyInfo::of).collect())
    }

    /// Whether any key can log in (for `GET /api/auth/methods`).
    pub fn has_usable_keys(&self) -> Result<bool, PasskeyError> {
        let creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        Ok(creds.credentials.iter().any(|c| c.disabled.is_none()))
    }

    /// Removes the key whose id is `id` or starts with it (unique prefix).
    pub fn remove_key(&self, id: &str) -> Result<KeyInfo, PasskeyError> {
        let id = id.trim();
        let _lock = self.dir.lock()?;
        let mut creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        let index = match creds.credentials.iter().position(|c| c.id == id) {
            Some(i) => i,
            None => {
                let hits: Vec<usize> = (0..creds.credentials.len())
                    .filter(|&i| !id.is_empty() && creds.credentials[i].id.starts_with(id))
                    .collect();
                match hits.as_slice() {
                    [i] => *i,
                    [] => {
                        return Err(PasskeyError::new(
                            PasskeyErrorKind::UnknownKey,
                            format!("no passkey with id '{id}'; 'htrac-serve keys' lists them"),
                        ))
                    }
                    _ => {
                        return Err(PasskeyError::bad_request(format!(
                            "'{id}' matches {} passkeys; give more of the id",
                            hits.len()
                        )))
                    }
                }
            }
        };
        let removed = creds.credentials.remove(index);
        self.dir.write(CREDENTIALS_FILE, &creds)?;
        Ok(KeyInfo::of(&removed))
    }

    /// How many finished ceremonies are remembered against replays (the
    /// only ceremony state the server keeps; starts add nothing).
    pub fn ceremonies_remembered(&self) -> usize {
        self.ceremonies.remembered()
    }

    /// Marks key `id` disabled after a counter regression and returns the
    /// error to report.
    fn disable(&self, id: &str) -> Result<PasskeyError, PasskeyError> {
        let _lock = self.dir.lock()?;
        let mut creds: CredentialFile = self.dir.read(CREDENTIALS_FILE)?;
        if let Some(rec) = creds.credentials.iter_mut().find(|c| c.id == id) {
            if rec.disabled.is_none() {
                mark_disabled(rec);
                self.dir.write(CREDENTIALS_FILE, &creds)?;
            }
        }
        Ok(counter_regression())
    }
}

/// In-process callers (the CLI, tests) count as loopback.
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn mark_disabled(rec: &mut CredentialRecord) {
    rec.disabled = Some(format!(
        "its sign counter went backwards at {} (a cloned authenticator?)",
        crate::timestamp::now_utc()
    ));
}

fn counter_regression() -> PasskeyError {
    PasskeyError::new(
        PasskeyErrorKind::CounterRegression,
        "this passkey's signature counter went backwards, so it may have been cloned; it is disabled now — check 'htrac-serve keys', remove it and register the key again",
    )
}

fn disabled_error(why: &str) -> PasskeyError {
    PasskeyError::new(
        PasskeyErrorKind::KeyDisabled,
        format!(
            "this passkey is disabled: {why}; remove it ('htrac-serve keys') and register it again"
        ),
    )
}

fn encode_state(state: &impl Serialize) -> Result<Value, PasskeyError> {
    serde_json::to_value(state)
        .map_err(|e| PasskeyError::storage(format!("cannot encode a passkey ceremony: {e}")))
}

fn decode_state<T: serde::de::DeserializeOwned>(state: Value) -> Result<T, PasskeyError> {
    T::deserialize(state)
        .map_err(|e| PasskeyError::storage(format!("a passkey ceremony does not decode: {e}")))
}

/// The allowed credentials in webauthn-rs's serialised login state
/// (`{"ast": {"credentials": [...], ...}}`; every login test reads it).
fn credentials_of(state: &mut Value) -> Result<&mut Value, PasskeyError> {
    state
        .get_mut("ast")
        .and_then(|a| a.get_mut("credentials"))
        .filter(|c| c.is_array())
        .ok_or_else(|| {
            PasskeyError::storage("webauthn-rs's login state has no ast.credentials list")
        })
}

/// The `publicKey` member of webauthn-rs's `{"publicKey": {...}}` challenge.
fn inner_public_key(challenge: &impl Serialize) -> Result<Value, PasskeyError> {
    let mut v = serde_json::to_value(challenge)
        .map_err(|e| PasskeyError::storage(format!("cannot encode the passkey challenge: {e}")))?;
    v.get_mut("publicKey")
        .map(Value::take)
        .ok_or_else(|| PasskeyError::storage("the passkey challenge has no publicKey member"))
}

fn parse_credential<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, PasskeyError> {
    T::deserialize(v).map_err(|e| {
        PasskeyError::bad_request(format!(
            "'credential' is not a PublicKeyCredential with base64url binary fields ({e})"
        ))
    })
}

/// `bytes` as unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `n` random bytes from the OS, as hex.
pub(crate) fn random_hex(n: usize) -> Result<String, PasskeyError> {
    let mut b = vec![0u8; n];
    fill_random(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Fills `b` with random bytes from the OS.
pub(crate) fn fill_random(b: &mut [u8]) -> Result<(), PasskeyError> {
    let mut filled = 0;
    while filled < b.len() {
        filled += rustix::rand::getrandom(&mut b[filled..], rustix::rand::GetRandomFlags::empty())
            .map_err(|e| PasskeyError::storage(format!("no randomness from the OS: {e}")))?;
    }
    Ok(())
}

/// A web user name: 1–64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_user_name(user: &str) -> Result<(), PasskeyError> {
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(PasskeyError::config(format!(
            "'{user}' is not a usable user name: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}
