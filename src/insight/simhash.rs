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
    let fields = match data.get("fields") {
        Some(Value::Object(fields)) => Some(fields),
        _ => None,
    };
    item_text(text("title"), text("description"), fields)
}

/// The text SimHash reads from an item's title, description and custom
/// fields (a compiled item's, for `validate --similar`, or a create op's).
pub fn item_text(title: &str, description: &str, fields: Option<&Map<String, Value>>) -> String {
    let mut parts: Vec<String> = vec![title.to_string(), description.to_string()];
    for v in fields.into_iter().flat_map(|f| f.values()) {
        match v {
            Value::String(s) => parts.push(s.clone()),
            Value::Array(items) => parts.extend(items.iter().map(crate::py::repr::py_str)),
            _ => {}
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

/// Every pair `(i, j, distance)` with `i < j` of `fps` whose fingerprints
/// differ in at most [`THRESHOLD`] bits, sorted by `(i, j)`: what comparing
/// all pairs in order finds, without comparing all pairs.
///
/// Pigeonhole: the 64 bits are cut into `THRESHOLD + 1` blocks, so two
/// fingerprints within `THRESHOLD` bits agree on at least one whole block.
/// Fingerprints are bucketed by each block's value and only pairs sharing
/// a bucket are compared; a pair is kept in the first block it agrees on
/// only, so none is found twice.
pub fn near_pairs(fps: &[u64]) -> Vec<(usize, usize, u32)> {
    let blocks = block_masks();
    let mut found = Vec::new();
    for (k, &(shift, mask)) in blocks.iter().enumerate() {
        let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); mask as usize + 1];
        for (i, fp) in fps.iter().enumerate() {
            buckets[(fp >> shift & mask) as usize].push(i);
        }
        for bucket in &buckets {
            for (n, &i) in bucket.iter().enumerate() {
                for &j in &bucket[n + 1..] {
                    let d = distance(fps[i], fps[j]);
                    if d > THRESHOLD {
                        continue;
                    }
                    let diff = fps[i] ^ fps[j];
                    if blocks[..k].iter().any(|&(s, m)| diff >> s & m == 0) {
                        continue; // found in an earlier block
                    }
                    found.push((i, j, d));
                }
            }
        }
    }
    found.sort_unstable();
    found
}

/// `(shift, mask)` of each of the `THRESHOLD + 1` blocks that cover the 64
/// bits (as equal as can be: 64 = 8 + 8 × 7 for a threshold of 8).
fn block_masks() -> Vec<(u32, u64)> {
    let n = THRESHOLD + 1;
    let (base, extra) = (64 / n, 64 % n);
    let mut shift = 0;
    (0..n)
        .map(|k| {
            let width = base + u32::from(k < extra);
            let block = (shift, (1u64 << width) - 1);
            shift += width;
            block
        })
        .collect()
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
    fn near_pairs_finds_what_comparing_every_pair_finds() {
        assert_eq!(
            block_masks()
                .iter()
                .map(|(_, m)| m.count_ones())
                .sum::<u32>(),
            64
        );
        // Fingerprints in clusters (random bases, a few bits flipped) plus
        // zeros and noise: every distance from 0 to 64 occurs.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut fps = vec![0, 0, u64::MAX];
        for _ in 0..40 {
            let base = rnd();
            for _ in 0..8 {
                let mut fp = base;
                for _ in 0..rnd() % 12 {
                    fp ^= 1 << (rnd() % 64);
                }
                fps.push(fp);
            }
            fps.push(rnd());
        }
        let mut brute = Vec::new();
        for i in 0..fps.len() {
            for j in i + 1..fps.len() {
                let d = distance(fps[i], fps[j]);
                if d <= THRESHOLD {
                    brute.push((i, j, d));
                }
            }
        }
        assert!(brute.len() > 100 && brute.iter().any(|p| p.2 == THRESHOLD));
        assert_eq!(near_pairs(&fps), brute);
        assert_eq!(near_pairs(&[]), []);
        assert_eq!(near_pairs(&[7]), []);
    }

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(distance(0b1011, 0b0110), 3);
        assert_eq!(distance(u64::MAX, 0), 64);
    }
}
