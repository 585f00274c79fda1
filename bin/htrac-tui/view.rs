//! Drawing: picks the layout for the terminal size and renders the list
//! (the detail pane, activity log and message box are in `detail`; the
//! filter panel, bars and overlays in `panels`). Reads the `App`; records
//! only where things were drawn (for mouse clicks).

use ratatui::layout::{Constraint, Direction, Layout as Split, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TRow, Table, Wrap};
use ratatui::Frame;

use htrac::{Item, Tier};

use crate::app::App;
use crate::detail::{activity, chat_box, detail, reveal_link};
use crate::logic::{self, Layout, Role};
use crate::nav::Hit;
use crate::panels::{chain_bar, filters, footer, overlays};

pub const ORANGE: Color = Color::Indexed(208);

fn tier_letter(t: Tier) -> &'static str {
    match t {
        Tier::Canonical => "C",
        Tier::Workspace => "W",
        Tier::Stealth => "S",
    }
}

/// Draws the whole screen; no control character an agent put in a title
/// or message reaches the terminal (see [`crate::panels::visible_controls`]).
pub fn render(f: &mut Frame, app: &mut App) {
    draw(f, app);
    crate::panels::visible_controls(f.buffer_mut());
}

fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = (area.width, area.height);
    if let Some(a) = &app.annotate {
        crate::annotate::render(a, f.buffer_mut(), area);
        return;
    }
    app.list_area = Rect::default();
    app.filter_area = Rect::default();
    app.link_hits.clear();
    let layout = app.layout();
    match layout {
        Layout::TooSmall => {
            let msg = format!(
                "Terminal too small (need 40x16, got {}x{})",
                area.width, area.height
            );
            f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
            return;
        }
        Layout::Compact => {
            let [main, foot] = vsplit(area, [Constraint::Fill(1), Constraint::Length(1)]);
            if app.detail_open && app.selected().is_some() {
                let block = Block::default()
                    .borders(Borders::TOP)
                    .title(" detail · Esc back ");
                let inner = block.inner(main);
                f.render_widget(block, main);
                app.link_hits = show_detail(f, app, inner, true);
            } else {
                list(f, app, main, layout);
            }
            footer(f, app, foot);
        }
        Layout::Standard | Layout::Wide => {
            let [main, bar, foot] = vsplit(
                area,
                [
                    Constraint::Fill(1),
                    Constraint::Length(1),
                    Constraint::Length(1),
                ],
            );
            let pct = if layout == Layout::Wide { 60 } else { 55 };
            let left_w = (main.width * pct / 100).max(30);
            let [left, right] = hsplit(main, [Constraint::Length(left_w), Constraint::Fill(1)]);
            list(f, app, left, layout);
            let right_block = Block::default().borders(Borders::LEFT);
            let right_in = right_block.inner(right);
            f.render_widget(right_block, right);
            if layout == Layout::Standard {
                if app.filter_panel {
                    // Half the height, grown by the Favorites lines while the
                    // detail keeps 8.
                    let favs = app.fav_entries().len() as u16;
                    let grow = if favs > 0 { favs + 1 } else { 0 };
                    let h = (right_in.height / 2 + grow)
                        .min(right_in.height.saturating_sub(8))
                        .max(right_in.height / 2);
                    let [d, fp] = vsplit(right_in, [Constraint::Fill(1), Constraint::Length(h)]);
                    app.link_hits = show_detail(f, app, d, true);
                    filters(f, app, fp);
                } else {
                    app.link_hits = show_detail(f, app, right_in, true);
                }
            } else {
                let h = right_in.height * 55 / 100;
                let [d, bottom] = vsplit(right_in, [Constraint::Fill(1), Constraint::Length(h)]);
                app.link_hits = show_detail(f, app, d, false);
                let cols = if app.filter_panel {
                    [Constraint::Fill(1), Constraint::Length(30)]
                } else {
                    [Constraint::Fill(1), Constraint::Length(0)]
                };
                let [act, fp] = hsplit(bottom, cols);
                let [log, chat] = vsplit(act, [Constraint::Fill(1), Constraint::Length(6)]);
                let more = activity(f, app, log);
                app.link_hits.extend(more);
                chat_box(f, app, chat);
                if app.filter_panel {
                    filters(f, app, fp);
                }
            }
            chain_bar(f, app, bar);
            footer(f, app, foot);
        }
    }
    overlays(f, app, area);
}

