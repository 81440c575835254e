//! Fixtures and tests for the rsync, beanstalkd, git, epmd, Erlang distribution and gdbserver
//! probes. Every fixture
//! is the real reply of a Debian 12 daemon started on a free loopback port and sent the
//! probe's exact request (versions noted), unless marked "synthesized".

use proptest::prelude::*;

use super::*;
use crate::probe::banner::tests::{assert_printable, assert_rejects, detail, identify, mutated};
use crate::probe::{banner, binary, evidence};

/// (probe name, reply bytes it must identify).
const FIXTURES: &[(&str, &[u8])] = &[
    // rsync 3.2.7 `--daemon`.
    (
        "rsync-greeting",
        b"@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n",
    ),
    // Synthesized: an older daemon without checksum list.
    ("rsync-greeting", b"@RSYNCD: 31.0\n"),
    // beanstalkd 1.12.
    ("beanstalkd-stats", BEANSTALKD_STATS),
    // git 2.39.5 `git daemon --export-all --base-path=…`.
    ("git-upload-pack", GIT_ERR),
    // Synthesized: the first line of a ref advertisement (an existing, exported repository).
    ("git-upload-pack", GIT_REFS),
    // epmd of Erlang/OTP 25.2.3 on port 47103: no node, then one node `erl -sname p21b`.
    ("epmd-names", b"\x00\x00\xb7\xff"),
    ("epmd-names", b"\x00\x00\xb7\xffname p21b at port 42001\n"),
    // An Erlang/OTP 25.2.3 node (`erl -sname conftest`): `ok`, then its challenge naming it; a
    // node started with `net_kernel:allow([nobody@nowhere])`.
    ("erlang-dist-name", ERLANG_OK),
    ("erlang-dist-name", b"\x00\x0csnot_allowed"),
    // Synthesized: an OTP 22 node's version-5 challenge after `ok`.
    (
        "erlang-dist-name",
        b"\x00\x03sok\x00\x13n\x00\x05\x00\x03\x7f\xbd\x01\x02\x03\x04old@host",
    ),
    // gdbserver 13.1 (`gdbserver 127.0.0.1:PORT /bin/sleep 60`).
    ("gdb-qsupported", GDBSERVER),
    // Synthesized: a stub that supports no qSupported.
    ("gdb-qsupported", b"+$#00"),
    // TigerVNC 1.12 Xvnc `-SecurityTypes None`, then `VncAuth`, after the client's version.
    ("vnc-security-types", b"RFB 003.008\n\x01\x01"),
    ("vnc-security-types", b"RFB 003.008\n\x01\x02"),
    // Synthesized: an RFB 3.3 server (one 32-bit type), and a refusal with its reason.
    ("vnc-security-types", b"RFB 003.003\n\x00\x00\x00\x02"),
    (
        "vnc-security-types",
        b"RFB 003.008\n\x00\x00\x00\x00\x0bToo many security failures",
    ),
];

const BEANSTALKD_STATS: &[u8] = b"OK 956\r\n---\ncurrent-jobs-urgent: 0\ncurrent-jobs-ready: 0\n\
current-jobs-reserved: 0\ncurrent-jobs-delayed: 0\ncurrent-jobs-buried: 0\ncmd-put: 0\n\
cmd-peek: 0\ncmd-peek-ready: 0\ncmd-peek-delayed: 0\ncmd-peek-buried: 0\ncmd-reserve: 0\n\
cmd-reserve-with-timeout: 0\ncmd-delete: 0\ncmd-release: 0\ncmd-use: 0\ncmd-watch: 0\n\
cmd-ignore: 0\ncmd-bury: 0\ncmd-kick: 0\ncmd-touch: 0\ncmd-stats: 1\ncmd-stats-job: 0\n\
cmd-stats-tube: 0\ncmd-list-tubes: 0\ncmd-list-tube-used: 0\ncmd-list-tubes-watched: 0\n\
cmd-pause-tube: 0\njob-timeouts: 0\ntotal-jobs: 0\nmax-job-size: 65535\ncurrent-tubes: 1\n\
current-connections: 1\ncurrent-producers: 0\ncurrent-workers: 0\ncurrent-waiting: 0\n\
total-connections: 1\npid: 26499\nversion: \"1.12\"\nrusage-utime: 0.001425\n\
rusage-stime: 0.000000\nuptime: 1\nbinlog-oldest-index: 0\nbinlog-current-index: 0\n\
binlog-records-migrated: 0\nbinlog-records-written: 0\nbinlog-max-size: 10485760\n\
draining: false\nid: a5eaea420285f528\nhostname: vm\nos: #1 SMP PREEMPT_DYNAMIC @0\n\
platform: x86_64\n\r\n";

