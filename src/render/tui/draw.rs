//! The live view's widgets: a header (time, counts by state, hidden owners, recording), the
//! listener table, a footer (filter, status, keys) and the confirmation for `k`. Reads the
//! [`App`] and draws; decides nothing. Text from other processes is sanitised here.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row as TableRow, Table, TableState};

use super::app::{App, Mark, Mode, Row, Tone};
use super::free;
use crate::model::Proto;
use crate::text;
use crate::watch::Ending;

/// Column titles; the first column is the new/closed marker.
const TITLES: [&str; 9] = [
    "", "PROTO", "ADDRESS", "PORT", "PID", "PROCESS", "USER", "SINCE", "COMMAND",
];
/// Widest each column but COMMAND may get.
const MAX: [u16; 8] = [1, 5, 39, 5, 7, 15, 12, 8];
/// Narrowest the shrinkable columns go when the terminal is narrow (after COMMAND is gone).
const SHRINK: [(usize, u16); 3] = [(6, 4), (5, 7), (2, 9)];
/// Space between columns.
const SPACING: u16 = 1;
/// The key help.
const HELP: &str = "q quit  / filter  s sort  k free port  ↑↓ select";

/// Styles, with or without colour (`NO_COLOR`, `--color=never`).
#[derive(Debug, Clone, Copy)]
struct Look {
    color: bool,
}

impl Look {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    fn new_row(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    fn closed_row(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::DIM)
    }
    fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    fn tone(self, t: Tone) -> Style {
        match t {
            Tone::Info => Style::new(),
            Tone::Good => self.fg(Color::Green).add_modifier(Modifier::BOLD),
            Tone::Bad => self.warn(),
        }
    }
}

/// Draw the whole view.
pub fn draw(f: &mut Frame, app: &App, color: bool) {
    let look = Look { color };
    let area = f.area();
    let header = header_lines(app, look, area.width);
    let footer = footer_lines(app, look);
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Min(0),
        Constraint::Length(footer.len() as u16),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(header), top);
    draw_table(f, app, look, middle);
    f.render_widget(Paragraph::new(footer), bottom);
    if matches!(app.mode(), Mode::Filter) {
        let typed = u16::try_from(Span::raw(app.filter()).width()).unwrap_or(u16::MAX);
        let x = bottom.x.saturating_add(1).saturating_add(typed);
        f.set_cursor_position((x.min(bottom.right().saturating_sub(1)), bottom.y));
    }
    if let Mode::Confirm(c) = app.mode() {
        draw_confirm(f, c, look, middle, area);
    }
}

/// How many table rows fit in a terminal of `area` (for paging).
pub fn table_rows(app: &App, area: Rect) -> usize {
    let header = header_lines(app, Look { color: false }, area.width).len();
    let footer = footer_lines(app, Look { color: false }).len();
    usize::from(area.height)
        .saturating_sub(header + footer + 1)
        .max(1)
}

