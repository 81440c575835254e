//! Typed options for the follow verbs, converted from their clap structs: `watch`, `daemon`,
//! `history` and `ui` here, the traffic tools (`serve`, `forward`, `tap`, `bench`) in
//! [`traffic`]. Each flag is parsed once, in the order the verbs used to parse them, so the
//! first bad flag is the one reported.

mod traffic;

use std::time::Duration;

use jiff::tz::TimeZone;

use crate::cli::{
    DaemonArgs, FollowArgs, HistoryArgs, ListenerKinds, RetentionArgs, UiArgs, WatchArgs,
};
use crate::commands::ui::TokenExposure;
use crate::commands::{history, ui, watch};
use crate::error::{Error, Result};
use crate::store::history::Retention;
use crate::target::Target;
use crate::watch::observe::Kinds;

impl WatchArgs {
    /// `watch`'s typed options. `--keep` and `--max-size` are checked with or without
    /// `--record` (a typo is an error, not a surprise on the day recording is turned on).
    pub fn options(&self) -> Result<watch::Options> {
        Ok(watch::Options {
            events: self.events,
            record: self.record,
            follow: self.follow.options()?,
        })
    }
}

impl DaemonArgs {
    /// `daemon`'s typed options.
    pub fn options(&self) -> Result<watch::DaemonOptions> {
        Ok(watch::DaemonOptions {
            events: self.events,
            follow: self.follow.options()?,
        })
    }
}