const ERLANG_OK: &[u8] = b"\x00\x03sok\x00\x1eN\x00\x00\x00\r\x07\xdf\x7f\xbdVz\xee\xdak\x13\xf3z\
    \x00\x0bconftest@vm";

const GIT_ERR: &[u8] =
    b"004eERR access denied or repository not exported: /portscope-probe-nonexistent";

const GIT_REFS: &[u8] =
    b"00463f6a1b3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a HEAD\x00multi_ack thin-pack\n";

const GDBSERVER: &[u8] = b"+$PacketSize=47ff;QPassSignals+;QProgramSignals+;QStartupWithShell+;\
QEnvironmentHexEncoded+;QEnvironmentReset+;QEnvironmentUnset+;QSetWorkingDir+;QCatchSyscalls+;\
qXfer:libraries-svr4:read+;augmented-libraries-svr4-read+;qXfer:auxv:read+;qXfer:siginfo:read+;\
qXfer:siginfo:write+;qXfer:features:read+;QStartNoAckMode+;qXfer:osdata:read+;multiprocess+;\
fork-events+;vfork-events+;exec-events+;QNonStop+;QDisableRandomization+;qXfer:threads:read+;\
ConditionalTracepoints+;TraceStateVariables+;TracepointSource+;DisconnectedTracing+;\
StaticTracepoints+;InstallInTrace+;qXfer:statictrace:read+;qXfer:traceframe-info:read+;\
EnableDisableTracepoints+;QTBuffer:size+;tracenz+;ConditionalBreakpoints+;BreakpointCommands+;\
QAgent+;Qbtrace:bts+;Qbtrace-conf:bts:size+;Qbtrace:pt+;Qbtrace-conf:pt:size+;Qbtrace:off+;\
qXfer:btrace:read+;qXfer:btrace-conf:read+;swbreak+;hwbreak+;qXfer:exec-file:read+;\
vContSupported+;QThreadEvents+;no-resumed+#c8";

fn probe(name: &str) -> &'static Probe {
    PROBES.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn rsync_beanstalkd_git() {
    let rsync = identify(&RSYNC, FIXTURES[0].1);
    assert_eq!(
        (rsync.protocol.as_str(), rsync.version.as_deref()),
        ("rsync", Some("32.0"))
    );
    assert_eq!(
        detail(&rsync, "digests"),
        Some("sha512 sha256 sha1 md5 md4")
    );
    assert_eq!(detail(&identify(&RSYNC, FIXTURES[1].1), "digests"), None);
    let bs = identify(&BEANSTALKD, BEANSTALKD_STATS);
    assert_eq!(
        (bs.product.as_deref(), bs.version.as_deref(), bs.auth),
        (Some("beanstalkd"), Some("1.12"), Some(Auth::NotRequired))
    );
    assert_eq!(detail(&bs, "current-tubes"), Some("1"));
    assert_eq!(detail(&bs, "hostname"), Some("vm"));
    let git = identify(&GIT, GIT_ERR);
    assert_eq!(git.confidence, Some(Confidence::Certain));
    assert_eq!(
        detail(&git, "error"),
        Some("access denied or repository not exported: /portscope-probe-nonexistent")
    );
    assert!(detail(&identify(&GIT, GIT_REFS), "refs").is_some());
}

