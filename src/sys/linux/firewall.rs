//! Firewall rules that drop or reject TCP traffic to a port, read with `nft -j list ruleset`
//! and `iptables-save` when those tools are installed. Parsing is pure (tested on text);
//! running the tools is the only I/O.

use std::process::Command;

use serde_json::Value;

/// One rule that stops traffic to the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    /// `nft` or `iptables`.
    pub tool: &'static str,
    /// `drop` or `reject`.
    pub verdict: &'static str,
    /// Where it is: `inet filter input (handle 3)`, or the iptables chain.
    pub location: String,
    /// The command that deletes it.
    pub delete: String,
}

/// Whether a JSON `right` operand of an nft match covers `port`: a number, a range, or a set
/// of either.
fn covers(right: &Value, port: u16) -> bool {
    let p = u64::from(port);
    match right {
        Value::Number(n) => n.as_u64() == Some(p),
        Value::Object(o) => {
            if let Some(Value::Array(r)) = o.get("range") {
                let lo = r.first().and_then(Value::as_u64).unwrap_or(u64::MAX);
                let hi = r.get(1).and_then(Value::as_u64).unwrap_or(0);
                return (lo..=hi).contains(&p);
            }
            if let Some(Value::Array(items)) = o.get("set") {
                return items.iter().any(|i| covers(i, port));
            }
            false
        }
        _ => false,
    }
}

/// Rules in `nft -j list ruleset` output that drop or reject TCP to `port`.
pub fn parse_nft(json: &str, port: u16) -> Vec<BlockingRule> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let Some(items) = doc.get("nftables").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rule in items.iter().filter_map(|i| i.get("rule")) {
        let Some(exprs) = rule.get("expr").and_then(Value::as_array) else {
            continue;
        };
        let matches_port = exprs.iter().filter_map(|e| e.get("match")).any(|m| {
            let left = m.get("left").and_then(|l| l.get("payload"));
            let is_tcp_dport = left.is_some_and(|p| {
                p.get("protocol").and_then(Value::as_str) == Some("tcp")
                    && p.get("field").and_then(Value::as_str) == Some("dport")
            });
            let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
            is_tcp_dport
                && (op == "==" || op == "in")
                && m.get("right").is_some_and(|r| covers(r, port))
        });
        let verdict = exprs.iter().find_map(|e| {
            if e.get("drop").is_some() {
                Some("drop")
            } else if e.get("reject").is_some() {
                Some("reject")
            } else {
                None
            }
        });
        let (true, Some(verdict)) = (matches_port, verdict) else {
            continue;
        };
        let s = |k: &str| {
            rule.get(k)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        let handle = rule.get("handle").and_then(Value::as_u64).unwrap_or(0);
        let (family, table, chain) = (s("family"), s("table"), s("chain"));
        out.push(BlockingRule {
            tool: "nft",
            verdict,
            location: format!("table {family} {table}, chain {chain}, handle {handle}"),
            delete: format!("sudo nft delete rule {family} {table} {chain} handle {handle}"),
        });
    }
    out
}

/// Whether an iptables port spec (`8080`, `8000:9000`, `80,443,8000:8100`) covers `port`.
fn ipt_covers(spec: &str, port: u16) -> bool {
    spec.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => {
            let lo = a.parse().unwrap_or(0);
            let hi = b.parse().unwrap_or(u16::MAX);
            (lo..=hi).contains(&port)
        }
        None => part.parse() == Ok(port),
    })
}

/// Rules in `iptables-save` output that drop or reject TCP to `port`.
pub fn parse_iptables_save(text: &str, port: u16) -> Vec<BlockingRule> {
    let mut table = String::from("filter");
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
            continue;
        }
        let Some(rule) = line.strip_prefix("-A ") else {
            continue;
        };
        let words: Vec<&str> = rule.split_whitespace().collect();
        let after = |flag: &str| {
            words
                .iter()
                .position(|w| *w == flag)
                .and_then(|i| words.get(i + 1))
                .copied()
        };
        let tcp = after("-p") == Some("tcp");
        let port_ok = after("--dport")
            .or_else(|| after("--dports"))
            .is_some_and(|s| ipt_covers(s, port));
        let verdict = match after("-j") {
            Some("DROP") => "drop",
            Some("REJECT") => "reject",
            _ => continue,
        };
        if tcp && port_ok {
            out.push(BlockingRule {
                tool: "iptables",
                verdict,
                location: format!("table {table}: -A {rule}"),
                delete: format!("sudo iptables -t {table} -D {rule}"),
            });
        }
    }
    out
}

/// The blocking rules for `port` in this network namespace, from whichever tools exist.
pub fn blocking_rules(port: u16) -> Vec<BlockingRule> {
    // Administrators' tools live in sbin, which a user's PATH may lack.
    let run = |cmd: &str, args: &[&str]| {
        let path = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(cmd))
            .find(|p| p.exists())?;
        Command::new(path)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let mut rules = Vec::new();
    if let Some(json) = run("nft", &["-j", "list", "ruleset"]) {
        rules.extend(parse_nft(&json, port));
    }
    if let Some(text) = run("iptables-save", &[]) {
        rules.extend(parse_iptables_save(&text, port));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFT: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
      {"rule": {"family": "inet", "table": "pst", "chain": "input", "handle": 2,
        "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 4242}}, {"drop": null}]}},
      {"rule": {"family": "inet", "table": "pst", "chain": "input", "handle": 4,
        "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [5000, {"range": [6000, 6010]}]}}}, {"reject": null}]}},
      {"rule": {"family": "inet", "table": "pst", "chain": "input", "handle": 5,
        "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 7000}}, {"drop": null}]}}]}"#;

    #[test]
    fn nft_rules() {
        let r = parse_nft(NFT, 4242);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].verdict, "drop");
        assert_eq!(r[0].delete, "sudo nft delete rule inet pst input handle 2");
        assert_eq!(parse_nft(NFT, 6005)[0].verdict, "reject");
        assert!(
            parse_nft(NFT, 7000).is_empty(),
            "UDP rule is not a TCP block"
        );
        assert!(parse_nft(NFT, 1).is_empty());
        assert!(parse_nft("not json", 1).is_empty());
    }

    #[test]
    fn iptables_rules() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -p tcp -m tcp --dport 8080 -j DROP\n-A INPUT -p tcp -m multiport --dports 80,9000:9100 -j REJECT --reject-with tcp-reset\n-A INPUT -p udp --dport 53 -j DROP\nCOMMIT\n";
        let r = parse_iptables_save(text, 8080);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].delete,
            "sudo iptables -t filter -D INPUT -i lo -p tcp -m tcp --dport 8080 -j DROP"
        );
        assert_eq!(parse_iptables_save(text, 9050)[0].verdict, "reject");
        assert!(parse_iptables_save(text, 53).is_empty());
    }
}
