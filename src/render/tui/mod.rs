//! The live terminal view of `watch` (ratatui over crossterm): the loop that draws, waits for
//! keys until the next refresh is due, and carries out what the keys ask of the feed.
//!
//! The terminal is put in raw mode on the alternate screen by `Screen`, and put back on
//! every way out: a normal end, an error (the guard's `Drop`), a panic (a hook that restores
//! the terminal before the panic message is printed), Ctrl+C (a key in raw mode),
//! SIGTERM/SIGHUP (caught, and checked at least every `TICK`) and the terminal hanging up.
//! State and key handling live in `app.rs`, the widgets in `draw.rs`, the texts of `k` in
//! `free.rs`.

mod app;
mod draw;
mod free;
mod rows;
#[cfg(test)]
mod test_data;

use std::io::{Stdout, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, KeyCode, KeyEvent, KeyModifiers};
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};

use crate::commands::watch::LiveFeed;
use crate::error::{Error, Result};
use crate::sys::stop::{StopSignals, Wake};

use app::{Action, App, Key};

/// The longest the loop waits for a key before looking at signals and the feed's end again.
const TICK: Duration = Duration::from_millis(200);

/// Run the view until the person quits (q, Esc, Ctrl+C), a stop signal arrives, or the feed
/// is finished; in colour.
pub fn run(feed: &mut dyn LiveFeed) -> Result<()> {
    run_with(feed, true)
}

/// [`run`], in colour only when `color` (bold, dim and reverse video are kept without it:
/// the `+`/`-` markers say the rest).
pub fn run_with(feed: &mut dyn LiveFeed, color: bool) -> Result<()> {
    let stop = StopSignals::install()?;
    let mut app = App::new(feed.interval());
    app.apply(feed.refresh()?);
    let mut screen = Screen::enter()?;
    let result = event_loop(&mut screen, feed, &mut app, &stop, color);
    drop(screen);
    result
}

fn event_loop(
    screen: &mut Screen,
    feed: &mut dyn LiveFeed,
    app: &mut App,
    stop: &StopSignals,
    color: bool,
) -> Result<()> {
    let interval = feed.interval();
    let mut next = Instant::now() + interval;
    loop {
        if stop.arrived() || feed.finished() {
            return Ok(());
        }
        let done = screen
            .terminal
            .draw(|f| draw::draw(f, app, color))
            .map_err(failed("drawing the view"))?;
        app.set_page(draw::table_rows(app, done.area));
        let wait = next.saturating_duration_since(Instant::now()).min(TICK);
        if !wait_for_input(stop, wait)? {
            return Ok(());
        }
        // Everything crossterm has (keys, a resize), without waiting.
        while event::poll(Duration::ZERO).map_err(failed("reading a key"))? {
            let ev = event::read().map_err(failed("reading a key"))?;
            let Some(k) = ev.as_key_press_event().and_then(key) else {
                continue;
            };
            match app.key(k) {
                Action::Redraw => {}
                Action::Quit => return Ok(()),
                Action::PlanKill(l) => {
                    let plan = feed.plan_kill(&l);
                    app.planned(l, plan);
                }
                Action::Kill(l) => {
                    // Say what is going on: stopping can take the whole --timeout.
                    screen
                        .terminal
                        .draw(|f| draw::draw(f, app, color))
                        .map_err(failed("drawing the view"))?;
                    let report = feed.kill(&l);
                    app.killed(&l, report);
                    // Show the port's new state at once.
                    next = Instant::now();
                }
            }
        }
        if Instant::now() >= next {
            app.apply(feed.refresh()?);
            next += interval;
            if next < Instant::now() {
                next = Instant::now() + interval;
            }
        }
    }
}

/// An I/O error's wrapper, naming what the view was doing.
fn failed(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::io(what, e)
}

/// Wait up to `timeout` for a key, a hang-up of the terminal, or a stop signal: `false`
/// when the view should end (hang-up).
fn wait_for_input(stop: &StopSignals, timeout: Duration) -> Result<bool> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        // crossterm reads /dev/tty then; let it wait.
        event::poll(timeout).map_err(failed("waiting for a key"))?;
        return Ok(true);
    }
    Ok(stop.wait_stdin(timeout) != Wake::HungUp)
}

/// The view's key for a key press; `None` for keys it does not use.
fn key(k: KeyEvent) -> Option<Key> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('c') if ctrl => Key::Interrupt,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

/// Whether the terminal is in the view's state (raw mode, alternate screen): what the panic
/// hook and the guard look at, so it is restored exactly once.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal in raw mode on the alternate screen, for as long as this value lives.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn enter() -> Result<Screen> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = || -> std::io::Result<Terminal<CrosstermBackend<Stdout>>> {
            enable_raw_mode()?;
            execute!(stdout(), EnterAlternateScreen, cursor::Hide)?;
            // Not `Terminal::clear`: it asks the terminal where its cursor is, and a terminal
            // that does not answer would fail the view after a 2 s wait.
            execute!(stdout(), Clear(ClearType::All))?;
            Terminal::new(CrosstermBackend::new(stdout()))
        };
        match setup() {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                restore();
                Err(Error::io("setting up the terminal", e))
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Leave raw mode and the alternate screen, show the cursor; once, however many call it.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(stdout(), LeaveAlternateScreen, cursor::Show);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_translate() {
        let press = |code, modifiers| key(KeyEvent::new(code, modifiers));
        assert_eq!(
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Key::Interrupt)
        );
        assert_eq!(press(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
        assert_eq!(
            press(KeyCode::Char('/'), KeyModifiers::NONE),
            Some(Key::Char('/'))
        );
        assert_eq!(press(KeyCode::F(1), KeyModifiers::NONE), None);
    }
}
