//! Whether a chain whose default policy drops lets a new local connection through: the rules
//! of nftables and iptables, each reduced (by its own parser) to a condition that is true,
//! false or unknown for the one packet in question and an action, then walked in order as
//! the kernel would, following jumps. What cannot be evaluated is carried as a reason, never
//! guessed: an unknown condition in front of an accept makes the answer "unclear", not "blocked".

use std::collections::HashMap;
use std::net::IpAddr;

/// Where in the stack the chain is hooked. Local traffic (to this host's own addresses) leaves
/// through output and postrouting on `lo`, and comes back through prerouting and input on `lo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Before routing, on the way in (`iif lo` known).
    Prerouting,
    /// Delivered to this host (`iif lo` known).
    Input,
    /// Sent by this host (`oif lo` known).
    Output,
    /// After routing, on the way out (`oif lo` known).
    Postrouting,
}

impl Hook {
    /// From an nft hook name or an iptables built-in chain name (any case).
    pub fn parse(name: &str) -> Option<Hook> {
        match name.to_ascii_lowercase().as_str() {
            "prerouting" => Some(Hook::Prerouting),
            "input" => Some(Hook::Input),
            "output" => Some(Hook::Output),
            "postrouting" => Some(Hook::Postrouting),
            _ => None,
        }
    }

    /// The hook's name as nft spells it.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }

    /// True on the way in (the input interface is known), false on the way out.
    pub fn inbound(self) -> bool {
        matches!(self, Hook::Prerouting | Hook::Input)
    }
}

/// The packet the question is about: the first packet (SYN) of a new TCP connection from
/// this host to its own address `ip` (so source and destination are both `ip`), port `port`,
/// over `lo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Where it is looked at.
    pub hook: Hook,
    /// Source and destination address.
    pub ip: IpAddr,
    /// Destination port.
    pub port: u16,
}

/// A condition evaluated for the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tri {
    /// It matches.
    Yes,
    /// It does not.
    No,
    /// It cannot be told from the ruleset alone: why.
    Maybe(String),
}

impl Tri {
    /// From a known answer.
    pub fn from(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }

    /// Both conditions (a rule's matches are a conjunction): a definite no wins.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Maybe(w), _) | (_, Tri::Maybe(w)) => Tri::Maybe(w),
            _ => Tri::Yes,
        }
    }

    /// The negation (`!=`, iptables `!`).
    pub fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            m => m,
        }
    }
}

/// What a rule does when it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing that ends the chain (a counter, a log line).
    Continue,
    /// Accept.
    Accept,
    /// `drop` or `reject`.
    Drop(&'static str),
    /// Jump to a chain; come back when it ends without a verdict.
    Jump(String),
    /// Go to a chain; do not come back.
    Goto(String),
    /// Back to the calling chain (in a hooked chain: the policy).
    Return,
    /// Something whose effect portscope does not model (a userspace queue…): why.
    Unknown(String),
}

/// One rule as the walk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// How to name it to a person (`handle 4`, `-A INPUT -i lo -j ACCEPT`).
    pub id: String,
    /// Its condition for the packet.
    pub when: Tri,
    /// Its action.
    pub action: Action,
}

/// Where a walk ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// A rule accepts the packet.
    Accept,
    /// A rule drops or rejects it (`rule: None`: the hooked chain's policy drops it).
    Drop {
        /// The chain that holds the rule.
        chain: String,
        /// The rule's id; `None` for the policy.
        rule: Option<String>,
        /// `drop` or `reject`.
        verdict: &'static str,
    },
    /// No rule decided: the chain's end (the policy, in a hooked chain).
    Through,
    /// It depends on something that cannot be evaluated: why.
    Unclear(String),
}

