//! Sealed ceremony state: what a finish call needs from its start, handed
//! to the browser as an opaque token instead of kept in server memory.
//! The token is `v1.<payload>.<tag>`, both parts base64url; the payload is
//! JSON `{"kind", "id", "exp", "state"}` and the tag its HMAC-SHA256
//! (RustCrypto `hmac` + `sha2`, compared in constant time) under a key drawn
//! from the OS when the server starts and never stored, so a token is only
//! good for the process that issued it and dies with it. The payload is
//! readable by its holder (it carries nothing the holder may not see: a
//! challenge, and for a registration the holder's own user and key ids);
//! the tag makes it unforgeable and tamper-evident, `exp` makes it expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use super::error::{PasskeyError, PasskeyErrorKind};

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";

/// What a token says once its tag has verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    /// "login" or "register": a token of one kind never finishes the other.
    pub kind: String,
    /// Random, unique per ceremony: what replay protection remembers.
    pub id: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub exp: u64,
    /// webauthn-rs's ceremony state and what else the finish needs.
    pub state: Value,
}

/// Seals and opens ceremony tokens with one per-process key.
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    /// A sealer with a fresh random key.
    pub fn new() -> Result<Sealer, PasskeyError> {
        let mut key = [0u8; 32];
        super::fill_random(&mut key)?;
        Ok(Sealer { key })
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// The token carrying `sealed`.
    pub fn seal(&self, sealed: &Sealed) -> Result<String, PasskeyError> {
        let payload = serde_json::to_vec(sealed).map_err(|e| {
            PasskeyError::storage(format!("cannot encode the passkey ceremony: {e}"))
        })?;
        let mut mac = self.mac();
        mac.update(VERSION.as_bytes());
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        Ok(format!(
            "{VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    /// The content of `token` if this sealer issued it unchanged (expiry
    /// and kind are the caller's to check).
    pub fn open(&self, token: &str) -> Result<Sealed, PasskeyError> {
        let mut parts = token.split('.');
        let (Some(VERSION), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_ours());
        };
        let (Ok(payload), Ok(tag)) = (URL_SAFE_NO_PAD.decode(payload), URL_SAFE_NO_PAD.decode(tag))
        else {
            return Err(not_ours());
        };
        let mut mac = self.mac();
        mac.update(VERSION.as_bytes());
        mac.update(&payload);
        mac.verify_slice(&tag).map_err(|_| not_ours())?;
        // Ours and untouched, so it parses; anything else is a bug here.
        serde_json::from_slice(&payload).map_err(|e| {
            PasskeyError::storage(format!("a sealed passkey ceremony does not parse: {e}"))
        })
    }
}

fn not_ours() -> PasskeyError {
    PasskeyError::new(
        PasskeyErrorKind::UnknownCeremony,
        "this passkey ceremony was not started by this server (or was changed, or the server restarted since); start again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Sealed {
        Sealed {
            kind: "login".into(),
            id: "abc".into(),
            exp: 42,
            state: json!({"challenge": "xyz"}),
        }
    }

    #[test]
    fn a_sealed_token_opens_to_what_was_sealed() {
        let s = Sealer::new().unwrap();
        let token = s.seal(&sample()).unwrap();
        assert!(token.starts_with("v1."), "{token}");
        assert_eq!(s.open(&token).unwrap(), sample());
    }

    #[test]
    fn changed_foreign_or_malformed_tokens_do_not_open() {
        let s = Sealer::new().unwrap();
        let token = s.seal(&sample()).unwrap();
        let [v, payload, tag]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().unwrap();
        // Another payload under the old tag (a later expiry, say).
        let mut forged = sample();
        forged.exp = u64::MAX;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let mut flipped_tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        flipped_tag[0] ^= 1;
        let other_key = Sealer::new().unwrap().seal(&sample()).unwrap();
        for bad in [
            format!("{v}.{forged_payload}.{tag}"),
            format!("{v}.{payload}.{}", URL_SAFE_NO_PAD.encode(&flipped_tag)),
            format!("v2.{payload}.{tag}"),
            format!("{v}.{payload}"),
            format!("{token}.x"),
            format!("{v}.{payload}.!!"),
            other_key,
            String::new(),
        ] {
            let e = s.open(&bad).unwrap_err();
            assert_eq!(e.kind, PasskeyErrorKind::UnknownCeremony, "{bad}");
        }
    }
}
