//! The batch-file tokenizer: `batch::split` and `batch::parse`.
//!
//! The input is split in two at the first 0xff byte (never valid UTF-8).
//! The first part, read lossily as text, goes to `parse` and `split`: they
//! never panic, `parse` numbers its lines in increasing order and gives each
//! the words `split` gives for the trimmed line, and skips exactly the blank
//! and `#` lines. The second part (or, with no 0xff, the whole input) drives `arbitrary`
//! to make a list of words;
//! quoted as Python's `shlex.quote` does and joined with spaces they must
//! split back to the same words (and read as a one-line batch file too, when
//! no word holds a line break).
#![no_main]

use arbitrary::Unstructured;
use htrac::batch;
use libfuzzer_sys::fuzz_target;

/// Python's `shlex.quote`: words made only of `[A-Za-z0-9_@%+=:,./-]` stay
/// bare, the empty word is `''`, anything else is single-quoted with each
/// `'` written as `'"'"'`.
fn quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn tokenize(text: &str) {
    let lines = batch::parse(text);
    let mut last = 0;
    let mut li = lines.iter();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let line = li.next().expect("FINDING: parse dropped a command line");
        assert!(line.number > last, "FINDING: line numbers not increasing");
        last = line.number;
        assert_eq!(line.number, i + 1, "FINDING: wrong line number");
        assert_eq!(line.words, batch::split(t), "FINDING: parse != split");
        let _ = line.command();
    }
    assert!(li.next().is_none(), "FINDING: parse made up a line");
    let _ = batch::split(text);
}

fn round_trip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let words: Vec<String> = u.arbitrary()?;
    let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
    let line = line.join(" ");
    assert_eq!(
        batch::split(&line).as_ref(),
        Ok(&words),
        "FINDING: quoted words split differently: {line:?}"
    );
    if !words.is_empty() && !words.iter().any(|w| w.contains(['\n', '\r'])) {
        let lines = batch::parse(&line);
        assert_eq!(
            lines.len(),
            1,
            "FINDING: one line, {} commands",
            lines.len()
        );
        assert_eq!(lines[0].words.as_ref(), Ok(&words), "FINDING: {line:?}");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0xff).unwrap_or(data.len());
    tokenize(&String::from_utf8_lossy(&data[..cut]));
    let rest = if cut < data.len() {
        &data[cut + 1..]
    } else {
        data
    };
    let _ = round_trip(&mut Unstructured::new(rest));
});
