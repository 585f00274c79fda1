//! Lamport clocks: a new op's clock is 1 + the highest clock for the item
//! in the working tree and on each `lamport_branches` branch (and HEAD), all
//! read through one `git cat-file --batch` process.

use std::path::Path;

/// The highest `clock:` of the ops in op-log text (0 when there are none).
/// Only op-level keys count, never a `clock` inside user data.
pub fn max_clock(text: &[u8]) -> i64 {
    let mut max = 0;
    for line in text.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"  clock: ") {
            let digits: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            if let Ok(n) = std::str::from_utf8(&digits).unwrap_or("").parse::<i64>() {
                max = max.max(n);
            }
        }
    }
    max
}

/// The clock for the next op appended to `file` (which may not exist yet).
/// `work_tree` is the git work tree, if the tracker is in one.
pub fn next_clock(file: &Path, work_tree: Option<&Path>, branches: &[String]) -> i64 {
    let mut max = std::fs::read(file).map(|t| max_clock(&t)).unwrap_or(0);
    if let Some(wt) = work_tree {
        if let Some(rel) = relative(file, wt) {
            let mut specs: Vec<String> = branches.iter().map(|b| format!("{b}:{rel}")).collect();
            specs.push(format!("HEAD:{rel}"));
            if let Ok(blobs) = crate::git::cat_files(wt, &specs) {
                for blob in blobs.into_iter().flatten() {
                    max = max.max(max_clock(&blob));
                }
            }
        }
    }
    max + 1
}

/// `file` relative to `work_tree`, with `/` separators, for a `rev:path` spec.
fn relative(file: &Path, work_tree: &Path) -> Option<String> {
    let dir = file.parent()?.canonicalize().ok()?;
    let rel = dir.strip_prefix(work_tree).ok()?.join(file.file_name()?);
    Some(rel.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_op_level_clocks() {
        let text = b"- op: create  # abcd\n  clock: 3  # abcd\n  data:  # abcd\n    clock: 99  # abcd\n- op: update  # ef01\n  clock: 7  # ef01\n";
        assert_eq!(max_clock(text), 7);
        assert_eq!(max_clock(b""), 0);
    }
}
