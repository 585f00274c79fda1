//! A software authenticator and browser for the passkey tests, built from
//! RustCrypto's p256 and rsa (signatures) and serde_cbor_2 (CBOR): ES256 or
//! RS256 keys, a counter the test sets, and every signed byte in reach so a
//! test can tamper with one. It answers the server's `publicKey` options as
//! `navigator.credentials.create/get` would, in the browser's JSON shape.
//! Only the attestation and assertion bytes are assembled here; hashing
//! and signing are the crates'.

use p256::ecdsa::SigningKey as EcKey;
use rand_core::{OsRng, RngCore};
use rsa::pkcs1v15::SigningKey as RsaSigner;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use htrac::serve::passkey::b64url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Rs256,
}

enum Secret {
    Ec(EcKey),
    Rsa(Box<RsaPrivateKey>),
}

pub struct SoftKey {
    pub alg: Alg,
    key: Secret,
    pub cred_id: Vec<u8>,
    /// The counter the next assertion carries (then incremented).
    pub counter: u32,
}

/// One signed assertion, field by field.
pub struct Assertion {
    pub cred_id: Vec<u8>,
    pub client_data: Vec<u8>,
    pub auth_data: Vec<u8>,
    pub signature: Vec<u8>,
}

/// What the "browser" puts in clientDataJSON and authenticatorData.
pub struct Client<'a> {
    pub origin: &'a str,
    /// The rp id whose hash goes into authenticatorData (default: the options').
    pub rp_id: Option<&'a str>,
    /// clientDataJSON's `type` (default: the right one for the ceremony).
    pub kind: Option<&'a str>,
    /// authenticatorData's flags (default: user present and verified).
    pub flags: Option<u8>,
}

impl<'a> Client<'a> {
    pub fn at(origin: &'a str) -> Client<'a> {
        Client {
            origin,
            rp_id: None,
            kind: None,
            flags: None,
        }
    }
}

pub fn sha256(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

/// Decodes base64url (what the frontend does before calling WebAuthn).
pub fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("{s:?} is not unpadded base64url: {e}"))
}

