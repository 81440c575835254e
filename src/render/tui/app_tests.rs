//! Unit tests of the view's state: frames and keys in, rows and actions out.

use super::*;
use crate::render::tui::test_data::{event, frame, listener, plan};
use crate::watch::Ending;

fn ports(app: &App) -> Vec<u16> {
    app.visible_rows().map(|r| r.listener.port).collect()
}

fn marks(app: &App) -> Vec<(u16, char)> {
    app.visible_rows()
        .map(|r| {
            let m = match r.mark {
                Mark::Steady => ' ',
                Mark::New(_) => '+',
                Mark::Closed { .. } => '-',
            };
            (r.listener.port, m)
        })
        .collect()
}

/// A view with listeners on 8000 (python3, pid 50) and 9000 (node, pid 40) at start.
fn started() -> (App, Listener, Listener) {
    let a = listener(8000, 50, "python3");
    let b = listener(9000, 40, "node");
    let mut app = App::new(Duration::from_secs(1));
    // A recorder catching up reports events in the first frame: not marks.
    let caught_up = vec![event(EventKind::Opened, &a, 100.0)];
    app.apply(frame(100.0, &[(&a, 100.0), (&b, 100.0)], caught_up));
    (app, a, b)
}

#[test]
fn listeners_open_at_start_are_not_new() {
    let (app, _, _) = started();
    assert_eq!(marks(&app), vec![(8000, ' '), (9000, ' ')]);
    assert_eq!((app.opened, app.closed), (0, 0));
}

#[test]
fn new_listeners_are_marked_for_a_few_refreshes_and_at_least_three_seconds() {
    let (mut app, a, b) = started();
    let c = listener(7000, 60, "ruby");
    let open = |t: f64| vec![(&a, 100.0), (&b, 100.0), (&c, t)];
    app.apply(frame(
        101.0,
        &open(101.0),
        vec![event(EventKind::Opened, &c, 101.0)],
    ));
    assert_eq!(marks(&app)[0], (7000, '+'));
    assert_eq!(app.opened, 1);
    // Three refreshes in a tenth of a second: still new (the time floor).
    for t in [101.1, 101.2, 101.3] {
        app.apply(frame(t, &open(101.0), vec![]));
    }
    assert_eq!(marks(&app)[0], (7000, '+'));
    app.apply(frame(104.5, &open(101.0), vec![]));
    assert_eq!(marks(&app)[0], (7000, ' '));
}

#[test]
fn closed_listeners_linger_with_their_ending_then_go() {
    let (mut app, a, b) = started();
    app.apply(frame(
        101.0,
        &[(&b, 100.0)],
        vec![event(EventKind::Closed, &a, 101.0)],
    ));
    assert_eq!(marks(&app), vec![(8000, '-'), (9000, ' ')]);
    assert_eq!(app.open_count(), 1);
    assert_eq!(app.closed, 1);
    let closed = app.visible_rows().next().map(|r| r.mark);
    assert!(matches!(
        closed,
        Some(Mark::Closed {
            ending: Some(Ending::ProcessExited),
            ..
        })
    ));
    for t in [102.0, 103.0] {
        app.apply(frame(t, &[(&b, 100.0)], vec![]));
        assert_eq!(ports(&app), vec![8000, 9000]);
    }
    app.apply(frame(104.0, &[(&b, 100.0)], vec![]));
    assert_eq!(ports(&app), vec![9000]);
}

#[test]
fn the_filter_matches_any_column_case_insensitively_and_esc_clears_it() {
    let (mut app, _, _) = started();
    assert_eq!(app.key(Key::Char('/')), Action::Redraw);
    for c in "NODE".chars() {
        app.key(Key::Char(c));
    }
    assert_eq!(ports(&app), vec![9000], "applied while typing");
    app.key(Key::Enter);
    assert!(matches!(app.mode(), Mode::Browse));
    assert_eq!(app.filter(), "NODE");
    assert_eq!((app.shown(), app.total()), (1, 2));
    // Esc with a filter clears it rather than quitting.
    assert_eq!(app.key(Key::Esc), Action::Redraw);
    assert_eq!(ports(&app), vec![8000, 9000]);
    assert_eq!(app.key(Key::Esc), Action::Quit);
}

#[test]
fn filter_fields_and_editing() {
    let (mut app, _, _) = started();
    app.key(Key::Char('/'));
    for (text, want) in [
        ("8000", vec![8000]),
        ("--serve", vec![8000, 9000]),
        ("ada", vec![8000, 9000]),
        ("40", vec![9000]),
        ("127.0.0.1", vec![8000, 9000]),
        ("tcp", vec![8000, 9000]),
        ("nothing-like-it", vec![]),
    ] {
        while !app.filter().is_empty() {
            app.key(Key::Backspace);
        }
        for c in text.chars() {
            app.key(Key::Char(c));
        }
        assert_eq!(ports(&app), want, "filter {text:?}");
    }
    app.key(Key::Esc);
    assert_eq!(app.filter(), "");
    assert!(matches!(app.mode(), Mode::Browse));
    // In the filter, q is a letter, not quit.
    app.key(Key::Char('/'));
    assert_eq!(app.key(Key::Char('q')), Action::Redraw);
    assert_eq!(app.key(Key::Interrupt), Action::Quit);
}