#[test]
fn epmd_and_gdb() {
    let empty = identify(&EPMD, FIXTURES[5].1);
    assert_eq!(
        (empty.confidence, detail(&empty, "epmd_port")),
        (Some(Confidence::Likely), Some("47103"))
    );
    let one = identify(&EPMD, FIXTURES[6].1);
    assert_eq!(one.confidence, Some(Confidence::Certain));
    assert_eq!(detail(&one, "nodes"), Some("p21b:42001"));
    assert_eq!(detail(&one, "node_count"), Some("1"));
    let many: Vec<u8> = (0..50)
        .flat_map(|i| format!("name n{i} at port {}\n", 40000 + i).into_bytes())
        .collect();
    let many = identify(&EPMD, &[&b"\x00\x00\x11\x11"[..], &many].concat());
    assert_eq!(detail(&many, "node_count"), Some("50"));
    assert_eq!(detail(&many, "nodes").unwrap().split(' ').count(), 8);
    let gdb = identify(&GDB, GDBSERVER);
    assert_eq!(
        (gdb.protocol.as_str(), detail(&gdb, "packet_size")),
        ("gdb-remote", Some("18431"))
    );
    assert_eq!(detail(&gdb, "multiprocess"), Some("yes"));
    // A wrong checksum is not GDB.
    let bad = [&GDBSERVER[..GDBSERVER.len() - 2], b"c9"].concat();
    assert_eq!(gdb_parse(&bad), Verdict::NoMatch);
}

#[test]
fn erlang_distribution_says_its_status_and_node() {
    let ok = identify(&ERLANG_DIST, ERLANG_OK);
    assert_eq!(
        (ok.protocol.as_str(), ok.confidence),
        ("erlang-dist", Some(Confidence::Certain))
    );
    assert_eq!(
        (detail(&ok, "status"), detail(&ok, "node")),
        (Some("ok"), Some("conftest@vm"))
    );
    let refused = identify(&ERLANG_DIST, b"\x00\x0csnot_allowed");
    assert_eq!(
        (detail(&refused, "status"), detail(&refused, "node")),
        (Some("not_allowed"), None)
    );
    let old = identify(&ERLANG_DIST, FIXTURES[9].1);
    assert_eq!(detail(&old, "node"), Some("old@host"));
    // `ok` alone may be followed by the challenge: identified if the reply ends there.
    assert!(matches!(
        erlang_dist(b"\x00\x03sok"),
        Verdict::MatchIfEnds(_)
    ));
    // Unknown statuses, and lengths no status has, are not Erlang.
    assert_eq!(erlang_dist(b"\x00\x04sokay"), Verdict::NoMatch);
    assert_eq!(erlang_dist(b"\x00\xffsok"), Verdict::NoMatch);
    let Send::Bytes(name) = ERLANG_DIST.send else {
        panic!()
    };
    assert_eq!(usize::from(name[1]), name.len() - 2);
    assert!(name.ends_with(b"portscope_probe@localhost"));
}

fn gdb_parse(bytes: &[u8]) -> Verdict {
    (GDB.parse)(bytes)
}

/// The `n`th VNC security-types fixture.
fn vnc(n: usize) -> &'static [u8] {
    FIXTURES
        .iter()
        .filter(|(name, _)| *name == VNC_SECURITY.name)
        .nth(n)
        .map_or(&[][..], |(_, bytes)| *bytes)
}

#[test]
fn vnc_security_types_tell_the_auth() {
    let open = identify(&VNC_SECURITY, vnc(0));
    assert_eq!(
        (open.auth, detail(&open, "security")),
        (Some(Auth::NotRequired), Some("None"))
    );
    let password = identify(&VNC_SECURITY, vnc(1));
    assert_eq!(
        (password.auth, detail(&password, "security")),
        (Some(Auth::Required), Some("VNC authentication"))
    );
    let old = identify(&VNC_SECURITY, vnc(2));
    assert_eq!(old.auth, Some(Auth::Required));
    let refused = identify(&VNC_SECURITY, vnc(3));
    assert_eq!(
        (refused.auth, detail(&refused, "security")),
        (None, Some("refused the connection"))
    );
    // A count larger than what arrived waits; the banner alone waits.
    assert_eq!(vnc_security(b"RFB 003.008\n\x03\x01"), Verdict::NeedMore);
    assert_eq!(vnc_security(b"RFB 003.008\n"), Verdict::NeedMore);
    assert_eq!(vnc_security(b"RFB 003.00x\n\x01\x01"), Verdict::NoMatch);
}

