//! Reply fixtures and tests for the UDP table. Real replies were captured on Debian 12 by
//! sending each probe's exact request (with a fixed nonce `PSPB…`) to a daemon started on a
//! loopback port: net-snmp 5.9.3, chrony 4.3 (no sources: unsynchronised), coturn 4.6.1,
//! libcoap 4.3.1's `coap-server`. Those marked "synthesized" follow the specification.

use proptest::prelude::*;

use super::*;
use crate::probe::banner::tests::{assert_printable, detail, identify as identify_tcp, mutated};
use crate::probe::{Probe, TlsUse};

/// net-snmp 5.9.3: GetResponse with sysDescr.0 and sysObjectID.0 (1.3.6.1.4.1.8072.3.2.10).
const SNMP_REPLY: &[u8] = b"0{\x02\x01\x01\x04\x06public\xa2n\x02\x04PSPB\x02\x01\x00\x02\x01\x000`0F\x06\x08+\x06\x01\x02\x01\x01\x01\x00\x04:Linux vm 6.18.44-fc-v1272 #1 SMP PREEMPT_DYNAMIC @0 x86_640\x16\x06\x08+\x06\x01\x02\x01\x01\x02\x00\x06\x0a+\x06\x01\x04\x01\xbf\x08\x03\x02\x0a";
/// chrony 4.3 without sources: LI 3 (unsynchronised), VN 4, mode 4, stratum 0.
const NTP_REPLY: &[u8] = b"\xe4\x00\x00\xe6\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00PSPBntp!\xee\xbeZ\x86\xf6\xec8\x8d\xee\xbeZ\x86\xf6\xef\xeb\xb0";
/// coturn 4.6.1: Binding Success with XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN and
/// SOFTWARE.
const STUN_REPLY: &[u8] = b"\x01\x01\x00<!\x12\xa4BPSPBstun!tid\x00 \x00\x08\x00\x01\xcc\xa3^\x12\xa4C\x00\x01\x00\x08\x00\x01\xed\xb1\x7f\x00\x00\x01\x80+\x00\x08\x00\x01\xa2\x06\x7f\x00\x00\x01\x80\x22\x00\x14Coturn-4.6.1 'Gorst'";
/// libcoap 4.3.1 coap-server: ACK 2.05 Content, Content-Format 40 (link-format).
const COAP_REPLY: &[u8] = b"dEPSPSPB\xc1(\xff</>;title=\x22General Info\x22;ct=0,</time>;if=\x22clock\x22;rt=\x22ticks\x22;title=\x22Internal Clock\x22;ct=0;obs,</async>;ct=0,</example_data>;title=\x22Example Data\x22;ct=0;obs";
/// dnsmasq 2.90's reply to `version.bind` (the TCP fixture without its length prefix).
const DNS_REPLY: &[u8] = b"PS\x84\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07version\x04bind\x00\x00\x10\x00\x03\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00\x00\r\x0cdnsmasq-2.90";

/// (probe name, reply bytes it must identify).
const FIXTURES: &[(&str, &[u8])] = &[
    ("dns-version-bind-udp", DNS_REPLY),
    ("snmp-get-sysdescr", SNMP_REPLY),
    ("ntp-client", NTP_REPLY),
    ("stun-binding", STUN_REPLY),
    ("coap-well-known-core", COAP_REPLY),
];

fn probe(name: &str) -> &'static UdpProbe {
    PROBES.iter().find(|p| p.name == name).unwrap()
}

fn identify(name: &str, bytes: &[u8]) -> Identification {
    let p = probe(name);
    // The TCP helper reports the failing probe by name: lend it this entry's parser.
    let as_tcp = Probe {
        name: p.name,
        send: Send::Nothing,
        parse: p.parse,
        hints: p.hints,
        tls: TlsUse::Plain,
        refines: None,
    };
    identify_tcp(&as_tcp, bytes)
}

#[test]
fn every_fixture_is_identified_by_its_probe_and_no_other() {
    for (name, bytes) in FIXTURES {
        let id = identify(name, bytes);
        assert_eq!(id.confidence, Some(Confidence::Certain), "{name}");
        for other in PROBES.iter().filter(|p| p.name != *name) {
            assert_eq!(
                (other.parse)(bytes),
                Verdict::NoMatch,
                "{} on {name}",
                other.name
            );
        }
    }
}

