//! Reply fixtures and tests for the request/response family. Real replies were captured on
//! Debian 12 by sending each probe's exact request to a server started on a free loopback
//! port (version noted per fixture); those marked "synthesized" follow the specification.

use proptest::prelude::*;

use super::*;
use crate::probe::banner::{
    self,
    tests::{assert_printable, assert_rejects, detail, identify, mutated},
};
use crate::probe::evidence;

/// (probe name, reply bytes it must identify).
const FIXTURES: &[(&str, &[u8])] = &[
    // Redis 7.0.15: open, with requirepass, and in protected mode (client from 127.0.0.3).
    ("redis-ping", b"+PONG\r\n"),
    ("redis-ping", b"-NOAUTH Authentication required.\r\n"),
    ("redis-ping", REDIS_DENIED),
    // Synthesized: PING renamed away (`rename-command PING ""`).
    (
        "redis-ping",
        b"-ERR unknown command 'PING', with args beginning with: \r\n",
    ),
    // memcached 1.6.18.
    ("memcached-version", b"VERSION 1.6.18\r\n"),
    // PostgreSQL 15 with ssl=off, then ssl=on.
    ("postgresql-sslrequest", b"N"),
    ("postgresql-sslrequest", b"S"),
    // Synthesized with pymongo's BSON encoder: a MongoDB 7.0 standalone's hello reply, and an
    // error reply (no MongoDB server is packaged for Debian).
    ("mongodb-hello", MONGO_HELLO_REPLY),
    ("mongodb-hello", MONGO_ERROR),
    // RabbitMQ 3.10.8 (Erlang/OTP 25.2.3): Connection.Start; its header when sent AMQP 0-9-0.
    ("amqp-header", RABBITMQ_START),
    ("amqp-header", b"AMQP\x00\x00\x09\x01"),
    // Synthesized: an AMQP 1.0 broker's SASL header.
    ("amqp-header", b"AMQP\x03\x01\x00\x00"),
    // Mosquitto 2.0.11: allow_anonymous true, then false.
    ("mqtt-connect", b" \x02\x00\x00"),
    ("mqtt-connect", b" \x02\x00\x05"),
    // Xvfb 21.1.7: the first 64 bytes of the success reply (9,556 in all); -auth refusal.
    ("x11-setup", X11_SUCCESS),
    ("x11-setup", X11_REFUSED),
    // Synthesized: Authenticate (status 2), 5 units of reason.
    (
        "x11-setup",
        b"\x02\x00\x00\x00\x00\x00\x05\x00XDM-AUTHORIZATION-1\x00",
    ),
    // dnsmasq 2.90.
    ("dns-version-bind", DNSMASQ),
    // Synthesized: a server that refuses CHAOS queries (rcode 5).
    (
        "dns-version-bind",
        b"\x00\x1ePS\x84\x05\x00\x01\x00\x00\x00\x00\x00\x00\x07version\x04bind\
        \x00\x00\x10\x00\x03",
    ),
    // OpenJDK 17.0.15, -agentlib:jdwp=transport=dt_socket,server=y,suspend=n.
    ("jdwp-handshake", b"JDWP-Handshake"),
    // python-lsp-server 1.15.0 (--tcp), vscode-languageserver 9.0.1 (node), debugpy 1.8.22.
    ("lsp-request", PYLSP),
    ("lsp-request", VSCODE_LANGUAGESERVER),
    ("lsp-request", DEBUGPY_REPLY),
    // Delve 1.20.2 (`dlv dap`, Debian 12): a DAP error response that names no product.
    ("lsp-request", DELVE_DAP),
];

