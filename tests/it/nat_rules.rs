//! DNAT rules alone, without an engine, in a network namespace of the test's own (root): `ls`
//! lists a port they publish whatever the family. `iptables-save` is run only for a family
//! whose `nat` table the kernel says holds a rule (asked first, over nf_tables' netlink): a
//! table emptied, or never made, must then publish nothing, and a rule must still be seen.

use crate::doctor_netns::Netns;
use crate::harness::needs;

/// The ports `ls --json` lists as published through NAT.
fn published(ns: &Netns) -> Vec<u64> {
    let report = ns.portscope(&["ls"]);
    report["published"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["port"].as_u64()).collect())
        .unwrap_or_default()
}

#[test]
fn dnat_rules_of_either_family_publish_and_emptied_tables_nothing() {
    let test = "dnat_rules_of_either_family_publish_and_emptied_tables_nothing";
    let Some(ns) = Netns::new(test, "natrules", "iptables rules in a namespace") else {
        return;
    };
    let (Some(v4), Some(v6)) = (
        needs(test, "iptables", "iptables"),
        needs(test, "ip6tables", "iptables"),
    ) else {
        return;
    };
    let (v4, v6) = (v4.to_str().unwrap(), v6.to_str().unwrap());
    ns.ip(&["link", "set", "lo", "up"]);
    // No table yet: nothing published.
    assert_eq!(published(&ns), Vec::<u64>::new());
    let rule = |tool: &str, op: &str, port: &str, to: &str| {
        ns.exec(&[
            tool,
            "-t",
            "nat",
            op,
            "PREROUTING",
            "-p",
            "tcp",
            "--dport",
            port,
            "-j",
            "DNAT",
            "--to-destination",
            to,
        ]);
    };
    rule(v4, "-A", "18091", "10.9.9.9:80");
    assert_eq!(published(&ns), vec![18091]);
    rule(v6, "-A", "18092", "[fd00::9]:80");
    assert_eq!(published(&ns), vec![18091, 18092]);
    // The IPv4 rule gone, its table empty: only the IPv6 one; then neither.
    rule(v4, "-D", "18091", "10.9.9.9:80");
    assert_eq!(published(&ns), vec![18092]);
    rule(v6, "-D", "18092", "[fd00::9]:80");
    assert_eq!(published(&ns), Vec::<u64>::new());
}