fn interval_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `tcp LISTEN 12 · ESTAB 40 · TIME-WAIT 3   udp UNCONN 5` (LISTEN first).
fn states_text(app: &App) -> String {
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let mut states: Vec<_> = app
            .states
            .counts
            .iter()
            .filter(|((p, _), _)| *p == proto)
            .map(|((p, s), n)| (*s != crate::model::SockState::Listen, s.ss_name(*p), *n))
            .collect();
        if states.is_empty() {
            continue;
        }
        states.sort_by_key(|(not_listen, _, _)| *not_listen);
        let parts: Vec<String> = states
            .iter()
            .map(|(_, name, n)| format!("{name} {n}"))
            .collect();
        out.push(format!("{} {}", proto.as_str(), parts.join(" · ")));
    }
    if out.is_empty() {
        "no TCP or UDP sockets".into()
    } else {
        out.join("   ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn header_lines(app: &App, look: Look, width: u16) -> Vec<Line<'static>> {
    let mut title = format!(
        " · {} · every {} · {}",
        crate::time::local(app.now, app.now),
        interval_text(app.interval),
        plural(app.open_count(), "listener", "listeners")
    );
    if app.opened + app.closed > 0 {
        title.push_str(&format!(" · {} opened, {} closed", app.opened, app.closed));
        let since = format!(" since {}", crate::time::local(app.started_at, app.now));
        // The start time only when it fits.
        if "portscope watch".len() + Span::raw(&title).width() + since.len() <= usize::from(width) {
            title.push_str(&since);
        }
    }
    let mut lines = vec![
        Line::from(vec![
            Span::styled("portscope watch", look.title()),
            Span::raw(title),
        ]),
        Line::raw(states_text(app)),
    ];
    if app.hidden.sockets > 0 {
        let n = app.hidden.sockets;
        let whose = if n == 1 {
            "1 listener's owner hidden".to_string()
        } else {
            format!("{n} listeners' owners hidden")
        };
        lines.push(Line::styled(
            format!("{whose}: {}", app.hidden.hint),
            look.warn(),
        ));
        lines.push(Line::styled(format!("({})", app.hidden.reason), look.dim()));
    }
    if let Some(p) = &app.recording {
        lines.push(Line::styled(
            format!("recording to {}", text::terminal(&p.display().to_string())),
            look.dim(),
        ));
    }
    lines
}

fn footer_lines(app: &App, look: Look) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let counts = format!("{} of {} match", app.shown(), app.total());
    match app.mode() {
        Mode::Filter => lines.push(Line::from(vec![
            Span::styled(format!("/{}", app.filter()), look.title()),
            Span::styled(format!("   Enter keep · Esc clear · {counts}"), look.dim()),
        ])),
        _ if !app.filter().is_empty() => lines.push(Line::from(vec![
            Span::styled(format!("filter \"{}\"", app.filter()), look.title()),
            Span::raw(format!(": {counts} · Esc clears")),
        ])),
        _ => {}
    }
    if let Some(s) = app.status() {
        lines.push(Line::styled(s.text.clone(), look.tone(s.tone)));
    }
    lines.push(Line::from(vec![
        Span::raw(HELP),
        Span::styled(format!("   sort: {}", app.sort().label()), look.dim()),
    ]));
    lines
}

fn ending_text(e: Option<Ending>) -> &'static str {
    match e {
        Some(Ending::ProcessExited) => "process exited",
        Some(Ending::SocketClosed) => "socket closed",
        Some(Ending::WhileNotRecording) => "closed while not recording",
        Some(Ending::Unknown) | None => "closed",
    }
}

/// The texts of one row, column by column.
fn cells(r: &Row, app: &App) -> [String; 9] {
    let l = &r.listener;
    let (pid, process, user, command) = match &l.owner {
        Some(o) => (
            o.pid.to_string(),
            text::terminal(&o.process).into_owned(),
            text::terminal(o.user.as_deref().unwrap_or(&o.uid.to_string())).into_owned(),
            text::command_line(&o.cmdline),
        ),
        None => (
            "-".into(),
            if l.owner_hidden { "(hidden)" } else { "?" }.into(),
            l.uid.to_string(),
            String::new(),
        ),
    };
    let (marker, command) = match r.mark {
        Mark::Steady => (" ", command),
        Mark::New(_) => ("+", command),
        Mark::Closed { ending, .. } => ("-", format!("[{}] {command}", ending_text(ending))),
    };
    let age = crate::time::age(r.opened_at as u64, app.now as u64);
    // First seen when the watcher started: it was open before, for at least this long.
    let since = if (r.opened_at - app.started_at).abs() < 1e-3 {
        format!("≥{age}")
    } else {
        age
    };
    [
        marker.into(),
        l.proto.as_str().into(),
        l.address.to_string(),
        l.port.to_string(),
        pid,
        process,
        user,
        since,
        command,
    ]
}

fn text_width(s: &str) -> u16 {
    u16::try_from(Span::raw(s).width()).unwrap_or(u16::MAX)
}

