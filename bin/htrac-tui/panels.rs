//! The smaller pieces of the screen: the filter panel, the chain bar,
//! the footer (status or live text filter), and what floats on top —
//! help, confirmations, forms and toasts.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::app::{App, Modal, KEYS};
use crate::forms::{Confirm, Input};
use crate::view::ORANGE;

pub fn filters(f: &mut Frame, app: &mut App, area: Rect) {
    app.filter_area = area;
    let block = Block::default()
        .borders(Borders::TOP)
        .title(" Filters · 1–9 toggle ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = vec![Line::from(format!(
        "Filters active: {} · Tab next",
        app.filters.active()
    ))];
    let section = Line::from(format!(
        "── {} ({}/4) ──",
        crate::filters::FILTER_SECTIONS[app.filter_section],
        app.filter_section + 1
    ))
    .bold();
    let entries = app.filter_entries();
    let favs = entries.iter().filter(|e| e.fav).count();
    if favs > 0 {
        lines.push(Line::from("── Favorites ──").bold());
    }
    for (n, e) in entries.into_iter().enumerate() {
        if n == favs {
            lines.push(section.clone());
        }
        let key = if n < 9 {
            format!("[{}]", n + 1)
        } else {
            "   ".into()
        };
        let mark = if e.hidden { "[ ]" } else { "[X]" };
        let star = if e.fav { " ★" } else { "" };
        let line = Line::from(format!("{key} {mark}{star} {} ({})", e.label, e.count));
        lines.push(if e.hidden { line.dim() } else { line });
    }
    if lines.len() == favs + 1 + usize::from(favs > 0) {
        lines.push(section); // an empty section still has its heading
    }
    f.render_widget(Paragraph::new(lines), inner);
}

