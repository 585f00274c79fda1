//! The detail pane of the selected item, and the wide layout's activity log
//! and message box. Every item ID they show is a link (see `nav`); drawing
//! records where each link landed, for clicks.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use htrac::Item;

use crate::app::App;
use crate::nav::{find_hits, Hit, Link};

fn label(s: &str) -> Span<'static> {
    Span::styled(
        format!(" {s} "),
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
    )
}

/// The detail lines of an item; its links are added to `links`.
pub fn detail_lines(
    app: &App,
    item: &Item,
    with_discussion: bool,
    links: &mut Vec<Link>,
) -> Vec<Line<'static>> {
    let locked = |f: &str| {
        if item.locked_fields.iter().any(|l| l == f) {
            Span::styled(" [locked]", Style::default().fg(Color::Yellow))
        } else {
            Span::raw("")
        }
    };
    let mut lines = vec![Line::from(Span::styled(
        item.title.clone(),
        Style::default().bold(),
    ))];
    if item.frozen {
        let file = app.tracker.resolve(&item.id).ok();
        let drifted = file.and_then(|f| app.tracker.drifted(&f)).unwrap_or(false);
        lines.push(if drifted {
            Line::from(Span::styled(
                "FROZEN (DRIFTED) — R reverts",
                Style::default().fg(Color::Yellow).bold(),
            ))
        } else {
            Line::from(Span::styled(
                "*** FROZEN ***",
                Style::default().fg(Color::Cyan).bold(),
            ))
        });
    }
    let kv =
        |lines: &mut Vec<Line<'static>>, name: &str, field: &str, value: Vec<Span<'static>>| {
            let mut spans = vec![label(name), Span::raw(" ")];
            spans.extend(value);
            spans.push(locked(field));
            lines.push(Line::from(spans));
        };
    let text = |v: String| vec![Span::raw(v)];
    // A list of IDs, each a link.
    let ids = |links: &mut Vec<Link>, v: &[String]| {
        let mut spans = Vec::new();
        for (n, id) in v.iter().enumerate() {
            if n > 0 {
                spans.push(Span::raw(", "));
            }
            spans.push(app.link_span(links, id, Style::default()));
        }
        spans
    };
    kv(&mut lines, "ID", "", text(item.id.clone()));
    kv(&mut lines, "Kind", "", text(item.kind.clone()));
    kv(&mut lines, "Status", "status", text(item.status.clone()));
    kv(
        &mut lines,
        "Priority",
        "priority",
        text(htrac::items::item::value_text(&item.priority)),
    );
    kv(&mut lines, "Tier", "", text(item.tier.as_str().to_string()));
    if let Some(p) = item.parent.as_deref().filter(|p| !p.is_empty()) {
        let v = ids(links, &[p.to_string()]);
        kv(&mut lines, "Parent", "parent", v);
    }
    let children: Vec<String> = app
        .items
        .iter()
        .filter(|i| i.parent.as_deref() == Some(item.id.as_str()))
        .map(|i| i.id.clone())
        .collect();
    if !children.is_empty() {
        let v = ids(links, &children);
        kv(&mut lines, "Children", "", v);
    }
    let tags = Item::string_list(&item.tags);
    if !tags.is_empty() {
        kv(&mut lines, "Tags", "tags", text(tags.join(", ")));
    }
    let blocked_by = app
        .links
        .blocked_by
        .get(&item.id)
        .cloned()
        .unwrap_or_default();
    if !blocked_by.is_empty() {
        let v = ids(links, &blocked_by);
        kv(&mut lines, "Blocked by", "", v);
    }
    let blocks = item.isbefore_ids();
    if !blocks.is_empty() {
        let v = ids(links, &blocks);
        kv(&mut lines, "Blocks", "isbefore", v);
    }
    let dupes = Item::string_list(&item.duplicate_of);
    if !dupes.is_empty() {
        let v = ids(links, &dupes);
        kv(&mut lines, "Duplicate of", "duplicate_of", v);
    }
    if item.cross_tier_conflict {
        kv(
            &mut lines,
            "Conflict",
            "",
            text("⚠ this item is in more than one tier".into()),
        );
    }
    kv(&mut lines, "Created", "", text(item.created_at.clone()));
    kv(&mut lines, "Updated", "", text(item.updated_at.clone()));
    if !item.locked_fields.is_empty() {
        kv(
            &mut lines,
            "Locked",
            "",
            text(item.locked_fields.join(", ")),
        );
    }
    if !item.description.is_empty() {
        lines.push(Line::from(vec![
            label("Description"),
            locked("description"),
        ]));
        for l in item.description.lines() {
            lines.push(Line::from(app.linkify(links, l, Style::default())));
        }
    }
    if !item.fields.is_empty() {
        let schema: Vec<String> = app
            .tracker
            .config
            .kind(&item.kind)
            .map(|k| k.fields_schema.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        let mut other = Vec::new();
        for name in &schema {
            if let Some(v) = item.fields.get(name) {
                lines.push(Line::from(vec![
                    label(name),
                    Span::raw(" "),
                    Span::raw(htrac::items::item::value_text(v)),
                    locked(&format!("fields.{name}")),
                ]));
            }
        }
        for (k, v) in &item.fields {
            if !schema.contains(k) {
                other.push(format!("{k}: {}", htrac::items::item::value_text(v)));
            }
        }
        if !other.is_empty() {
            lines.push(Line::from(label("Other")));
            lines.extend(other.into_iter().map(Line::from));
        }
    }
    if with_discussion {
        let shown: Vec<_> = item
            .discussion
            .iter()
            .filter(|e| !e.is_tombstoned)
            .collect();
        if !shown.is_empty() {
            lines.push(Line::from(vec![label("Discussion"), locked("discussion")]));
            for e in shown {
                lines.push(entry_line(app, e, links));
            }
        }
    }
    lines
}

