//! The smaller pieces of the screen: the filter panel, the chain bar,
//! the footer (status or live text filter), and what floats on top —
//! help, confirmations, forms and toasts.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
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
    let mut lines = vec![
        Line::from(format!(
            "Filters active: {} · Tab next",
            app.filters.active()
        )),
        Line::from(format!(
            "── {} ({}/4) ──",
            crate::app::FILTER_SECTIONS[app.filter_section],
            app.filter_section + 1
        ))
        .bold(),
    ];
    for (n, (_, label, hidden, count)) in app.filter_entries().into_iter().enumerate() {
        let key = if n < 9 {
            format!("[{}]", n + 1)
        } else {
            "   ".into()
        };
        let mark = if hidden { "[ ]" } else { "[X]" };
        let line = Line::from(format!("{key} {mark} {label} ({count})"));
        lines.push(if hidden { line.dim() } else { line });
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
    f.render_widget(Paragraph::new(text).dim(), area);
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
                let value = match &field.input {
                    Input::Text(s) => format!("{s}{}", if focus { "█" } else { "" }),
                    Input::Choice(opts, i) => {
                        format!("‹ {} ›", opts.get(*i).map(String::as_str).unwrap_or(""))
                    }
                };
                let style = if focus {
                    Style::default().fg(Color::Yellow)
                } else {
                    Style::default()
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{}{:>12}: ", if focus { "›" } else { " " }, field.label),
                        style.bold(),
                    ),
                    Span::styled(value, style),
                ]));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(form.hint.clone()).dim());
            let r = centered(area, 72, lines.len() as u16 + 3);
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
