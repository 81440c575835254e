//! nftables, read as the kernel walks it: every chain hooked where local traffic passes
//! (prerouting, input, output, postrouting) is walked for the first packet of a connection to
//! this host's own address, so that a default policy of drop — with no rule accepting
//! loopback or the port — is found, and so is a catch-all drop rule. Pure: JSON text in,
//! answers out.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use super::policy::{Action, ChainAnswer, Flow, Hook, Packet, Rule, Tri, in_prefix, walk};

/// A value of the packet that a match compares.
#[derive(Debug, Clone, Copy)]
enum Val {
    Port(u16),
    /// The transport protocol (TCP: `tcp` or 6).
    Tcp,
    Addr(IpAddr),
    /// A name: interface, `ct state`, nfproto, ethertype.
    Name(&'static str),
}

/// Named sets of the ruleset: (family, table, name) → elements.
type Sets = HashMap<(String, String, String), Value>;

/// Every chain hooked where local traffic passes, in families that carry `ip`'s family,
/// walked for a new TCP connection from this host to `ip:port`.
pub fn hooked_chains(json: &str, ip: IpAddr, port: u16) -> Vec<ChainAnswer> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let Some(items) = doc.get("nftables").and_then(Value::as_array) else {
        return Vec::new();
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut sets: Sets = HashMap::new();
    let mut rules: HashMap<(String, String, String), Vec<&Value>> = HashMap::new();
    for item in items {
        if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            let elem = set.get("elem").cloned().unwrap_or(Value::Array(Vec::new()));
            sets.insert((s(set, "family"), s(set, "table"), s(set, "name")), elem);
        }
        if let Some(rule) = item.get("rule") {
            let key = (s(rule, "family"), s(rule, "table"), s(rule, "chain"));
            rules.entry(key).or_default().push(rule);
        }
    }
    let mut out = Vec::new();
    for chain in items.iter().filter_map(|i| i.get("chain")) {
        let (family, table, name) = (s(chain, "family"), s(chain, "table"), s(chain, "name"));
        let Some(hook) = Hook::parse(&s(chain, "hook")) else {
            continue;
        };
        let carries = match family.as_str() {
            "inet" => true,
            "ip" => ip.is_ipv4(),
            "ip6" => ip.is_ipv6(),
            _ => false,
        };
        if !carries || s(chain, "type") != "filter" {
            continue;
        }
        let packet = Packet { hook, ip, port };
        let evaluated: HashMap<String, Vec<Rule>> = rules
            .iter()
            .filter(|((f, t, _), _)| *f == family && *t == table)
            .map(|((_, _, c), list)| {
                let list = list
                    .iter()
                    .map(|r| evaluate(r, &packet, &sets, (&family, &table)))
                    .collect();
                (c.clone(), list)
            })
            .collect();
        let policy = s(chain, "policy");
        let end = if policy == "drop" {
            Flow::Drop {
                chain: name.clone(),
                rule: None,
                verdict: "drop",
            }
        } else {
            Flow::Accept
        };
        out.push(ChainAnswer {
            rules: evaluated.get(&name).map_or(0, Vec::len),
            flow: walk(&evaluated, &name, &end),
            prio: chain.get("prio").and_then(Value::as_i64).unwrap_or(0),
            family: family.clone(),
            table: table.clone(),
            chain: name,
            hook,
            policy: if policy.is_empty() {
                "accept".into()
            } else {
                policy
            },
        });
    }
    out
}