/// The detail, first scrolled to a link just selected by key.
fn show_detail(f: &mut Frame, app: &mut App, area: Rect, with_discussion: bool) -> Vec<Hit> {
    if std::mem::take(&mut app.reveal_link) {
        reveal_link(app, area, with_discussion);
    }
    detail(f, app, area, with_discussion)
}

fn vsplit<const N: usize>(r: Rect, c: [Constraint; N]) -> [Rect; N] {
    Split::default()
        .direction(Direction::Vertical)
        .constraints(c)
        .areas(r)
}

fn hsplit<const N: usize>(r: Rect, c: [Constraint; N]) -> [Rect; N] {
    Split::default()
        .direction(Direction::Horizontal)
        .constraints(c)
        .areas(r)
}

fn truncate(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else if w == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(w - 1).collect();
        t.push('…');
        t
    }
}

/// The dependency pills of an item: "←ID" blockers, "→ID" dependents, "+N".
fn pills(app: &App, item: &Item) -> Vec<Span<'static>> {
    let mut all: Vec<(bool, &String)> = Vec::new();
    for b in app.links.blocked_by.get(&item.id).into_iter().flatten() {
        all.push((true, b));
    }
    for d in app.links.blocks.get(&item.id).into_iter().flatten() {
        all.push((false, d));
    }
    let shown_ids: Vec<&str> = app
        .rows
        .iter()
        .filter(|r| !r.ghost)
        .map(|r| app.items[r.idx].id.as_str())
        .collect();
    let mut out = Vec::new();
    for (blocker, id) in all.iter().take(2) {
        let (arrow, color) = if *blocker {
            ("←", ORANGE)
        } else {
            ("→", Color::Green)
        };
        let mut style = Style::default().fg(color);
        if !shown_ids.contains(&id.as_str()) {
            style = style.add_modifier(Modifier::ITALIC);
        }
        out.push(Span::styled(format!("{arrow}{} ", app.short_id(id)), style));
    }
    if all.len() > 2 {
        out.push(Span::raw(format!("+{}", all.len() - 2)));
    }
    out
}

