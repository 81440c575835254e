//! The policy walk on rulesets printed by real `nft -j list ruleset` and `iptables-save`
//! (nftables 1.0.6, iptables 1.8.9 nf_tables) inside a throwaway network namespace.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use super::policy::{Flow, Hook};
use super::{Cause, Read, ipt_policy, judge_all, nft_policy};

const POLICY_DROP: &str = include_str!("../../../../tests/fixtures/firewall/nft-policy-drop.json");
const POLICY_DROP_LO: &str =
    include_str!("../../../../tests/fixtures/firewall/nft-policy-drop-lo.json");
const SETS_JUMPS: &str = include_str!("../../../../tests/fixtures/firewall/nft-sets-jumps.json");
const IPT_NFT_JSON: &str = include_str!("../../../../tests/fixtures/firewall/iptables-nft.json");
const IPT_SAVE: &str = include_str!("../../../../tests/fixtures/firewall/iptables-nft-save.txt");
const IP6T_SAVE: &str = include_str!("../../../../tests/fixtures/firewall/ip6tables-nft-save.txt");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The flow of the chain hooked at `hook`.
fn nft_flow(json: &str, addr: &str, port: u16, hook: Hook) -> Flow {
    let answers = nft_policy::hooked_chains(json, ip(addr), port);
    let a = answers.iter().find(|a| a.hook == hook).unwrap();
    a.flow.clone()
}

fn is_policy(f: &Flow) -> bool {
    matches!(f, Flow::Drop { rule: None, .. })
}

#[test]
fn established_related_does_not_let_a_new_connection_in() {
    for addr in ["127.0.0.1", "::1"] {
        let f = nft_flow(POLICY_DROP, addr, 5432, Hook::Input);
        assert!(is_policy(&f), "{addr}: {f:?}");
        assert_eq!(nft_flow(POLICY_DROP, addr, 22, Hook::Input), Flow::Accept);
        assert_eq!(
            nft_flow(POLICY_DROP, addr, 5432, Hook::Output),
            Flow::Accept
        );
    }
    // The forward chain is not on the way of local traffic.
    let answers = nft_policy::hooked_chains(POLICY_DROP, ip("127.0.0.1"), 5432);
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0].rules, 4);
    assert_eq!(
        nft_flow(POLICY_DROP_LO, "127.0.0.1", 5432, Hook::Input),
        Flow::Accept
    );
    assert_eq!(
        nft_flow(POLICY_DROP_LO, "::1", 5432, Hook::Input),
        Flow::Accept
    );
}

#[test]
fn sets_ranges_jumps_and_gotos_are_followed() {
    let input = |addr: &str, port: u16| nft_flow(SETS_JUMPS, addr, port, Hook::Input);
    // A named interval set; a jump into a chain that accepts.
    for port in [8000, 8050, 8099, 9443, 25, 5432] {
        assert_eq!(input("127.0.0.1", port), Flow::Accept, "port {port}");
    }
    assert!(is_policy(&input("127.0.0.1", 8100)));
    assert!(is_policy(&input("127.0.0.1", 1234)));
    // `iifname != "lo" ip saddr 10.0.0.0/8 accept` does not apply to loopback traffic.
    // `ip6 saddr ::1 tcp dport 6543 accept` applies to IPv6 only.
    assert_eq!(input("::1", 6543), Flow::Accept);
    assert!(is_policy(&input("127.0.0.1", 6543)));
    // A reject in the chain jumped to.
    let f = input("127.0.0.1", 4444);
    assert!(
        matches!(&f, Flow::Drop { chain, rule: Some(r), verdict: "reject" } if chain == "services" && r == "handle 15"),
        "{f:?}"
    );
    // A rate limit decides: not known from the ruleset, so no claim either way.
    for port in [7005, 6000] {
        let f = input("127.0.0.1", port);
        assert!(
            matches!(&f, Flow::Unclear(w) if w.contains("limit")),
            "{port}: {f:?}"
        );
    }
    // The nat chain is not a filter.
    let answers = nft_policy::hooked_chains(SETS_JUMPS, ip("127.0.0.1"), 1234);
    assert!(answers.iter().all(|a| a.table == "fw"), "{answers:?}");
}

