//! The op-block union: the one merge the sync engine performs on op files.
//!
//! A file's op blocks start at lines beginning with `- `. Two copies of a
//! file merge into the first copy followed by every complete block of the
//! second that the first lacks (compared by text: every line of an op
//! carries its nonce, so equal text means the same op). The first copy is
//! never reordered or shortened, so a merge only ever appends. Torn blocks
//! (cut short by a crash mid-append) of the second copy are left out.

use std::collections::HashSet;

use crate::oplog::blocks::Blocks;

/// The complete op blocks of `text`, in order (torn ones left out).
fn blocks(text: &str) -> impl Iterator<Item = &str> {
    Blocks::new(text)
        .filter(|b| b.torn().is_none())
        .map(|b| b.text)
}

fn key(block: &str) -> &str {
    block.trim_end()
}

/// `first` followed by the complete blocks of `second` it lacks, and how
/// many blocks were added.
pub fn union(first: &str, second: &str) -> (String, usize) {
    let have: HashSet<&str> = blocks(first).map(key).collect();
    let mut out = first.to_string();
    let mut added = 0;
    let mut seen = HashSet::new();
    for b in blocks(second) {
        let k = key(b);
        if have.contains(k) || !seen.insert(k) {
            continue;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(b);
        added += 1;
    }
    (out, added)
}

/// Does `outer` hold every complete block of `inner`?
pub fn contains_all(outer: &str, inner: &str) -> bool {
    let have: HashSet<&str> = blocks(outer).map(key).collect();
    blocks(inner).all(|b| have.contains(key(b)))
}

/// Counts op blocks (complete ones) in `text`.
pub fn count(text: &str) -> usize {
    blocks(text).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(n: &str, title: &str) -> String {
        format!("- op: update  # {n}\n  at: 'x'  # {n}\n  set:  # {n}\n    title: {title}  # {n}\n")
    }

    #[test]
    fn union_appends_only_missing_blocks_in_order() {
        let a = format!("{}{}", op("aaaa", "one"), op("bbbb", "two"));
        let b = format!(
            "{}{}{}",
            op("cccc", "three"),
            op("aaaa", "one"),
            op("dddd", "four")
        );
        let (m, n) = union(&a, &b);
        assert_eq!(n, 2);
        assert_eq!(
            m,
            format!("{a}{}{}", op("cccc", "three"), op("dddd", "four"))
        );
        // Idempotent, and the first copy is a prefix.
        assert_eq!(union(&m, &b), (m.clone(), 0));
        assert_eq!(union(&m, &a), (m.clone(), 0));
        assert!(contains_all(&m, &a) && contains_all(&m, &b));
        assert!(!contains_all(&a, &b));
    }

    #[test]
    fn torn_blocks_are_not_carried() {
        let a = op("aaaa", "one");
        let cut = &op("eeee", "five")[..30];
        let b = format!("{}{cut}", op("bbbb", "two"));
        let (m, n) = union(&a, &b);
        assert_eq!(n, 1);
        assert_eq!(m, format!("{a}{}", op("bbbb", "two")));
        // A torn block in the middle (nonce tail missing on its last line).
        let mid = "- op: update  # ffff\n  at: 'x'\n".to_string();
        let c = format!("{mid}{}", op("cccc", "three"));
        assert_eq!(count(&c), 1);
    }

    #[test]
    fn duplicate_blocks_in_second_count_once_and_missing_newline_is_closed() {
        let a = "- op: x  # 1111\n  at: 'y'  # 1111".to_string();
        let b = format!("{}{}", op("2222", "t"), op("2222", "t"));
        let (m, n) = union(&a, &b);
        assert_eq!(n, 1);
        assert_eq!(m, format!("{a}\n{}", op("2222", "t")));
        assert_eq!(union("", &b).0, op("2222", "t"));
    }
}
