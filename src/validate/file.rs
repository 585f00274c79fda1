//! One file on its own: splits it into op blocks as readers do, reports
//! every block readers would reject or silently skip, checks the
//! `# <nonce>` comment on every line (the union merge relies on it), parses
//! and judges each op, and compiles the item.

use super::{schema, Checked, Role, Target};
use crate::config::Config;
use crate::items::compile::compile_governed;
use crate::items::tiers::Tier;
use crate::oplog::blocks::{trailing_nonce, Block, Blocks, Torn};
use crate::oplog::op::Op;

/// The ops of `text` that parse, ignoring the rest (for other revisions of
/// a file, where only the ops matter).
pub(super) fn ops_lenient(text: &str) -> Vec<(usize, Op)> {
    Blocks::new(text)
        .filter_map(|b| {
            crate::oplog::parse_block(b.text)
                .ok()
                .map(|op| (b.line, op))
        })
        .collect()
}

/// Reads and checks one file, compiling it under `policy` (`approved`: the
/// freeze sentinel's ops when the item is frozen).
/// `dir`: the open directory holding the file, when known (the file is
/// opened there by name, without a path walk). The file's bytes are read
/// into `buf` (kept from file to file); the result has the file's key as
/// it was opened when they could be read.
pub(super) fn check(
    target: Target,
    dir: Option<rustix::fd::BorrowedFd<'_>>,
    config: &Config,
    policy: &crate::governance::policy::Policy,
    approved: Option<&[Op]>,
    buf: &mut Vec<u8>,
) -> (Checked, Option<crate::cache::FileKey>) {
    let mut c = Checked {
        target,
        ops: Vec::new(),
        item: None,
        findings: Vec::new(),
        bytes: None,
        judged: Vec::new(),
    };
    let name = c.target.path.file_name().and_then(|n| n.to_str());
    let at = dir.zip(name);
    let key = match crate::oplog::read_keyed_into(at, &c.target.path, buf) {
        Ok(key) => key,
        Err(e) => {
            c.error(None, format!("cannot read: {e}"));
            return (c, None);
        }
    };
    let text = match crate::oplog::text_of(buf) {
        Ok(t) => t,
        Err(line) => {
            c.error(Some(line), "not valid UTF-8: no reader can use this file");
            return (c, Some(key));
        }
    };
    let split = Blocks::new(text);
    for line in split.stray_lines() {
        c.error(
            Some(line),
            "text before the first op (ops start with '- '): readers reject the file",
        );
    }
    let mut n = 0;
    for block in split {
        n += 1;
        check_block(&mut c, &block, config);
    }
    check_nonces_unique(&mut c);
    if c.target.role == Role::Item {
        if c.ops.is_empty() && n == 0 {
            c.error(None, "empty op log: no create op");
        } else if !c.ops.iter().any(|(_, o)| o.kind == "create") {
            c.error(None, "no create op: the item cannot be compiled");
        } else if let Some((line, first)) = c.ops.first() {
            if first.kind != "create" {
                c.warn(
                    Some(*line),
                    format!(
                        "the first op is '{}', not 'create' (readers cope; writers never do this)",
                        first.kind
                    ),
                );
            }
        }
        // The ops compile in place (moved out and back, not copied).
        let (lines, ops): (Vec<usize>, Vec<Op>) = std::mem::take(&mut c.ops).into_iter().unzip();
        let id = c.target.id.clone().unwrap_or_default();
        let tier = c.target.tier.unwrap_or(Tier::Workspace);
        let compiled = compile_governed(&id, tier, &ops, policy, approved);
        c.ops = lines.into_iter().zip(ops).collect();
        if let Ok(item) = compiled {
            schema::check_item(&mut c, &item, config);
            c.item = Some(item);
        }
    }
    (c, Some(key))
}

/// Checks one block; a block readers can use is added to `c.ops`.
fn check_block(c: &mut Checked, block: &Block<'_>, config: &Config) {
    match block.torn() {
        None => {}
        Some(Torn::NoNewline) => {
            c.error(
                Some(block.last_line()),
                "the file does not end with a newline: readers take its last op for a torn write and skip it (remove it with 'htrac repair-tail')",
            );
            return;
        }
        Some(Torn::NonceTail(nonce)) => {
            let fix = if block.is_last {
                " (remove it with 'htrac repair-tail')".to_string()
            } else {
                quarantine_fix(c)
            };
            c.error(
                Some(block.last_line()),
                format!(
                    "the op's last line lacks the comment '  # {nonce}' of its first line: readers take the op for a torn write and skip it{fix}"
                ),
            );
            return;
        }
    }
    // The op, and its keys as written (which are null, which are absent).
    let crate::oplog::Keyed { op, keys, comment } =
        match crate::oplog::parse_block_keyed(block.text) {
            Ok(parsed) => parsed,
            Err(e) => {
                let fix = quarantine_fix(c);
                c.error(Some(block.line), format!("malformed op: {e}{fix}"));
                return;
            }
        };
    schema::check_op(c, &keys, &op, block.line, config);
    if !carries_nonce(comment, &op.nonce) {
        check_line_comments(c, block, &op.nonce);
    }
    c.ops.push((block.line, op));
}

/// How a human moves a broken op out of an item's file.
fn quarantine_fix(c: &Checked) -> String {
    match (&c.target.role, &c.target.id) {
        (Role::Item, Some(id)) => {
            format!(
                " (a human can move it aside with 'htrac quarantine {id}', which keeps a backup)"
            )
        }
        _ => String::new(),
    }
}

