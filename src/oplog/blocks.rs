//! Splitting an op file into op blocks: the one place that decides where an
//! op starts (a line beginning `- `, or a line that is just `-`), what a
//! line's `  # <nonce>` tail is, and which blocks are torn (cut short by a
//! crash mid-append). Readers, the validator, the union merge, `quarantine`
//! and the append checks all split files here, each taking what it needs
//! from a [`Block`]: its first line, byte offset and text.

/// One op block of a file's text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Block<'a> {
    /// 1-based line of the block's first line.
    pub line: usize,
    /// Byte offset of the block in the file.
    pub offset: usize,
    /// The block's lines, newlines included.
    pub text: &'a str,
    /// Is this the file's final block (nothing follows it)?
    pub is_last: bool,
}

/// One op block of a file's bytes, which need not be UTF-8 (for moving
/// broken blocks aside byte for byte).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawBlock<'a> {
    /// 1-based line of the block's first line.
    pub line: usize,
    /// Byte offset of the block in the file.
    pub offset: usize,
    pub bytes: &'a [u8],
    /// Is this the file's final block (nothing follows it)?
    pub is_last: bool,
}

/// Why a block is taken for torn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Torn<'a> {
    /// The file's final block does not end with a newline.
    NoNewline,
    /// The block's last line lacks its first line's `  # <nonce>` tail.
    NonceTail(&'a str),
}

/// Does this line start an op block?
fn is_start(line: &[u8]) -> bool {
    match line {
        [b'-', b' ', ..] => true,
        // `-` followed only by whitespace (as `str::trim_end` sees it).
        [b'-', rest @ ..] => std::str::from_utf8(rest).is_ok_and(|r| r.trim_end().is_empty()),
        _ => false,
    }
}

/// The end of the line starting at `from` (just past its newline, or the
/// end of `bytes`).
fn line_end(bytes: &[u8], from: usize) -> usize {
    match memchr::memchr(b'\n', &bytes[from..]) {
        Some(i) => from + i + 1,
        None => bytes.len(),
    }
}

/// The next line start at or after `from` (itself a line start) that
/// begins with `-`, or the end of `bytes`: one vectorized search for
/// `\n-`, not a look at every line.
fn next_dash_line(bytes: &[u8], from: usize) -> usize {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\n-"));
    if bytes.get(from) == Some(&b'-') {
        return from;
    }
    // `from` is a line start: the newline before it (if any) is not searched
    // again, the one ending its line is.
    match FINDER.find(&bytes[from..]) {
        Some(i) => from + i + 1,
        None => bytes.len(),
    }
}

/// How many newlines `bytes` holds (a vectorized count).
fn newlines_in(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The op blocks of a file's bytes, in order.
#[derive(Debug, Clone)]
pub struct RawBlocks<'a> {
    bytes: &'a [u8],
    /// Where the first block starts (the prelude's length).
    first: usize,
    /// Where the next block starts, and its line.
    pos: usize,
    line: usize,
}

impl<'a> RawBlocks<'a> {
    /// Splits `bytes`; the lines before the first block are its prelude.
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut pos = 0;
        let mut line = 1;
        while pos < bytes.len() {
            let end = line_end(bytes, pos);
            if is_start(&bytes[pos..end]) {
                break;
            }
            pos = end;
            line += 1;
        }
        RawBlocks {
            bytes,
            first: pos,
            pos,
            line,
        }
    }

    /// The bytes before the first block (all of them when there is none).
    pub fn prelude(&self) -> &'a [u8] {
        &self.bytes[..self.first]
    }
}

impl<'a> Iterator for RawBlocks<'a> {
    type Item = RawBlock<'a>;

    fn next(&mut self) -> Option<RawBlock<'a>> {
        let (start, line) = (self.pos, self.line);
        if start >= self.bytes.len() {
            return None;
        }
        let mut pos = next_dash_line(self.bytes, line_end(self.bytes, start));
        while pos < self.bytes.len() {
            let end = line_end(self.bytes, pos);
            if is_start(&self.bytes[pos..end]) {
                break;
            }
            pos = next_dash_line(self.bytes, end);
        }
        self.pos = pos;
        // A block that another follows ends with its last line's newline.
        self.line = line + newlines_in(&self.bytes[start..pos]);
        Some(RawBlock {
            line,
            offset: start,
            bytes: &self.bytes[start..pos],
            is_last: pos == self.bytes.len(),
        })
    }
}

/// The op blocks of a file's text, in order.
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    text: &'a str,
    raw: RawBlocks<'a>,
}

impl<'a> Blocks<'a> {
    /// Splits `text`; the lines before the first block are its prelude.
    pub fn new(text: &'a str) -> Self {
        Blocks {
            text,
            raw: RawBlocks::new(text.as_bytes()),
        }
    }

    /// The text before the first block (all of it when there is none).
    pub fn prelude(&self) -> &'a str {
        &self.text[..self.raw.first]
    }

    /// The 1-based lines of the prelude that are neither blank nor comments:
    /// readers refuse a file that has any.
    pub fn stray_lines(&self) -> impl Iterator<Item = usize> + 'a {
        stray_lines(self.prelude())
    }
}