/// One rule's condition and action for the packet.
fn evaluate(rule: &Value, p: &Packet, sets: &Sets, at: (&str, &str)) -> Rule {
    let handle = rule.get("handle").and_then(Value::as_u64).unwrap_or(0);
    let mut when = Tri::Yes;
    let mut action = Action::Continue;
    let exprs = rule
        .get("expr")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for e in exprs {
        let Some((key, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        match key.as_str() {
            "match" => when = when.and(eval_match(body, p, sets, at)),
            "vmap" => {
                let (w, a) = eval_vmap(body, p, sets, at);
                when = when.and(w);
                action = a;
            }
            "counter" | "log" | "mangle" | "notrack" | "set" | "dup" | "flow" => {}
            "limit" | "quota" | "meter" | "connlimit" => {
                when = when.and(Tri::Maybe(format!("a `{key}` (it depends on traffic)")));
            }
            "xt" => {
                let name = body.get("name").and_then(Value::as_str).unwrap_or("?");
                if body.get("type").and_then(Value::as_str) == Some("target") {
                    action = xt_target(name);
                } else if name != "comment" {
                    when = when.and(Tri::Maybe(format!("the iptables match `{name}`")));
                }
            }
            _ => match verdict(e) {
                Some(a) => action = a,
                None => when = when.and(Tri::Maybe(format!("`{key}` is not evaluated"))),
            },
        }
    }
    Rule {
        id: format!("handle {handle}"),
        when,
        action,
    }
}

/// An nft verdict object (`{"accept": null}`, `{"jump": {"target": "x"}}`).
fn verdict(v: &Value) -> Option<Action> {
    let o = v.as_object()?;
    let target = |k: &str| {
        o.get(k)
            .and_then(|j| j.get("target"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(if o.contains_key("accept") {
        Action::Accept
    } else if o.contains_key("drop") {
        Action::Drop("drop")
    } else if o.contains_key("reject") {
        Action::Drop("reject")
    } else if o.contains_key("return") {
        Action::Return
    } else if o.contains_key("continue") {
        Action::Continue
    } else if let Some(t) = target("jump") {
        Action::Jump(t)
    } else if let Some(t) = target("goto") {
        Action::Goto(t)
    } else if o.contains_key("queue") {
        Action::Unknown("it queues the packet to a program".into())
    } else {
        return None;
    })
}

/// An iptables target inside nft (iptables-nft): the ones that only note or mark go on.
fn xt_target(name: &str) -> Action {
    match name {
        "LOG" | "NFLOG" | "MARK" | "CONNMARK" | "TRACE" | "AUDIT" | "CLASSIFY" | "CT"
        | "NOTRACK" | "TCPMSS" | "DSCP" | "TOS" | "SET" => Action::Continue,
        _ => Action::Unknown(format!("the iptables target `{name}`")),
    }
}

/// `op left right`.
fn eval_match(m: &Value, p: &Packet, sets: &Sets, at: (&str, &str)) -> Tri {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let val = match m.get("left").map(|l| value_of(l, p)) {
        Some(Ok(v)) => v,
        Some(Err(t)) => return t,
        None => return Tri::Maybe("a match without a left side".into()),
    };
    let right = resolve(m.get("right").unwrap_or(&Value::Null), sets, at);
    let Some(right) = right else {
        return Tri::Maybe("a named set that is not in the ruleset".into());
    };
    match (op, val) {
        ("==" | "in", v) => covers(&right, v),
        ("!=", v) => covers(&right, v).not(),
        (op @ ("<" | ">" | "<=" | ">="), Val::Port(port)) => match right.as_u64() {
            Some(n) => {
                let port = u64::from(port);
                Tri::from(match op {
                    "<" => port < n,
                    ">" => port > n,
                    "<=" => port <= n,
                    _ => port >= n,
                })
            }
            None => Tri::Maybe(format!("a comparison `{op}` with {right}")),
        },
        (op, _) => Tri::Maybe(format!("the operator `{op}`")),
    }
}

/// A named set reference (`"@name"`) replaced by its elements; `None` when it is unknown.
fn resolve(right: &Value, sets: &Sets, (family, table): (&str, &str)) -> Option<Value> {
    match right.as_str().and_then(|s| s.strip_prefix('@')) {
        Some(name) => sets
            .get(&(family.to_string(), table.to_string(), name.to_string()))
            .map(|elem| serde_json::json!({ "set": elem })),
        None => Some(right.clone()),
    }
}

/// What the packet has for the left side of a match: `Err(No)` when the match cannot apply
/// to a TCP packet of this family, `Err(Maybe)` when the value is not known here.
fn value_of(left: &Value, p: &Packet) -> Result<Val, Tri> {
    let maybe = |what: String| Err(Tri::Maybe(what));
    let on_lo = |inbound: bool| {
        if p.hook.inbound() == inbound {
            Ok(Val::Name("lo"))
        } else {
            maybe(format!(
                "the interface is not known at hook {}",
                p.hook.name()
            ))
        }
    };
    if let Some(key) = left
        .get("meta")
        .and_then(|m| m.get("key"))
        .and_then(Value::as_str)
    {
        return match key {
            "iif" | "iifname" => on_lo(true),
            "oif" | "oifname" => on_lo(false),
            "iiftype" | "oiftype" => on_lo(key == "iiftype").map(|_| Val::Name("loopback")),
            "l4proto" => Ok(Val::Tcp),
            "nfproto" => Ok(Val::Name(if p.ip.is_ipv4() { "ipv4" } else { "ipv6" })),
            "protocol" => Ok(Val::Name(if p.ip.is_ipv4() { "ip" } else { "ip6" })),
            other => maybe(format!("meta {other}")),
        };
    }
    if let Some(pl) = left.get("payload") {
        let proto = pl.get("protocol").and_then(Value::as_str).unwrap_or("");
        let field = pl.get("field").and_then(Value::as_str).unwrap_or("");
        return match (proto, field) {
            ("tcp" | "th", "dport") => Ok(Val::Port(p.port)),
            ("tcp" | "th", "sport") => maybe("the source port (an ephemeral port)".into()),
            ("tcp" | "th", f) => maybe(format!("tcp {f}")),
            ("ip", _) if p.ip.is_ipv6() => Err(Tri::No),
            ("ip6", _) if p.ip.is_ipv4() => Err(Tri::No),
            ("ip" | "ip6", "saddr" | "daddr") => Ok(Val::Addr(p.ip)),
            ("ip", "protocol") | ("ip6", "nexthdr") => Ok(Val::Tcp),
            (
                "udp" | "udplite" | "sctp" | "dccp" | "icmp" | "icmpv6" | "igmp" | "esp" | "ah"
                | "comp" | "arp",
                _,
            ) => Err(Tri::No),
            (proto, field) => maybe(format!("{proto} {field}")),
        };
    }
    if let Some(key) = left
        .get("ct")
        .and_then(|c| c.get("key"))
        .and_then(Value::as_str)
    {
        return match key {
            "state" => Ok(Val::Name("new")),
            "direction" => Ok(Val::Name("original")),
            other => maybe(format!("ct {other}")),
        };
    }
    let what = left
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_else(|| left.to_string());
    maybe(format!("`{what}` is not evaluated"))
}

/// Whether `right` (a value, a set, a range, a prefix, a list) covers the packet's value.
fn covers(right: &Value, v: Val) -> Tri {
    match right {
        Value::Array(items) => any(items, v),
        Value::Object(o) => {
            if let Some(Value::Array(items)) = o.get("set") {
                // A map's elements are [key, value] pairs: the key is what matches.
                let keys: Vec<Value> = items
                    .iter()
                    .map(|i| match i {
                        Value::Array(pair) => pair.first().cloned().unwrap_or(Value::Null),
                        other => other.clone(),
                    })
                    .collect();
                return any(&keys, v);
            }
            if let Some(Value::Array(r)) = o.get("range") {
                return in_range(r, v);
            }
            if let (Some(pre), Val::Addr(ip)) = (o.get("prefix"), v) {
                let net = pre
                    .get("addr")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok());
                let len = pre.get("len").and_then(Value::as_u64);
                return match (net, len) {
                    (Some(net), Some(len)) => Tri::from(in_prefix(ip, net, len as u32)),
                    _ => Tri::Maybe(format!("the prefix {right}")),
                };
            }
            if o.contains_key("elem") {
                return covers(o.get("elem").unwrap_or(&Value::Null), v);
            }
            Tri::Maybe(format!("the value {right}"))
        }
        Value::Number(n) => match v {
            Val::Port(port) => Tri::from(n.as_u64() == Some(u64::from(port))),
            Val::Tcp => Tri::from(n.as_u64() == Some(6)),
            _ => Tri::No,
        },
        Value::String(s) => match v {
            Val::Name(name) => Tri::from(match s.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => s == name,
            }),
            Val::Tcp => Tri::from(s == "tcp"),
            Val::Addr(ip) => Tri::from(s.parse::<IpAddr>().is_ok_and(|a| a == ip)),
            Val::Port(port) => Tri::from(s.parse::<u16>().is_ok_and(|n| n == port)),
        },
        other => Tri::Maybe(format!("the value {other}")),
    }
}

/// Any of `items` covers `v`.
fn any(items: &[Value], v: Val) -> Tri {
    items
        .iter()
        .map(|i| covers(i, v))
        .fold(Tri::No, |acc, t| match (acc, t) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::Maybe(w), _) | (_, Tri::Maybe(w)) => Tri::Maybe(w),
            _ => Tri::No,
        })
}

/// `{"range": [lo, hi]}` of ports or addresses.
fn in_range(r: &[Value], v: Val) -> Tri {
    let (Some(lo), Some(hi)) = (r.first(), r.get(1)) else {
        return Tri::Maybe("an empty range".into());
    };
    match v {
        Val::Port(port) => match (lo.as_u64(), hi.as_u64()) {
            (Some(lo), Some(hi)) => Tri::from((lo..=hi).contains(&u64::from(port))),
            _ => Tri::Maybe(format!("the range {lo}-{hi}")),
        },
        Val::Addr(ip) => {
            let parse = |x: &Value| x.as_str().and_then(|s| s.parse::<IpAddr>().ok());
            match (parse(lo), parse(hi)) {
                (Some(lo), Some(hi)) => Tri::from((lo..=hi).contains(&ip)),
                _ => Tri::Maybe(format!("the range {lo}-{hi}")),
            }
        }
        _ => Tri::No,
    }
}

/// `{"vmap": {"key": …, "data": {"set": [[k, verdict], …]}}}`: the verdict of the element
/// whose key covers the packet's value; none = go on.
fn eval_vmap(body: &Value, p: &Packet, sets: &Sets, at: (&str, &str)) -> (Tri, Action) {
    let val = match body.get("key").map(|k| value_of(k, p)) {
        Some(Ok(v)) => v,
        Some(Err(Tri::No)) => return (Tri::No, Action::Continue),
        Some(Err(Tri::Maybe(w))) => {
            return (Tri::Yes, Action::Unknown(format!("a verdict map on {w}")));
        }
        Some(Err(Tri::Yes)) => return (Tri::Yes, Action::Continue),
        None => {
            return (
                Tri::Yes,
                Action::Unknown("a verdict map without a key".into()),
            );
        }
    };
    let data = resolve(body.get("data").unwrap_or(&Value::Null), sets, at);
    let elems = data
        .as_ref()
        .and_then(|d| d.get("set"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for pair in &elems {
        let (Some(k), Some(verdict_of)) = (pair.get(0), pair.get(1)) else {
            continue;
        };
        match covers(k, val) {
            Tri::Yes => {
                return (
                    Tri::Yes,
                    verdict(verdict_of)
                        .unwrap_or_else(|| Action::Unknown(format!("the verdict {verdict_of}"))),
                );
            }
            Tri::No => {}
            Tri::Maybe(w) => return (Tri::Yes, Action::Unknown(format!("a verdict map: {w}"))),
        }
    }
    (Tri::Yes, Action::Continue)
}
