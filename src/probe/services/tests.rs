//! Reply fixtures and tests for the services family. Real replies were captured on Debian 12
//! by sending each probe's exact request to a server started on a free loopback port (version
//! noted per fixture); those marked "synthesized" follow the specification.

use proptest::prelude::*;

use super::*;
use crate::probe::banner::tests::{assert_printable, detail, identify};

/// (probe name, reply bytes it must identify).
const FIXTURES: &[(&str, &[u8])] = &[
    // slapd 2.5.13 (OpenLDAP), one mdb database: the RootDSE entry and the searchResDone.
    ("ldap-rootdse", SLAPD_ROOTDSE),
    // Synthesized: searchResDone insufficientAccessRights with a message; a notice of
    // disconnection (message id 0, extendedResponse) with unavailable.
    (
        "ldap-rootdse",
        b"0\x18\x02\x01\x01e\x13\x0a\x012\x04\x00\x04\x0cno anonymous",
    ),
    (
        "ldap-rootdse",
        b"0\x0c\x02\x01\x00x\x07\x0a\x014\x04\x00\x04\x00",
    ),
    // Synthesized: 389 Directory Server's vendor attributes (long-form lengths).
    ("ldap-rootdse", DS389_ROOTDSE),
    // smbd 4.17.12: defaults, then `server signing = mandatory`.
    ("smb2-negotiate", SMBD),
    ("smb2-negotiate", SMBD_SIGNING),
    // Synthesized: an SMB1-only server's reply header.
    (
        "smb2-negotiate",
        b"\x00\x00\x00\x23\xffSMBr\x00\x00\x00\x00",
    ),
    // memcached 1.6.18 -B binary, then -S (SASL, no user).
    ("memcached-binary-version", MEMCACHED_BINARY_REPLY),
    ("memcached-binary-version", MEMCACHED_SASL_REPLY),
    // ZooKeeper 3.8.0 (Debian's zookeeper, standalone); synthesized: the whitelist refusal.
    ("zookeeper-srvr", ZOOKEEPER_SRVR),
    (
        "zookeeper-srvr",
        b"srvr is not executed because it is not in the whitelist.\n",
    ),
    // ZooKeeper 3.8.0 listening but not yet serving (to every request, then it closes).
    (
        "zookeeper-srvr",
        b"This ZooKeeper instance is not currently serving requests\n",
    ),
];

const ZOOKEEPER_SRVR: &[u8] =
    b"Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n\
    Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\n\
    Zxid: 0x0\nMode: standalone\nNode count: 5\n";

const SLAPD_ROOTDSE: &[u8] =
    b"0w\x02\x01\x01dr\x04\x000n0%\x04\x0bobjectClass1\x16\x04\x03top\x04\x0fOpenLDAProotDSE0(\
    \x04\x0enamingContexts1\x16\x04\x14dc=portscope,dc=test0\x1b\x04\x14supportedLDAPVersion1\
    \x03\x04\x0130\x0c\x02\x01\x01e\x07\x0a\x01\x00\x04\x00\x04\x00";

const DS389_ROOTDSE: &[u8] = b"0\x81^\x02\x01\x01d\x81X\x04\x000\x81S0\x1b\x04\x0avendorName1\
    \x0d\x04\x0b389 Project04\x04\x0dvendorVersion1#\x04!389-Directory/2.3.1 B2023.123.456";

const SMBD: &[u8] = b"\x00\x00\x00\xfe\xfeSMB@\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00A\x00\x01\x00\x11\x03\x01\x00vm\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x07\x00\x00\x00\x00\x00\x80\x00\x00\x00\x80\x00\x00\x00\x80\x00^x\xbd\x98\
    \x9c\x84\xdd\x01\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00J\x00\xd0\x00\x00\x00`H\x06\x06+\
    \x06\x01\x05\x05\x02\xa0>0<\xa0\x0e0\x0c\x06\x0a+\x06\x01\x04\x01\x827\x02\x02\x0a\xa3*0(\
    \xa0&\x1b$not_defined_in_RFC4178@please_ignore\x00\x00\x00\x00\x00\x00\x01\x00&\x00\x00\
    \x00\x00\x00\x01\x00\x20\x00\x01\x00X\xecn4\x1b\x1b'H[\x8f\xcbfy-\xdd\x03Sh\xc8\xe7f,\xbc\
    \x8d\xe9\xa5\xeet\x9d\x99M%";