impl FollowArgs {
    /// The shared flags, every one parsed before anything starts (the retention too, though
    /// only recording uses it).
    fn options(&self) -> Result<watch::FollowOptions> {
        let interval = interval(&self.interval)?;
        let duration = self.duration.as_deref().map(duration).transpose()?;
        Ok(watch::FollowOptions {
            interval,
            duration,
            kinds: kinds(&self.kinds),
            retention: retention(&self.retention)?,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

/// `--interval`: a duration from 100 ms to 1 h.
fn interval(text: &str) -> Result<Duration> {
    let d = crate::input::duration(text, "--interval")?;
    if d < Duration::from_millis(100) || d > Duration::from_secs(3600) {
        return Err(Error::bad_input(
            format!("--interval {} is out of range", crate::text::echo(text)),
            "expected a duration from 100ms to 1h, e.g. 1s or 500ms",
        ));
    }
    Ok(d)
}

/// `--duration`: from 100ms (the shortest `--interval`) to a day; 0 would stop before the
/// first look.
fn duration(text: &str) -> Result<Duration> {
    let d = crate::input::duration(text, "--duration")?;
    if d < Duration::from_millis(100) {
        return Err(Error::bad_input(
            format!("--duration {} is too short", crate::text::echo(text)),
            "expected a duration from 100ms to 24h, e.g. --duration 30s (without it: until \
             stopped)",
        ));
    }
    Ok(d)
}

/// `--tcp`/`--udp`: one of them alone narrows, both or neither follow both.
fn kinds(k: &ListenerKinds) -> Kinds {
    match (k.tcp, k.udp) {
        (true, false) => Kinds {
            tcp: true,
            udp: false,
        },
        (false, true) => Kinds {
            tcp: false,
            udp: true,
        },
        _ => Kinds::default(),
    }
}

/// `--keep` (at least 1m) and `--max-size`.
fn retention(args: &RetentionArgs) -> Result<Retention> {
    let keep = crate::input::span(&args.keep, "--keep")?;
    if keep < Duration::from_secs(60) {
        return Err(Error::bad_input(
            format!("--keep {} is too short", crate::text::echo(&args.keep)),
            "expected at least 1m, e.g. 30d, 12h or 90m",
        ));
    }
    Ok(Retention {
        keep_s: keep.as_secs_f64(),
        max_bytes: parse_size(&args.max_size)?,
    })
}

/// `256MiB`, `1GiB`, `500MB`, `1048576` → bytes (at least 1 MiB).
fn parse_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::bad_input(
            format!("--max-size {} is not a size", crate::text::echo(text)),
            "expected a size of at least 1MiB, e.g. 256MiB, 1GiB, 500MB or 1048576 (bytes)",
        )
    };
    match crate::input::bytes(text) {
        Some(bytes) if bytes >= 1 << 20 => Ok(bytes),
        _ => Err(bad()),
    }
}

impl HistoryArgs {
    /// `history`'s typed options: `--since`/`--until` become moments (a span is counted back
    /// from now, a time without an offset is local).
    pub fn options(&self) -> Result<history::Options> {
        let now = crate::time::now();
        let tz = TimeZone::system();
        let limit = parse_limit(&self.limit)?;
        let target = self
            .target
            .as_deref()
            .map(crate::target::parse)
            .transpose()?;
        if let Some(Target::Process(name)) = &target
            && self.process.as_ref().is_some_and(|p| p != name)
        {
            return Err(Error::bad_input(
                format!(
                    "two process names given ({} and --process {})",
                    crate::text::echo(name),
                    crate::text::echo(self.process.as_deref().unwrap_or(""))
                ),
                "give the process name once, as the target or with --process",
            ));
        }
        let since = self
            .since
            .as_deref()
            .map(|t| parse_when(t, "--since", now, &tz))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| parse_when(t, "--until", now, &tz))
            .transpose()?;
        // Without a target the window starts an hour ago (the verb applies the same default).
        let from = since.or(target.is_none().then_some(now - history::DEFAULT_WINDOW_S));
        if let (Some(s), Some(u)) = (from, until)
            && u < s
        {
            return Err(Error::bad_input(
                format!(
                    "--until {} is before --since {}",
                    crate::text::echo(self.until.as_deref().unwrap_or("")),
                    crate::text::echo(self.since.as_deref().unwrap_or("1h"))
                ),
                "expected --until later than --since",
            ));
        }
        Ok(history::Options {
            target,
            since,
            until,
            process: self.process.clone(),
            limit,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

/// `--limit`: a row count from 1 to [`history::MAX_LIMIT`].
fn parse_limit(text: &str) -> Result<usize> {
    let max = history::MAX_LIMIT;
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::bad_input(
            format!("--limit {} is not a row count", crate::text::echo(text)),
            format!("expected a whole number from 1 to {max}, e.g. --limit 50"),
        )),
    }
}

/// `--since`/`--until`: a span ago (`1h`, `30m`, `2d`, `1h ago`), `now`, or a time —
/// RFC 3339 with an offset or `Z`, `2026-11-22T13:40`, `2026-11-22 13:40:00`, `2026-11-22`,
/// `13:40` (today) — in `tz` unless it carries an offset. Unix seconds.
fn parse_when(text: &str, flag: &str, now: f64, tz: &TimeZone) -> Result<f64> {
    let t = text.trim();
    let bad = || {
        Error::bad_input(
            format!("{flag} {} is not a time", crate::text::echo(text)),
            "expected a span ago (90s, 30m, 1h, 2d, 1w) or a time (13:40, 2026-11-22T13:40, \
             '2026-11-22 13:40:00', 2026-11-22T13:40:00Z), local unless it gives an offset",
        )
    };
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    let ago = t.strip_suffix("ago").map_or(t, str::trim_end);
    if !ago.is_empty()
        && let Ok(span) = crate::input::span(ago, flag)
    {
        return Ok(now - span.as_secs_f64());
    }
    let unix = |ts: jiff::Timestamp| ts.as_millisecond() as f64 / 1000.0;
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(unix(ts));
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(tz.clone())
            .map(|z| unix(z.timestamp()))
            .map_err(|_| bad());
    }
    if !t.contains('-')
        && let Ok(time) = t.parse::<jiff::civil::Time>()
    {
        let today = jiff::Timestamp::from_millisecond((now * 1000.0) as i64)
            .map_err(|_| bad())?
            .to_zoned(tz.clone())
            .date();
        return today
            .to_datetime(time)
            .to_zoned(tz.clone())
            .map(|z| unix(z.timestamp()))
            .map_err(|_| bad());
    }
    Err(bad())
}

impl UiArgs {
    /// `ui`'s typed options: `--listen` parsed, the token checked — `--token`, the first
    /// line of `--token-file`, or `$PORTSCOPE_UI_TOKEN` (the verb refuses a non-loopback
    /// address without one, and makes one when none is given).
    pub fn options(&self) -> Result<ui::Options> {
        let listen = self
            .listen
            .as_deref()
            .map(crate::input::listen)
            .transpose()?;
        let env = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
        let (token, token_exposure) = self.token(env)?;
        Ok(ui::Options {
            listen,
            token,
            token_exposure,
            open: self.open,
            state_dir: self.store.state_dir.clone(),
        })
    }

    /// The token and where others could read it, from the flags or else `env` (the
    /// variable's value).
    fn token(&self, env: Option<String>) -> Result<(Option<String>, Option<TokenExposure>)> {
        let (token, exposure, what) = match (&self.token, &self.token_file) {
            (Some(t), _) => (
                t.clone(),
                Some(TokenExposure::CommandLine),
                "--token".into(),
            ),
            (None, Some(path)) => {
                let (token, mode) = token_file(path)?;
                let exposure = (mode & 0o044 != 0).then(|| TokenExposure::ReadableFile {
                    path: path.clone(),
                    mode,
                });
                let what = format!("--token-file {}", echo_path(path));
                (token, exposure, what)
            }
            (None, None) => match env {
                Some(t) => (t, None, format!("${TOKEN_VAR}")),
                None => return Ok((None, None)),
            },
        };
        if !crate::web::ui::security::token_ok(&token) {
            return Err(Error::bad_input(
                format!("{what}: the token is not usable"),
                TOKEN_OK,
            ));
        }
        Ok((Some(token), exposure))
    }
}

/// The variable `ui` reads its token from when no flag gives one.
const TOKEN_VAR: &str = "PORTSCOPE_UI_TOKEN";

/// What a token may be.
const TOKEN_OK: &str = "expected 16 to 256 characters from A-Z a-z 0-9 - . _ ~";

/// The largest token file read (a token has at most 256 characters).
const TOKEN_FILE_MAX: u64 = 4096;

/// `--token-file`: its text without trailing line ends, and the file's permission bits.
fn token_file(path: &std::path::Path) -> Result<(String, u32)> {
    let what = format!("--token-file {}", echo_path(path));
    let (bytes, mode) = crate::sys::bounded::read_regular_bounded_mode(path, TOKEN_FILE_MAX)
        .map_err(|e| {
            Error::bad_input(
                format!("{what}: cannot read it ({e})"),
                "expected a readable file holding the token, e.g. made with \
                 (umask 077; openssl rand -hex 16 > ~/.config/portscope/ui-token)",
            )
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::bad_input(format!("{what}: not UTF-8 text"), TOKEN_OK))?;
    let token = text.trim_end_matches(['\r', '\n']);
    if token.is_empty() {
        return Err(Error::bad_input(format!("{what} is empty"), TOKEN_OK));
    }
    Ok((token.to_string(), mode))
}

/// A path as an error repeats it.
fn echo_path(path: &std::path::Path) -> String {
    crate::text::echo(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Command;

    use crate::cli::options::parsed as parse;

    #[test]
    fn defaults_match_the_command_line() {
        let Command::Watch(w) = parse(&["watch"]) else {
            panic!("watch")
        };
        assert_eq!(w.options().unwrap(), watch::Options::default());
        let Command::Daemon(d) = parse(&["daemon"]) else {
            panic!("daemon")
        };
        assert_eq!(d.options().unwrap(), watch::DaemonOptions::default());
        let Command::History(h) = parse(&["history"]) else {
            panic!("history")
        };
        assert_eq!(h.options().unwrap(), history::Options::default());
        let Command::Ui(u) = parse(&["ui"]) else {
            panic!("ui")
        };
        assert_eq!(u.options().unwrap(), ui::Options::default());
    }

    #[test]
    fn every_flag_is_checked_with_or_without_record() {
        for args in [
            &["watch", "--keep", "bogus"][..],
            &["watch", "--record", "--keep", "bogus"],
            &["watch", "--max-size", "abc"],
            &["watch", "--duration", "0"],
            &["daemon", "--duration", "50ms"],
        ] {
            let e = match parse(args) {
                Command::Watch(w) => w.options().map(|_| ()),
                Command::Daemon(d) => d.options().map(|_| ()),
                _ => panic!("{args:?}"),
            };
            assert!(matches!(e, Err(Error::BadInput { .. })), "{args:?}");
        }
        let Command::Watch(w) = parse(&["watch", "--duration", "100ms", "--keep", "1h"]) else {
            panic!("watch")
        };
        let o = w.options().unwrap();
        assert_eq!(o.follow.duration, Some(Duration::from_millis(100)));
        assert_eq!(o.follow.retention.keep_s, 3600.0);
        let Command::Daemon(d) = parse(&["daemon", "--keep", "12h", "--max-size", "1GiB"]) else {
            panic!("daemon")
        };
        let r = d.options().unwrap().follow.retention;
        assert_eq!((r.keep_s, r.max_bytes), (43_200.0, 1 << 30));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB").ok(), Some(256 << 20));
        assert_eq!(parse_size("1GiB").ok(), Some(1 << 30));
        assert_eq!(parse_size("500MB").ok(), Some(500_000_000));
        assert_eq!(parse_size("1048576").ok(), Some(1 << 20));
        for bad in [
            "",
            "MiB",
            "1KiB",
            "12 parsecs",
            "99999999999999999999GiB",
            "-5MiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals_are_bounded() {
        assert!(interval("1s").is_ok());
        assert!(interval("50ms").is_err());
        assert!(interval("2h").is_err());
    }

    #[test]
    fn whens() {
        let now = 1_795_305_612.0; // 2026-11-22T00:00:12Z
        let tz = TimeZone::UTC;
        assert_eq!(parse_when("1h", "--since", now, &tz).unwrap(), now - 3600.0);
        assert_eq!(
            parse_when("2d ago", "--since", now, &tz).unwrap(),
            now - 172_800.0
        );
        assert_eq!(parse_when("now", "--since", now, &tz).unwrap(), now);
        assert_eq!(
            parse_when("2026-11-22T00:00:00Z", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        assert_eq!(
            parse_when("2026-11-22T02:00:00+02:00", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        assert_eq!(
            parse_when("2026-11-22 00:00:00", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        assert_eq!(
            parse_when("2026-11-22T00:00", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        assert_eq!(
            parse_when("2026-11-22", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        assert_eq!(
            parse_when("00:00", "--since", now, &tz).unwrap(),
            1_795_305_600.0
        );
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(
            parse_when("2026-11-22 01:00", "--since", now, &paris).unwrap(),
            1_795_305_600.0,
            "local time is the zone's"
        );
        for bad in ["yesterday-ish", "25:00", "2026-13-01", "", "1y"] {
            let err = parse_when(bad, "--since", now, &tz).unwrap_err();
            assert!(matches!(err, Error::BadInput { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("200").unwrap(), 200);
        for bad in ["0", "-1", "x", "", "2000000"] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn history_refusals() {
        for (args, needle) in [
            (
                &["history", "node", "--process", "python"][..],
                "two process",
            ),
            (&["history", "--since", "1h", "--until", "2h"][..], "before"),
            (&["history", "--until", "2h"][..], "--since 1h"),
        ] {
            let Command::History(h) = parse(args) else {
                panic!("history")
            };
            let e = h.options().unwrap_err().to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn tokens_are_checked() {
        let Command::Ui(u) = parse(&["ui", "--token", "a-good-token-0123"]) else {
            panic!("ui")
        };
        assert_eq!(
            u.options().unwrap().token.as_deref(),
            Some("a-good-token-0123")
        );
        let Command::Ui(u) = parse(&["ui", "--token", "bad token"]) else {
            panic!("ui")
        };
        assert!(matches!(u.options(), Err(Error::BadInput { .. })));
    }

    #[test]
    fn token_sources_and_where_others_could_read_them() {
        use std::os::unix::fs::PermissionsExt;
        let ui = |args: &[&str]| {
            let argv: Vec<&str> = std::iter::once("ui").chain(args.iter().copied()).collect();
            let Command::Ui(u) = parse(&argv) else {
                panic!("ui")
            };
            u
        };
        let env = || Some("token-from-the-env-0".to_string());
        let (t, e) = ui(&["--token", "a-good-token-0123"]).token(env()).unwrap();
        assert_eq!(t.as_deref(), Some("a-good-token-0123"));
        assert_eq!(e, Some(TokenExposure::CommandLine));
        assert_eq!(ui(&[]).token(env()).unwrap(), (env(), None));
        assert_eq!(ui(&[]).token(None).unwrap(), (None, None));
        assert!(ui(&[]).token(Some("short".into())).is_err());

        let dir = std::env::temp_dir().join(format!("portscope-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        let path = file.to_str().unwrap();
        std::fs::write(&file, "a-good-token-from-file\r\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (t, e) = ui(&["--token-file", path]).token(env()).unwrap();
        assert_eq!((t.as_deref(), e), (Some("a-good-token-from-file"), None));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (_, e) = ui(&["--token-file", path]).token(None).unwrap();
        let mode = 0o644;
        assert_eq!(
            e,
            Some(TokenExposure::ReadableFile {
                path: file.clone(),
                mode
            })
        );
        for (text, want) in [("\n", "is empty"), ("bad token\n", "not usable")] {
            std::fs::write(&file, text).unwrap();
            let e = ui(&["--token-file", path])
                .token(None)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
        }
        std::fs::write(&file, "x".repeat(5000)).unwrap();
        let e = ui(&["--token-file", path])
            .token(None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than the limit of 4 KiB"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        let e = ui(&["--token-file", path]).token(None).unwrap_err();
        assert!(matches!(e, Error::BadInput { .. }), "{e}");
    }
}