pub fn chain_bar(f: &mut Frame, app: &App, area: Rect) {
    let Some((id, chain)) = &app.chain else {
        f.render_widget(Paragraph::new(""), area);
        return;
    };
    let short = |v: &[String]| {
        v.iter()
            .map(|i| app.short_id(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut spans = vec![Span::styled(
        format!("▶ {}", app.short_id(id)),
        Style::default().fg(Color::Blue),
    )];
    if chain.is_empty() {
        spans.push(Span::raw("  no dependencies").dim());
    }
    if !chain.blockers.is_empty() {
        spans.push(Span::styled(
            format!("  blocked by {}", short(&chain.blockers)),
            Style::default().fg(ORANGE),
        ));
    }
    if !chain.up_transitive.is_empty() {
        spans.push(Span::raw(format!("  (via {})", short(&chain.up_transitive))).dim());
    }
    if !chain.dependents.is_empty() {
        spans.push(Span::styled(
            format!("  blocks {}", short(&chain.dependents)),
            Style::default().fg(Color::Green),
        ));
    }
    if !chain.down_transitive.is_empty() {
        spans.push(Span::raw(format!("  (then {})", short(&chain.down_transitive))).dim());
    }
    if !chain.is_empty() {
        let up = chain.blockers.len() + chain.up_transitive.len();
        let down = chain.dependents.len() + chain.down_transitive.len();
        spans.push(Span::raw(format!("  ({up}↑ {down}↓)")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn footer(f: &mut Frame, app: &App, area: Rect) {
    if app.text_input || !app.filters.text.is_empty() {
        let cursor = if app.text_input { "█" } else { "" };
        let line = Line::from(vec![
            Span::styled("/", Style::default().fg(Color::Yellow)),
            Span::raw(format!("{}{cursor}", app.filters.text)),
            Span::raw(format!(
                "  Filtering: {} ({} shown) · Esc clears",
                app.filters.text,
                app.rows.len()
            ))
            .dim(),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut status = Vec::new();
    for s in &app.filters.hidden_statuses {
        status.push(format!("[{s}: hidden]"));
    }
    for k in app
        .filters
        .hidden_kinds
        .iter()
        .chain(&app.filters.hidden_tiers)
    {
        status.push(format!("[{k}: hidden]"));
    }
    if !app.filters.hidden_tags.is_empty() {
        status.push(format!("[tags hidden: {}]", app.filters.hidden_tags.len()));
    }
    if app.filters.hide_tagged {
        status.push("[tagged: hidden]".into());
    }
    if app.broken > 0 {
        status.push(format!(
            "[{} unreadable item files: htrac validate]",
            app.broken
        ));
    }
    let text = format!(
        "{} items · ? help · q quit {}",
        app.rows.iter().filter(|r| !r.ghost).count(),
        status.join(" ")
    );
    let mut spans = Vec::new();
    if let Some(left) = app.edit_mode_left() {
        let used = app.edit_window.as_ref().map_or(0, |(w, _)| w.ops_used);
        let cap = app.edit_window.as_ref().map_or(0, |(w, _)| w.cap_max);
        spans.push(Span::styled(
            format!(
                "✎ EDIT MODE {} min left, {used}/{cap} edits (Ctrl+E ends) ",
                (left + 59) / 60
            ),
            Style::default().fg(Color::Black).bg(Color::Yellow).bold(),
        ));
        spans.push(Span::raw(" "));
    }
    if let Some(n) = app.link {
        let links = app.current_links();
        if let Some(l) = links.get(n) {
            let what = match &l.target {
                Some(id) => {
                    let title = app.item_named(id).map_or("", |i| i.title.as_str());
                    format!("→ {} {title}", app.short_id(id))
                }
                None => format!("→ {} (no such item)", l.text),
            };
            spans.push(Span::styled(
                format!("link {}/{} {what}", n + 1, links.len()),
                Style::default().fg(Color::Cyan),
            ));
            spans.push(Span::raw(" · Enter opens · Tab next · Esc  ").dim());
        }
    }
    if let Some((at, depth)) = app.history.position() {
        spans.push(Span::raw(format!("[{at}/{depth}] Alt+←→ back/forward · ")).dim());
    }
    spans.push(Span::raw(text).dim());
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn overlays(f: &mut Frame, app: &App, area: Rect) {
    match &app.modal {
        Some(Modal::Help) => {
            let mut lines: Vec<Line> = KEYS
                .iter()
                .map(|(k, what)| {
                    Line::from(vec![
                        Span::styled(format!("{k:>21} "), Style::default().bold()),
                        Span::raw(*what),
                    ])
                })
                .collect();
            lines.push(Line::from("Any key closes this help.").dim());
            let r = centered(area, 76, lines.len() as u16 + 2);
            f.render_widget(Clear, r);
            let block = Block::default().borders(Borders::ALL).title(" Keys ");
            f.render_widget(Paragraph::new(lines).block(block), r);
        }
        Some(Modal::Favourites(at)) => {
            let mut lines = vec![
                Line::from(format!("now: {}", crate::filters::summary(&app.filters))).dim(),
                Line::from(""),
            ];
            for (n, slot) in app.favourites.iter().enumerate() {
                let here = n == *at;
                let text = match slot {
                    Some(fav) => crate::filters::summary(fav),
                    None => "(empty)".into(),
                };
                let style = if here {
                    Style::default().fg(Color::Yellow).bold()
                } else {
                    Style::default()
                };
                lines.push(Line::from(Span::styled(
                    format!("{} [{}] {text}", if here { "›" } else { " " }, n + 1),
                    style,
                )));
            }
            lines.push(Line::from(""));
            lines.push(
                Line::from("1–5 apply · ↑↓ choose · Enter apply · s save the filter here · x clear · Esc close")
                    .dim(),
            );
            let r = centered(area, 72, lines.len() as u16 + 3);
            f.render_widget(Clear, r);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(" Filter favourites ");
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block),
                r,
            );
        }
        Some(Modal::Confirm(what, text)) => {
            let title = match what {
                Confirm::ClearDiscussion(_) => " Clear discussion ",
                Confirm::RepairDrift(_) => " Repair drift ",
            };
            let r = centered(area, 60, 5);
            f.render_widget(Clear, r);
            let body = Text::from(vec![
                Line::from(text.clone()),
                Line::from("y yes · n / Esc no").dim(),
            ]);
            let block = Block::default().borders(Borders::ALL).title(title);
            f.render_widget(
                Paragraph::new(body).wrap(Wrap { trim: true }).block(block),
                r,
            );
        }
        Some(Modal::Form(form)) => {
            let mut lines = Vec::new();
            for (i, field) in form.fields.iter().enumerate() {
                let focus = i == form.focus;
                let style = if focus {
                    Style::default().fg(Color::Yellow)
                } else {
                    Style::default()
                };
                let head = Span::styled(
                    format!("{}{:>12}: ", if focus { "›" } else { " " }, field.label),
                    style.bold(),
                );
                let value = match &field.input {
                    Input::Text(s) => format!("{s}{}", if focus { "█" } else { "" }),
                    Input::Choice(opts, i) => {
                        format!("‹ {} ›", opts.get(*i).map(String::as_str).unwrap_or(""))
                    }
                    Input::Lines(text, cursor) => {
                        let rows = text_area(text, *cursor, focus, style);
                        let mut rows = rows.into_iter();
                        let mut first = vec![head];
                        first.extend(rows.next().unwrap_or_default().spans);
                        lines.push(Line::from(first));
                        for row in rows {
                            // (An all-blank row would wrap into two.)
                            if row.width() == 0 {
                                lines.push(Line::default());
                                continue;
                            }
                            let mut spans = vec![Span::raw(" ".repeat(15))];
                            spans.extend(row.spans);
                            lines.push(Line::from(spans));
                        }
                        continue;
                    }
                };
                lines.push(Line::from(vec![head, Span::styled(value, style)]));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(form.hint.clone()).dim());
            // Rows once wrapped inside the 72-wide box.
            let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(70)).sum();
            let r = centered(area, 72, rows as u16 + 2);
            f.render_widget(Clear, r);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", form.title));
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block),
                r,
            );
        }
        None => {}
    }
    if let Some(t) = &app.toast {
        let w = (t.text.chars().count() as u16 + 4).clamp(20, area.width.min(70));
        let h = (t
            .text
            .lines()
            .map(|l| l.chars().count() as u16 / w.saturating_sub(4).max(1) + 1)
            .sum::<u16>()
            + 2)
        .min(area.height);
        let r = Rect {
            x: area.x + area.width - w,
            y: area.y + area.height.saturating_sub(h + 2),
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        let color = if t.error { Color::Red } else { Color::Green };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(Style::default().fg(color));
        f.render_widget(
            Paragraph::new(t.text.clone())
                .wrap(Wrap { trim: false })
                .block(block),
            r,
        );
    }
}

/// The rows of a multi-line text area: focused, up to 8 lines around the
/// cursor (drawn as a reversed cell); else the first 3 and how many more.
fn text_area(text: &str, cursor: usize, focus: bool, style: Style) -> Vec<Line<'static>> {
    let all: Vec<&str> = text.split('\n').collect();
    let cursor = cursor.min(text.len());
    let at_line = text[..cursor].matches('\n').count();
    let line_start = text[..cursor].rfind('\n').map_or(0, |i| i + 1);
    let (from, to, more) = if focus {
        let from = at_line.saturating_sub(7);
        (from, (from + 8).min(all.len()), 0)
    } else {
        let to = all.len().min(3);
        (0, to, all.len() - to)
    };
    let mut out = Vec::new();
    for (n, row) in all.iter().enumerate().take(to).skip(from) {
        if focus && n == at_line {
            let col = cursor - line_start;
            let (before, rest) = row.split_at(col);
            let mut chars = rest.chars();
            let under = chars.next().map_or(" ".to_string(), |c| c.to_string());
            out.push(Line::from(vec![
                Span::styled(before.to_string(), style),
                Span::styled(under, style.add_modifier(Modifier::REVERSED)),
                Span::styled(chars.as_str().to_string(), style),
            ]));
        } else {
            out.push(Line::from(Span::styled(row.to_string(), style)));
        }
    }
    if more > 0 {
        let s = if more == 1 { "" } else { "s" };
        out.push(Line::from(format!("… {more} more line{s}")).dim());
    }
    out
}

/// Replaces every cell holding a control character (ESC, CR, BEL, DEL, C1
/// from a title or message an agent wrote; ratatui draws them as they are)
/// with its one-cell picture (`␛`, `␍`, `␇`), so none reaches the terminal.
pub fn visible_controls(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let sym = cell.symbol();
        if let Some(p) = sym.chars().find_map(htrac::safetext::picture) {
            cell.set_char(p);
        }
    }
}
