//! TF-IDF vectors of item text, as `clusters` compares items: the
//! reference's (and scikit-learn's `TfidfVectorizer` with
//! `sublinear_tf=True, min_df=2, max_df=0.8`) arithmetic in the same order,
//! so the cosines — and the clusters built on them — come out the same.
//!
//! An item's text is its title, description, string-valued custom fields
//! and live (not tombstoned) discussion messages, joined by spaces, with
//! item IDs replaced by `ITEM` and `ADR-xxxx` references by `ADR` (a shared
//! ID is a declared link, not shared vocabulary). Tokens are maximal runs
//! of two or more word characters of the lower-cased text. Term frequency
//! is `1 + ln(tf)`, document frequency smoothed (`ln((1+N)/(1+df)) + 1`),
//! the vocabulary cut to `min_df <= df <= max_df * N` on the fit corpus,
//! and each vector scaled to unit length.

use std::collections::{HashMap, HashSet};

use crate::config::Config;
use crate::items::ids::IdPattern;
use crate::items::item::Item;

pub const MIN_DF: usize = 2;
pub const MAX_DF: f64 = 0.8;

/// A sparse unit vector: (term, weight) in the order the terms first occur
/// in the document (the order sums are taken in).
pub type Vector = Vec<(String, f64)>;

/// Replaces item IDs (as [`IdPattern`] finds them) with `ITEM`.
pub struct IdMasker {
    ids: IdPattern,
}

