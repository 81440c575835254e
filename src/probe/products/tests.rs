//! Fixtures and tests for the product refinements. Real replies were captured on Debian 12 by
//! sending the probe's exact request to a server on a free loopback port (version noted per
//! fixture); those marked "synthesized" follow the products' documented `INFO` fields.

use proptest::prelude::*;

use super::*;
use crate::probe::banner::tests::{assert_printable, detail, identify, mutated, prefixes_wait};

/// Redis 7.0.15 (redis-server from Debian 12), `INFO server`.
const REDIS_7: &[u8] = b"$577\r\n# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:e08dbad3e06f3fb\r\nredis_mode:standalone\r\nos:Linux 6.18.44-fc-v1272 x86_64\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:12.2.0\r\nprocess_id:4623\r\nprocess_supervised:no\r\nrun_id:9354530a3ce0946954cfb0cca0eff787e432e5c5\r\ntcp_port:36379\r\nserver_time_usec:1796469689911166\r\nuptime_in_seconds:253\r\nuptime_in_days:0\r\nhz:10\r\nconfigured_hz:10\r\nlru_clock:1307577\r\nexecutable:/tmp/redis-server\r\nconfig_file:\r\nio_threads_active:0\r\n\r\n";

/// fakeredis 2.41.0 (PyPI, `TcpFakeServer`): it speaks RESP but has no `INFO`.
const FAKEREDIS: &[u8] = b"-ERR unknown command 'info', with args beginning with: \r\n";

/// Redis 7.0.15 with `--requirepass`.
const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";

/// Synthesized: Valkey 8 (`redis_version` is the Redis version it matches).
const VALKEY: &[u8] = b"$122\r\n# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\n\
    valkey_version:8.0.1\r\nvalkey_release_stage:ga\r\nserver_mode:standalone\r\n\r\n";

/// Synthesized: Dragonfly.
const DRAGONFLY: &[u8] = b"$100\r\n# Server\r\nredis_version:7.4.0\r\n\
    dragonfly_version:df-v1.40.1\r\nredis_mode:standalone\r\nthread_count:7\r\n\r\n";

/// Synthesized: a toy RESP server that states a Redis version and nothing else of Redis's.
const TOY: &[u8] =
    b"$66\r\n# Server\r\nredis_version:7.0.0\r\nredis_git_sha1:00000000\r\nos:Linux\r\n\r\n";

const FIXTURES: &[&[u8]] = &[REDIS_7, FAKEREDIS, NOAUTH, VALKEY, DRAGONFLY, TOY];

#[test]
fn redis_is_certain_only_when_info_proves_it() {
    let redis = identify(&REDIS_INFO, REDIS_7);
    assert_eq!(
        (
            redis.protocol.as_str(),
            redis.product.as_deref(),
            redis.version.as_deref()
        ),
        ("redis", Some("Redis"), Some("7.0.15"))
    );
    assert_eq!(redis.confidence, Some(Confidence::Certain));
    assert_eq!(detail(&redis, "mode"), Some("standalone"));
    let fake = identify(&REDIS_INFO, FAKEREDIS);
    assert_eq!(
        (fake.product.as_deref(), fake.confidence),
        (None, Some(Confidence::Compatible))
    );
    assert!(detail(&fake, "info").unwrap().contains("unknown command"));
    let locked = identify(&REDIS_INFO, NOAUTH);
    assert_eq!(
        (locked.product.as_deref(), locked.confidence, locked.auth),
        (None, Some(Confidence::Compatible), Some(Auth::Required))
    );
    let toy = identify(&REDIS_INFO, TOY);
    assert_eq!(
        (toy.product.as_deref(), toy.confidence),
        (None, Some(Confidence::Compatible))
    );
    assert_eq!(detail(&toy, "redis_version"), Some("7.0.0"));
}

#[test]
fn other_products_are_named_by_their_own_fields() {
    let valkey = identify(&REDIS_INFO, VALKEY);
    assert_eq!(
        (
            valkey.product.as_deref(),
            valkey.version.as_deref(),
            valkey.confidence
        ),
        (Some("Valkey"), Some("8.0.1"), Some(Confidence::Certain))
    );
    assert_eq!(detail(&valkey, "redis_version"), Some("7.2.4"));
    assert_eq!(detail(&valkey, "mode"), Some("standalone"));
    let dragonfly = identify(&REDIS_INFO, DRAGONFLY);
    assert_eq!(
        (dragonfly.product.as_deref(), dragonfly.version.as_deref()),
        (Some("Dragonfly"), Some("df-v1.40.1"))
    );
}

#[test]
fn prefixes_wait_and_junk_is_rejected() {
    for bytes in FIXTURES {
        prefixes_wait(&REDIS_INFO, bytes);
    }
    for junk in [
        &b"+PONG\r\n"[..],
        b"HTTP/1.1 200 OK\r\n",
        b"$-1\r\n",
        b"$9999999999\r\n",
    ] {
        assert_eq!(redis_info(junk), Verdict::NoMatch, "{junk:?}");
    }
    // A stated length larger than what comes is waited for, up to INFO_MAX, never allocated.
    assert_eq!(redis_info(b"$4000000\r\n# Server\r\n"), Verdict::NeedMore);
}

proptest! {
    #[test]
    fn parser_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        assert_printable(&redis_info(&bytes));
    }

    #[test]
    fn mutated_replies_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index], at, byte, cut);
        assert_printable(&redis_info(&bytes));
    }
}
