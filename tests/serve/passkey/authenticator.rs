//! A software authenticator and browser for the passkey tests, built from
//! openssl (signatures) and serde_cbor_2 (CBOR): ES256 or RS256 keys, a
//! counter the test sets, and every signed byte in reach so a test can
//! tamper with one. It answers the server's `publicKey` options as
//! `navigator.credentials.create/get` would, in the browser's JSON shape.

use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::{hash, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use htrac::serve::passkey::b64url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Rs256,
}

pub struct SoftKey {
    pub alg: Alg,
    key: PKey<Private>,
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
    hash(MessageDigest::sha256(), b).unwrap().to_vec()
}

/// Decodes base64url (what the frontend does before calling WebAuthn).
pub fn unb64(s: &str) -> Vec<u8> {
    let d: webauthn_rs::prelude::Base64UrlSafeData = serde_json::from_value(json!(s)).unwrap();
    d.to_vec()
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
            Alg::Es256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
                PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
            }
            Alg::Rs256 => PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
        };
        let mut cred_id = vec![0u8; 16];
        openssl::rand::rand_bytes(&mut cred_id).unwrap();
        SoftKey {
            alg,
            key,
            cred_id,
            counter: 1,
        }
    }

    /// The public key as a COSE_Key (CBOR).
    fn cose_public(&self) -> Vec<u8> {
        let mut m = BTreeMap::new();
        match self.alg {
            Alg::Es256 => {
                let ec = self.key.ec_key().unwrap();
                let mut ctx = BigNumContext::new().unwrap();
                let mut x = openssl::bn::BigNum::new().unwrap();
                let mut y = openssl::bn::BigNum::new().unwrap();
                ec.public_key()
                    .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)
                    .unwrap();
                m.insert(Cbor::Integer(1), Cbor::Integer(2)); // kty: EC2
                m.insert(Cbor::Integer(3), Cbor::Integer(-7)); // alg: ES256
                m.insert(Cbor::Integer(-1), Cbor::Integer(1)); // crv: P-256
                m.insert(Cbor::Integer(-2), Cbor::Bytes(x.to_vec_padded(32).unwrap()));
                m.insert(Cbor::Integer(-3), Cbor::Bytes(y.to_vec_padded(32).unwrap()));
            }
            Alg::Rs256 => {
                let rsa = self.key.rsa().unwrap();
                m.insert(Cbor::Integer(1), Cbor::Integer(3)); // kty: RSA
                m.insert(Cbor::Integer(3), Cbor::Integer(-257)); // alg: RS256
                m.insert(Cbor::Integer(-1), Cbor::Bytes(rsa.n().to_vec()));
                m.insert(Cbor::Integer(-2), Cbor::Bytes(rsa.e().to_vec()));
            }
        }
        serde_cbor_2::to_vec(&Cbor::Map(m)).unwrap()
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut s = Signer::new(MessageDigest::sha256(), &self.key).unwrap();
        s.update(data).unwrap();
        s.sign_to_vec().unwrap()
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
