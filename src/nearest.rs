//! "Did you mean …?": the known name nearest to a mistyped one, for the
//! hints of every front end (commands, flags, kinds, statuses, fields).

/// Edit distance counting an adjacent swap as one edit (`titel` → `title`).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate nearest to `typed` (case-insensitively), if it is near
/// enough to be a slip: at most one edit per three characters (at least
/// one, at most three), or `typed` the start of exactly one candidate.
/// Ties go to the earlier candidate.
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    let best = candidates
        .iter()
        .enumerate()
        .map(|(n, c)| (distance(&typed, &c.to_lowercase()), n, *c))
        .filter(|(d, _, _)| *d <= limit)
        .min()
        .map(|(_, _, c)| c);
    if best.is_some() || typed.len() < 2 {
        return best;
    }
    let mut prefixed = candidates
        .iter()
        .filter(|c| c.to_lowercase().starts_with(&typed));
    match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// `did you mean 'X'?` for the nearest candidate, else `None`.
pub fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(typed, candidates).map(|c| format!("did you mean '{c}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_are_caught_and_strangers_are_not() {
        let commands = ["ready", "read", "list", "show", "update", "add"];
        assert_eq!(nearest("reddy", commands), Some("ready"));
        assert_eq!(nearest("updaet", commands), Some("update"));
        assert_eq!(nearest("lst", commands), Some("list"));
        assert_eq!(nearest("LIST", commands), Some("list"));
        assert_eq!(nearest("upd", commands), Some("update"));
        assert_eq!(nearest("zebra", commands), None);
        assert_eq!(nearest("x", commands), None);
        assert_eq!(nearest("titel", ["title", "tag"]), Some("title"));
        assert_eq!(nearest("jsn", ["json", "help"]), Some("json"));
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
