//! iptables, read as the kernel walks it: each built-in chain where local traffic passes
//! (`INPUT`, `OUTPUT`, `PREROUTING`, `POSTROUTING`) of `iptables-save` (or `ip6tables-save`)
//! output, walked for the first packet of a connection to this host's own address, jumps to
//! user chains followed. Pure: text in, answers out.

use std::collections::HashMap;
use std::net::IpAddr;

use super::policy::{Action, ChainAnswer, Flow, Hook, Packet, Rule, Tri, in_prefix, walk};

/// The built-in chains hooked where local traffic passes, walked for a new TCP connection
/// from this host to `ip:port` (`ip`'s family is the save output's: IPv4 for `iptables-save`).
pub fn hooked_chains(text: &str, ip: IpAddr, port: u16) -> Vec<ChainAnswer> {
    let family = if ip.is_ipv4() { "ip" } else { "ip6" };
    let mut out = Vec::new();
    for (table, section) in tables(text) {
        if table == "nat" {
            continue; // nat chains only translate; their policy is always ACCEPT
        }
        let user: Vec<&str> = section
            .iter()
            .filter_map(|l| l.strip_prefix(':'))
            .filter(|l| l.split_whitespace().nth(1) == Some("-"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        for line in section.iter().filter_map(|l| l.strip_prefix(':')) {
            let mut words = line.split_whitespace();
            let (Some(name), Some(policy)) = (words.next(), words.next()) else {
                continue;
            };
            let Some(hook) = Hook::parse(name).filter(|_| policy != "-") else {
                continue;
            };
            let packet = Packet { hook, ip, port };
            let mut chains: HashMap<String, Vec<Rule>> = HashMap::new();
            for rule in section.iter().filter_map(|l| rule_text(l)) {
                let words = tokens(rule);
                let Some(chain) = words.first() else { continue };
                let evaluated = evaluate(rule, &words[1..], &packet, &user);
                chains.entry(chain.clone()).or_default().push(evaluated);
            }
            let end = if policy == "DROP" {
                Flow::Drop {
                    chain: name.to_string(),
                    rule: None,
                    verdict: "drop",
                }
            } else {
                Flow::Accept
            };
            out.push(ChainAnswer {
                family: family.into(),
                table: table.to_string(),
                chain: name.to_string(),
                hook,
                prio: 0,
                policy: policy.to_string(),
                rules: chains.get(name).map_or(0, Vec::len),
                flow: walk(&chains, name, &end),
            });
        }
    }
    out
}

/// `*table` sections: the table's name and its lines up to `COMMIT`.
fn tables(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix('*') {
            out.push((t, Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        }
    }
    out
}

/// The text after `-A ` of a rule line (an `iptables-save -c` counter prefix removed).
fn rule_text(line: &str) -> Option<&str> {
    let line = match line.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.1.trim_start(),
        None => line,
    };
    line.strip_prefix("-A ")
}

/// Words, with `"quoted text"` (comments, log prefixes) kept as one.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut escaped, mut any) = (false, false, false);
    for c in text.chars() {
        match c {
            _ if escaped => {
                word.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// One rule's condition and action for the packet; `words` follow the chain name.
fn evaluate(text: &str, words: &[String], p: &Packet, user: &[&str]) -> Rule {
    let mut when = Tri::Yes;
    let mut action = Action::Continue;
    let mut negate = false;
    let mut i = 0;
    while let Some(word) = words.get(i) {
        let arg = words.get(i + 1).map_or("", String::as_str);
        i += 2;
        let cond = match word.as_str() {
            "!" => {
                negate = true;
                i -= 1;
                continue;
            }
            "-i" | "--in-interface" => iface(arg, p.hook.inbound(), p),
            "-o" | "--out-interface" => iface(arg, !p.hook.inbound(), p),
            "-p" | "--protocol" => Tri::from(matches!(arg, "tcp" | "6" | "all" | "0")),
            "-s" | "--source" | "-d" | "--destination" => addr(arg, p.ip),
            "-m" | "--match" | "--comment" => Tri::Yes,
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                Tri::from(super::ipt_covers(arg, p.port))
            }
            "--sport" | "--source-port" | "--sports" | "--source-ports" => {
                Tri::Maybe("the source port (an ephemeral port)".into())
            }
            "--ctstate" | "--state" => Tri::from(arg.split(',').any(|s| s == "NEW")),
            "--syn" => {
                i -= 1;
                Tri::Yes
            }
            "-c" | "--set-counters" => {
                i += 1;
                Tri::Yes
            }
            "-j" | "--jump" => {
                action = target(arg, user);
                break; // the rest are the target's options
            }
            "-g" | "--goto" => {
                action = Action::Goto(arg.to_string());
                break;
            }
            other => {
                if arg.starts_with('-') || arg == "!" {
                    i -= 1;
                }
                Tri::Maybe(format!("the option {other}"))
            }
        };
        when = when.and(if negate { cond.not() } else { cond });
        negate = false;
    }
    Rule {
        id: format!("-A {text}"),
        when,
        action,
    }
}

/// `-i`/`-o NAME` (`+` ends a prefix): known on the side the packet is on, else unknown.
fn iface(name: &str, known: bool, p: &Packet) -> Tri {
    if !known {
        return Tri::Maybe(format!(
            "the interface is not known at hook {}",
            p.hook.name()
        ));
    }
    Tri::from(match name.strip_suffix('+') {
        Some(prefix) => "lo".starts_with(prefix),
        None => name == "lo",
    })
}

/// `-s`/`-d ADDR[/LEN|/MASK][,…]` against the packet's address.
fn addr(spec: &str, ip: IpAddr) -> Tri {
    let mut any_known = false;
    for part in spec.split(',') {
        let (net, len) = part.split_once('/').unwrap_or((part, ""));
        let Ok(net) = net.parse::<IpAddr>() else {
            return Tri::Maybe(format!("the address {part}"));
        };
        let len = match (len.parse::<u32>(), len.parse::<IpAddr>()) {
            _ if len.is_empty() => {
                if net.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            (Ok(n), _) => n,
            (_, Ok(IpAddr::V4(mask))) => u32::from(mask).count_ones(),
            _ => return Tri::Maybe(format!("the address {part}")),
        };
        any_known = true;
        if in_prefix(ip, net, len) {
            return Tri::Yes;
        }
    }
    Tri::from(!any_known)
}

/// What `-j TARGET` does.
fn target(name: &str, user: &[&str]) -> Action {
    match name {
        "ACCEPT" => Action::Accept,
        "DROP" => Action::Drop("drop"),
        "REJECT" => Action::Drop("reject"),
        "RETURN" => Action::Return,
        "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "TRACE" | "AUDIT" | "CLASSIFY" | "CT"
        | "NOTRACK" | "TCPMSS" | "DSCP" | "TOS" | "TTL" | "HL" | "SET" => Action::Continue,
        chain if user.contains(&chain) => Action::Jump(chain.to_string()),
        other => Action::Unknown(format!("the target {other}")),
    }
}