fn entry_line(app: &App, e: &htrac::items::item::Entry, links: &mut Vec<Link>) -> Line<'static> {
    let who = Style::default().fg(if e.is_human() {
        Color::Cyan
    } else {
        Color::Magenta
    });
    let mut spans = vec![
        Span::styled(format!("{} {}", e.at.get(..16).unwrap_or(&e.at), e.by), who),
        Span::raw(": "),
    ];
    spans.extend(app.linkify(links, &e.message, Style::default()));
    Line::from(spans)
}

/// The detail as plain text for the clipboard (Ctrl+C); control characters
/// an agent wrote are shown escaped, so pasting it runs nothing.
pub fn detail_plain(app: &App, item: &Item) -> String {
    let text = detail_lines(app, item, true, &mut Vec::new())
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.trim_matches(' '))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|l| l.trim().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    htrac::safetext::escape(&text).into_owned()
}

/// For each link of `lines` (the underlined spans, in order), its line.
fn link_lines(lines: &[Line]) -> Vec<usize> {
    let mut out = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        for s in &l.spans {
            if s.style.add_modifier.contains(Modifier::UNDERLINED) {
                out.push(n);
            }
        }
    }
    out
}

/// Rows `lines` take when wrapped to `width` (an estimate from each width).
fn rows(lines: &[Line], width: usize) -> usize {
    lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum()
}

/// After a link was selected by key: scrolls the detail so it shows.
pub fn reveal_link(app: &mut App, area: Rect, with_discussion: bool) {
    let (Some(link), Some(item)) = (app.link, app.selected()) else {
        return;
    };
    let lines = detail_lines(app, item, with_discussion, &mut Vec::new());
    let Some(&line) = link_lines(&lines).get(link) else {
        return;
    };
    let width = area.width.max(1) as usize;
    let top = rows(&lines[..line], width) as u16;
    let bottom = top + rows(&lines[line..=line], width) as u16;
    if top < app.detail_scroll {
        app.detail_scroll = top;
    } else if bottom > app.detail_scroll + area.height {
        app.detail_scroll = bottom.saturating_sub(area.height);
    }
}

/// Draws the detail; returns where its links landed.
pub fn detail(f: &mut Frame, app: &App, area: Rect, with_discussion: bool) -> Vec<Hit> {
    let Some(item) = app.selected() else {
        f.render_widget(Paragraph::new("No item selected."), area);
        return Vec::new();
    };
    let mut links = Vec::new();
    let lines = detail_lines(app, item, with_discussion, &mut links);
    // Never scroll past the end: at most (wrapped lines - 1), estimated
    // from each line's width.
    let total = rows(&lines, area.width.max(1) as usize);
    let max = total.saturating_sub(area.height as usize / 2) as u16;
    app.detail_max.set(max);
    let scroll = app.detail_scroll.min(max);
    let more_below = (scroll as usize + area.height as usize) < total;
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
    if (scroll > 0 || more_below) && area.height > 1 && area.width > 12 {
        let hint = if more_below {
            " J/} more ↓ "
        } else {
            " K/{ ↑ "
        };
        let w = hint.chars().count() as u16;
        let r = Rect::new(area.x + area.width - w, area.y + area.height - 1, w, 1);
        f.render_widget(Paragraph::new(hint).dim(), r);
    }
    find_hits(f.buffer_mut(), area, &links, 0)
}

/// The activity log's lines (the last 10 messages); links go to `links`.
pub fn activity_lines(app: &App, item: &Item, links: &mut Vec<Link>) -> Vec<Line<'static>> {
    let shown: Vec<_> = item
        .discussion
        .iter()
        .filter(|e| !e.is_tombstoned)
        .collect();
    let mut lines = Vec::new();
    if shown.len() > 10 {
        let badge = if shown.len() >= 20 { "[20+ msgs] " } else { "" };
        lines.push(Line::from(format!("{badge}showing last 10 of {}", shown.len())).dim());
    }
    if shown.is_empty() {
        lines.push(Line::from("No discussion yet.").dim());
    }
    for e in shown.iter().rev().take(10).rev() {
        lines.push(entry_line(app, e, links));
    }
    lines
}

/// Draws the wide layout's activity log; returns where its links landed
/// (they follow the detail's).
pub fn activity(f: &mut Frame, app: &App, area: Rect) -> Vec<Hit> {
    let block = Block::default().borders(Borders::TOP).title(" Activity ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(item) = app.selected() else {
        return Vec::new();
    };
    let mut links = Vec::new();
    detail_lines(app, item, false, &mut links);
    let first = links.len();
    let lines = activity_lines(app, item, &mut links);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    find_hits(f.buffer_mut(), inner, &links, first)
}

pub fn chat_box(f: &mut Frame, app: &App, area: Rect) {
    let (title, body, style) = match &app.chat {
        Some((id, text)) => (
            format!(" Message to {} · Enter send · Esc close ", app.short_id(id)),
            format!("{text}█"),
            Style::default().fg(Color::Yellow),
        ),
        None => (
            " Message · d to write ".to_string(),
            "Ctrl+C copy · r mark read/unread".to_string(),
            Style::default().add_modifier(Modifier::DIM),
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(style);
    f.render_widget(
        Paragraph::new(body).wrap(Wrap { trim: false }).block(block),
        area,
    );
}