#[test]
fn sort_cycles_and_the_selection_follows_its_listener() {
    let (mut app, a, b) = started();
    let c = listener(7000, 45, "apache");
    app.apply(frame(
        101.0,
        &[(&a, 100.0), (&b, 100.0), (&c, 101.0)],
        vec![event(EventKind::Opened, &c, 101.0)],
    ));
    assert_eq!(ports(&app), vec![7000, 8000, 9000]);
    // 8000 was selected (the first row); a row above it appeared, the selection stayed.
    assert_eq!(app.selected(), 1);
    assert_eq!(app.selected_row().map(|r| r.listener.port), Some(8000));
    let mut seen = Vec::new();
    for _ in 0..5 {
        app.key(Key::Char('s'));
        seen.push((app.sort(), ports(&app)));
        assert_eq!(app.selected_row().map(|r| r.listener.port), Some(8000));
    }
    assert_eq!(
        seen,
        vec![
            (SortBy::Process, vec![7000, 9000, 8000]),
            (SortBy::Pid, vec![9000, 7000, 8000]),
            (SortBy::Since, vec![7000, 8000, 9000]),
            (SortBy::Address, vec![7000, 8000, 9000]),
            (SortBy::Port, vec![7000, 8000, 9000]),
        ]
    );
}

#[test]
fn movement_is_clamped() {
    let (mut app, _, _) = started();
    app.set_page(1);
    for k in [Key::Up, Key::PageUp, Key::Home] {
        app.key(k);
        assert_eq!(app.selected(), 0);
    }
    app.key(Key::PageDown);
    assert_eq!((app.selected(), app.offset()), (1, 1));
    for k in [Key::Down, Key::Char('j'), Key::End, Key::PageDown] {
        app.key(k);
        assert_eq!(app.selected(), 1);
    }
    // Nothing shown: nothing selected, and k says so.
    app.key(Key::Char('/'));
    app.key(Key::Char('#'));
    app.key(Key::Enter);
    app.key(Key::Down);
    assert!(app.selected_row().is_none());
    assert_eq!(app.key(Key::Char('k')), Action::Redraw);
    assert_eq!(
        app.status().map(|s| s.text.as_str()),
        Some("no listener is selected")
    );
}

#[test]
fn k_asks_then_y_kills_and_n_cancels() {
    let (mut app, a, _) = started();
    let Action::PlanKill(l) = app.key(Key::Char('k')) else {
        panic!("k on an open listener plans a kill");
    };
    assert_eq!(l, a);
    app.planned(l.clone(), Ok(plan(false)));
    assert!(matches!(app.mode(), Mode::Confirm(_)));
    // Other keys do nothing while asking.
    assert_eq!(app.key(Key::Char('s')), Action::Redraw);
    assert_eq!(app.sort(), SortBy::Port);
    assert_eq!(app.key(Key::Char('y')), Action::Kill(a.clone()));
    assert!(matches!(app.mode(), Mode::Browse));
    app.planned(l, Ok(plan(false)));
    assert_eq!(app.key(Key::Char('n')), Action::Redraw);
    assert!(matches!(app.mode(), Mode::Browse));
    assert!(
        app.status()
            .is_some_and(|s| s.text.contains("nothing was stopped"))
    );
}

#[test]
fn k_with_nothing_to_stop_says_why_without_asking() {
    let (mut app, a, b) = started();
    app.planned(a.clone(), Ok(plan(true)));
    assert!(matches!(app.mode(), Mode::Browse));
    assert_eq!(
        app.status().map(|s| (s.text.as_str(), s.tone)),
        Some((
            "nothing holds 127.0.0.1:8000/tcp any more: it is free",
            Tone::Bad
        ))
    );
    // A closed row cannot be freed.
    app.apply(frame(
        101.0,
        &[(&b, 100.0)],
        vec![event(EventKind::Closed, &a, 101.0)],
    ));
    app.key(Key::Home);
    assert_eq!(app.key(Key::Char('k')), Action::Redraw);
    assert!(
        app.status()
            .is_some_and(|s| s.text.contains("already closed"))
    );
    // The status goes after a few seconds.
    app.apply(frame(120.0, &[(&b, 100.0)], vec![]));
    assert!(app.status().is_none());
}

#[test]
fn y_after_the_listener_closed_stops_nothing() {
    let (mut app, a, b) = started();
    app.planned(a.clone(), Ok(plan(false)));
    app.apply(frame(
        101.0,
        &[(&b, 100.0)],
        vec![event(EventKind::Closed, &a, 101.0)],
    ));
    assert!(matches!(app.mode(), Mode::Confirm(_)), "refreshes go on");
    assert_eq!(app.key(Key::Char('y')), Action::Redraw);
    assert!(
        app.status()
            .is_some_and(|s| s.text.contains("closed while asking"))
    );
}