#[test]
fn requests_are_well_formed() {
    let len = usize::from_str_radix(std::str::from_utf8(&GIT_REQUEST[..4]).unwrap(), 16).unwrap();
    assert_eq!(len, GIT_REQUEST.len());
    let Send::Bytes(q) = GDB.send else { panic!() };
    let body = &q[2..q.len() - 3];
    let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    assert_eq!(format!("{sum:02x}").as_bytes(), &q[q.len() - 2..]);
    let Send::Bytes(names) = EPMD.send else {
        panic!()
    };
    assert_eq!(usize::from(names[1]), names.len() - 2);
    for p in PROBES {
        assert!(p.refines.is_none() || p.name == VNC_SECURITY.name);
        assert!(
            !p.hints
                .ports
                .iter()
                .any(|p| crate::probe::PRINTER_PORTS.contains(p))
        );
        assert!(
            FIXTURES.iter().any(|(name, _)| *name == p.name),
            "{}",
            p.name
        );
    }
}

#[test]
fn prefixes_wait_and_never_reject() {
    for &(name, bytes) in FIXTURES {
        banner::tests::prefixes_wait(probe(name), bytes);
    }
}

#[test]
fn fixtures_match_only_their_own_probe() {
    // The rsync greeting reaches every speak-first parser, and every other family's banner
    // reaches it: neither side may claim the other's bytes.
    // (A refinement's reply starts with its protocol's banner: only first-line probes here.)
    for &(name, bytes) in FIXTURES.iter().filter(|(n, _)| *n != VNC_SECURITY.name) {
        let matched: Vec<&str> = banner::PROBES
            .iter()
            .chain(binary::PROBES)
            .chain(PROBES)
            .filter(|p| p.refines.is_none())
            .filter(|p| (p.parse)(bytes).settled().is_some())
            .map(|p| p.name)
            .collect();
        assert_eq!(matched, vec![name], "{}", evidence(bytes, 60));
    }
    for &(name, bytes) in banner::tests::FIXTURES {
        for p in PROBES {
            assert!(
                (p.parse)(bytes).settled().is_none(),
                "{} claims {name}'s banner",
                p.name
            );
        }
    }
}

#[test]
fn junk_is_rejected_without_waiting() {
    let junk: [&[u8]; 7] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"\x15\x03\x03\x00\x02\x02\x28",
        b"hello world\r\n",
        &[0xaa; 64],
        b"+OK\r\n",
        b"UNKNOWN_COMMAND\r\n",
        b"SSH-2.0-OpenSSH_9.2p1\r\n",
    ];
    assert_rejects(PROBES, &junk);
    // Huge stated lengths are decided on what arrived, never waited for past the caps.
    assert_eq!(
        beanstalkd(b"OK 999999999\r\n---\nversion: 1\n"),
        Verdict::NeedMore
    );
    let big = [&b"OK 999999999\r\n---\n"[..], &[b'a'; BEANSTALKD_BODY_MAX]].concat();
    assert!(matches!(beanstalkd(&big), Verdict::Match(_)));
    assert_eq!(beanstalkd(b"OK 9999999999"), Verdict::NoMatch);
    let pkt = [&b"ffffERR "[..], &[b'x'; PKT_MAX]].concat();
    assert!(matches!(git(&pkt), Verdict::Match(_)));
    assert_eq!(gdb(&[b'$'; GDB_MAX + 2]), Verdict::NoMatch);
    assert_eq!(epmd(b"\x00\x00\x00\x00"), Verdict::NoMatch);
}

proptest! {
    #[test]
    fn parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        for p in PROBES {
            assert_printable(&(p.parse)(&bytes));
        }
    }

    #[test]
    fn mutated_replies_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index].1, at, byte, cut);
        for p in PROBES {
            assert_printable(&(p.parse)(&bytes));
        }
    }
}