#[test]
fn iptables_save_is_walked_like_nft() {
    let flow = |text: &str, addr: &str, port: u16, chain: &str| {
        let answers = ipt_policy::hooked_chains(text, ip(addr), port);
        answers.into_iter().find(|a| a.chain == chain).unwrap().flow
    };
    // conntrack, multiport, a quoted comment, a jump to a user chain that logs then accepts.
    for port in [22, 80, 443, 5432] {
        assert_eq!(
            flow(IPT_SAVE, "127.0.0.1", port, "INPUT"),
            Flow::Accept,
            "{port}"
        );
    }
    assert!(is_policy(&flow(IPT_SAVE, "127.0.0.1", 8080, "INPUT")));
    assert_eq!(flow(IPT_SAVE, "127.0.0.1", 8080, "OUTPUT"), Flow::Accept);
    assert_eq!(
        flow(IP6T_SAVE, "::1", 8080, "INPUT"),
        Flow::Accept,
        "-i lo accepts"
    );
    // Without the loopback rule: the negated port rule rejects, its exception falls through.
    let no_lo = IP6T_SAVE.replace("-A INPUT -i lo -j ACCEPT\n", "");
    assert!(is_policy(&flow(&no_lo, "::1", 9000, "INPUT")));
    let f = flow(&no_lo, "::1", 8080, "INPUT");
    assert!(
        matches!(
            f,
            Flow::Drop {
                rule: Some(_),
                verdict: "reject",
                ..
            }
        ),
        "{f:?}"
    );
    // Counters (`iptables-save -c`), an address match, an unknown target.
    let text = "*filter\n:INPUT DROP [1:2]\n:OUTPUT ACCEPT [0:0]\n\
                [0:0] -A INPUT -s 10.0.0.0/255.0.0.0 -j ACCEPT\n\
                [3:4] -A INPUT -d 127.0.0.0/8 -p tcp --dport 9000 -j NFQUEUE --queue-num 1\n\
                COMMIT\n";
    assert!(is_policy(&flow(text, "127.0.0.1", 8080, "INPUT")));
    let f = flow(text, "127.0.0.1", 9000, "INPUT");
    assert!(
        matches!(&f, Flow::Unclear(w) if w.contains("NFQUEUE")),
        "{f:?}"
    );
}

fn text(s: &str) -> Read {
    Read::Text(s.to_string())
}

#[test]
fn a_policy_becomes_a_blocking_cause_with_the_commands_that_open_it() {
    let saves = [("iptables", Read::Missing), ("ip6tables", Read::Missing)];
    let local = [ip("127.0.0.1"), ip("::1")];
    let fw = judge_all(5432, &local, &text(POLICY_DROP), &saves);
    assert_eq!(
        fw.blocking.len(),
        1,
        "one chain, asked for two addresses: {fw:?}"
    );
    let b = &fw.blocking[0];
    assert_eq!(b.tool, "nft");
    assert_eq!(
        b.location,
        "table inet filter, chain input (hook input, priority 0, policy drop)"
    );
    let Cause::Policy {
        chain,
        hook,
        rules,
        accept,
    } = &b.cause
    else {
        panic!("{b:?}");
    };
    assert_eq!(
        (chain.as_str(), *hook, *rules),
        ("inet filter input", "input", 4)
    );
    assert_eq!(
        accept[0],
        "sudo nft insert rule inet filter input iif lo accept"
    );
    assert_eq!(
        accept[1],
        "sudo nft insert rule inet filter input tcp dport 5432 accept"
    );
    assert_eq!(fw.notes.read[0], "nft -j list ruleset: read");
    assert!(
        fw.notes.read[1].contains("not installed"),
        "{:?}",
        fw.notes.read
    );
    // Nothing for a remote address: its packets never reach the input hook.
    assert!(
        judge_all(5432, &[], &text(POLICY_DROP), &saves)
            .blocking
            .is_empty()
    );
    assert!(
        judge_all(5432, &local, &text(POLICY_DROP_LO), &saves)
            .blocking
            .is_empty()
    );
    // An explicit reject found both ways is named once.
    let fw = judge_all(4444, &local, &text(SETS_JUMPS), &saves);
    assert_eq!(fw.blocking.len(), 1, "{fw:?}");
    assert!(matches!(fw.blocking[0].cause, Cause::Rule { .. }));
    // A rate limit in front of the policy: said, not claimed.
    let fw = judge_all(7005, &local, &text(SETS_JUMPS), &saves);
    assert!(fw.blocking.is_empty(), "{fw:?}");
    assert!(
        fw.notes.unclear[0].starts_with("nft table inet fw, chain input"),
        "{fw:?}"
    );
}

#[test]
fn iptables_nft_tables_are_read_through_iptables_save() {
    let local = [ip("127.0.0.1")];
    // nft alone cannot see into the conntrack match: unclear.
    let saves = [("iptables", Read::Missing), ("ip6tables", Read::Missing)];
    let fw = judge_all(8080, &local, &text(IPT_NFT_JSON), &saves);
    assert!(fw.blocking.is_empty(), "{fw:?}");
    assert!(fw.notes.unclear[0].contains("the iptables match"), "{fw:?}");
    // With iptables-save: the policy, with iptables' own commands.
    let saves = [
        ("iptables", text(IPT_SAVE)),
        ("ip6tables", Read::Failed("denied".into())),
    ];
    let fw = judge_all(8080, &local, &text(IPT_NFT_JSON), &saves);
    assert!(fw.notes.unclear.is_empty(), "{fw:?}");
    assert_eq!(fw.blocking.len(), 1, "{fw:?}");
    let b = &fw.blocking[0];
    assert_eq!(
        (b.tool, b.location.as_str()),
        ("iptables", "table filter, chain INPUT (policy DROP)")
    );
    let Cause::Policy { accept, .. } = &b.cause else {
        panic!("{b:?}");
    };
    assert_eq!(accept[0], "sudo iptables -I INPUT -i lo -j ACCEPT");
    assert_eq!(
        accept[1],
        "sudo iptables -I INPUT -p tcp --dport 8080 -j ACCEPT"
    );
    assert!(
        fw.notes.read[2].contains("could not be read (denied)"),
        "{:?}",
        fw.notes.read
    );
}
