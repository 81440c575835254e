//! Nagios threshold ranges, as the Monitoring Plugins development guidelines define them:
//! `10` (alert outside 0..10), `10:` (alert below 10), `~:10` (alert above 10), `10:20`
//! (alert outside 10..20), `@10:20` (alert inside 10..20). Ends are inclusive: a value equal
//! to an end is inside the range.
//!
//! Parsing is strict where the C library is lax (it reads `abc` as 0): anything that is not a
//! range is an error saying what is accepted, which `check` turns into UNKNOWN (exit 3).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// What a range accepts, for error messages.
pub const ACCEPTED: &str = "expected a Nagios range: 10 (alert outside 0..10), 10: (alert below \
                            10), ~:10 (alert above 10), 10:20 (alert outside 10..20), @10:20 \
                            (alert inside 10..20); numbers may be decimal, e.g. 0.5";

/// One threshold range.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// Lower end; `None` = negative infinity (`~`).
    pub start: Option<f64>,
    /// Upper end; `None` = positive infinity (nothing after the `:`).
    pub end: Option<f64>,
    /// `@`: alert when the value is inside the range instead of outside.
    pub inside: bool,
    /// The text as given (trimmed), for perfdata and messages.
    text: String,
}

impl Range {
    /// Parse a range; `flag` names the option in the error (`-w`, `-c`).
    pub fn parse(text: &str, flag: &str) -> Result<Range> {
        let t = text.trim();
        let bad = |why: &str| {
            Error::bad_input(
                format!("{flag} {}: {why}", quote(&crate::text::echo(text))),
                ACCEPTED,
            )
        };
        let (inside, body) = match t.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (start, end) = match body.split_once(':') {
            None => (
                Some(0.0),
                Some(number(body).ok_or_else(|| bad("not a number"))?),
            ),
            Some((s, e)) => {
                if s.is_empty() && e.is_empty() {
                    return Err(bad("a range needs a start or an end"));
                }
                let start = match s {
                    "~" => None,
                    "" => Some(0.0),
                    s => Some(number(s).ok_or_else(|| bad("the start is not a number or ~"))?),
                };
                let end = match e {
                    "" => None,
                    e => Some(number(e).ok_or_else(|| bad("the end is not a number"))?),
                };
                (start, end)
            }
        };
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(bad("the start is greater than the end"));
        }
        Ok(Range {
            start,
            end,
            inside,
            text: t.to_string(),
        })
    }

    /// Whether `value` raises the alert this range stands for.
    pub fn alerts(&self, value: f64) -> bool {
        let above_start = self.start.is_none_or(|s| value >= s);
        let below_end = self.end.is_none_or(|e| value <= e);
        let within = above_start && below_end;
        if self.inside { within } else { !within }
    }

    /// The text as given, trimmed (what perfdata's warn/crit fields carry).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Range {
    /// As the text given: `"10:20"`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A finite decimal number: digits with an optional sign, point and exponent (`1e-3`); no
/// `inf`, `nan`, hex or spaces.
fn number(text: &str) -> Option<f64> {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    text.parse::<f64>().ok().filter(|n| plain && n.is_finite())
}

