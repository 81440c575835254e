//! `doctor` against firewalls that block by their default policy, built for real with
//! nftables and iptables inside network namespaces the tests create (root): a chain hooked on
//! input with `policy drop` that accepts only replies (`ct state established,related`) stops
//! a new connection to a listener on loopback; one loopback accept rule lets it through.

use crate::doctor_netns::Netns;
use crate::harness::codes;

#[test]
fn an_input_chain_that_drops_by_default_is_named_with_its_fix() {
    let test = "an_input_chain_that_drops_by_default_is_named_with_its_fix";
    let Some((ns, nft)) = Netns::with_tool(
        test,
        "fwpol",
        "adds nftables chains inside a network namespace of its own",
        "nft",
        "nftables",
    ) else {
        return;
    };
    let nft = nft.as_str();
    let inside = ns.listener("127.0.0.1");
    let port = inside.words[0].clone();
    ns.nft_input_chain(nft, "drop");
    // The usual first rule: it lets replies in, not new connections.
    ns.exec(&[
        nft,
        "add",
        "rule",
        "inet",
        "pstest",
        "input",
        "ct",
        "state",
        "established,related",
        "accept",
    ]);
    ns.exec(&[
        nft, "add", "rule", "inet", "pstest", "input", "tcp", "dport", "22", "accept",
    ]);
    let target = format!("127.0.0.1:{port}");
    let (code, r) = ns.portscope_code(&["doctor", &target, "--timeout", "300"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["attempts"][0]["outcome"], "timed_out", "{r}");
    assert_eq!(codes(&r), ["DOC-FIREWALL-POLICY"], "{r}");
    let f = &r["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(r["verdict"], f["title"]);
    let title = f["title"].as_str().unwrap();
    assert!(
        title.contains("nft chain inet pstest input (hook input) drops")
            && title.contains(&format!("no rule accepts loopback or TCP port {port}")),
        "{title}"
    );
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains("table inet pstest, chain input (hook input, priority 0, policy drop)"),
        "{evidence}"
    );
    assert!(evidence.contains("does listen"), "{evidence}");
    let fix = f["fix"].to_string();
    assert!(
        fix.contains("sudo nft insert rule inet pstest input iif lo accept"),
        "{fix}"
    );
    assert!(
        fix.contains(&format!(
            "sudo nft insert rule inet pstest input tcp dport {port} accept"
        )),
        "{fix}"
    );

    // The fix it names, applied: the same question now works, and no firewall is blamed.
    ns.exec(&[
        nft, "insert", "rule", "inet", "pstest", "input", "iif", "lo", "accept",
    ]);
    let (code, r) = ns.portscope_code(&["doctor", &target, "--timeout", "300"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["works"], true, "{r}");
    assert!(
        codes(&r).iter().all(|c| !c.starts_with("DOC-FIREWALL")),
        "{r}"
    );
}

#[test]
fn an_iptables_input_policy_of_drop_is_named_with_iptables_commands() {
    let test = "an_iptables_input_policy_of_drop_is_named_with_iptables_commands";
    let Some((ns, iptables)) = Netns::with_tool(
        test,
        "iptpol",
        "sets an iptables policy inside a network namespace of its own",
        "iptables",
        "iptables",
    ) else {
        return;
    };
    let iptables = iptables.as_str();
    let inside = ns.listener("127.0.0.1");
    let port = inside.words[0].clone();
    ns.exec(&[
        iptables,
        "-A",
        "INPUT",
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        "-j",
        "ACCEPT",
    ]);
    ns.exec(&[iptables, "-P", "INPUT", "DROP"]);
    let target = format!("127.0.0.1:{port}");
    let (code, r) = ns.portscope_code(&["doctor", &target, "--timeout", "300"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(codes(&r), ["DOC-FIREWALL-POLICY"], "{r}");
    let f = r["findings"][0].to_string();
    assert!(f.contains("table filter, chain INPUT (policy DROP)"), "{f}");
    assert!(f.contains("sudo iptables -I INPUT -i lo -j ACCEPT"), "{f}");

    ns.exec(&[iptables, "-I", "INPUT", "-i", "lo", "-j", "ACCEPT"]);
    let (code, r) = ns.portscope_code(&["doctor", &target, "--timeout", "300"]);
    assert_eq!((code, codes(&r).len()), (0, 0), "{r}");
}

#[test]
fn a_failure_nothing_explains_lists_what_was_looked_at() {
    let test = "a_failure_nothing_explains_lists_what_was_looked_at";
    let Some((ns, nft)) = Netns::with_tool(
        test,
        "unexpl",
        "adds nftables chains inside a network namespace of its own",
        "nft",
        "nftables",
    ) else {
        return;
    };
    let nft = nft.as_str();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port = &port.to_string();
    ns.nft_input_chain(nft, "drop");
    // Whether a rate limit lets the packet through depends on traffic: doctor makes no claim
    // either way. (Either way the attempt times out: no rule lets replies back in.)
    ns.exec(&[
        nft, "add", "rule", "inet", "pstest", "input", "tcp", "dport", port, "limit", "rate",
        "1/minute", "burst", "1", "packets", "accept",
    ]);
    let target = format!("127.0.0.1:{port}");
    let (code, r) = ns.portscope_code(&["doctor", &target, "--timeout", "300"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["attempts"][0]["outcome"], "timed_out", "{r}");
    assert_eq!(codes(&r), ["DOC-UNEXPLAINED"], "{r}");
    let f = &r["findings"][0];
    assert_eq!(r["verdict"], f["title"]);
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("no rule explains why"),
        "{f}"
    );
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for start in [
        &format!("connect to {target}: timed out"),
        &format!("listeners in this network namespace: none on TCP port {port}"),
        &format!("other network namespaces: 0 listener(s) on port {port}"),
        "unix sockets: 0 of the ",
        "processes: 0 of the ",
        &format!("firewall rules and policies: 0 blocking port {port} (nft -j list ruleset: read"),
        "firewall, could not tell: nft table inet pstest, chain input",
    ] {
        assert!(
            evidence.iter().any(|e| e.starts_with(start)),
            "{start:?} in {evidence:#?}"
        );
    }
    assert!(
        evidence.iter().any(|e| e.contains("`limit`")),
        "{evidence:#?}"
    );
}