fn list(f: &mut Frame, app: &mut App, area: Rect, layout: Layout) {
    let wide = layout == Layout::Wide;
    let full = layout != Layout::Compact;
    let with_status = full || area.width >= 55;
    let height = area.height.saturating_sub(1) as usize;
    if app.cursor < app.scroll {
        app.scroll = app.cursor;
    } else if height > 0 && app.cursor >= app.scroll + height {
        app.scroll = app.cursor + 1 - height;
    }
    app.list_area = Rect {
        y: area.y + 1,
        height: height as u16,
        ..area
    };
    let cap = if wide { 45 } else { 35 };
    let sel_id = app.selected().map(|i| i.id.clone()).unwrap_or_default();
    let num_w = app.rows.len().to_string().len().max(1) as u16;
    let id_w = app
        .items
        .iter()
        .map(|i| app.short_id(&i.id).len())
        .max()
        .unwrap_or(2)
        .clamp(2, cap);
    let mut status_w = 6;
    let mut deps_w = 4;
    let mut tags_w = 4;
    let mut rows = Vec::new();
    for (n, row) in app.rows.iter().enumerate().skip(app.scroll).take(height) {
        let item = &app.items[row.idx];
        let role = app.chain.as_ref().and_then(|(s, c)| c.role(&item.id, s));
        let (mark, mut style) = match role.filter(|_| full) {
            Some(Role::Selected) => ("▶", Style::default().fg(Color::Blue)),
            Some(Role::Blocker) => ("↑", Style::default().fg(ORANGE).bold()),
            Some(Role::Dependent) => ("↓", Style::default().fg(Color::Green).bold()),
            Some(Role::Transitive) => ("·", Style::default().add_modifier(Modifier::DIM)),
            None => (" ", Style::default()),
        };
        if row.ghost || row.forced {
            style = style.add_modifier(Modifier::ITALIC);
        }
        if n == app.cursor {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let mut title = "  ".repeat(row.depth);
        if row.depth > 0 {
            title.truncate(title.len() - 2);
            title.push_str("└ ");
        }
        if logic::human_unread(item, &app.marks) {
            title.push_str("🔵 ");
        }
        if item.frozen {
            title.push_str("🧊 ");
        }
        // Who holds it (the detail pane has the lease's end): ⚑ and the
        // session's first 16 characters; ⚐ once the lease has lapsed.
        if let Some(c) = htrac::claims::Claim::of(item) {
            if c.is_live(htrac::claims::now()) {
                let who: String = c.session.chars().take(16).collect();
                title.push_str(&format!("⚑ {who} "));
            } else {
                title.push_str("⚐ ");
            }
        }
        title.push_str(&item.title);
        let tags = Item::string_list(&item.tags).join(",");
        status_w = status_w.max(item.status.len().min(18));
        tags_w = tags_w.max(tags.len().min(16));
        let p = pills(app, item);
        deps_w = deps_w.max(
            p.iter()
                .map(|s| s.content.chars().count())
                .sum::<usize>()
                .min(26),
        );
        let mut cells = vec![
            Cell::from(format!("{}{}", n + 1, if full { mark } else { "" })),
            Cell::from(tier_letter(item.tier)),
            Cell::from(htrac::items::item::value_text(&item.priority)),
            Cell::from(truncate(app.short_id(&item.id), id_w)),
        ];
        if with_status {
            cells.push(Cell::from(item.status.clone()));
        }
        if full {
            cells.push(Cell::from(Line::from(p)));
        }
        cells.push(Cell::from(title));
        if full {
            cells.push(Cell::from(tags));
        }
        if wide {
            cells.push(Cell::from(if item.cross_tier_conflict {
                "⚠"
            } else {
                ""
            }));
            cells.push(Cell::from(
                item.created_at.get(..10).unwrap_or("").to_string(),
            ));
            cells.push(Cell::from(
                item.updated_at.get(..10).unwrap_or("").to_string(),
            ));
        }
        rows.push((cells, style));
    }
    // Give the title at least a quarter of the width (16 cells): drop
    // the tags, then the deps, then the dates, then shorten IDs.
    let title_min = 16;
    let fixed = |tags: bool, deps: bool, dates: bool, status: bool| {
        let mut n = num_w as usize + usize::from(full) + 1 + 1 + id_w + 4;
        if status {
            n += status_w + 1;
        }
        if deps {
            n += deps_w + 1;
        }
        if tags {
            n += tags_w + 1;
        }
        if wide {
            n += 2 + if dates { 22 } else { 0 };
        }
        n
    };
    let (mut show_tags, mut show_deps, mut show_dates, mut show_status) =
        (full, full, wide, with_status);
    let w = area.width as usize;
    for step in 0..4 {
        if fixed(show_tags, show_deps, show_dates, show_status) + title_min <= w {
            break;
        }
        match step {
            0 => show_tags = false,
            1 => show_deps = false,
            2 => show_dates = false,
            _ => show_status = false,
        }
    }
    let keep = |cells: Vec<Cell<'static>>| -> Vec<Cell<'static>> {
        // Cell order: #, T, P, ID, [Status], [Deps], Title, [Tags], [⚠, Created, Updated].
        let mut out = Vec::new();
        let mut i = 0;
        for (present, shown) in [
            (true, true),
            (true, true),
            (true, true),
            (true, true),
            (with_status, show_status),
            (full, show_deps),
            (true, true),
            (full, show_tags),
            (wide, wide),
            (wide, show_dates),
            (wide, show_dates),
        ] {
            if present {
                if shown {
                    out.push(cells[i].clone());
                }
                i += 1;
            }
        }
        out
    };
    let rows: Vec<TRow> = rows
        .into_iter()
        .map(|(cells, style)| TRow::new(keep(cells)).style(style))
        .collect();
    let mut header = vec!["#", "T", "P", "ID"];
    let mut widths = vec![
        Constraint::Length(num_w + u16::from(full)),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(id_w as u16),
    ];
    if show_status {
        header.push("Status");
        widths.push(Constraint::Length(status_w as u16));
    }
    if show_deps {
        header.push("Deps");
        widths.push(Constraint::Length(deps_w as u16));
    }
    header.push(if app.tree { "Title (tree)" } else { "Title" });
    widths.push(Constraint::Fill(1));
    if show_tags {
        header.push("Tags");
        widths.push(Constraint::Length(tags_w as u16));
    }
    if wide {
        header.push("⚠");
        widths.push(Constraint::Length(1));
    }
    if show_dates {
        header.extend(["Created", "Updated"]);
        widths.extend([Constraint::Length(10), Constraint::Length(10)]);
    }
    let _ = sel_id;
    let table = Table::new(rows, widths)
        .header(TRow::new(header).style(Style::default().bold().underlined()))
        .column_spacing(1);
    f.render_widget(table, area);
    if app.rows.is_empty() {
        let msg = if app.items.is_empty() {
            "No items yet: press n to add one."
        } else {
            "No items match the filters (Esc clears the text filter, f opens the panel)."
        };
        let r = Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        };
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), r);
    }
}
