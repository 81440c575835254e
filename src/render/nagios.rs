//! The Nagios plugin output: `SERVICE STATUS - text|perfdata`, then optional long-output
//! lines (the Monitoring Plugins development guidelines' format, as check_tcp prints it).
//!
//! The status line must stay one line whatever other processes chose to say: banners and
//! process names are cleaned ([`clean`]) so that no newline ends the line early and no `|`
//! starts perfdata in the middle of the text.

use std::fmt::Write as _;

use crate::commands::check::{CheckReport, Perf, safe as clean};

/// One status line (and optional long text) with perfdata.
pub fn render(r: &CheckReport) -> String {
    let mut out = format!("{} {} - {}", r.service, r.state.word(), clean(&r.summary));
    if !r.perfdata.is_empty() {
        out.push('|');
        let items: Vec<String> = r.perfdata.iter().map(perf).collect();
        out.push_str(&items.join(" "));
    }
    out.push('\n');
    for line in &r.details {
        out.push_str(&clean(line));
        out.push('\n');
    }
    out
}

/// One perfdata item: `'label'=value[UOM];[warn];[crit];[min];[max]`, trailing empty
/// fields left out after `min` as check_tcp does (`time=0.000118s;;;0.000000;10.000000`).
pub fn perf(p: &Perf) -> String {
    let number = |v: f64| match p.decimals {
        Some(d) => format!("{v:.d$}"),
        None if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        None => format!("{v}"),
    };
    let mut out = label(&p.label);
    let _ = write!(out, "={}{}", number(p.value), p.uom);
    let fields = [
        p.warn.as_deref().map(range_text),
        p.crit.as_deref().map(range_text),
        p.min.map(number),
        p.max.map(number),
    ];
    let last = fields.iter().rposition(Option::is_some);
    if let Some(last) = last {
        for f in &fields[..=last] {
            out.push(';');
            out.push_str(f.as_deref().unwrap_or(""));
        }
    }
    out
}

/// A label, quoted when it holds a space, `=` or `'` (a `'` inside is doubled).
fn label(text: &str) -> String {
    let text = clean(text);
    if text.contains([' ', '=', '\'']) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        text
    }
}

/// A range in a perfdata field: no `;`, space or control character can end the field.
fn range_text(text: &str) -> String {
    clean(text).replace([';', ' '], "")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::commands::check::State;

    fn report(summary: &str, perfdata: Vec<Perf>, details: Vec<String>) -> CheckReport {
        CheckReport {
            plugin: "connect",
            service: "TCP",
            state: State::Ok,
            exit_code: 0,
            summary: summary.into(),
            perfdata,
            details,
            listen: None,
            connect: None,
            audit: None,
        }
    }

    fn time(v: f64, warn: Option<&str>) -> Perf {
        Perf {
            label: "time".into(),
            value: v,
            uom: "s",
            warn: warn.map(str::to_string),
            crit: None,
            min: Some(0.0),
            max: Some(10.0),
            decimals: Some(6),
        }
    }

    #[test]
    fn check_tcp_shape() {
        let r = report(
            "0.000 second response time on 127.0.0.1 port 8080",
            vec![time(0.000_123, None)],
            vec![],
        );
        assert_eq!(
            render(&r),
            "TCP OK - 0.000 second response time on 127.0.0.1 port 8080\
             |time=0.000123s;;;0.000000;10.000000\n"
        );
        assert_eq!(
            perf(&time(0.5, Some("~:1"))),
            "time=0.500000s;~:1;;0.000000;10.000000"
        );
    }

    #[test]
    fn counts_and_labels() {
        assert_eq!(perf(&Perf::count("listeners", 2)), "listeners=2;;;0");
        let mut p = Perf::count("odd label's=", 1);
        p.min = None;
        assert_eq!(perf(&p), "'odd label''s='=1");
        p.value = 0.25;
        assert_eq!(perf(&p), "'odd label''s='=0.25");
    }

    #[test]
    fn hostile_text_stays_on_one_line() {
        let r = report(
            "banner [evil\r\nTCP OK - fake|time=0s]",
            vec![Perf::count("x", 1)],
            vec!["a\nb|c".into()],
        );
        let out = render(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0].matches('|').count(), 1, "{out}");
        assert!(lines[0].ends_with("|x=1;;;0"), "{out}");
        assert_eq!(lines[1], "a\\x0ab\\x7cc");
        assert_eq!(clean(&clean("a|\n\u{1b}")), clean("a|\n\u{1b}"));
    }

    #[test]
    fn no_perfdata_no_bar() {
        let r = report("bad -w", vec![], vec![]);
        assert_eq!(render(&r), "TCP OK - bad -w\n");
    }
}
