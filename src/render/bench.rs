//! `bench`'s live lines and its report: a table per transport (phase, count, min, p50, p90,
//! p99, max, mean; a throughput row), and with `--unix` TCP and unix side by side.

use crate::commands::bench::{BenchReport, TransportReport};
use crate::traffic::bench::{BenchLine, Stats, Throughput};

use super::style::Palette;
use super::table::Table;
use crate::text::terminal;

/// One live line (ends with a newline).
pub fn line(l: &BenchLine, pal: &Palette) -> String {
    let text = match l {
        BenchLine::ServerStarted {
            kind,
            transport,
            address,
        } => format!(
            "started a {transport} {kind} server on {}",
            terminal(address)
        ),
        BenchLine::PhaseStarted {
            transport,
            phase,
            target,
            count,
            size_bytes,
            duration_s,
            mode,
        } => {
            let target = terminal(target);
            let count = count.unwrap_or_default();
            let size = size_bytes.unwrap_or_default();
            match *phase {
                "round_trip" => {
                    let nodelay = if *transport == "tcp" {
                        ", TCP_NODELAY"
                    } else {
                        ""
                    };
                    format!(
                        "{transport} round trip: {count} × {size}-byte request read back on one \
                         connection to {target}{nodelay}"
                    )
                }
                "connect" => format!("{transport} connect: {count} × fresh connection to {target}"),
                _ => format!(
                    "{transport} throughput: {} of {} KiB writes to {} {target}",
                    seconds(duration_s.unwrap_or_default()),
                    size >> 10,
                    mode.unwrap_or("discard"),
                ),
            }
        }
    };
    format!("{}\n", pal.dim(&text))
}

/// A time in microseconds, in a readable unit.
fn time(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.1}µs")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0}ms", s * 1000.0)
    } else {
        format!("{s:.2}s")
    }
}

fn gbits(t: &Throughput) -> String {
    format!("{:.2} Gbit/s", t.bits_per_second / 1e9)
}

fn stats_row(name: &str, s: &Stats) -> Vec<String> {
    let mut row = vec![name.to_string(), s.count.to_string()];
    row.extend(
        [s.min_us, s.p50_us, s.p90_us, s.p99_us, s.max_us, s.mean_us]
            .into_iter()
            .map(time),
    );
    row
}

fn transport_rows(t: &mut Table, prefix: &str, r: &TransportReport) {
    t.push(stats_row(&format!("{prefix}connect"), &r.connect));
    t.push(stats_row(&format!("{prefix}round trip"), &r.round_trip));
}

fn throughput_row(t: &mut Table, name: &str, tp: &Throughput) {
    t.push(vec![
        name.to_string(),
        gbits(tp),
        format!("{:.0} MiB/s", tp.mib_per_second),
        format!("{} MiB", tp.bytes >> 20),
        seconds(tp.duration_s),
        format!("{} {}", tp.mode, terminal(&tp.target)),
    ]);
}

/// The report.
pub fn render(r: &BenchReport, pal: &Palette) -> String {
    let whose = if r.target_started {
        "an echo server started for this run"
    } else {
        "echo target"
    };
    let mut out = format!(
        "{} {} ({whose}); {}-byte requests, TCP_NODELAY\n",
        pal.header("bench"),
        terminal(&r.target),
        r.size_bytes,
    );
    let mut t = Table::new(&["PHASE", "COUNT", "MIN", "P50", "P90", "P99", "MAX", "MEAN"]);
    let both = r.unix.is_some();
    transport_rows(&mut t, if both { "tcp " } else { "" }, &r.tcp);
    if let Some(u) = &r.unix {
        transport_rows(&mut t, "unix ", u);
    }
    out.push_str(&t.render(|h| pal.header(h)));
    out.push('\n');
    let mut t = Table::new(&["THROUGHPUT", "RATE", "MIB/S", "BYTES", "TIME", "TO"]);
    throughput_row(&mut t, "tcp", &r.tcp.throughput);
    if let Some(u) = &r.unix {
        throughput_row(&mut t, "unix", &u.throughput);
    }
    out.push_str(&t.render(|h| pal.header(h)));
    let tp = &r.tcp.throughput;
    if let (Some(u), Some(x)) = (&r.unix, &r.tcp_over_unix) {
        out.push('\n');
        let mut c = Table::new(&["TCP VS UNIX", "TCP", "UNIX", "TCP/UNIX"]);
        let rows = [
            (
                "connect p50",
                time(r.tcp.connect.p50_us),
                time(u.connect.p50_us),
                x.connect_p50,
            ),
            (
                "round trip p50",
                time(r.tcp.round_trip.p50_us),
                time(u.round_trip.p50_us),
                x.round_trip_p50,
            ),
            (
                "round trip p99",
                time(r.tcp.round_trip.p99_us),
                time(u.round_trip.p99_us),
                x.round_trip_p99,
            ),
            ("throughput", gbits(tp), gbits(&u.throughput), x.throughput),
        ];
        for (name, a, b, ratio) in rows {
            c.push(vec![name.to_string(), a, b, format!("{ratio:.2}×")]);
        }
        out.push_str(&c.render(|h| pal.header(h)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(time(35.24), "35.2µs");
        assert_eq!(time(1234.0), "1.23ms");
        assert_eq!(time(2_500_000.0), "2.50s");
        assert_eq!(seconds(0.5), "500ms");
        assert_eq!(seconds(2.004), "2.00s");
    }
}
