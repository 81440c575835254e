//! Firewall rules that drop or reject TCP traffic to a port, and chains whose default policy
//! drops it, read with `nft -j list ruleset`, `iptables-save` and `ip6tables-save` when those
//! tools are installed. Parsing is pure (tested on text); running the tools is the only I/O.

mod ipt_policy;
pub mod nat;
mod nft_policy;
mod policy;

use std::net::IpAddr;
use std::process::Command;

use serde_json::Value;

use super::local::is_local;
use policy::{ChainAnswer, Flow};

/// One rule, or one chain's policy, that stops traffic to the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    /// `nft`, `iptables` or `ip6tables`.
    pub tool: &'static str,
    /// `drop` or `reject`.
    pub verdict: &'static str,
    /// Where it is: `table inet filter, chain input, handle 3`, or the iptables rule.
    pub location: String,
    /// A rule, or a policy.
    pub cause: Cause,
}

/// What stops the traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A rule that drops or rejects it.
    Rule {
        /// The command that deletes it.
        delete: String,
    },
    /// A chain hooked where the traffic passes whose default policy drops, with no rule
    /// before it that accepts loopback or the port.
    Policy {
        /// The chain as its tool names it: `inet filter input`, `INPUT`, `INPUT (table raw)`.
        chain: String,
        /// The hook (`input`, `output`…).
        hook: &'static str,
        /// How many rules the chain holds.
        rules: usize,
        /// The command that accepts all loopback traffic, then the one that accepts the port.
        accept: [String; 2],
    },
}

/// What the firewall tools showed for a port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firewall {
    /// Rules and policies that stop the traffic.
    pub blocking: Vec<BlockingRule>,
    /// What was read, and what could not be judged.
    pub notes: Notes,
}

/// What was looked at beside the blocking rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// One line per tool: `nft -j list ruleset: read`, `iptables-save: not installed …`.
    pub read: Vec<String>,
    /// Chains whose answer depends on something portscope does not evaluate, and why.
    pub unclear: Vec<String>,
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
            cause: Cause::Rule {
                delete: format!("sudo nft delete rule {family} {table} {chain} handle {handle}"),
            },
        });
    }
    out
}

/// Whether an iptables port spec (`8080`, `8000:9000`, `80,443,8000:8100`) covers `port`.
pub(crate) fn ipt_covers(spec: &str, port: u16) -> bool {
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
        let after = |flag: &str| word_after(&words, flag);
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
                cause: Cause::Rule {
                    delete: format!("sudo iptables -t {table} -D {rule}"),
                },
            });
        }
    }
    out
}

/// What a firewall tool printed, or why it printed nothing.
enum Read {
    Text(String),
    Missing,
    Failed(String),
}

/// Run an administrator's tool (from sbin, which a user's PATH may lack).
fn run(cmd: &str, args: &[&str]) -> Read {
    let Some(path) = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| std::path::Path::new(d).join(cmd))
        .find(|p| p.exists())
    else {
        return Read::Missing;
    };
    match Command::new(path).args(args).output() {
        Ok(o) if o.status.success() => Read::Text(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            Read::Failed(err.lines().next().unwrap_or("failed").trim().to_string())
        }
        Err(e) => Read::Failed(e.to_string()),
    }
}

/// Rules that drop or reject TCP `port`, and — for those of `addrs` that are this host's own
/// — chains whose default policy drops a new connection to them, in this network namespace,
/// from whichever tools exist.
pub fn read(port: u16, addrs: &[IpAddr]) -> Firewall {
    let mut local: Vec<IpAddr> = addrs.iter().copied().filter(|ip| is_local(*ip)).collect();
    local.dedup();
    let nft = run("nft", &["-j", "list", "ruleset"]);
    let saves = [
        ("iptables", run("iptables-save", &[])),
        ("ip6tables", run("ip6tables-save", &[])),
    ];
    judge_all(port, &local, &nft, &saves)
}

