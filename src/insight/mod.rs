//! Insight for humans: views of the backlog's shape computed from the op
//! logs — the mean priority of open items over time ([`trend`], drawn by
//! [`svg`]), predicted clusters of related items ([`clusters`] over
//! [`tfidf`] vectors), and near-duplicate warnings for new items
//! ([`dupes`] over [`simhash`] fingerprints). Each matches the reference's
//! numbers on the same tracker.

pub mod clusters;
pub mod dupes;
pub mod simhash;
pub mod svg;
pub mod tfidf;
pub mod trend;
