//! The batch file format: one `htrac` command per line, without the `htrac`
//! word, split into words with POSIX shell quoting exactly as Python's
//! `shlex.split` does (so a file written for the reference reads the same).
//! Blank lines and lines starting with `#` are skipped. Running the lines is
//! the command line's job; this module only reads them.

/// The commands a batch may run: the mutations an agent records in bulk.
pub const ALLOWED: &[&str] = &[
    "add", "update", "discuss", "lock", "unlock", "promote", "demote",
];

/// One command line of a batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// The words, or why the line cannot be split.
    pub words: Result<Vec<String>, String>,
}

impl Line {
    /// The command name (the first word), for messages.
    pub fn command(&self) -> &str {
        match &self.words {
            Ok(w) => w.first().map(String::as_str).unwrap_or("?"),
            Err(_) => "?",
        }
    }
}

/// The command lines of a batch file's text.
pub fn parse(text: &str) -> Vec<Line> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            Some(Line {
                number: i + 1,
                words: split(line),
            })
        })
        .collect()
}

/// Splits `s` into words as Python's `shlex.split(s)` (POSIX mode, no
/// comments): whitespace separates words; `'…'` is literal; inside `"…"` a
/// backslash escapes only `"` and `\`; elsewhere it escapes any character;
/// quoted pieces join the word around them (`a"b c"` is one word).
pub fn split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("No closing quotation".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("No escaped character".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split(s).unwrap()
    }

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(
            w(r#"discuss WI-x "Fixed in PR #100""#),
            ["discuss", "WI-x", "Fixed in PR #100"]
        );
        assert_eq!(w("a #b"), ["a", "#b"]);
        assert_eq!(w(r"a\ b 'c d' e"), ["a b", "c d", "e"]);
        assert_eq!(w(r#"x"y z"w"#), ["xy zw"]);
        assert_eq!(w("a '' b"), ["a", "", "b"]);
        assert_eq!(w(r#""a\"b\\c\n""#), [r#"a"b\c\n"#]);
        assert_eq!(w(r"'it\s' \'q"), [r"it\s", "'q"]);
        assert_eq!(w("  spaced\tout  "), ["spaced", "out"]);
        assert_eq!(
            split("say \"unclosed"),
            Err("No closing quotation".to_string())
        );
        assert_eq!(split("trailing\\"), Err("No escaped character".to_string()));
    }

    #[test]
    fn skips_blanks_and_comments_and_numbers_lines() {
        let lines = parse("# header\n\nadd --kind work_item --title 'T 1'\n   # indented comment\nupdate :1 --status done\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].words.as_ref().unwrap()[4], "T 1");
        assert_eq!(lines[1].number, 5);
        assert_eq!(lines[1].command(), "update");
    }
}