/// What one hooked chain does to the packet, as a parser found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAnswer {
    /// `inet`, `ip`, `ip6`.
    pub family: String,
    /// The table.
    pub table: String,
    /// The chain.
    pub chain: String,
    /// Its hook.
    pub hook: Hook,
    /// Its priority (nft; 0 for iptables).
    pub prio: i64,
    /// Its policy, as the tool spells it (`drop`, `DROP`, `accept`).
    pub policy: String,
    /// How many rules it holds (not counting the chains it jumps to).
    pub rules: usize,
    /// Where the walk ended.
    pub flow: Flow,
}

/// How deep jumps are followed before the answer is "unclear" (the kernel allows 16 too).
const MAX_DEPTH: usize = 16;

/// Walk the hooked chain `chain` (by name, in `chains`, whose rules were evaluated for one
/// packet) to its end: `policy` is what its end means (accept, or a drop).
pub fn walk(chains: &HashMap<String, Vec<Rule>>, chain: &str, policy: &Flow) -> Flow {
    match chains.get(chain) {
        Some(rules) => walk_rules(chains, chain, rules, 0, policy),
        None => policy.clone(),
    }
}

/// Walk a chain jumped to: its end is [`Flow::Through`] (back to the caller).
fn walk_at(chains: &HashMap<String, Vec<Rule>>, chain: &str, depth: usize) -> Flow {
    if depth > MAX_DEPTH {
        return Flow::Unclear(format!(
            "jumps nest deeper than {MAX_DEPTH} chains at {chain}"
        ));
    }
    match chains.get(chain) {
        Some(rules) => walk_rules(chains, chain, rules, depth, &Flow::Through),
        None => Flow::Unclear(format!("chain {chain} is jumped to but not in the ruleset")),
    }
}

/// Walk `rules` of `chain` in order; `end` is what falling off the end means.
fn walk_rules(
    chains: &HashMap<String, Vec<Rule>>,
    chain: &str,
    rules: &[Rule],
    depth: usize,
    end: &Flow,
) -> Flow {
    for (i, rule) in rules.iter().enumerate() {
        let why = match &rule.when {
            Tri::No => continue,
            Tri::Yes => None,
            Tri::Maybe(why) => Some(why),
        };
        let Some(taken) = effect(chains, chain, rule, depth, end) else {
            continue;
        };
        let Some(why) = why else {
            return taken;
        };
        // The rule may or may not apply: the answer holds only if both ways agree.
        let rest = walk_rules(chains, chain, &rules[i + 1..], depth, end);
        return match (&taken, &rest) {
            (Flow::Accept, Flow::Accept) | (Flow::Through, Flow::Through) => rest,
            (Flow::Drop { .. }, Flow::Drop { .. }) => rest,
            (Flow::Unclear(_), _) => taken,
            (_, Flow::Unclear(_)) => rest,
            _ => Flow::Unclear(format!(
                "chain {chain}, {}: {why}, so whether it applies is unknown",
                rule.id
            )),
        };
    }
    end.clone()
}

/// What applying `rule` does to the walk of its chain: `None` = go on with the next rule.
fn effect(
    chains: &HashMap<String, Vec<Rule>>,
    chain: &str,
    rule: &Rule,
    depth: usize,
    end: &Flow,
) -> Option<Flow> {
    match &rule.action {
        Action::Continue => None,
        Action::Accept => Some(Flow::Accept),
        Action::Drop(verdict) => Some(Flow::Drop {
            chain: chain.to_string(),
            rule: Some(rule.id.clone()),
            verdict,
        }),
        Action::Return => Some(end.clone()),
        Action::Jump(to) => match walk_at(chains, to, depth + 1) {
            Flow::Through => None,
            other => Some(other),
        },
        Action::Goto(to) => match walk_at(chains, to, depth + 1) {
            Flow::Through => Some(end.clone()),
            other => Some(other),
        },
        Action::Unknown(why) => Some(Flow::Unclear(format!("chain {chain}, {}: {why}", rule.id))),
    }
}