const REDIS_DENIED: &[u8] =
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no pass\
    word is set for the default user. In this mode connections are only accepted from the lo\
    opback interface. If you want to connect from external computers to Redis you may adopt \
    one of the following solutions: 1) Just disable protected mode sending the command 'CONF\
    IG SET protected-mode no' from the loopback interface by connecting to Redis from the sa\
    me host the server is running, however MAKE SURE Redis is not publicly accessible from i\
    nternet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively \
    you can just disable the protected mode by editing the Redis configuration file, and set\
    ting the protected mode option to 'no', and then restarting the server. 3) If you starte\
    d the server manually just for testing, restart it with the '--protected-mode no' option\
    . 4) Setup a an authentication password for the default user. NOTE: You only need to do \
    one of the above things in order for the server to start accepting connections from the \
    outside.\r\n";

const MONGO_HELLO_REPLY: &[u8] =
    b"9\x01\x00\x00[\x00\x00\x00PSPB\xdd\x07\x00\x00\x00\x00\x00\x00\x00$\x01\x00\x00\x08isWri\
    tablePrimary\x00\x01\x03topologyVersion\x00-\x00\x00\x00\x07processId\x00g@\xa1\xb2\xc3\
    \xd4\xe5\xf6\x01#Eg\x12counter\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10maxBsonObjectS\
    ize\x00\x00\x00\x00\x01\x10maxMessageSizeBytes\x00\x00l\xdc\x02\x10maxWriteBatchSize\x00\
    \xa0\x86\x01\x00\x09localTime\x00\xe0\xa6\xb6\x00\xa2\x01\x00\x00\x10logicalSessionTimeo\
    utMinutes\x00\x1e\x00\x00\x00\x10connectionId\x00\x07\x00\x00\x00\x10minWireVersion\x00\
    \x00\x00\x00\x00\x10maxWireVersion\x00\x15\x00\x00\x00\x08readOnly\x00\x00\x01ok\x00\x00\
    \x00\x00\x00\x00\x00\xf0?\x00";

const MONGO_ERROR: &[u8] =
    b"s\x00\x00\x00\\\x00\x00\x00PSPB\xdd\x07\x00\x00\x00\x00\x00\x00\x00^\x00\x00\x00\x01ok\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x02errmsg\x00\x19\x00\x00\x00no such command: 'hell\
    o'\x00\x10code\x00;\x00\x00\x00\x02codeName\x00\x10\x00\x00\x00CommandNotFound\x00\x00";

const RABBITMQ_START: &[u8] =
    b"\x01\x00\x00\x00\x00\x01\xf1\x00\n\x00\n\x00\x09\x00\x00\x01\xcc\x0ccapabilitiesF\x00\
    \x00\x00\xc7\x12publisher_confirmst\x01\x1aexchange_exchange_bindingst\x01\nbasic.nackt\
    \x01\x16consumer_cancel_notifyt\x01\x12connection.blockedt\x01\x13consumer_prioritiest\
    \x01\x1cauthentication_failure_closet\x01\x10per_consumer_qost\x01\x0fdirect_reply_tot\
    \x01\x0ccluster_nameS\x00\x00\x00\npsprobe@vm\x09copyrightS\x00\x00\x007Copyright (c) 20\
    07-2022 VMware, Inc. or its affiliates.\x0binformationS\x00\x00\x009Licensed under the M\
    PL 2.0. Website: https://rabbitmq.com\x08platformS\x00\x00\x00\x11Erlang/OTP 25.2.3\x07p\
    roductS\x00\x00\x00\x08RabbitMQ\x07versionS\x00\x00\x00\x063.10.8\x00\x00\x00\x0ePLAIN A\
    MQPLAIN\x00\x00\x00\x05en_US\xce";

const X11_SUCCESS: &[u8] =
    b"\x01\x00\x0b\x00\x00\x00S\x09\x8f\xa5\xb8\x00\x00\x00 \x00\xff\xff\x1f\x00\x00\x01\x00\
    \x00\x14\x00\xff\xff\x01\x06\x00\x00  \x08\xff\x00\x00\x00\x00The X.Org Foundation\x01\
    \x01 \x00\x00\x00\x00\x00\x04\x08 \x00\x00\x00\x00\x00";