/// The first 80 bytes of the reply with `server signing = mandatory` (security mode 3).
const SMBD_SIGNING: &[u8] = b"\x00\x00\x00\xfe\xfeSMB@\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00A\x00\x03\x00\x11\x03\x01\x00vm\x00\x00";

const MEMCACHED_BINARY_REPLY: &[u8] =
    b"\x81\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06PSPB\x00\x00\x00\x00\x00\x00\x00\x001.6.18\
    \x81\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00PSPC\x00\x00\x00\x00\x00\x00\x00\x00";

const MEMCACHED_SASL_REPLY: &[u8] =
    b"\x81\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06PSPB\x00\x00\x00\x00\x00\x00\x00\x001.6.18\
    \x81\x0a\x00\x00\x00\x00\x00\x20\x00\x00\x00\x0dPSPC\x00\x00\x00\x00\x00\x00\x00\x00Auth fail\
    ure.";

impl Verdict {
    fn into_id(self) -> Identification {
        match self {
            Verdict::Match(id) => id,
            other => panic!("{other:?}"),
        }
    }
}

fn probe(name: &str) -> &'static Probe {
    PROBES.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn every_fixture_is_identified_and_printable() {
    for (name, bytes) in FIXTURES {
        let p = probe(name);
        assert_printable(&Verdict::Match(identify(p, bytes)));
        // Cut anywhere, a reply never panics, and the engine keeps reading.
        for cut in 0..bytes.len() {
            let v = (p.parse)(&bytes[..cut]);
            assert_printable(&v);
            assert_ne!(
                v,
                Verdict::NoMatch,
                "{name}: NoMatch at {cut} of a reply it identifies"
            );
        }
    }
}

#[test]
fn slapd_rootdse_names_openldap_and_its_contexts() {
    let id = identify(&LDAP, SLAPD_ROOTDSE);
    assert_eq!(
        (id.protocol.as_str(), id.confidence),
        ("ldap", Some(Confidence::Certain))
    );
    assert_eq!(id.product.as_deref(), Some("OpenLDAP"));
    assert_eq!(id.version, None);
    assert_eq!(detail(&id, "naming_contexts"), Some("dc=portscope,dc=test"));
    assert_eq!(detail(&id, "ldap_versions"), Some("3"));
    assert_eq!(
        id.auth, None,
        "a readable RootDSE says nothing of the directory"
    );
}

#[test]
fn ldap_vendor_and_refusals() {
    let id = identify(&LDAP, DS389_ROOTDSE);
    assert_eq!(id.product.as_deref(), Some("389 Project"));
    assert_eq!(
        id.version.as_deref(),
        Some("389-Directory/2.3.1 B2023.123.456")
    );
    let refused = identify(&LDAP, FIXTURES[1].1);
    assert_eq!(refused.auth, Some(Auth::Required));
    assert_eq!(detail(&refused, "result"), Some("insufficientAccessRights"));
    assert_eq!(detail(&refused, "message"), Some("no anonymous"));
    let notice = identify(&LDAP, FIXTURES[2].1);
    assert_eq!(detail(&notice, "result"), Some("unavailable"));
    // Not LDAP: another message id, another operation, HTTP.
    assert_eq!(
        ldap(b"0\x0c\x02\x01\x07e\x07\x0a\x01\x00\x04\x00\x04\x00"),
        Verdict::NoMatch
    );
    assert_eq!(
        ldap(b"0\x0c\x02\x01\x01a\x07\x0a\x01\x00\x04\x00\x04\x00"),
        Verdict::NoMatch
    );
    assert_eq!(ldap(b"HTTP/1.1 400 Bad Request\r\n"), Verdict::NoMatch);
    assert_eq!(
        ldap(b"0\x85"),
        Verdict::NoMatch,
        "a 5-byte length is refused"
    );
    assert_eq!(ldap(b"0\x84\xff\xff"), Verdict::NeedMore);
}