/// Whether `ip` lies in `net`/`len` (same family only).
pub fn in_prefix(ip: IpAddr, net: IpAddr, len: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if len <= 32 => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if len <= 128 => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(id: &str, when: Tri, action: Action) -> Rule {
        Rule {
            id: id.into(),
            when,
            action,
        }
    }

    fn maybe() -> Tri {
        Tri::Maybe("a rate limit".into())
    }

    #[test]
    fn the_walk_follows_the_kernel() {
        let mut chains = HashMap::new();
        chains.insert(
            "input".to_string(),
            vec![
                rule("1", Tri::No, Action::Accept),
                rule("2", Tri::Yes, Action::Continue),
                rule("3", Tri::Yes, Action::Jump("web".into())),
            ],
        );
        chains.insert("web".to_string(), vec![rule("4", Tri::No, Action::Accept)]);
        let policy = Flow::Drop {
            chain: "input".into(),
            rule: None,
            verdict: "drop",
        };
        assert_eq!(walk(&chains, "input", &policy), policy);
        assert_eq!(walk(&chains, "input", &Flow::Accept), Flow::Accept);
        chains
            .get_mut("web")
            .unwrap()
            .push(rule("5", Tri::Yes, Action::Accept));
        assert_eq!(walk(&chains, "input", &policy), Flow::Accept);
        chains
            .get_mut("web")
            .unwrap()
            .insert(0, rule("6", Tri::Yes, Action::Return));
        assert_eq!(walk(&chains, "input", &policy), policy);
        let goto = vec![rule("7", Tri::Yes, Action::Goto("web".into()))];
        chains.insert("input".to_string(), goto);
        assert_eq!(
            walk(&chains, "input", &policy),
            policy,
            "goto does not come back"
        );
        let nowhere = vec![rule("8", Tri::Yes, Action::Jump("nowhere".into()))];
        chains.insert("input".to_string(), nowhere);
        assert!(
            matches!(walk(&chains, "input", &policy), Flow::Unclear(w) if w.contains("nowhere"))
        );
        chains.insert(
            "loop".to_string(),
            vec![rule("9", Tri::Yes, Action::Jump("loop".into()))],
        );
        assert!(matches!(walk(&chains, "loop", &policy), Flow::Unclear(w) if w.contains("deeper")));
    }

    #[test]
    fn an_unknown_condition_decides_only_when_both_ways_agree() {
        let mut chains = HashMap::new();
        chains.insert("c".to_string(), vec![rule("1", maybe(), Action::Accept)]);
        let drop = Flow::Drop {
            chain: "c".into(),
            rule: None,
            verdict: "drop",
        };
        let Flow::Unclear(why) = walk(&chains, "c", &drop) else {
            panic!("a maybe-accept before the policy is unclear");
        };
        assert!(why.contains("chain c, 1: a rate limit"), "{why}");
        chains.insert(
            "c".to_string(),
            vec![
                rule("1", maybe(), Action::Accept),
                rule("2", Tri::Yes, Action::Accept),
            ],
        );
        assert_eq!(walk(&chains, "c", &drop), Flow::Accept);
        chains.insert(
            "c".to_string(),
            vec![
                rule("1", maybe(), Action::Drop("drop")),
                rule("2", Tri::Yes, Action::Drop("reject")),
            ],
        );
        assert!(matches!(
            walk(&chains, "c", &drop),
            Flow::Drop {
                verdict: "reject",
                ..
            }
        ));
        let only_maybe = vec![rule("1", maybe(), Action::Accept)];
        chains.insert("c".to_string(), only_maybe);
        assert_eq!(
            walk(&chains, "c", &Flow::Accept),
            Flow::Accept,
            "accepted either way"
        );
    }

    #[test]
    fn prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_prefix(ip("127.0.0.1"), ip("127.0.0.0"), 8));
        assert!(!in_prefix(ip("127.0.0.1"), ip("10.0.0.0"), 8));
        assert!(in_prefix(ip("::1"), ip("::1"), 128));
        assert!(in_prefix(ip("::1"), ip("::"), 0));
        assert!(!in_prefix(ip("::1"), ip("127.0.0.0"), 8));
    }
}