const X11_REFUSED: &[u8] =
    b"\x00@\x0b\x00\x00\x00\x10\x00Authorization required, but no authorization protocol speci\
    fied\n";

const DNSMASQ: &[u8] =
    b"\x007PS\x84\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07version\x04bind\x00\x00\x10\x00\x03\
    \xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00\x00\r\x0cdnsmasq-2.90";

const PYLSP: &[u8] =
    b"Content-Length: 98\r\nContent-Type: application/vscode-jsonrpc; charset=utf8\r\n\r\n{\"j\
    sonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"Method Not Found: por\
    tscope\\/identify\"}}";

const VSCODE_LANGUAGESERVER: &[u8] =
    b"Content-Length: 96\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"mes\
    sage\":\"Unhandled method portscope/identify\"}}";

const DEBUGPY_REPLY: &[u8] =
    b"Content-Length: 137\r\n\r\n{\"seq\": 3, \"type\": \"response\", \"request_seq\": 1, \"su\
    ccess\": false, \"command\": \"portscope/identify\", \"message\": \"Server is not availa\
    ble\"}";

const DELVE_DAP: &[u8] =
    b"Content-Length: 235\r\n\r\n{\"seq\":0,\"type\":\"response\",\"request_seq\":1,\"success\":false,\
    \"command\":\"\",\"message\":\"Internal Error\",\"body\":{\"error\":{\"id\":8888,\"format\":\"Internal \
    Error: Request command 'portscope/identify' is not supported (seq: 1)\",\"showUser\":false}}}";

fn probe(name: &str) -> &'static Probe {
    PROBES.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn redis_tells_auth_state() {
    assert_eq!(
        identify(&REDIS, FIXTURES[0].1).auth,
        Some(Auth::NotRequired)
    );
    let noauth = identify(&REDIS, FIXTURES[1].1);
    assert_eq!(
        (noauth.auth, noauth.confidence),
        (Some(Auth::Required), Some(Confidence::Compatible))
    );
    // `+PONG` proves the protocol, not Redis: `INFO server` (probe::products) names it.
    let pong = identify(&REDIS, FIXTURES[0].1);
    assert_eq!(
        (pong.product, pong.confidence),
        (None, Some(Confidence::Compatible))
    );
    let denied = identify(&REDIS, REDIS_DENIED);
    assert_eq!(
        (denied.auth, detail(&denied, "protected_mode")),
        (Some(Auth::Required), Some("yes"))
    );
    let error = identify(&REDIS, FIXTURES[3].1);
    assert_eq!(
        (error.confidence, error.auth),
        (Some(Confidence::Likely), None)
    );
}

