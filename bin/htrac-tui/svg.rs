//! The screenshot as SVG: every cell of the frozen frame (background runs
//! as `<rect>`, text runs as `<text>`), then the annotations in one
//! `<g class="annotations">` before the single closing `</svg>`. Every
//! attribute value and text is XML-escaped; colours are validated. Saved
//! under `.agent/screenshots/`, else a private (0700) cache directory.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use htrac::safetext::xml;

use crate::annotate::{Shape, COLOR};

pub const CELL_W: f64 = 9.6;
pub const CELL_H: f64 = 20.0;
const BG: &str = "#1e1e1e";
const FG: &str = "#d4d4d4";

/// `#rrggbb` only; anything else becomes the annotation red.
pub fn safe_color(c: &str) -> &str {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if ok {
        c
    } else {
        COLOR
    }
}

const ANSI: [&str; 16] = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

fn hex(c: Color, default: &str) -> String {
    let idx = |i: usize| ANSI[i].to_string();
    match c {
        Color::Reset => default.to_string(),
        Color::Black => idx(0),
        Color::Red => idx(1),
        Color::Green => idx(2),
        Color::Yellow => idx(3),
        Color::Blue => idx(4),
        Color::Magenta => idx(5),
        Color::Cyan => idx(6),
        Color::Gray => idx(7),
        Color::DarkGray => idx(8),
        Color::LightRed => idx(9),
        Color::LightGreen => idx(10),
        Color::LightYellow => idx(11),
        Color::LightBlue => idx(12),
        Color::LightMagenta => idx(13),
        Color::LightCyan => idx(14),
        Color::White => idx(15),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) if i < 16 => idx(i as usize),
        Color::Indexed(i) if i >= 232 => {
            let v = 8 + (i - 232) as u32 * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
        Color::Indexed(i) => {
            let i = i - 16;
            let lvl = |n: u8| if n == 0 { 0 } else { 55 + n as u32 * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                lvl(i / 36),
                lvl((i / 6) % 6),
                lvl(i % 6)
            )
        }
    }
}

/// Cell centre in pixels.
fn cx(x: u16) -> f64 {
    x as f64 * CELL_W + CELL_W / 2.0
}
fn cy(y: u16) -> f64 {
    y as f64 * CELL_H + CELL_H / 2.0
}

/// The SVG of a frame with its annotations.
pub fn render(frame: &Buffer, shapes: &[Shape]) -> String {
    let (w, h) = (frame.area.width, frame.area.height);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" viewBox="0 0 {:.1} {:.1}" font-family="monospace" font-size="16">"#,
        w as f64 * CELL_W,
        h as f64 * CELL_H,
        w as f64 * CELL_W,
        h as f64 * CELL_H
    );
    s.push('\n');
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="{BG}"/>"#);
    s.push_str("<g class=\"screen\">\n");
    for y in 0..h {
        // Background runs.
        let mut x = 0;
        while x < w {
            let cell = &frame[(x, y)];
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let bg = if reversed {
                hex(cell.fg, FG)
            } else {
                hex(cell.bg, BG)
            };
            let start = x;
            while x < w {
                let c = &frame[(x, y)];
                let r = c.modifier.contains(Modifier::REVERSED);
                let b = if r { hex(c.fg, FG) } else { hex(c.bg, BG) };
                if b != bg {
                    break;
                }
                x += 1;
            }
            if bg != BG {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                    start as f64 * CELL_W,
                    y as f64 * CELL_H,
                    (x - start) as f64 * CELL_W,
                    CELL_H,
                    xml(&bg)
                );
            }
        }
        // Text, one element per cell run of one style.
        let mut x = 0;
        while x < w {
            let cell = &frame[(x, y)];
            let style_of = |c: &ratatui::buffer::Cell| {
                let r = c.modifier.contains(Modifier::REVERSED);
                let fg = if r { hex(c.bg, BG) } else { hex(c.fg, FG) };
                (
                    fg,
                    c.modifier.contains(Modifier::BOLD),
                    c.modifier.contains(Modifier::ITALIC),
                )
            };
            let st = style_of(cell);
            let start = x;
            let mut text = String::new();
            while x < w && style_of(&frame[(x, y)]) == st {
                let sym = frame[(x, y)].symbol();
                text.push_str(sym);
                // A wide character covers the next cell too.
                x += unicode_width::UnicodeWidthStr::width(sym).max(1) as u16;
            }
            if text.trim().is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" fill="{}"{}{} xml:space="preserve">{}</text>"#,
                start as f64 * CELL_W,
                y as f64 * CELL_H + CELL_H * 0.75,
                xml(&st.0),
                if st.1 { r#" font-weight="bold""# } else { "" },
                if st.2 { r#" font-style="italic""# } else { "" },
                xml(&text)
            );
        }
    }
    s.push_str("</g>\n");
    s.push_str(&annotations(shapes));
    s.push_str("</svg>\n");
    s
}

