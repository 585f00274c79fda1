//! SimHash fingerprints of item text, for near-duplicate warnings: the
//! reference's algorithm bit for bit, so both tools flag the same pairs.
//!
//! The text is the item's create data — title, description, then each
//! custom field value in order (strings as they are, list elements as
//! Python's `str()`), joined by spaces. Tokens are the runs of `[a-z0-9]`
//! in the lower-cased text. Each token votes on 64 bit positions with the
//! low 64 bits of its SHA-1 (the digest's last 8 bytes, big-endian); a bit
//! of the fingerprint is set where more tokens voted for it than against.
//! Two items are near-duplicates when their fingerprints differ in at most
//! [`THRESHOLD`] bits.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// Most bits two fingerprints may differ in and still be near-duplicates
/// (the reference's value since 0.4.0; 13 gave false positives).
pub const THRESHOLD: u32 = 8;

/// The text SimHash reads from a create op's `data`.
pub fn create_text(data: &Map<String, Value>) -> String {
    let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("");
    let mut parts: Vec<String> = vec![text("title").to_string(), text("description").to_string()];
    if let Some(Value::Object(fields)) = data.get("fields") {
        for v in fields.values() {
            match v {
                Value::String(s) => parts.push(s.clone()),
                Value::Array(items) => parts.extend(items.iter().map(crate::py::repr::py_str)),
                _ => {}
            }
        }
    }
    parts.join(" ")
}

/// The tokens SimHash votes with: runs of ASCII lower-case letters and
/// digits in the lower-cased text.
pub fn tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The low 64 bits of a token's SHA-1.
fn token_hash(token: &str) -> u64 {
    let digest = Sha1::digest(token.as_bytes());
    let mut low = [0u8; 8];
    low.copy_from_slice(&digest[12..20]);
    u64::from_be_bytes(low)
}

/// Computes fingerprints, remembering each token's hash (the vocabulary of
/// a tracker repeats a lot, so a scan hashes each word once).
#[derive(Default)]
pub struct Hasher {
    memo: HashMap<String, u64>,
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// The 64-bit SimHash of `text` (0 when it has no tokens).
    pub fn fingerprint(&mut self, text: &str) -> u64 {
        let tokens = tokens(text);
        if tokens.is_empty() {
            return 0;
        }
        let mut votes = [0i64; 64];
        for t in tokens {
            let h = match self.memo.get(&t) {
                Some(h) => *h,
                None => {
                    let h = token_hash(&t);
                    self.memo.insert(t, h);
                    h
                }
            };
            for (bit, v) in votes.iter_mut().enumerate() {
                if h >> bit & 1 == 1 {
                    *v += 1;
                } else {
                    *v -= 1;
                }
            }
        }
        votes
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .fold(0u64, |fp, (bit, _)| fp | 1 << bit)
    }
}

/// The SimHash of `text` (see [`Hasher`] for many texts).
pub fn fingerprint(text: &str) -> u64 {
    Hasher::new().fingerprint(text)
}

/// How many bits two fingerprints differ in.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_ascii_alphanumeric_runs_of_the_lowercased_text() {
        assert_eq!(
            tokens("Fix the CACHE-invalidation bug (v2.1)!"),
            ["fix", "the", "cache", "invalidation", "bug", "v2", "1"]
        );
        // Non-ASCII letters split tokens; the Kelvin sign lower-cases to k.
        assert_eq!(tokens("café \u{212A}elvin"), ["caf", "kelvin"]);
    }

    #[test]
    fn empty_text_has_fingerprint_zero_and_one_token_its_hash() {
        assert_eq!(fingerprint(""), 0);
        assert_eq!(fingerprint("--- !!"), 0);
        // One token: every bit is its hash's (a vote of +1 or -1).
        assert_eq!(fingerprint("hello"), token_hash("hello"));
        // sha1("hello") = aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d.
        assert_eq!(token_hash("hello"), 0x3b482cd9aea9434d);
    }

    #[test]
    fn votes_tie_to_zero() {
        // Two tokens: a bit is set only where both hashes have it.
        let (a, b) = (token_hash("alpha"), token_hash("beta"));
        assert_eq!(fingerprint("alpha beta"), a & b);
        assert_eq!(fingerprint("alpha alpha beta"), a);
    }

    #[test]
    fn create_text_joins_title_description_and_fields() {
        let data = json!({"title": "T", "description": "D",
            "fields": {"a": "x", "n": 3, "l": ["y", 4, true], "e": ""}});
        assert_eq!(create_text(data.as_object().unwrap()), "T D x y 4 True ");
        assert_eq!(
            create_text(json!({"title": "T"}).as_object().unwrap()),
            "T "
        );
    }

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(distance(0b1011, 0b0110), 3);
        assert_eq!(distance(u64::MAX, 0), 64);
    }
}
