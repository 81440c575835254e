//! The clock and timestamps for people: now, UTC calendar time, local clock time and a rough
//! age. Shared by the engines (snapshots, history), the renderers and the prober.

/// Unix time now, in seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian; before 1970 too).
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Unix seconds as RFC 3339 UTC with milliseconds: `2026-11-22T05:01:02.123Z`.
pub fn rfc3339(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as i64;
    let whole = ms.div_euclid(1000);
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Unix seconds as local clock time for people: `14:02:11` when it is today, else
/// `2026-11-21 14:02:11`. The zone is the system's (`TZ`, else `/etc/localtime`; UTC when
/// neither says).
pub fn local(secs: f64, now: f64) -> String {
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    local_in(secs, now, &tz)
}

/// [`local`] in the zone `tz`.
pub fn local_in(secs: f64, now: f64, tz: &jiff::tz::TimeZone) -> String {
    let at = |s: f64| {
        jiff::Timestamp::from_millisecond((s * 1000.0).round() as i64)
            .ok()
            .map(|t| t.to_zoned(tz.clone()))
    };
    match (at(secs), at(now)) {
        (Some(t), Some(n)) if t.date() == n.date() => t.strftime("%H:%M:%S").to_string(),
        (Some(t), _) => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        _ => rfc3339(secs),
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `3d 4h`, `12m`, `40s`: how long ago `then` was, seen from `now` (seconds since the epoch).
pub fn age(then: u64, now: u64) -> String {
    let s = now.saturating_sub(then);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_795_305_612), "2026-11-22 00:00:12 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(rfc3339(1_795_305_612.123_4), "2026-11-22T00:00:12.123Z");
        assert_eq!(rfc3339(0.9996), "1970-01-01T00:00:01.000Z");
        let day = 1_795_305_612.0;
        assert_eq!(local(day, day).len(), 8, "today: the clock time only");
        assert_eq!(
            local(day - 3.0 * 86_400.0, day).len(),
            19,
            "another day: the date too"
        );
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(age(100, 140), "40s");
        assert_eq!(age(0, 7_320), "2h 2m");
        assert_eq!(age(0, 90_000), "1d 1h");
    }
}