#[test]
fn versions_and_tls_offers() {
    let memcached = identify(&MEMCACHED, b"VERSION 1.6.18\r\n");
    assert_eq!(
        (memcached.product.as_deref(), memcached.version.as_deref()),
        (Some("Memcached"), Some("1.6.18"))
    );
    // Another version text: the memcached protocol, not shown to be Memcached.
    let other = identify(&MEMCACHED, b"VERSION 1.6.16 DF\r\n");
    assert_eq!(
        (other.product, other.confidence),
        (None, Some(Confidence::Compatible))
    );
    assert_eq!(
        detail(&identify(&POSTGRESQL, b"N"), "tls"),
        Some("not offered")
    );
    assert_eq!(
        detail(&identify(&POSTGRESQL, b"S"), "tls"),
        Some("available")
    );
    let mongo = identify(&MONGODB, MONGO_HELLO_REPLY);
    assert_eq!(
        (
            detail(&mongo, "maxWireVersion"),
            detail(&mongo, "isWritablePrimary")
        ),
        (Some("21"), Some("true"))
    );
    let error = identify(&MONGODB, MONGO_ERROR);
    assert_eq!(detail(&error, "error"), Some("no such command: 'hello'"));
    let rabbit = identify(&AMQP, RABBITMQ_START);
    assert_eq!(
        (rabbit.product.as_deref(), rabbit.version.as_deref()),
        (Some("RabbitMQ"), Some("3.10.8"))
    );
    assert_eq!(detail(&rabbit, "platform"), Some("Erlang/OTP 25.2.3"));
    let amqp1 = identify(&AMQP, b"AMQP\x03\x01\x00\x00");
    assert_eq!(detail(&amqp1, "offers"), Some("1.0.0 (protocol id 3)"));
    let dns = identify(&DNS, DNSMASQ);
    assert_eq!(
        (
            dns.product.as_deref(),
            dns.version.as_deref(),
            detail(&dns, "rcode")
        ),
        (Some("dnsmasq"), Some("2.90"), Some("noerror"))
    );
    assert_eq!(split_product("unbound 1.17.1"), Some(("unbound", "1.17.1")));
    assert_eq!(split_product("Knot DNS 3.2.6"), Some(("Knot DNS", "3.2.6")));
    assert_eq!(split_product("9.18.28-1~deb12u2-Debian"), None);
    assert_eq!(split_product("v2"), None);
    assert_eq!(
        detail(&identify(&DNS, FIXTURES[18].1), "rcode"),
        Some("refused")
    );
}

#[test]
fn mqtt_x11_jdwp_lsp() {
    assert_eq!(
        identify(&MQTT, b" \x02\x00\x00").auth,
        Some(Auth::NotRequired)
    );
    let refused = identify(&MQTT, b" \x02\x00\x05");
    assert_eq!(
        (refused.auth, detail(&refused, "connack")),
        (Some(Auth::Required), Some("not authorized"))
    );
    let x = identify(&X11, X11_SUCCESS);
    assert_eq!(
        (x.product.as_deref(), x.version.as_deref()),
        (Some("The X.Org Foundation"), Some("1.21.1.7"))
    );
    assert_eq!(x.auth, Some(Auth::NotRequired));
    let refused = identify(&X11, X11_REFUSED);
    assert_eq!(
        detail(&refused, "reason"),
        Some("Authorization required, but no authorization protocol specified")
    );
    let challenge = identify(&X11, FIXTURES[16].1);
    assert_eq!(
        (challenge.auth, detail(&challenge, "reason")),
        (Some(Auth::Required), Some("XDM-AUTHORIZATION-1"))
    );
    assert_eq!(
        detail(&identify(&JDWP, b"JDWP-Handshake"), "side"),
        Some("jvm (debuggee listening)")
    );
    for (bytes, protocol) in [
        (PYLSP, "lsp"),
        (VSCODE_LANGUAGESERVER, "lsp"),
        (DEBUGPY_REPLY, "dap"),
        (DELVE_DAP, "dap"),
    ] {
        let id = identify(&LSP, bytes);
        assert_eq!(
            (id.protocol.as_str(), id.confidence),
            (protocol, Some(Confidence::Certain))
        );
    }
}

/// Probes that read the same bytes in both families: the JDWP handshake is symmetrical, and
/// the DAP banner probe uses the LSP parser.
const TWINS: &[[&str; 2]] = &[
    ["jdwp-debugger", "jdwp-handshake"],
    ["dap-banner", "lsp-request"],
];

#[test]
fn every_fixture_matches_exactly_its_own_probe() {
    let fixtures = FIXTURES.iter().chain(banner::tests::FIXTURES);
    for &(name, bytes) in fixtures {
        let twin = TWINS.iter().find(|pair| pair.contains(&name));
        let mut expected: Vec<&str> = twin.map_or(vec![name], |pair| pair.to_vec());
        expected.sort_unstable();
        let mut matched: Vec<&str> = banner::PROBES
            .iter()
            .chain(PROBES)
            .filter(|p| matches!((p.parse)(bytes), Verdict::Match(_)))
            .map(|p| p.name)
            .collect();
        matched.sort_unstable();
        assert_eq!(matched, expected, "{}", evidence(bytes, 60));
    }
}