impl IdMasker {
    /// The masker for a configuration's kinds (`None` without kinds).
    pub fn for_config(config: &Config) -> Option<IdMasker> {
        IdPattern::for_config(config).map(|ids| IdMasker { ids })
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for r in self.ids.find(text) {
            out.push_str(&text[copied..r.start]);
            out.push_str("ITEM");
            copied = r.end;
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// A word character as Python's `\w` sees it (letters, digits, `_`).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces `ADR-xxxx` (four ASCII letters or digits, whole word) with `ADR`.
pub fn mask_adr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == 'A' && !prev.is_some_and(is_word) && rest.starts_with("ADR-") {
            let tail = &rest.as_bytes()[4..];
            let four = tail.len() >= 4 && tail[..4].iter().all(u8::is_ascii_alphanumeric);
            if four && !rest[8..].chars().next().is_some_and(is_word) {
                out.push_str("ADR");
                prev = rest[..8].chars().last();
                rest = &rest[8..];
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// IDs masked first, then ADR references.
pub fn mask(text: &str, ids: Option<&IdMasker>) -> String {
    match ids {
        Some(m) => mask_adr(&m.mask(text)),
        None => mask_adr(text),
    }
}

/// The text `clusters` reads from an item.
pub fn item_text(item: &Item, ids: Option<&IdMasker>) -> String {
    let mut parts: Vec<&str> = vec![&item.title, &item.description];
    parts.extend(item.fields.values().filter_map(|v| v.as_str()));
    parts.extend(
        item.discussion
            .iter()
            .filter(|e| !e.is_tombstoned)
            .map(|e| e.message.as_str()),
    );
    let joined: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    mask(&joined.join(" "), ids)
}

/// Maximal runs of two or more word characters of the lower-cased text.
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !is_word(c))
        .filter(|t| t.chars().nth(1).is_some())
        .map(str::to_string)
        .collect()
}

/// Unit TF-IDF vectors of `docs`, the vocabulary cut by document frequency.
pub fn vectors(docs: &[Vec<String>], min_df: usize, max_df: f64) -> Vec<Vector> {
    let n = docs.len();
    if n == 0 {
        return Vec::new();
    }
    let mut df: HashMap<&str, usize> = HashMap::new();
    for doc in docs {
        let unique: HashSet<&str> = doc.iter().map(String::as_str).collect();
        for t in unique {
            *df.entry(t).or_default() += 1;
        }
    }
    let max_count = max_df * n as f64;
    let idf: HashMap<&str, f64> = df
        .into_iter()
        .filter(|(_, c)| *c >= min_df && (*c as f64) <= max_count)
        .map(|(t, c)| (t, ((1 + n) as f64 / (1 + c) as f64).ln() + 1.0))
        .collect();
    docs.iter()
        .map(|doc| {
            // Term counts in first-occurrence order.
            let mut order: Vec<&str> = Vec::new();
            let mut tf: HashMap<&str, usize> = HashMap::new();
            for t in doc
                .iter()
                .map(String::as_str)
                .filter(|t| idf.contains_key(t))
            {
                let c = tf.entry(t).or_default();
                if *c == 0 {
                    order.push(t);
                }
                *c += 1;
            }
            let weights: Vec<(&str, f64)> = order
                .iter()
                .map(|t| (*t, (1.0 + (tf[t] as f64).ln()) * idf[t]))
                .collect();
            let norm = weights.iter().fold(0.0, |s, (_, w)| s + w * w).sqrt();
            if norm > 0.0 {
                weights
                    .into_iter()
                    .map(|(t, w)| (t.to_string(), w / norm))
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker() -> IdMasker {
        IdMasker {
            ids: IdPattern::for_prefixes(["INV", "WI"]).unwrap(),
        }
    }

    #[test]
    fn ids_are_masked_whole_and_longest_first() {
        let m = masker();
        assert_eq!(m.mask("see WI-babab-dodod now"), "see ITEM now");
        assert_eq!(m.mask("fix-WI-babab-dodod-x"), "fix-ITEM-x");
        // One syllable is not an ID; a glued letter in front or behind is not either.
        assert_eq!(
            m.mask("WI-babab aWI-babab-dodod"),
            "WI-babab aWI-babab-dodod"
        );
        // A trailing sixth letter makes the last syllable fail: two remain.
        assert_eq!(m.mask("WI-babab-dodod-bababa"), "ITEM-bababa");
        assert_eq!(m.mask("WI-babab-dododa"), "WI-babab-dododa");
        assert_eq!(m.mask("INV-kiduf-lamop-nusiv,WI-babab-dodod"), "ITEM,ITEM");
        assert_eq!(m.mask("é WI-babab-dodod é"), "é ITEM é");
    }

    #[test]
    fn adr_references_are_masked_as_whole_words() {
        assert_eq!(
            mask_adr("per ADR-0013, and ADR-00134"),
            "per ADR, and ADR-00134"
        );
        assert_eq!(
            mask_adr("xADR-0013 ADR-01_ ADR-a1B2."),
            "xADR-0013 ADR-01_ ADR."
        );
        assert_eq!(mask_adr("éADR-0013 (ADR-0013)"), "éADR-0013 (ADR)");
    }

    #[test]
    fn tokens_are_runs_of_two_or_more_word_characters() {
        assert_eq!(
            tokenize("A cache_key for Über-fast I/O, v2 x9 ü"),
            ["cache_key", "for", "über", "fast", "v2", "x9"]
        );
    }

    #[test]
    fn vectors_follow_the_sublinear_smooth_idf_formulas() {
        let doc = |s: &str| tokenize(s);
        // "cache" in 2 of 3 docs (kept), "fix" in 3 of 3 (over max_df), the rest in 1 (under min_df).
        let docs = [
            doc("fix cache cache"),
            doc("fix cache bug"),
            doc("fix docs"),
        ];
        let v = vectors(&docs, 2, 0.8);
        assert_eq!(v[0].len(), 1);
        assert_eq!(v[0][0].0, "cache");
        assert!((v[0][0].1 - 1.0).abs() < 1e-15);
        assert!(v[2].is_empty());
        // Two kept terms with tf 2 and 1: weights (1 + ln 2) : 1, normalised.
        // The expected values are the reference's own, printed by Python.
        let docs = [
            doc("aa aa bb"),
            doc("aa bb"),
            doc("cc"),
            doc("dd"),
            doc("ee"),
        ];
        let v = vectors(&docs, 2, 0.8);
        let pairs = |v: &Vector| v.iter().map(|(t, w)| (t.clone(), *w)).collect::<Vec<_>>();
        assert_eq!(
            pairs(&v[0]),
            [
                ("aa".to_string(), 0.8610369959439765),
                ("bb".to_string(), 0.5085423203783268)
            ]
        );
        assert_eq!(
            pairs(&v[1]),
            [
                ("aa".to_string(), std::f64::consts::FRAC_1_SQRT_2),
                ("bb".to_string(), std::f64::consts::FRAC_1_SQRT_2)
            ]
        );
    }
}