/// The annotation group.
pub fn annotations(shapes: &[Shape]) -> String {
    if shapes.is_empty() {
        return String::new();
    }
    let color = xml(safe_color(COLOR));
    let mut s = String::from("<g class=\"annotations\">\n");
    if shapes.iter().any(|x| matches!(x, Shape::Arrow { .. })) {
        let _ = writeln!(
            s,
            r#"<defs><marker id="arrowhead" markerWidth="10" markerHeight="7" refX="10" refY="3.5" orient="auto"><polygon points="0 0, 10 3.5, 0 7" fill="{color}"/></marker></defs>"#
        );
    }
    for shape in shapes {
        match shape {
            Shape::Rect { x1, y1, x2, y2 } => {
                let _ = writeln!(
                    s,
                    r#"<rect class="annotation-rect" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{color}" stroke-width="2" opacity="0.8"/>"#,
                    *x1 as f64 * CELL_W,
                    *y1 as f64 * CELL_H,
                    (x2 - x1 + 1) as f64 * CELL_W,
                    (y2 - y1 + 1) as f64 * CELL_H
                );
            }
            Shape::Arrow { x1, y1, x2, y2 } => {
                let _ = writeln!(
                    s,
                    r#"<line class="annotation-arrow" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2" marker-end="url(#arrowhead)"/>"#,
                    cx(*x1),
                    cy(*y1),
                    cx(*x2),
                    cy(*y2)
                );
            }
            Shape::Label { x, y, n, text } => {
                let body = if text.is_empty() {
                    format!("[{n}]")
                } else {
                    format!("[{n}] {text}")
                };
                let _ = writeln!(
                    s,
                    r#"<text class="annotation-label" x="{:.1}" y="{:.1}" fill="{color}" font-size="{:.1}" font-weight="bold">{}</text>"#,
                    *x as f64 * CELL_W,
                    *y as f64 * CELL_H + CELL_H * 0.75,
                    CELL_H * 0.8,
                    xml(&body)
                );
            }
        }
    }
    s.push_str("</g>\n");
    s
}

/// `YYYYMMDDTHHMMSS.ffffffZ` in UTC.
fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// The private fallback directory: `$XDG_CACHE_HOME/htrac/screenshots`
/// (or `~/.cache/...`), created 0700 and refused unless we own it.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or_else(|| std::io::Error::other("neither XDG_CACHE_HOME nor HOME is set"))?;
    let dir = base.join("htrac").join("screenshots");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != rustix::process::getuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} is not a directory owned by you",
            dir.display()
        )));
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(dir)
}

fn write_new(dir: &Path, name: &str, svg: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}-{}.svg", stamp()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    f.write_all(svg.as_bytes())?;
    Ok(path)
}

/// Saves under `<root>/screenshots/`, else the private cache directory.
pub fn save(root: &Path, name: &str, svg: &str) -> std::io::Result<PathBuf> {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    match write_new(&root.join("screenshots"), &name, svg) {
        Ok(p) => Ok(p),
        Err(_) => write_new(&private_dir()?, &name, svg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn validates_colours_and_stamps() {
        assert_eq!(safe_color("#00ff00"), "#00ff00");
        assert_eq!(safe_color("red\" onload=\"x"), COLOR);
        assert!(stamp().ends_with('Z') && stamp().len() == 23);
        assert_eq!(hex(Color::Indexed(196), ""), "#ff0000");
    }

    #[test]
    fn svg_has_one_annotation_group_before_the_end() {
        let mut b = Buffer::empty(Rect::new(0, 0, 10, 3));
        b.set_string(0, 0, "a<b&\"c", ratatui::style::Style::default());
        let svg = render(
            &b,
            &[Shape::Label {
                x: 1,
                y: 1,
                n: 1,
                text: "</svg><script>".into(),
            }],
        );
        assert_eq!(svg.matches("</svg>").count(), 1);
        assert!(svg.contains("a&lt;b&amp;&quot;c"));
        assert!(svg.contains("[1] &lt;/svg&gt;&lt;script&gt;"));
        assert!(svg.find("annotations").unwrap() < svg.rfind("</svg>").unwrap());
    }
}