#[test]
fn snmp_reads_version_product_and_sysdescr() {
    let id = identify("snmp-get-sysdescr", SNMP_REPLY);
    assert_eq!(id.protocol, "snmp");
    assert_eq!(id.version.as_deref(), Some("2c"));
    assert_eq!(id.product.as_deref(), Some("net-snmp"));
    assert_eq!(
        detail(&id, "sysdescr"),
        Some("Linux vm 6.18.44-fc-v1272 #1 SMP PREEMPT_DYNAMIC @0 x86_64")
    );
    // Synthesized: the same agent answering noSuchName with an empty varbind list is still SNMP.
    let error = b"0\x1b\x02\x01\x01\x04\x06public\xa2\x0e\x02\x04PSPB\x02\x01\x02\x02\x01\x010\x00";
    let id = identify("snmp-get-sysdescr", error);
    assert_eq!(detail(&id, "error"), Some("noSuchName"));
    assert_eq!(id.product, None);
}

#[test]
fn snmp_request_is_a_v2c_get_of_system_oids() {
    let request = snmp_request(b"PSPBxxxxxxxx");
    assert_eq!(request.len(), 57);
    let (0x30, message, rest) = ber(&request).unwrap() else {
        panic!("not a sequence")
    };
    assert!(rest.is_empty());
    assert!(message.starts_with(b"\x02\x01\x01\x04\x06public\xa0")); // v2c, GetRequest
    assert!(request.windows(8).any(|w| w == SYS_DESCR));
    // Its own request is not a reply.
    assert_eq!(snmp(&request), Verdict::NoMatch);
}

#[test]
fn ntp_reads_version_stratum_and_refid() {
    let id = identify("ntp-client", NTP_REPLY);
    assert_eq!(id.protocol, "ntp");
    assert_eq!(id.version.as_deref(), Some("4"));
    assert_eq!(detail(&id, "stratum"), Some("0"));
    assert_eq!(detail(&id, "synchronised"), Some("no"));
    // Synthesized: a stratum-2 server names its source's address, a stratum-1 its clock.
    let mut reply = NTP_REPLY.to_vec();
    reply[0] = 0x24;
    reply[1] = 2;
    reply[12..16].copy_from_slice(&[192, 0, 2, 7]);
    let id = identify("ntp-client", &reply);
    assert_eq!(detail(&id, "refid"), Some("192.0.2.7"));
    assert_eq!(detail(&id, "synchronised"), None);
    reply[1] = 1;
    reply[12..16].copy_from_slice(b"GPS\0");
    assert_eq!(
        detail(&identify("ntp-client", &reply), "refid"),
        Some("GPS")
    );
    // Our own client packet (mode 3) is not a reply.
    assert_eq!(ntp(&ntp_request(b"PSPBntp!xxxx")), Verdict::NoMatch);
}

#[test]
fn stun_reads_software_and_mapped_address() {
    let id = identify("stun-binding", STUN_REPLY);
    assert_eq!(id.protocol, "stun");
    assert_eq!(id.product.as_deref(), Some("Coturn"));
    assert_eq!(id.version.as_deref(), Some("4.6.1"));
    assert_eq!(detail(&id, "software"), Some("Coturn-4.6.1 'Gorst'"));
    assert_eq!(detail(&id, "mapped"), Some("127.0.0.1:60849"));
    assert_eq!(stun(&stun_request(b"PSPBstun!tid")), Verdict::NoMatch);
    assert_eq!(
        split_software("eturnal/1.12.0"),
        ("eturnal".into(), Some("1.12.0".into()))
    );
    assert_eq!(split_software("stund"), ("stund".into(), None));
}

#[test]
fn coap_reads_code_and_resources() {
    let id = identify("coap-well-known-core", COAP_REPLY);
    assert_eq!(id.protocol, "coap");
    assert_eq!(detail(&id, "code"), Some("2.05"));
    assert_eq!(
        detail(&id, "resources"),
        Some("/ /time /async /example_data")
    );
    // Its own request (a GET, code 0.01) is not a response.
    assert_eq!(coap(&coap_request(b"PSPBxxxxxxxx")), Verdict::NoMatch);
}

#[test]
fn dns_over_udp_reads_the_version() {
    let id = identify("dns-version-bind-udp", DNS_REPLY);
    assert_eq!(id.version.as_deref(), Some("2.90"));
    assert_eq!(id.product.as_deref(), Some("dnsmasq"));
    assert_eq!(
        dns_request(b"............"),
        match binary::DNS.send {
            Send::Bytes(b) => b[2..].to_vec(),
            _ => unreachable!(),
        }
    );
}

proptest! {
    #[test]
    fn mutated_replies_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index].1, at, byte, cut);
        for probe in PROBES {
            assert_printable(&(probe.parse)(&bytes));
        }
    }

    #[test]
    fn any_bytes_stay_total(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for probe in PROBES {
            assert_printable(&(probe.parse)(&bytes));
        }
    }
}