#[test]
fn prefixes_wait_and_never_reject() {
    for &(name, bytes) in FIXTURES {
        crate::probe::banner::tests::prefixes_wait(probe(name), bytes);
    }
    for (probe, bytes) in [
        (&REDIS, &b"+PON"[..]),
        (&REDIS, b"-NOAUTH Auth"),
        (&MEMCACHED, b"VERSION 1.6"),
        (&MONGODB, &MONGO_HELLO_REPLY[..100]),
        (&AMQP, &RABBITMQ_START[..40]),
        (&MQTT, b" \x02\x00"),
        (&X11, &X11_REFUSED[..20]),
        (&DNS, &DNSMASQ[..30]),
        (&LSP, &PYLSP[..60]),
    ] {
        assert_eq!((probe.parse)(bytes), Verdict::NeedMore, "{}", probe.name);
    }
}

#[test]
fn junk_and_lying_lengths_are_rejected_without_waiting() {
    let junk: [&[u8]; 6] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"\x15\x03\x03\x00\x02\x02\x28\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03",
        b"hello world\r\n",
        &[0; 64],
        &[0xaa; 64],
        b"+OK\r\n",
    ];
    assert_rejects(PROBES, &junk);
    // Huge claimed lengths: decided on what arrived (no waiting for, or allocating, 4 GB).
    assert!(matches!(
        mongodb(b"\xff\xff\xff\x7fxxxxPSPB\xdd\x07\x00\x00"),
        Verdict::NoMatch
    ));
    let amqp_huge = [
        &RABBITMQ_START[..3],
        b"\xff\xff\xff\xff",
        &RABBITMQ_START[7..],
    ]
    .concat();
    assert_eq!(amqp(&amqp_huge[..20]), Verdict::NeedMore);
    let lsp_huge = b"Content-Length: 999999999\r\n\r\n{\"jsonrpc\":\"2.0\"}";
    assert_eq!(lsp(lsp_huge), Verdict::NeedMore);
    assert_eq!(
        lsp(b"Content-Length: 9999999999\r\n\r\n{}"),
        Verdict::NoMatch
    );
    assert_eq!(postgresql(b"NN"), Verdict::NoMatch);
}

#[test]
fn requests_are_well_formed() {
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(le32(MONGO_HELLO, 0), MONGO_HELLO.len());
    assert_eq!(le32(MONGO_HELLO, 21), MONGO_HELLO.len() - 21);
    let Send::Bytes(connect) = MQTT.send else {
        panic!()
    };
    assert_eq!(usize::from(connect[1]), connect.len() - 2);
    let Send::Bytes(query) = DNS.send else {
        panic!()
    };
    assert_eq!(
        usize::from(u16::from_be_bytes([query[0], query[1]])),
        query.len() - 2
    );
    let at = banner::find(LSP_REQUEST, b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &LSP_REQUEST[..at],
        format!("Content-Length: {}\r\n\r\n", LSP_REQUEST.len() - at).as_bytes()
    );
    for probe in PROBES {
        assert!(
            matches!(probe.send, Send::Bytes(b) if !b.is_empty()),
            "{}",
            probe.name
        );
        assert!(probe.refines.is_none());
        assert!(
            !probe
                .hints
                .ports
                .iter()
                .any(|p| crate::probe::PRINTER_PORTS.contains(p))
        );
    }
    assert!(
        PROBES
            .iter()
            .all(|p| FIXTURES.iter().any(|(name, _)| *name == p.name))
    );
}

proptest! {
    #[test]
    fn mutated_replies_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index].1, at, byte, cut);
        for probe in PROBES.iter().chain(banner::PROBES) {
            assert_printable(&(probe.parse)(&bytes));
        }
    }
}