fn client_data(kind: &str, options: &Value, client: &Client) -> Vec<u8> {
    let challenge = options["challenge"]
        .as_str()
        .expect("a base64url challenge");
    json!({
        "type": client.kind.unwrap_or(kind),
        "challenge": challenge,
        "origin": client.origin,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

impl SoftKey {
    pub fn new(alg: Alg) -> SoftKey {
        let key = match alg {
            Alg::Es256 => Secret::Ec(EcKey::random(&mut OsRng)),
            Alg::Rs256 => Secret::Rsa(Box::new(RsaPrivateKey::new(&mut OsRng, 2048).unwrap())),
        };
        let mut cred_id = vec![0u8; 16];
        OsRng.fill_bytes(&mut cred_id);
        SoftKey {
            alg,
            key,
            cred_id,
            counter: 1,
        }
    }

    /// A key from its secret (as [`SoftKey::secret`] gives it).
    pub fn from_secret(alg: Alg, secret: &[u8], cred_id: Vec<u8>, counter: u32) -> SoftKey {
        let key = match alg {
            Alg::Es256 => Secret::Ec(EcKey::from_slice(secret).unwrap()),
            Alg::Rs256 => Secret::Rsa(Box::new(RsaPrivateKey::from_pkcs8_der(secret).unwrap())),
        };
        SoftKey {
            alg,
            key,
            cred_id,
            counter,
        }
    }

    /// The private key (to keep a key in a fixture): the P-256 scalar, or
    /// the RSA key as PKCS#8 DER.
    pub fn secret(&self) -> Vec<u8> {
        match &self.key {
            Secret::Ec(k) => k.to_bytes().to_vec(),
            Secret::Rsa(k) => k.to_pkcs8_der().unwrap().as_bytes().to_vec(),
        }
    }

    /// The public key as a COSE_Key (CBOR).
    fn cose_public(&self) -> Vec<u8> {
        let mut m = BTreeMap::new();
        match &self.key {
            Secret::Ec(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                m.insert(Cbor::Integer(1), Cbor::Integer(2)); // kty: EC2
                m.insert(Cbor::Integer(3), Cbor::Integer(-7)); // alg: ES256
                m.insert(Cbor::Integer(-1), Cbor::Integer(1)); // crv: P-256
                m.insert(Cbor::Integer(-2), Cbor::Bytes(point.x().unwrap().to_vec()));
                m.insert(Cbor::Integer(-3), Cbor::Bytes(point.y().unwrap().to_vec()));
            }
            Secret::Rsa(k) => {
                m.insert(Cbor::Integer(1), Cbor::Integer(3)); // kty: RSA
                m.insert(Cbor::Integer(3), Cbor::Integer(-257)); // alg: RS256
                m.insert(Cbor::Integer(-1), Cbor::Bytes(k.n().to_bytes_be()));
                m.insert(Cbor::Integer(-2), Cbor::Bytes(k.e().to_bytes_be()));
            }
        }
        serde_cbor_2::to_vec(&Cbor::Map(m)).unwrap()
    }

    /// ES256: ECDSA P-256 over SHA-256, DER-encoded; RS256: PKCS#1 v1.5 with SHA-256.
    fn sign(&self, data: &[u8]) -> Vec<u8> {
        match &self.key {
            Secret::Ec(k) => {
                let sig: p256::ecdsa::Signature = k.sign(data);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::Rsa(k) => RsaSigner::<Sha256>::new(k.as_ref().clone())
                .sign(data)
                .to_vec(),
        }
    }

    /// `navigator.credentials.create({publicKey: options})`, as JSON.
    pub fn register(&self, options: &Value, client: &Client) -> Value {
        let rp_id = client
            .rp_id
            .unwrap_or_else(|| options["rp"]["id"].as_str().unwrap());
        let cd = client_data("webauthn.create", options, client);
        let mut auth_data = sha256(rp_id.as_bytes());
        // user present, user verified, attested credential data
        auth_data.push(client.flags.unwrap_or(0x05) | 0x40);
        auth_data.extend_from_slice(&0u32.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]); // aaguid
        auth_data.extend_from_slice(&(self.cred_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.cred_id);
        auth_data.extend_from_slice(&self.cose_public());
        let mut ao = BTreeMap::new();
        ao.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        ao.insert(Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new()));
        ao.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data));
        let ao = serde_cbor_2::to_vec(&Cbor::Map(ao)).unwrap();
        json!({
            "id": b64url(&self.cred_id),
            "rawId": b64url(&self.cred_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64url(&ao),
                "clientDataJSON": b64url(&cd),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }

    /// `navigator.credentials.get({publicKey: options})`, signed, not yet JSON.
    pub fn assertion(&mut self, options: &Value, client: &Client) -> Assertion {
        let allowed: Vec<String> = options["allowCredentials"]
            .as_array()
            .expect("allowCredentials")
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert!(
            allowed.contains(&b64url(&self.cred_id)),
            "the server offered this key: {allowed:?}"
        );
        let rp_id = client
            .rp_id
            .unwrap_or_else(|| options["rpId"].as_str().unwrap());
        let cd = client_data("webauthn.get", options, client);
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(client.flags.unwrap_or(0x05)); // user present, user verified
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        self.counter += 1;
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&cd));
        Assertion {
            cred_id: self.cred_id.clone(),
            signature: self.sign(&signed),
            client_data: cd,
            auth_data,
        }
    }

    /// An assertion as the browser's JSON.
    pub fn login(&mut self, options: &Value, origin: &str) -> Value {
        self.assertion(options, &Client::at(origin)).to_json()
    }
}

impl Assertion {
    pub fn to_json(&self) -> Value {
        json!({
            "id": b64url(&self.cred_id),
            "rawId": b64url(&self.cred_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(&self.auth_data),
                "clientDataJSON": b64url(&self.client_data),
                "signature": b64url(&self.signature),
                "userHandle": null,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }
}