/// The 1-based lines of a prelude (the text before the first block) that
/// are neither blank nor comments.
pub fn stray_lines(prelude: &str) -> impl Iterator<Item = usize> + '_ {
    prelude
        .split_inclusive('\n')
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map(|(i, _)| i + 1)
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Block<'a>;

    fn next(&mut self) -> Option<Block<'a>> {
        let r = self.raw.next()?;
        Some(Block {
            line: r.line,
            offset: r.offset,
            // Blocks split at line starts, which are character boundaries.
            text: &self.text[r.offset..r.offset + r.bytes.len()],
            is_last: r.is_last,
        })
    }
}

/// The last of `text.split('\n')` that `trim` leaves non-empty, or "".
fn last_nonblank_line(text: &str) -> &str {
    let mut end = text.len();
    loop {
        // `\n` is ASCII: the cuts are character boundaries.
        let start = memchr::memrchr(b'\n', &text.as_bytes()[..end]).map_or(0, |i| i + 1);
        let line = &text[start..end];
        if !line.trim().is_empty() {
            return line;
        }
        if start == 0 {
            return "";
        }
        end = start - 1;
    }
}

/// Where the last `  # ` of a line starts (searched from the end for its
/// `#`: a line has one or two).
pub(crate) fn last_comment(b: &[u8]) -> Option<usize> {
    let mut end = b.len();
    while let Some(h) = memchr::memrchr(b'#', &b[..end]) {
        if h >= 2 && b[h - 2] == b' ' && b[h - 1] == b' ' && b.get(h + 1) == Some(&b' ') {
            return Some(h - 2);
        }
        end = h;
    }
    None
}

/// The nonce in a line's trailing `  # xxxx` comment, if any.
pub fn trailing_nonce(line: &str) -> Option<&str> {
    let line = line.trim_end();
    // The last `  # ` (a byte search: all four bytes are ASCII).
    let idx = last_comment(line.as_bytes())?;
    let n = &line[idx + 4..];
    (!n.is_empty() && !n.as_bytes().contains(&b' ')).then_some(n)
}