/// Whether every line of a block is known to end with `  # <nonce>`: the
/// fast reader found `comment` after the last `  # ` of every line (it
/// reads no blank line and no line without one), and it is the nonce, a
/// word [`trailing_nonce`] reads whole. [`check_line_comments`] would find
/// nothing then.
fn carries_nonce(comment: Option<&str>, nonce: &str) -> bool {
    comment.is_some_and(|c| c == nonce && c.bytes().all(|b| b.is_ascii_graphic()))
}

/// Every non-empty line must end with `  # <nonce>` of its op: git's union
/// merge relies on every line of every op being unique.
fn check_line_comments(c: &mut Checked, block: &Block<'_>, nonce: &str) {
    if nonce.is_empty() {
        return;
    }
    let mut missing = Vec::new();
    for (k, line) in block.text.lines().enumerate() {
        // A line starting with a printable ASCII character is not blank.
        if !line.as_bytes().first().is_some_and(u8::is_ascii_graphic) && line.trim().is_empty() {
            continue;
        }
        let n = block.line + k;
        match trailing_nonce(line) {
            None => missing.push(n),
            Some(found) if found != nonce => c.warn(
                Some(n),
                format!("nonce comment '# {found}' does not match the op's nonce '{nonce}'"),
            ),
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        let what = if missing.len() == 1 { "line" } else { "lines" };
        c.warn(
            Some(missing[0]),
            format!(
                "missing nonce comment (expected '  # {nonce}') on {what} {} (git's union merge needs it on every line)",
                ranges(&missing)
            ),
        );
    }
}

/// `3, 5-9, 12` for sorted line numbers.
fn ranges(lines: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines[j + 1] == lines[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            lines[i].to_string()
        } else {
            format!("{}-{}", lines[i], lines[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Two different ops with one nonce confuse message edits and the
/// union merge; the same op twice (a cherry-pick) is harmless.
fn check_nonces_unique(c: &mut Checked) {
    let mut found: Vec<(usize, usize)> = Vec::new();
    // The first of the `earlier` ops (with the nonce of op `i`) that is
    // another op.
    fn other(ops: &[(usize, Op)], i: usize, earlier: impl Iterator<Item = usize>) -> Option<usize> {
        { earlier }.find(|&j| ops[j].1 != ops[i].1)
    }
    if c.ops.len() <= 64 {
        // Most files: each op against those before it.
        for (i, (_, op)) in c.ops.iter().enumerate() {
            let same = (0..i).filter(|&j| c.ops[j].1.nonce == op.nonce);
            if let (false, Some(j)) = (op.nonce.is_empty(), other(&c.ops, i, same)) {
                found.push((j, i));
            }
        }
    } else {
        // A long log (an edit-mode log, say): the ops before each by nonce.
        let mut seen: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::with_capacity(c.ops.len());
        for (i, (_, op)) in c.ops.iter().enumerate() {
            if op.nonce.is_empty() {
                continue;
            }
            let earlier = seen.entry(op.nonce.as_str()).or_default();
            if let Some(j) = other(&c.ops, i, earlier.iter().copied()) {
                found.push((j, i));
            }
            earlier.push(i);
        }
    }
    for (j, i) in found {
        let (first_line, nonce) = (c.ops[j].0, c.ops[j].1.nonce.clone());
        c.warn(
            Some(c.ops[i].0),
            format!("nonce '{nonce}' is also used by a different op at line {first_line}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block whose lines end with the given comments.
    fn block_with(comments: &[String]) -> String {
        let lines = [
            "- op: discuss",
            "  at: '2026-01-05T10:00:00Z'",
            "  by: agent",
            "  actor: a",
            "  clock: 3",
            "  nonce: 1a2b",
            "  message: hi",
        ];
        lines
            .iter()
            .zip(comments.iter().cycle())
            .map(|(l, c)| format!("{l}{c}\n"))
            .collect()
    }

    proptest::proptest! {
        /// Where the fast reader vouches for a block's comments, the full
        /// check finds nothing: skipping it loses no message.
        #[test]
        fn the_fast_readers_comment_vouches_only_for_whole_comments(
            tails in proptest::collection::vec("(  # 1a2b|  # 1a2b |  #  1a2b|  # 1a2b\u{a0}|  # 1a\u{3000}2b|  # 1a2b  # 1a2b| # 1a2b|  # 1A2B|  # |  # 1a 2b|)", 1..8)
        ) {
            let text = block_with(&tails);
            let block = Blocks::new(&text).next().expect("a block");
            let Ok(keyed) = crate::oplog::parse_block_keyed(block.text) else {
                return Ok(());
            };
            if carries_nonce(keyed.comment, &keyed.op.nonce) {
                let mut c = Checked {
                    target: Target {
                        path: "x.ops".into(),
                        shown: None,
                        role: Role::Item,
                        id: None,
                        tier: None,
                        listed: false,
                    },
                    ops: Vec::new(),
                    item: None,
                    findings: Vec::new(),
                    bytes: None,
                    judged: Vec::new(),
                };
                check_line_comments(&mut c, &block, &keyed.op.nonce);
                proptest::prop_assert!(c.findings.is_empty(), "{:?}", text);
            }
        }
    }

    #[test]
    fn a_block_as_writers_write_it_is_vouched_for() {
        let text = block_with(&["  # 1a2b".to_string()]);
        let keyed = crate::oplog::parse_block_keyed(&text).unwrap();
        assert!(carries_nonce(keyed.comment, &keyed.op.nonce));
    }

    #[test]
    fn line_ranges() {
        assert_eq!(ranges(&[3, 5, 6, 7, 9]), "3, 5-7, 9");
        assert_eq!(ranges(&[1]), "1");
    }
}
