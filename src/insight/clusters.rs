//! Predicted clusters of items: TF-IDF cosine ([`super::tfidf`]), each
//! item's top-k neighbours, and Jarvis-Patrick grouping — two items are
//! linked when each is in the other's top k and they share at least
//! `shared` of those neighbours; clusters are the connected components of
//! two or more items, ranked by the mean cosine over their pairs.
//!
//! Ties are broken as the reference breaks them (neighbours of equal
//! cosine by position, components by their first member, clusters of equal
//! mean by first ID), and sums are taken in the same order, so the same
//! tracker gives the same clusters in both tools.

use std::collections::{HashMap, HashSet};

use super::tfidf::{self, IdMasker, Vector};
use crate::items::item::Item;

pub const DEFAULT_K: usize = 6;
pub const DEFAULT_SHARED: usize = 3;

/// One predicted cluster: member IDs (in item order) and the mean pairwise cosine.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub ids: Vec<String>,
    pub mean_similarity: f64,
}

/// For each vector, its `k` most similar others as (index, cosine), by
/// cosine descending then index.
pub fn top_neighbors(vectors: &[Vector], k: usize) -> Vec<Vec<(usize, f64)>> {
    let mut postings: HashMap<&str, Vec<(usize, f64)>> = HashMap::new();
    for (i, v) in vectors.iter().enumerate() {
        for (t, w) in v {
            postings.entry(t.as_str()).or_default().push((i, *w));
        }
    }
    let mut scores = vec![0.0f64; vectors.len()];
    let mut met = vec![false; vectors.len()];
    let mut touched: Vec<usize> = Vec::new();
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            for (t, w) in v {
                for &(j, wj) in &postings[t.as_str()] {
                    if j != i {
                        if !met[j] {
                            met[j] = true;
                            touched.push(j);
                        }
                        scores[j] += w * wj;
                    }
                }
            }
            let mut ranked: Vec<(usize, f64)> = touched.iter().map(|&j| (j, scores[j])).collect();
            for &j in &touched {
                scores[j] = 0.0;
                met[j] = false;
            }
            touched.clear();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(k);
            ranked
        })
        .collect()
}

/// Connected components (of two or more) of the Jarvis-Patrick graph,
/// each sorted, ordered by first member.
pub fn jarvis_patrick(neighbors: &[Vec<(usize, f64)>], shared: usize) -> Vec<Vec<usize>> {
    let tops: Vec<HashSet<usize>> = neighbors
        .iter()
        .map(|row| row.iter().map(|(j, _)| *j).collect())
        .collect();
    let mut parent: Vec<usize> = (0..neighbors.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (i, row) in neighbors.iter().enumerate() {
        for &(j, _) in row {
            if j > i && tops[j].contains(&i) && tops[i].intersection(&tops[j]).count() >= shared {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..neighbors.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() >= 2).collect();
    // Members were pushed in index order, so each group is sorted already.
    out.sort_by_key(|g| g[0]);
    out
}

/// The cosine of two unit vectors, at most 1 (rounding can exceed it).
fn dot(a: &Vector, b: &Vector) -> f64 {
    let (a, b) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let index: HashMap<&str, f64> = b.iter().map(|(t, w)| (t.as_str(), *w)).collect();
    let s = a
        .iter()
        .filter_map(|(t, w)| index.get(t.as_str()).map(|wb| w * wb))
        .fold(0.0, |s, x| s + x);
    s.min(1.0)
}

/// What to cluster and how.
pub struct Params<'a> {
    pub k: usize,
    pub shared: usize,
    pub min_df: usize,
    pub max_df: f64,
    pub ids: Option<&'a IdMasker>,
}

/// Clusters `items`, with the vocabulary and IDF fitted on `fit` (plus any
/// of `items` missing from it), best first.
pub fn compute(items: &[&Item], fit: &[&Item], p: &Params<'_>) -> Vec<Cluster> {
    if items.len() < 2 {
        return Vec::new();
    }
    let mut corpus: Vec<&Item> = fit.to_vec();
    let seen: HashSet<&str> = corpus.iter().map(|i| i.id.as_str()).collect();
    let extra: Vec<&Item> = items
        .iter()
        .copied()
        .filter(|i| !seen.contains(i.id.as_str()))
        .collect();
    corpus.extend(extra);
    // The last item with an ID wins, as a Python dict comprehension does.
    let index: HashMap<&str, usize> = corpus
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.as_str(), n))
        .collect();
    let docs: Vec<Vec<String>> = corpus
        .iter()
        .map(|i| tfidf::tokenize(&tfidf::item_text(i, p.ids)))
        .collect();
    let vectors = tfidf::vectors(&docs, p.min_df, p.max_df);
    let sub: Vec<Vector> = items
        .iter()
        .map(|i| vectors[index[i.id.as_str()]].clone())
        .collect();
    let components = jarvis_patrick(&top_neighbors(&sub, p.k), p.shared);
    let mut clusters: Vec<Cluster> = components
        .into_iter()
        .map(|comp| {
            let mut sum = 0.0;
            let mut pairs = 0usize;
            for (n, &a) in comp.iter().enumerate() {
                for &b in &comp[n + 1..] {
                    sum += dot(&sub[a], &sub[b]);
                    pairs += 1;
                }
            }
            Cluster {
                ids: comp.iter().map(|&i| items[i].id.clone()).collect(),
                mean_similarity: sum / pairs as f64,
            }
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.mean_similarity
            .total_cmp(&a.mean_similarity)
            .then_with(|| a.ids[0].cmp(&b.ids[0]))
    });
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(terms: &[(&str, f64)]) -> Vector {
        let n = terms.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        terms.iter().map(|(t, w)| (t.to_string(), w / n)).collect()
    }

    #[test]
    fn neighbours_rank_by_cosine_then_index() {
        let vs = [
            v(&[("a", 1.0)]),
            v(&[("a", 1.0)]),
            v(&[("a", 1.0), ("b", 1.0)]),
            v(&[("c", 1.0)]),
        ];
        let nb = top_neighbors(&vs, 2);
        assert_eq!(nb[0].iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(nb[2].iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1]);
        assert!(nb[3].is_empty(), "no shared term, no neighbour");
        assert!((nb[0][1].1 - 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn jarvis_patrick_needs_mutual_neighbours_sharing_enough() {
        // 0-1 mutual and share neighbour 2; 3 points at 0 but 0 does not point back.
        let nb = vec![
            vec![(1, 0.9), (2, 0.5)],
            vec![(0, 0.9), (2, 0.5)],
            vec![(0, 0.5), (1, 0.5)],
            vec![(0, 0.1)],
        ];
        assert_eq!(jarvis_patrick(&nb, 1), vec![vec![0, 1, 2]]);
        // Sharing two is too much for the pairs with 2 (they share only one).
        assert_eq!(jarvis_patrick(&nb, 2), Vec::<Vec<usize>>::new());
        assert_eq!(jarvis_patrick(&nb, 0), vec![vec![0, 1, 2]]);
    }
}