/// Column widths for `total` columns of terminal: each fixed column as wide as its widest
/// text (capped), COMMAND the rest; when even that does not fit, USER, PROCESS and ADDRESS
/// shrink, in that order.
fn widths(rows: &[[String; 9]], total: u16) -> [u16; 9] {
    let mut w = [0u16; 9];
    for (i, cap) in MAX.iter().enumerate() {
        let widest = rows
            .iter()
            .filter_map(|r| r.get(i))
            .map(|t| text_width(t))
            .chain(TITLES.get(i).map(|t| text_width(t)))
            .max()
            .unwrap_or(0);
        w[i] = widest.min(*cap);
    }
    let fixed = |w: &[u16; 9]| w[..8].iter().sum::<u16>() + SPACING * 8;
    for (i, min) in SHRINK {
        let over = fixed(&w).saturating_sub(total);
        if over == 0 {
            break;
        }
        w[i] = w[i].saturating_sub(over).max(min.min(w[i]));
    }
    w[8] = total.saturating_sub(fixed(&w));
    w
}

fn draw_table(f: &mut Frame, app: &App, look: Look, area: Rect) {
    let texts: Vec<[String; 9]> = app.visible_rows().map(|r| cells(r, app)).collect();
    if texts.is_empty() {
        let text = if app.filter().is_empty() {
            "no listeners".to_string()
        } else {
            format!("no listener matches \"{}\"", app.filter())
        };
        f.render_widget(Paragraph::new(text).style(look.dim()), area);
        return;
    }
    let w = widths(&texts, area.width);
    let rows = app.visible_rows().zip(texts).map(|(r, t)| {
        let style = match r.mark {
            Mark::Steady => Style::new(),
            Mark::New(_) => look.new_row(),
            Mark::Closed { .. } => look.closed_row(),
        };
        let cells = t.into_iter().enumerate().map(|(i, text)| {
            let line = Line::raw(text);
            // Numbers right-aligned.
            Cell::from(if i == 3 || i == 4 {
                line.alignment(Alignment::Right)
            } else {
                line
            })
        });
        TableRow::new(cells).style(style)
    });
    let header = TableRow::new(TITLES.map(Cell::from)).style(look.title());
    let table = Table::new(rows, w.map(Constraint::Length))
        .header(header)
        .column_spacing(SPACING)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default()
        .with_offset(app.offset())
        .with_selected(Some(app.selected()));
    f.render_stateful_widget(table, area, &mut state);
}

