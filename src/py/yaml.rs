//! Block-style YAML written byte for byte as PyYAML's `yaml.safe_dump`
//! (`default_flow_style=False`, `sort_keys=False`, width 80, ASCII only)
//! writes it: the reference's tag catalog is such a file. Only what that
//! file needs: nested mappings of string keys, and string, bool and null
//! values. Scalar style (plain, single- or double-quoted), escaping and
//! line folding follow PyYAML's `Emitter`, with its YAML 1.1 idea of which
//! bare words are not strings (`yes`, `on`, `1:20`, ...).

/// A value of the subset written here.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Str(String),
    /// Keys in the order written.
    Map(Vec<(String, Node)>),
}

const BEST_WIDTH: usize = 80;
const BEST_INDENT: usize = 2;

/// Renders a top-level mapping as `safe_dump` does.
pub fn dump(root: &[(String, Node)]) -> String {
    let mut w = Writer {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: 0,
    };
    if root.is_empty() {
        return "{}\n".into();
    }
    w.block_mapping(root, 0);
    w.line_break();
    w.out
}

struct Writer {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

impl Writer {
    fn write(&mut self, s: &str) {
        self.column += s.chars().count();
        self.out.push_str(s);
    }

    fn line_break(&mut self) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push('\n');
    }

    fn write_indent(&mut self) {
        let indent = self.indent;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break();
        }
        if self.column < indent {
            self.whitespace = true;
            self.out.push_str(&" ".repeat(indent - self.column));
            self.column = indent;
        }
    }

    fn indicator(&mut self, ind: &str, need_whitespace: bool, whitespace: bool) {
        if self.whitespace || !need_whitespace {
            self.write(ind);
        } else {
            self.write(&format!(" {ind}"));
        }
        self.whitespace = whitespace;
        self.indention = false;
    }

    fn block_mapping(&mut self, entries: &[(String, Node)], indent: usize) {
        let saved = self.indent;
        self.indent = indent;
        for (key, value) in entries {
            self.write_indent();
            self.scalar(key, true);
            self.indicator(":", false, false);
            match value {
                Node::Map(m) if m.is_empty() => {
                    self.indicator("{", true, true);
                    self.indicator("}", false, false);
                }
                Node::Map(m) => self.block_mapping(m, indent + BEST_INDENT),
                Node::Null => self.value_scalar("null", true),
                Node::Bool(b) => self.value_scalar(if *b { "true" } else { "false" }, true),
                Node::Str(s) => self.value_scalar(s, false),
            }
        }
        self.indent = saved;
    }

    /// A mapping value: indented one step deeper if it folds.
    fn value_scalar(&mut self, s: &str, implicit_tag: bool) {
        let saved = self.indent;
        self.indent += BEST_INDENT;
        if implicit_tag {
            self.plain(s, true);
        } else {
            self.scalar(s, false);
        }
        self.indent = saved;
    }

    /// A string scalar; `key` is the simple-key context (never folded).
    fn scalar(&mut self, s: &str, key: bool) {
        let split = !key;
        match choose_style(s, key) {
            Style::Plain => self.plain(s, split),
            Style::Single => self.single_quoted(s, split),
            Style::Double => self.double_quoted(s, split),
        }
    }

    fn plain(&mut self, text: &str, split: bool) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.write(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut start) = (false, 0);
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > BEST_WIDTH && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write(&chars[start..end].iter().collect::<String>());
                    }
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c)) {
                self.write(&chars[start..end].iter().collect::<String>());
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
            }
        }
    }

    fn single_quoted(&mut self, text: &str, split: bool) {
        self.indicator("'", true, false);
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks, mut start) = (false, false, 0);
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > BEST_WIDTH
                        && split
                        && start != 0
                        && end != chars.len()
                    {
                        self.write_indent();
                    } else {
                        self.write(&chars[start..end].iter().collect::<String>());
                    }
                    start = end;
                }
            } else if breaks {
                if ch.is_none_or(|c| !is_break(c)) {
                    if chars[start] == '\n' {
                        self.line_break();
                    }
                    for &br in &chars[start..end] {
                        if br == '\n' {
                            self.line_break();
                        } else {
                            self.line_break();
                            self.out.pop();
                            self.out.push(br);
                        }
                    }
                    self.write_indent();
                    start = end;
                }
            } else if ch.is_none_or(|c| c == ' ' || is_break(c) || c == '\'') && start < end {
                self.write(&chars[start..end].iter().collect::<String>());
                start = end;
            }
            if ch == Some('\'') {
                self.write("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
        }
        self.indicator("'", false, false);
    }

    fn double_quoted(&mut self, text: &str, split: bool) {
        self.indicator("\"", true, false);
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        for end in 0..=chars.len() {
            let ch = chars.get(end).copied();
            let escape = match ch {
                None => true,
                Some(c) => {
                    matches!(
                        c,
                        '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
                    ) || !(' '..='~').contains(&c)
                }
            };
            if escape {
                if start < end {
                    self.write(&chars[start..end].iter().collect::<String>());
                    start = end;
                }
                if let Some(c) = ch {
                    self.write(&escape_char(c));
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < chars.len()
                && (ch == Some(' ') || start >= end)
                && self.column as isize + end as isize - start as isize > BEST_WIDTH as isize
                && split
            {
                let mut data: String = if start < end {
                    chars[start..end].iter().collect()
                } else {
                    String::new()
                };
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.write(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if chars.get(start) == Some(&' ') {
                    self.write("\\");
                }
            }
        }
        self.indicator("\"", false, false);
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn escape_char(c: char) -> String {
    let short = match c {
        '\0' => "0",
        '\u{7}' => "a",
        '\u{8}' => "b",
        '\t' => "t",
        '\n' => "n",
        '\u{b}' => "v",
        '\u{c}' => "f",
        '\r' => "r",
        '\u{1b}' => "e",
        '"' => "\"",
        '\\' => "\\",
        '\u{85}' => "N",
        '\u{a0}' => "_",
        '\u{2028}' => "L",
        '\u{2029}' => "P",
        _ => "",
    };
    if !short.is_empty() {
        return format!("\\{short}");
    }
    let n = c as u32;
    if n <= 0xff {
        format!("\\x{n:02X}")
    } else if n <= 0xffff {
        format!("\\u{n:04X}")
    } else {
        format!("\\U{n:08X}")
    }
}

/// PyYAML's `choose_scalar_style` for a `str` in block context.
fn choose_style(s: &str, simple_key: bool) -> Style {
    let a = analyze(s);
    if !resolves_non_str(s) && !(simple_key && (s.is_empty() || a.multiline)) && a.block_plain {
        return Style::Plain;
    }
    if a.single && !(simple_key && a.multiline) {
        return Style::Single;
    }
    Style::Double
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single: bool,
}

fn space_or_break(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c)
}

/// PyYAML's `analyze_scalar` (allow_unicode off), block-context results only.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let last = chars.len() - 1;
    let mut block_ind = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut lead_ws, mut trail_ws, mut break_space, mut space_break) =
        (false, false, false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    for (i, &ch) in chars.iter().enumerate() {
        let followed_by_ws = i == last || space_or_break(chars[i + 1]);
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch)
                || ((ch == '?' || ch == ':' || ch == '-') && followed_by_ws)
            {
                block_ind = true;
            }
        } else if (ch == ':' && followed_by_ws) || (ch == '#' && preceded_by_ws) {
            block_ind = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            special = true;
        }
        if ch == ' ' {
            lead_ws |= i == 0;
            trail_ws |= i == last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(ch) {
            lead_ws |= i == 0;
            trail_ws |= i == last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = space_or_break(ch);
    }
    let single = !(break_space || space_break || special);
    let block_plain = single && !(lead_ws || trail_ws || line_breaks || block_ind);
    Analysis {
        multiline: line_breaks,
        block_plain,
        single,
    }
}

// ---------------------------------------------------------------------------
// YAML 1.1 implicit types (PyYAML's resolver)
// ---------------------------------------------------------------------------

/// Would PyYAML read the bare text `s` as something other than a string?
pub fn resolves_non_str(s: &str) -> bool {
    let first = s.chars().next();
    let starts = |set: &str| first.is_some_and(|c| set.contains(c));
    (starts("yYnNtTfFoO") && is_bool(s))
        || (starts("-+0123456789.") && is_float(s))
        || (starts("-+0123456789") && is_int(s))
        || s == "<<"
        || matches!(s, "" | "~" | "null" | "Null" | "NULL")
        || (starts("0123456789") && crate::oplog::yamlres::is_timestamp(s))
        || s == "="
}

/// YAML 1.1 booleans.
const BOOLS: &[&str] = &[
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF",
];

fn is_bool(s: &str) -> bool {
    BOOLS.contains(&s)
}

fn unsigned(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn nonempty_all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn digits_us(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// `[0-9][0-9_]*`
fn lead_digit_us(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) && digits_us(s)
}

/// `(:[0-5]?[0-9])+` after the first part: every part is 1 digit, or 2 with the first 0–5.
fn sexagesimal_tail(parts: &[&str]) -> bool {
    !parts.is_empty()
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn is_int(s: &str) -> bool {
    let t = unsigned(s);
    if let Some(b) = t.strip_prefix("0b") {
        if nonempty_all(b, |c| c == '0' || c == '1' || c == '_') {
            return true;
        }
    }
    if let Some(x) = t.strip_prefix("0x") {
        if nonempty_all(x, |c| c.is_ascii_hexdigit() || c == '_') {
            return true;
        }
    }
    if let Some(o) = t.strip_prefix('0') {
        if nonempty_all(o, |c| ('0'..='7').contains(&c) || c == '_') {
            return true;
        }
    }
    if t == "0" || (t.starts_with(|c: char| ('1'..='9').contains(&c)) && digits_us(t)) {
        return true;
    }
    let parts: Vec<&str> = t.split(':').collect();
    parts.len() > 1
        && parts[0].starts_with(|c: char| ('1'..='9').contains(&c))
        && digits_us(parts[0])
        && sexagesimal_tail(&parts[1..])
}

/// `[eE][-+][0-9]+`
fn exponent(e: &str) -> bool {
    e.strip_prefix(['e', 'E'])
        .and_then(|r| r.strip_prefix(['-', '+']))
        .is_some_and(|d| nonempty_all(d, |c| c.is_ascii_digit()))
}

/// `<mantissa>(exp)?` where the exponent starts at the first e/E.
fn with_exponent(s: &str, mantissa: impl Fn(&str) -> bool) -> bool {
    match s.find(['e', 'E']) {
        Some(i) => mantissa(&s[..i]) && exponent(&s[i..]),
        None => mantissa(s),
    }
}

fn is_float(s: &str) -> bool {
    let t = unsigned(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [-+]?[0-9][0-9_]*\.[0-9_]*(exp)?
    let decimal = |m: &str| {
        m.split_once('.')
            .is_some_and(|(i, f)| lead_digit_us(i) && digits_us(f))
    };
    if with_exponent(t, decimal) {
        return true;
    }
    // \.[0-9][0-9_]*(exp)?  (no sign)
    if let Some(frac) = s.strip_prefix('.') {
        if with_exponent(frac, lead_digit_us) {
            return true;
        }
    }
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some((head, frac)) = t.split_once('.') {
        let parts: Vec<&str> = head.split(':').collect();
        return parts.len() > 1
            && lead_digit_us(parts[0])
            && sexagesimal_tail(&parts[1..])
            && digits_us(frac);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Str(v.into())
    }

    #[test]
    fn yaml_11_words_and_numbers() {
        for v in [
            "yes",
            "No",
            "on",
            "OFF",
            "true",
            "null",
            "~",
            "",
            "1",
            "0_",
            "017",
            "0b1",
            "0x1f",
            "1:20",
            "1_000",
            "-1",
            "1.5",
            ".5",
            "+.inf",
            ".nan",
            "1.0e+3",
            "1:20.5",
            "<<",
            "=",
            "2026-01-01",
            "2026-11-25T15:57:54Z",
        ] {
            assert!(resolves_non_str(v), "{v}");
        }
        for v in [
            "y", "n", "nan", "1e3", "0o17", "1:60", "abc", "_1", "0b", "1.2.3", ".e1", "0x", "0o",
            "-.5",
        ] {
            assert!(!resolves_non_str(v), "{v}");
        }
    }

    #[test]
    fn styles_as_pyyaml() {
        let doc = vec![(
            "tags".to_string(),
            Node::Map(vec![(
                "null".to_string(),
                Node::Map(vec![
                    ("description".into(), s("")),
                    ("a".into(), s("yes")),
                    ("b".into(), s("héllo: world #x")),
                    ("c".into(), s("it's")),
                    ("d".into(), s("- x")),
                    ("e".into(), Node::Null),
                    ("f".into(), Node::Bool(false)),
                    ("g".into(), s("2026-11-25T15:57:54Z")),
                ]),
            )]),
        )];
        assert_eq!(
            dump(&doc),
            "tags:\n  'null':\n    description: ''\n    a: 'yes'\n    b: \"h\\xE9llo: world #x\"\n    c: it's\n    d: '- x'\n    e: null\n    f: false\n    g: '2026-11-25T15:57:54Z'\n"
        );
        assert_eq!(dump(&[("tags".into(), Node::Map(vec![]))]), "tags: {}\n");
    }

    #[test]
    fn folds_long_plain_lines_at_80_columns() {
        let doc = vec![(
            "description".to_string(),
            s("A very long description of what this tag means for the people who use it every single day in the tracker"),
        )];
        assert_eq!(
            dump(&doc),
            "description: A very long description of what this tag means for the people who use\n  it every single day in the tracker\n"
        );
    }
}
