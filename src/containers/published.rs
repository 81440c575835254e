//! Ports published through NAT alone: the engine lists a container publishing host port P
//! (or a DNAT rule sends P to an address), and no socket on the host holds P. Docker without
//! its userland proxy (on engines that do not keep the port bound), CNI's `portmap` (nerdctl,
//! Kubernetes `hostPort`) publish this way; `ls` and `who` would otherwise show the port free
//! while connections to it reach a container.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::{Engines, answer_containers, inside, reference};
use crate::model::{Proto, Socket};
use crate::sys::engine;
use crate::sys::firewall::nat::Dnat;

/// A port published with no socket on the host: by a container its engine names, or by a
/// NAT rule alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatPublished {
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The host address it is published on (`0.0.0.0`, `::`, `127.0.0.1`).
    pub host_ip: IpAddr,
    /// The host port.
    pub port: u16,
    /// Where the NAT rule sends connections (`172.17.0.2:80`), when the rule was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<SocketAddr>,
    /// `engine` (a container's engine lists it) or `nat-rule` (only a DNAT rule shows it).
    pub source: &'static str,
    /// The container, as its engine names it (`None`: no engine answered for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<super::ContainerRef>,
    /// The DNAT rule, as `iptables-save` prints it, when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl NatPublished {
    /// `docker (NAT)`, or `NAT rule` when no engine names it.
    pub fn holder(&self) -> String {
        match &self.container {
            Some(c) => format!("{} (NAT)", c.engine),
            None => "NAT rule".into(),
        }
    }

    /// Whether a connection to `ip` (on this port) meets it.
    pub fn receives(&self, ip: IpAddr) -> bool {
        self.host_ip == ip
            || (self.host_ip.is_unspecified() && self.host_ip.is_ipv4() == ip.is_ipv4())
    }
}

/// The published ports (by `engines` or by `dnat` rules) that no listening socket of
/// `listeners` holds, among those `wanted` keeps (a port and protocol); each with its
/// container and the process inside that listens on the container port.
pub fn unheld(
    engines: &Engines,
    dnat: &[Dnat],
    listeners: &[&Socket],
    wanted: impl Fn(u16, Proto) -> bool,
) -> Vec<NatPublished> {
    let held = |port: u16, proto: Proto, ip: IpAddr| {
        listeners.iter().any(|s| {
            s.proto == proto
                && s.port() == Some(port)
                && s.local.ip().is_some_and(|l| {
                    l == ip
                        || l.is_unspecified()
                        || (ip.is_unspecified() && l.is_ipv4() == ip.is_ipv4())
                })
        })
    };
    let mut out: Vec<NatPublished> = Vec::new();
    for answer in &engines.answers {
        for c in answer_containers(answer) {
            let mut init: Option<Option<u32>> = None;
            for p in &c.ports {
                let Some(port) = p.public_port else { continue };
                let proto = match p.proto.as_str() {
                    "tcp" => Proto::Tcp,
                    "udp" => Proto::Udp,
                    _ => continue,
                };
                let ip: IpAddr = match p.ip.as_deref().map(str::trim) {
                    None | Some("") => IpAddr::from([0, 0, 0, 0]),
                    Some(text) => match text.parse() {
                        Ok(ip) => ip,
                        Err(_) => continue,
                    },
                };
                // Docker lists a port published on every address twice, `0.0.0.0` and `::`.
                let twin = ip.is_ipv6()
                    && ip.is_unspecified()
                    && c.ports.iter().any(|q| {
                        q.public_port == p.public_port
                            && q.proto == p.proto
                            && q.ip.as_deref() == Some("0.0.0.0")
                    });
                if twin || !wanted(port, proto) || held(port, proto, ip) {
                    continue;
                }
                let pid = *init.get_or_insert_with(|| {
                    engine::init_pid(&answer.socket.path, &c.id).ok().flatten()
                });
                let inner = pid.and_then(|pid| inside::listener(pid, proto, p.private_port));
                let rule = dnat.iter().find(|d| covers(d, proto, ip, port));
                let row = NatPublished {
                    proto,
                    host_ip: ip,
                    port,
                    to: rule.map(|d| d.to),
                    source: "engine",
                    container: Some(reference(answer, c, Some((p, Some(ip))), inner)),
                    rule: rule.map(|d| d.rule.clone()),
                };
                if !out.contains(&row) {
                    out.push(row);
                }
            }
        }
    }
    for d in dnat {
        let ip = d.host_ip.unwrap_or(if d.to.is_ipv4() {
            IpAddr::from([0, 0, 0, 0])
        } else {
            IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED)
        });
        let local = d.host_ip.is_none_or(crate::sys::local::is_local);
        if !local || !wanted(d.port, d.proto) || held(d.port, d.proto, ip) {
            continue;
        }
        if out
            .iter()
            .any(|o| o.rule.as_deref() == Some(d.rule.as_str()))
        {
            continue;
        }
        out.push(NatPublished {
            proto: d.proto,
            host_ip: ip,
            port: d.port,
            to: Some(d.to),
            source: "nat-rule",
            container: None,
            rule: Some(d.rule.clone()),
        });
    }
    out.sort_by_key(|o| (o.port, o.proto, o.host_ip));
    out
}

/// Whether DNAT rule `d` is the one publishing `ip`:`port`/`proto`.
fn covers(d: &Dnat, proto: Proto, ip: IpAddr, port: u16) -> bool {
    d.proto == proto
        && d.port == port
        && match d.host_ip {
            Some(h) => h == ip,
            None => ip.is_unspecified() && ip.is_ipv4() == d.to.is_ipv4(),
        }
}