/// `'text'` for messages (empty text stays visible).
fn quote(text: &str) -> String {
    format!("'{text}'")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(text: &str) -> Range {
        Range::parse(text, "-w").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_guideline_examples() {
        // From the Monitoring Plugins development guidelines' table.
        let cases: &[(&str, &[f64], &[f64])] = &[
            // text, values that alert, values that do not
            ("10", &[-1.0, -0.001, 10.001, 11.0, 1e9], &[0.0, 5.0, 10.0]),
            ("10:", &[-1.0, 0.0, 9.999], &[10.0, 10.5, 1e9]),
            ("~:10", &[10.001, 11.0, 1e9], &[-1e9, -1.0, 0.0, 10.0]),
            ("10:20", &[-1.0, 9.99, 20.01, 1e9], &[10.0, 15.0, 20.0]),
            ("@10:20", &[10.0, 15.0, 20.0], &[9.99, 20.01, -1.0]),
        ];
        for (text, alert, quiet) in cases {
            let range = r(text);
            for v in *alert {
                assert!(range.alerts(*v), "{text} should alert on {v}");
            }
            for v in *quiet {
                assert!(!range.alerts(*v), "{text} should not alert on {v}");
            }
        }
    }

    #[test]
    fn parsed_shapes() {
        let shape = |t: &str| {
            let x = r(t);
            (x.start, x.end, x.inside)
        };
        assert_eq!(shape("10"), (Some(0.0), Some(10.0), false));
        assert_eq!(shape(" 10 "), (Some(0.0), Some(10.0), false));
        assert_eq!(shape("10:"), (Some(10.0), None, false));
        assert_eq!(shape("~:10"), (None, Some(10.0), false));
        assert_eq!(shape("~:"), (None, None, false));
        assert_eq!(shape(":10"), (Some(0.0), Some(10.0), false));
        assert_eq!(shape("-5:-1"), (Some(-5.0), Some(-1.0), false));
        assert_eq!(shape("@0.5:1e1"), (Some(0.5), Some(10.0), true));
        assert_eq!(shape("@~:0"), (None, Some(0.0), true));
        assert_eq!(shape("0.0000001"), (Some(0.0), Some(0.0000001), false));
        assert_eq!(shape("+3"), (Some(0.0), Some(3.0), false));
        assert_eq!(shape("5:5"), (Some(5.0), Some(5.0), false));
        assert_eq!(r(" @10:20 ").to_string(), "@10:20");
    }

    #[test]
    fn open_ranges_alert_as_documented() {
        assert!(!r("~:").alerts(-1e300) && !r("~:").alerts(1e300));
        assert!(r("@~:").alerts(0.0));
        assert!(r("5:5").alerts(4.9) && !r("5:5").alerts(5.0) && r("5:5").alerts(5.1));
        assert!(r("@5:5").alerts(5.0) && !r("@5:5").alerts(5.1));
        assert!(r("@10:").alerts(10.0) && !r("@10:").alerts(9.0));
        assert!(r("@~:10").alerts(-3.0) && !r("@~:10").alerts(10.5));
        assert!(r("0").alerts(0.1) && !r("0").alerts(0.0));
    }

    #[test]
    fn rejects_what_is_not_a_range() {
        for bad in [
            "", " ", "@", ":", "@:", "abc", "10:5", "-1", "1:2:3", "~", "10:~", "~10", "1,5",
            "inf", "nan", "NaN:", "1e999", "0x10", "10s", "@@1", "1 :2", "--1", "e", "+", ".",
            "10-20",
        ] {
            let e = Range::parse(bad, "-c").expect_err(bad).to_string();
            assert!(e.starts_with("-c '"), "{bad}: {e}");
            assert!(e.contains("expected a Nagios range"), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_quote_control_characters() {
        let e = Range::parse("1\n|x", "-w").unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("\\x0a"), "{e}");
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            -1e6f64..1e6,
            (-1000i32..1000).prop_map(f64::from),
            Just(0.0),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,12}") {
            let _ = Range::parse(&text, "-w");
        }

        #[test]
        fn outside_and_inside_are_complements(a in finite(), b in finite(), v in finite()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let outside = r(&format!("{lo}:{hi}"));
            let inside = r(&format!("@{lo}:{hi}"));
            let within = lo <= v && v <= hi;
            prop_assert_eq!(outside.alerts(v), !within);
            prop_assert_eq!(inside.alerts(v), within);
        }

        #[test]
        fn shorthand_forms(n in finite(), v in finite()) {
            prop_assert_eq!(r(&format!("{n}:")).alerts(v), v < n);
            prop_assert_eq!(r(&format!("~:{n}")).alerts(v), v > n);
            prop_assert_eq!(r(&format!("@{n}:")).alerts(v), v >= n);
            prop_assert_eq!(r(&format!("@~:{n}")).alerts(v), v <= n);
            if n >= 0.0 {
                prop_assert_eq!(r(&format!("{n}")).alerts(v), v < 0.0 || v > n);
                prop_assert_eq!(r(&format!("{n}")), r(&format!("0:{n}")).with_text(&format!("{n}")));
            } else {
                let text = format!("{n}");
                prop_assert!(Range::parse(&text, "-w").is_err());
            }
        }

        #[test]
        fn reversed_ends_are_rejected(a in finite(), b in finite()) {
            prop_assume!(a > b);
            let (plain, at) = (format!("{a}:{b}"), format!("@{a}:{b}"));
            prop_assert!(Range::parse(&plain, "-w").is_err());
            prop_assert!(Range::parse(&at, "-w").is_err());
        }

        #[test]
        fn text_round_trips(a in finite(), b in finite(), inside in any::<bool>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let text = format!("{}{lo}:{hi}", if inside { "@" } else { "" });
            let first = r(&text);
            prop_assert_eq!(first.as_str(), text.as_str());
            prop_assert_eq!(r(first.as_str()), first);
        }
    }

    impl Range {
        fn with_text(mut self, text: &str) -> Range {
            self.text = text.to_string();
            self
        }
    }
}