#[test]
fn smbd_dialect_and_signing() {
    let id = identify(&SMB, SMBD);
    assert_eq!(
        (id.protocol.as_str(), id.confidence),
        ("smb", Some(Confidence::Certain))
    );
    assert_eq!(detail(&id, "dialect"), Some("3.1.1"));
    assert_eq!(detail(&id, "signing"), Some("enabled"));
    let signed = identify(&SMB, SMBD_SIGNING);
    assert_eq!(detail(&signed, "signing"), Some("required"));
    assert_eq!(smb(b"\x00\x00\x00\x10\xfeSMB"), Verdict::NeedMore);
    assert_eq!(smb(b"HTTP/1.1 400"), Verdict::NoMatch);
    assert_eq!(smb(b"\x00\x00\x00\x10RFB "), Verdict::NoMatch);
}

#[test]
fn memcached_binary_version_and_sasl() {
    let open = identify(&MEMCACHED_BINARY, MEMCACHED_BINARY_REPLY);
    assert_eq!(open.product.as_deref(), Some("Memcached"));
    assert_eq!(open.version.as_deref(), Some("1.6.18"));
    assert_eq!(open.auth, Some(Auth::NotRequired));
    let sasl = identify(&MEMCACHED_BINARY, MEMCACHED_SASL_REPLY);
    assert_eq!(sasl.version.as_deref(), Some("1.6.18"));
    assert_eq!(sasl.auth, Some(Auth::Required));
    // A body length beyond any version string is not memcached.
    let huge =
        b"\x81\x0b\x00\x00\x00\x00\x00\x00\xff\xff\xff\xffPSPB\x00\x00\x00\x00\x00\x00\x00\x00";
    assert_eq!(memcached_binary(huge), Verdict::NoMatch);
    assert_eq!(memcached_binary(b"VERSION 1.6.18\r\n"), Verdict::NoMatch);
}

#[test]
fn zookeeper_release_and_mode() {
    let id = identify(&ZOOKEEPER, ZOOKEEPER_SRVR);
    assert_eq!(
        (id.protocol.as_str(), id.confidence),
        ("zookeeper", Some(Confidence::Certain))
    );
    assert_eq!(id.product.as_deref(), Some("ZooKeeper"));
    assert_eq!(id.version.as_deref(), Some("3.8.0"));
    assert_eq!(detail(&id, "mode"), Some("standalone"));
    let refused = identify(&ZOOKEEPER, FIXTURES[10].1);
    assert_eq!(refused.version, None);
    assert_eq!(detail(&refused, "srvr"), Some("not in the 4lw whitelist"));
    let starting = identify(&ZOOKEEPER, FIXTURES[11].1);
    assert_eq!(
        detail(&starting, "serving"),
        Some("no (starting, or no quorum)")
    );
    assert_eq!(
        zookeeper(b"Zookeeper version: 3.4.14-4c25d4\n")
            .into_id()
            .version
            .as_deref(),
        Some("3.4.14")
    );
    assert_eq!(zookeeper(b"Zookeeper"), Verdict::NeedMore);
    assert_eq!(
        zookeeper(b"-ERR unknown command 'srvr'\r\n"),
        Verdict::NoMatch
    );
}

#[test]
fn requests_are_what_the_docs_say() {
    let Send::Bytes(ldap_request) = LDAP.send else {
        panic!()
    };
    assert_eq!(ldap_request.len(), 117);
    assert_eq!(
        usize::from(ldap_request[1]) + 2,
        ldap_request.len(),
        "BER length"
    );
    assert_eq!(SMB2_NEGOTIATE.len(), 162);
    assert_eq!(
        usize::from(SMB2_NEGOTIATE[3]) + 4,
        SMB2_NEGOTIATE.len(),
        "NetBIOS length"
    );
    let Send::Bytes(mc) = MEMCACHED_BINARY.send else {
        panic!()
    };
    assert_eq!(mc.len(), 48);
}

proptest! {
    #[test]
    fn parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        for p in PROBES {
            assert_printable(&(p.parse)(&bytes));
        }
    }

    #[test]
    fn parsers_survive_their_own_prefixes(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        for (name, fixture) in FIXTURES {
            let mut bytes = fixture.to_vec();
            bytes.extend(&tail);
            assert_printable(&(probe(name).parse)(&bytes));
        }
    }
}