impl<'a> Block<'a> {
    /// Is this block cut short, and how? Written ops carry the first line's
    /// nonce comment on every line, and end with a newline (only the final
    /// block of a file can lack it; a caller checking text that must be
    /// whole ops sets [`is_last`](Self::is_last) on every block).
    pub fn torn(&self) -> Option<Torn<'a>> {
        if self.is_last && !self.text.ends_with('\n') {
            return Some(Torn::NoNewline);
        }
        // (`trailing_nonce` and `trim` drop a line's `\r`: split at `\n`
        // alone, the lines read as `str::lines` gives them.)
        let first =
            &self.text[..memchr::memchr(b'\n', self.text.as_bytes()).unwrap_or(self.text.len())];
        let nonce = trailing_nonce(first)?;
        let last = last_nonblank_line(self.text);
        (trailing_nonce(last) != Some(nonce)).then_some(Torn::NonceTail(nonce))
    }

    /// The 1-based line of the block's last line.
    pub fn last_line(&self) -> usize {
        self.line + self.text.lines().count().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(usize, &str)> {
        Blocks::new(text).map(|b| (b.line, b.text)).collect()
    }

    #[test]
    fn splits_like_readers() {
        let text = "# c\nstray\n- op: a\n  x: 1\n- op: b\n";
        let b = Blocks::new(text);
        assert_eq!(b.stray_lines().collect::<Vec<_>>(), vec![2]);
        assert_eq!(b.prelude(), "# c\nstray\n");
        let b: Vec<Block<'_>> = b.collect();
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].line, b[0].text), (3, "- op: a\n  x: 1\n"));
        assert_eq!((b[0].offset, b[0].is_last), (10, false));
        assert_eq!(b[1].line, 5);
        assert_eq!((b[1].offset, b[1].is_last), (25, true));
    }

    #[test]
    fn a_block_starts_at_a_dash_and_a_space_or_a_lone_dash() {
        assert_eq!(
            all("-\n  op: a\n- op: b\n-x\n  -\n-  \t\n- \n-"),
            vec![
                (1, "-\n  op: a\n"),
                (3, "- op: b\n-x\n  -\n"),
                (6, "-  \t\n"),
                (7, "- \n"),
                (8, "-")
            ]
        );
        // Unicode whitespace after a lone dash counts, as `trim_end` sees it.
        assert_eq!(all("- a\n-\u{3000}\n").len(), 2);
        assert_eq!(all("").len(), 0);
        let none = Blocks::new("# only\n\nstray");
        assert_eq!(none.prelude(), "# only\n\nstray");
        assert_eq!(none.stray_lines().collect::<Vec<_>>(), vec![3]);
        assert_eq!(none.count(), 0);
    }

    #[test]
    fn raw_blocks_split_bytes_that_are_not_utf8_alike() {
        let bytes = b"# c\n- op: a\xff\n  x: 1\n- op: b";
        let raw = RawBlocks::new(bytes);
        assert_eq!(raw.prelude(), b"# c\n");
        let b: Vec<RawBlock<'_>> = raw.collect();
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].line, b[0].bytes), (2, &b"- op: a\xff\n  x: 1\n"[..]));
        assert_eq!((b[1].line, b[1].offset, b[1].is_last), (4, 20, true));
    }

    #[test]
    fn torn_blocks() {
        let whole = "- op: a  # 1a2b\n  x: 1  # 1a2b\n\n";
        let b = Blocks::new(whole).next().unwrap();
        assert_eq!(b.torn(), None);
        assert_eq!(b.last_line(), 3);
        let cut = Blocks::new("- op: a  # 1a2b\n  x: 1").next().unwrap();
        assert_eq!(cut.torn(), Some(Torn::NoNewline));
        assert_eq!(
            Block {
                is_last: false,
                ..cut
            }
            .torn(),
            Some(Torn::NonceTail("1a2b"))
        );
        let tail = Blocks::new("- op: a  # 1a2b\n  x: 1\n").next().unwrap();
        assert_eq!(tail.torn(), Some(Torn::NonceTail("1a2b")));
        // Without a nonce comment nothing tells a cut-short op from a whole one.
        let bare = Blocks::new("- op: a\n  x: 1\n").next().unwrap();
        assert_eq!(bare.torn(), None);
    }

    /// (line, offset, length, is_last) of each block, splitting `bytes`
    /// line by line as [`RawBlocks`] was first written.
    fn blocks_by_lines(bytes: &[u8]) -> Vec<(usize, usize, usize, bool)> {
        let (mut pos, mut line) = (0, 1);
        while pos < bytes.len() && !is_start(&bytes[pos..line_end(bytes, pos)]) {
            pos = line_end(bytes, pos);
            line += 1;
        }
        let mut out = Vec::new();
        while pos < bytes.len() {
            let (start, first) = (pos, line);
            pos = line_end(bytes, pos);
            line += 1;
            while pos < bytes.len() && !is_start(&bytes[pos..line_end(bytes, pos)]) {
                pos = line_end(bytes, pos);
                line += 1;
            }
            out.push((first, start, pos - start, pos == bytes.len()));
        }
        out
    }

    /// [`Block::torn`] as it was first written, with `str::lines`.
    fn torn_by_lines<'a>(b: &Block<'a>) -> Option<Torn<'a>> {
        if b.is_last && !b.text.ends_with('\n') {
            return Some(Torn::NoNewline);
        }
        let first = b.text.lines().next().unwrap_or("");
        let nonce = trailing_nonce(first)?;
        let last = b
            .text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        (trailing_nonce(last) != Some(nonce)).then_some(Torn::NonceTail(nonce))
    }

    proptest::proptest! {
        #[test]
        fn torn_agrees_with_its_form_by_lines(
            text in "(- x  # 1a2b|- x  # 1a2b\r|  y: 1|  y: 1  # 1a2b|  # 1a2b|\r|  |\u{3000}|  # 1a2b\u{a0}|  # 9z)(\n|\r\n)((  y: 1|  # 1a2b|  y  # 1a2b|\r|  |\u{85}|  # 1a2b \r)(\n|\r\n|)){0,4}",
            is_last in proptest::bool::ANY,
        ) {
            let b = Block { line: 1, offset: 0, text: &text, is_last };
            proptest::prop_assert_eq!(b.torn(), torn_by_lines(&b), "{:?}", text);
        }

        #[test]
        fn blocks_split_where_a_line_by_line_split_does(
            text in "((- x|-|- |-  |-x|-\t|-\u{a0}|  -|x|  - y|#|)(  # 1a2b)?(\n|\r\n|)){0,8}",
        ) {
            let b = text.as_bytes();
            let got: Vec<_> = RawBlocks::new(b).map(|r| (r.line, r.offset, r.bytes.len(), r.is_last)).collect();
            proptest::prop_assert_eq!(got, blocks_by_lines(b), "{:?}", text);
        }

        #[test]
        fn the_last_comment_is_found_where_a_byte_scan_finds_it(
            line in "(x|#|  # |  #|   # | # | ##|  ## |é){0,6}",
        ) {
            let b = line.as_bytes();
            let scan = (0..b.len().saturating_sub(3))
                .rev()
                .find(|&i| b[i] == b' ' && b[i + 1] == b' ' && b[i + 2] == b'#' && b[i + 3] == b' ');
            proptest::prop_assert_eq!(last_comment(b), scan, "{:?}", line);
        }
    }

    #[test]
    fn nonce_tails() {
        assert_eq!(trailing_nonce("  x: 1  # 1a2b  "), Some("1a2b"));
        assert_eq!(trailing_nonce("  x: 1 # 1a2b"), None);
        assert_eq!(trailing_nonce("  x: 1  # a b"), None);
        assert_eq!(trailing_nonce("  x: 1  # "), None);
    }
}