/// [`read`] once the tools have printed (pure).
fn judge_all(
    port: u16,
    local: &[IpAddr],
    nft: &Read,
    saves: &[(&'static str, Read); 2],
) -> Firewall {
    let mut fw = Firewall::default();
    if let Read::Text(json) = nft {
        fw.blocking.extend(parse_nft(json, port));
    }
    if let (_, Read::Text(text)) = &saves[0] {
        fw.blocking.extend(parse_iptables_save(text, port));
    }
    // iptables-nft keeps its tables in nftables, where its matches are opaque (`xt`): read
    // those tables through iptables-save, which shows them in full.
    let via_save = |family: &str| {
        let i = usize::from(family == "ip6");
        matches!(&saves[i].1, Read::Text(t) if t.lines().next().is_some_and(|l| l.contains("(nf_tables)")))
    };
    let mut answers: Vec<(&'static str, ChainAnswer)> = Vec::new();
    for &ip in local {
        if let Read::Text(json) = nft {
            answers.extend(
                nft_policy::hooked_chains(json, ip, port)
                    .into_iter()
                    .filter(|a| !(IPT_TABLES.contains(&a.table.as_str()) && via_save(&a.family)))
                    .map(|a| ("nft", a)),
            );
        }
        let (tool, save) = &saves[usize::from(ip.is_ipv6())];
        if let Read::Text(text) = save {
            answers.extend(
                ipt_policy::hooked_chains(text, ip, port)
                    .into_iter()
                    .map(|a| (*tool, a)),
            );
        }
    }
    for (tool, a) in answers {
        judge(&mut fw, tool, &a, port);
    }
    fw.notes
        .read
        .push(read_line("nft -j list ruleset", nft, "nftables"));
    for (tool, save) in saves {
        fw.notes
            .read
            .push(read_line(&format!("{tool}-save"), save, "iptables"));
    }
    fw
}

/// The tables iptables (legacy or nf_tables) manages.
const IPT_TABLES: [&str; 4] = ["filter", "mangle", "raw", "security"];

/// One line of [`Firewall::read`].
fn read_line(what: &str, r: &Read, package: &str) -> String {
    match r {
        Read::Text(_) => format!("{what}: read"),
        Read::Missing => format!("{what}: not installed (Debian package {package})"),
        Read::Failed(why) => format!("{what}: could not be read ({why}); as root it can"),
    }
}

/// Add what one walked chain says to `fw` (once per chain, whichever address asked).
fn judge(fw: &mut Firewall, tool: &'static str, a: &ChainAnswer, port: u16) {
    let nft = tool == "nft";
    let chain = if nft {
        format!(
            "table {} {}, chain {} (hook {}, priority {}, policy {})",
            a.family,
            a.table,
            a.chain,
            a.hook.name(),
            a.prio,
            a.policy
        )
    } else {
        format!("table {}, chain {} (policy {})", a.table, a.chain, a.policy)
    };
    match &a.flow {
        Flow::Accept | Flow::Through => {}
        Flow::Unclear(why) => {
            let line = format!("{tool} {chain}: {why}");
            if !fw.notes.unclear.contains(&line) {
                fw.notes.unclear.push(line);
            }
        }
        Flow::Drop {
            rule: None,
            verdict,
            ..
        } => {
            if fw.blocking.iter().any(|b| b.location == chain) {
                return;
            }
            fw.blocking.push(BlockingRule {
                tool,
                verdict,
                location: chain,
                cause: Cause::Policy {
                    chain: if nft {
                        format!("{} {} {}", a.family, a.table, a.chain)
                    } else if a.table == "filter" {
                        a.chain.clone()
                    } else {
                        format!("{} (table {})", a.chain, a.table)
                    },
                    hook: a.hook.name(),
                    rules: a.rules,
                    accept: accept_commands(tool, a, port),
                },
            });
        }
        Flow::Drop {
            chain: at,
            rule: Some(id),
            verdict,
        } => {
            let (location, delete) = if nft {
                let handle = id.trim_start_matches("handle ");
                (
                    format!(
                        "table {} {}, chain {at}, handle {handle}",
                        a.family, a.table
                    ),
                    format!(
                        "sudo nft delete rule {} {} {at} handle {handle}",
                        a.family, a.table
                    ),
                )
            } else {
                let rule = id.trim_start_matches("-A ");
                (
                    format!("table {}: -A {rule}", a.table),
                    format!("sudo {tool} -t {} -D {rule}", a.table),
                )
            };
            if fw.blocking.iter().any(|b| b.location == location) {
                return;
            }
            fw.blocking.push(BlockingRule {
                tool,
                verdict,
                location,
                cause: Cause::Rule { delete },
            });
        }
    }
}

/// The commands that accept loopback, and the port, at the top of the chain.
fn accept_commands(tool: &str, a: &ChainAnswer, port: u16) -> [String; 2] {
    let inbound = a.hook.inbound();
    if tool == "nft" {
        let at = format!("sudo nft insert rule {} {} {}", a.family, a.table, a.chain);
        let lo = if inbound { "iif lo" } else { "oif lo" };
        [
            format!("{at} {lo} accept"),
            format!("{at} tcp dport {port} accept"),
        ]
    } else {
        let t = if a.table == "filter" {
            String::new()
        } else {
            format!(" -t {}", a.table)
        };
        let at = format!("sudo {tool}{t} -I {}", a.chain);
        let lo = if inbound { "-i lo" } else { "-o lo" };
        [
            format!("{at} {lo} -j ACCEPT"),
            format!("{at} -p tcp --dport {port} -j ACCEPT"),
        ]
    }
}

/// The word after `flag` in an `iptables-save` rule's words (`-j DNAT` → `DNAT`).
pub(super) fn word_after<'a>(words: &[&'a str], flag: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| *w == flag)
        .and_then(|i| words.get(i + 1))
        .copied()
}

#[cfg(test)]
mod policy_tests;

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
        assert_eq!(
            r[0].cause,
            Cause::Rule {
                delete: "sudo nft delete rule inet pst input handle 2".into()
            }
        );
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
            r[0].cause,
            Cause::Rule {
                delete: "sudo iptables -t filter -D INPUT -i lo -p tcp -m tcp --dport 8080 -j DROP"
                    .into()
            }
        );
        assert_eq!(parse_iptables_save(text, 9050)[0].verdict, "reject");
        assert!(parse_iptables_save(text, 53).is_empty());
    }
}
