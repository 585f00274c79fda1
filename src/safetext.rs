//! Untrusted text made safe for a terminal, and for XML. Titles, messages, descriptions
//! and field values come from agents; printed raw, their control characters
//! would reach the human's terminal (ESC sequences recolour or rewrite the
//! screen, OSC 52 writes the clipboard, CR overwrites a line, BEL rings).
//!
//! [`escape`] shows every control character visibly in C style (`\e`,
//! `\r`, `\a`, `\0`; the others as `\u0001`, `\u007f`, `\u009b`, which
//! keeps JSON text passing through valid), keeping newlines and tabs, and
//! [`one_line`] escapes newlines too, for views where one value is one
//! line. Ordinary text (anything without C0/C1 controls or DEL) comes back
//! unchanged, byte for byte, so output compared with the reference's stays
//! identical. [`picture`] is the one-cell form for the TUI (`␛`, `␍`, `␇`).
//! [`xml`] escapes text for XML (SVG) content and attribute values.
//! JSON output needs none of this: its strings escape controls already.

use std::borrow::Cow;

/// Is `c` shown escaped? C0 controls, DEL and C1 controls.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
}

/// Whether `s` holds a character [`escape_with`] changes: a scan of its
/// bytes (C0 controls and DEL are single bytes; a C1 control is `C2 80`
/// to `C2 9F` in UTF-8), much faster than decoding characters. A first
/// pass flags, 64 bytes at a time without branching (so the compiler
/// vectorises it), any byte that may start one; only then are the bytes
/// looked at one by one.
fn needs_escape(s: &str, keep_newlines: bool) -> bool {
    // A byte let through besides the tab: the newline, or the tab again.
    let kept = if keep_newlines { b'\n' } else { b'\t' };
    let b = s.as_bytes();
    let suspect = b.chunks(64).any(|c| {
        c.iter().fold(false, |acc, &x| {
            acc | ((x < 0x20) & (x != b'\t') & (x != kept)) | (x == 0x7f) | (x == 0xc2)
        })
    });
    suspect
        && b.iter().enumerate().any(|(i, &x)| match x {
            b'\t' => false,
            b'\n' => !keep_newlines,
            0..=0x1f | 0x7f => true,
            0xc2 => b.get(i + 1).is_some_and(|y| (0x80..=0x9f).contains(y)),
            _ => false,
        })
}

fn escape_with(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) && c != '\t' && (c != '\n' || !keep_newlines);
    if !needs_escape(s, keep_newlines) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\0' => out.push_str("\\0"),
            // The JSON form, so JSON text passing through stays valid.
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `s` with its control characters shown escaped; newlines and tabs kept.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

/// [`escape`], with newlines shown as `\n` too: for one-line views (a list
/// row, a title line), where a newline in a value could forge a line.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// A visible one-cell stand-in for a control character (the Unicode
/// control pictures: `␛` for ESC, `␍` for CR, `␡` for DEL, `�` for C1),
/// or `None` for any other character.
pub fn picture(c: char) -> Option<char> {
    match c as u32 {
        n @ 0..=0x1f => char::from_u32(0x2400 + n),
        0x7f => Some('\u{2421}'),
        0x80..=0x9f => Some('\u{fffd}'),
        _ => None,
    }
}

/// Text escaped for XML content and attribute values (the SVG documents):
/// `&`, `<`, `>`, `"` and `'` as entities, tab, newline and carriage return
/// kept, every other control character as its one-cell [`picture`] (XML
/// 1.0 forbids the C0 ones), and the non-characters U+FFFE and U+FFFF,
/// which XML also forbids, as `�`. One character stays one character, so
/// text laid out in cells stays aligned.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(picture(c).unwrap_or(c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_and_ordinary_text_is_untouched() {
        let evil = "a\u{1b}[31mb\u{1b}]52;c;aGk=\u{7}\rc\u{9b}2J\u{7f}\0\u{1}";
        let got = escape(evil);
        assert_eq!(
            got,
            "a\\e[31mb\\e]52;c;aGk=\\a\\rc\\u009b2J\\u007f\\0\\u0001"
        );
        assert!(!got.chars().any(char::is_control));
        for plain in [
            "",
            "plain",
            "two\nlines\tand a tab",
            "Crème 漢字 🚀 nbsp\u{a0}",
        ] {
            assert!(matches!(escape(plain), Cow::Borrowed(_)), "{plain}");
        }
        assert_eq!(one_line("two\nlines\r"), "two\\nlines\\r");
        // The byte scan agrees with the characters' own test.
        for c in (0..0x800u32).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            for keep in [true, false] {
                let by_char = c.is_control() && c != '\t' && (c != '\n' || !keep);
                assert_eq!(needs_escape(&text, keep), by_char, "{:x}", c as u32);
            }
        }
        assert_eq!(escape("two\nlines"), "two\nlines");
        assert_eq!(picture('\u{1b}'), Some('␛'));
        assert_eq!(picture('\r'), Some('␍'));
        assert_eq!(picture('\u{7f}'), Some('␡'));
        assert_eq!(picture('a'), None);
    }

    #[test]
    fn xml_escapes_markup_and_shows_controls_as_pictures() {
        assert_eq!(
            xml("<a href='x' title=\"y\">&amp;</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(
            xml("a\u{1}b\u{1b}\u{7f}\u{9b}"),
            "a\u{2401}b\u{241b}\u{2421}\u{fffd}"
        );
        assert_eq!(xml("tab\tnew\nline\r"), "tab\tnew\nline\r");
        assert_eq!(xml("\u{fffe}\u{ffff}"), "\u{fffd}\u{fffd}");
        assert_eq!(xml("Crème 漢字 🚀"), "Crème 漢字 🚀");
        // One character stays one character.
        let odd = "x\u{0}\u{1f}\u{85}\u{fffe}y";
        assert_eq!(xml(odd).chars().count(), odd.chars().count());
    }
}