/// The question for `k`: at the bottom of the table when it fits there (the selected row,
/// at the top when filtered, stays in sight), else in the middle of the screen.
fn draw_confirm(f: &mut Frame, c: &super::app::Confirm, look: Look, table: Rect, area: Rect) {
    let mut lines: Vec<Line> = free::confirm_lines(&c.plan)
        .into_iter()
        .map(Line::raw)
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "y: yes, stop them    n / Esc: no",
        look.title(),
    ));
    let title = format!(" {} ", free::question(&c.listener, &c.plan));
    let widest = lines
        .iter()
        .map(Line::width)
        .chain([Span::raw(&title).width()])
        .max()
        .unwrap_or(0);
    let width = (u16::try_from(widest).unwrap_or(u16::MAX).saturating_add(4))
        .clamp(40, 100)
        .min(area.width);
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let popup = if height.saturating_add(2) <= table.height {
        let x = table.x + table.width.saturating_sub(width) / 2;
        Rect::new(x, table.bottom() - height, width.min(table.width), height)
    } else {
        area.centered(Constraint::Length(width), Constraint::Length(height))
    };
    f.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(title, look.warn()))
        .border_style(look.warn());
    f.render_widget(Paragraph::new(lines).block(block), popup);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tui::app::Key;
    use crate::render::tui::test_data::{event, frame, listener, plan};
    use crate::watch::EventKind;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    /// The screen of `app` drawn at `w`×`h`, as lines of text.
    fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
        let Ok(mut t) = Terminal::new(TestBackend::new(w, h));
        if let Err(e) = t.draw(|f| draw(f, app, true)) {
            panic!("drawing: {e}");
        }
        let buf = t.backend().buffer();
        (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect()
    }

    fn app_with_rows() -> App {
        let a = listener(8000, 50, "python3");
        let mut evil = listener(9000, 40, "evil\x1b[2J");
        if let Some(o) = evil.owner.as_mut() {
            o.cmdline = vec!["evil\x1b]0;pwned\x07".into()];
        }
        let mut app = App::new(Duration::from_secs(1));
        app.apply(frame(100.0, &[(&a, 100.0), (&evil, 100.0)], vec![]));
        let c = listener(7000, 60, "ruby");
        app.apply(frame(
            101.0,
            &[(&evil, 100.0), (&c, 101.0)],
            vec![
                event(EventKind::Closed, &a, 101.0),
                event(EventKind::Opened, &c, 101.0),
            ],
        ));
        app
    }

    #[test]
    fn an_80_by_24_screen_shows_header_rows_markers_and_keys() {
        let app = app_with_rows();
        let s = screen(&app, 80, 24);
        assert!(s[0].starts_with("portscope watch · "), "{}", s[0]);
        assert!(
            s[0].contains("2 listeners · 1 opened, 1 closed"),
            "{}",
            s[0]
        );
        let row = |port: &str| {
            s.iter()
                .find(|l| l.contains(port))
                .cloned()
                .unwrap_or_default()
        };
        assert!(row(" 7000 ").starts_with("+ tcp"), "{}", row(" 7000 "));
        assert!(row(" 8000 ").starts_with("- tcp"));
        assert!(
            row(" 8000 ").contains("[process exited] python3 --ser"),
            "{}",
            s.join("\n")
        );
        assert!(
            row(" 9000 ").contains("evil\\x1b[2J"),
            "names are sanitised"
        );
        assert!(!s.concat().contains('\x1b'));
        assert!(s[23].starts_with("q quit  / filter  s sort  k free port"));
    }

    #[test]
    fn the_confirmation_names_the_pid_and_tiny_screens_do_not_panic() {
        let mut app = app_with_rows();
        app.key(Key::Home);
        let l = app.selected_row().map(|r| r.listener.clone());
        let Some(l) = l else {
            panic!("a selected row");
        };
        app.planned(l, Ok(plan(false)));
        let s = screen(&app, 80, 24).concat();
        assert!(s.contains("python3[50]") && s.contains("y: yes"), "{s}");
        for (w, h) in [(1, 1), (10, 3), (30, 8), (200, 60)] {
            screen(&app, w, h);
        }
        app.key(Key::Esc);
        app.key(Key::Char('/'));
        for (w, h) in [(1, 1), (5, 2)] {
            screen(&app, w, h);
        }
    }

    fn row(address: &str, command: &str) -> [String; 9] {
        [
            "+", "tcp", address, "8000", "12345", "python3", "root", "≥5m", command,
        ]
        .map(String::from)
    }

    #[test]
    fn command_gets_the_rest_and_goes_first_when_narrow() {
        let rows = vec![row("127.0.0.1", "python3 -m http.server")];
        let w = widths(&rows, 120);
        assert_eq!(&w[..8], &[1, 5, 9, 4, 5, 7, 4, 5]);
        assert_eq!(w.iter().sum::<u16>() + 8, 120);
        let w = widths(&rows, 48);
        assert_eq!(w[8], 0, "COMMAND is gone first");
        assert_eq!(w[6], 4, "USER kept its width");
        let w = widths(&rows, 30);
        assert!(w[2] >= 9 && w[5] >= 7, "{w:?}");
    }

    #[test]
    fn intervals_read_naturally() {
        assert_eq!(interval_text(Duration::from_secs(1)), "1s");
        assert_eq!(interval_text(Duration::from_millis(300)), "300ms");
        assert_eq!(interval_text(Duration::from_millis(1500)), "1.5s");
    }
}
