//! Refinements that tell a product from a server that only speaks its protocol: `+PONG`
//! proves Redis's protocol (RESP), which Valkey, Dragonfly, KeyDB, Kvrocks, Garnet and test
//! doubles such as fakeredis speak too; Redis's own `INFO server` says which it is.
//!
//! A reply that proves the product gives confidence `certain` and the product's name and
//! version; a reply that does not (`INFO` unknown, refused without credentials, or a section
//! that states a `redis_version` without the rest of what Redis writes there) leaves the
//! product empty with confidence `compatible`. `INFO server` only reads.

use super::banner::{expect_any, find, first_line, step, text};
use super::{Auth, Confidence, Hints, Identification, Probe, Send, TlsUse, Verdict};

/// Redis `INFO server` (after `+PONG`, `-NOAUTH`…): `redis_version`, or another product's own
/// field (`valkey_version`, `dragonfly_version`…), or the refusal.
pub const REDIS_INFO: Probe = Probe {
    name: "redis-info",
    send: Send::Bytes(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"),
    parse: redis_info,
    hints: Hints {
        ports: &[6379],
        processes: &["redis-server", "redis"],
    },
    tls: TlsUse::Both,
    refines: Some("redis"),
};

/// This family's probes.
pub const PROBES: &[Probe] = &[REDIS_INFO];

/// Most bytes of an `INFO server` section read (Redis 7 writes about 600).
const INFO_MAX: usize = 16 * 1024;

/// Fields that name a product other than Redis in `INFO server`, checked before
/// `redis_version` (which these servers state too, as the Redis version they match).
const OTHERS: &[(&str, &str)] = &[
    ("valkey_version", "Valkey"),
    ("dragonfly_version", "Dragonfly"),
    ("kvrocks_version", "Apache Kvrocks"),
    ("garnet_version", "Garnet"),
    ("redict_version", "Redict"),
    ("keydb_version", "KeyDB"),
];

/// Fields Redis itself writes in `INFO server` besides `redis_version`; a reply that lacks
/// one of them states a Redis version without being shown to be Redis.
const REDIS_OWN: &[&str] = &["redis_build_id", "redis_mode", "run_id"];

fn redis_info(bytes: &[u8]) -> Verdict {
    let (kind, rest) = step!(expect_any(bytes, &[b"$", b"-"]));
    let compatible = Identification::new("redis", Confidence::Compatible);
    if kind == 1 {
        let line = step!(first_line(rest, 512));
        let error = text(line);
        let refused = [&b"NOAUTH"[..], b"NOPERM", b"DENIED"]
            .iter()
            .any(|w| line.starts_with(w));
        let id = if refused {
            compatible.auth(Auth::Required).detail(
                "info",
                format!("refused ({error}): the product is not shown without credentials"),
            )
        } else {
            compatible.detail("info", format!("not answered ({error})"))
        };
        return Verdict::Match(id);
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 9 || (digits == 0 && !rest.is_empty()) {
        return Verdict::NoMatch;
    }
    let after = rest.get(digits..).unwrap_or_default();
    let body = step!(super::banner::expect(after, b"\r\n"));
    let len = rest
        .get(..digits)
        .unwrap_or_default()
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    let want = len.min(INFO_MAX);
    if body.len() < want {
        return Verdict::NeedMore;
    }
    Verdict::Match(identify(body.get(..want).unwrap_or(body)))
}

/// The product an `INFO server` section proves.
fn identify(section: &[u8]) -> Identification {
    let redis_version = field(section, "redis_version");
    let mut id = match OTHERS
        .iter()
        .find_map(|(key, product)| Some((field(section, key)?, *product)))
    {
        Some((version, product)) => Identification::new("redis", Confidence::Certain)
            .product(product)
            .version(version),
        None => match field(section, "executable") {
            // KeyDB writes Redis's fields (its own version as `redis_version`); its binary
            // is the mark.
            Some(exe) if exe.ends_with("keydb-server") => {
                let id = Identification::new("redis", Confidence::Certain).product("KeyDB");
                match &redis_version {
                    Some(v) => id.version(v.clone()),
                    None => id,
                }
            }
            _ => redis_or_compatible(section, redis_version.as_deref()),
        },
    };
    if id.product.as_deref().is_some_and(|p| p != "Redis")
        && let Some(v) = redis_version
        && id.version.as_deref() != Some(v.as_str())
    {
        id = id.detail("redis_version", v);
    }
    if let Some(mode) = field(section, "redis_mode").or_else(|| field(section, "server_mode")) {
        id = id.detail("mode", mode);
    }
    id.auth(Auth::NotRequired)
}

/// Redis when the section has `redis_version` and Redis's own fields; otherwise a
/// compatible server (with the Redis version it states, if any).
fn redis_or_compatible(section: &[u8], redis_version: Option<&str>) -> Identification {
    let own = REDIS_OWN.iter().all(|k| field(section, k).is_some());
    match redis_version {
        Some(v) if own => Identification::new("redis", Confidence::Certain)
            .product("Redis")
            .version(v),
        Some(v) => Identification::new("redis", Confidence::Compatible)
            .detail("redis_version", v)
            .detail("info", "states a Redis version without Redis's own fields"),
        None => {
            Identification::new("redis", Confidence::Compatible).detail("info", "no redis_version")
        }
    }
}

/// The value of `key:value` on a line of an `INFO` section (CRLF or LF lines), printable.
fn field(section: &[u8], key: &str) -> Option<String> {
    section.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(key.as_bytes())?.strip_prefix(b":")?;
        let value = value.strip_suffix(b"\r").unwrap_or(value);
        (!value.is_empty() && find(value, b"\x00").is_none()).then(|| text(value))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
