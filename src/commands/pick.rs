//! `pick`: free ports nobody else will be handed. A candidate is free when no socket of this
//! network namespace uses it (any state, TIME_WAIT included), a test bind succeeds, it lies
//! outside the kernel's ephemeral range (an outgoing connection could take it any moment),
//! and the registry has it neither reserved nor leased. The whole choice is made under the
//! registry lock and recorded as a short lease, so concurrent callers get distinct ports.
//! `reserve` and `run` choose their ports here too.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::knowledge::{dev_ports, iana};
use crate::model::{Proto, SockState};
use crate::store::registry::{self, Data, Lease, Registry};
use crate::sys::{SocketQuery, attempt, sock_diag, sysctl};

/// The default range when none is given.
pub const DEFAULT_RANGE: (u16, u16) = (1024, 65535);

/// What `pick` handed out.
#[derive(Debug, Clone, Serialize)]
pub struct PickReport {
    /// The ports, in the order chosen.
    pub ports: Vec<u16>,
    /// The range they were chosen from.
    pub range: (u16, u16),
    /// Free for this address only (`null` = every address, IPv4 and IPv6).
    pub host: Option<IpAddr>,
    /// Also free on UDP.
    pub udp: bool,
    /// The kernel's ephemeral range that was avoided (`null` when allowed or unknown).
    pub avoided_ephemeral: Option<(u16, u16)>,
    /// Whether IANA-assigned and common dev-server ports were avoided (the default range).
    pub avoided_well_known: bool,
    /// How long the picks are leased to the caller, in seconds.
    pub lease_seconds: f64,
    /// The registry that records the leases.
    pub registry: PathBuf,
}

/// What makes a port acceptable.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The range to choose from.
    pub range: (u16, u16),
    /// Avoid IANA-assigned and common dev-server ports (when no range was given).
    pub avoid_well_known: bool,
    /// Allow the kernel's ephemeral range.
    pub allow_ephemeral: bool,
    /// Free for this address only (`None` = every address).
    pub host: Option<IpAddr>,
    /// Free on UDP too.
    pub udp: bool,
    /// Where to start looking: random for `pick`, a hash of the name for `reserve` (so a
    /// name tends to get the same port on every machine).
    pub start: u64,
}

/// Ports chosen, and the ephemeral range that was avoided (`None` when allowed or unknown).
pub type Chosen = (Vec<u16>, Option<(u16, u16)>);

/// Why candidates were passed over (for the "no free port" message).
#[derive(Debug, Default, Clone, Copy)]
struct Skipped {
    in_use: usize,
    registry: usize,
    ephemeral: usize,
    well_known: usize,
}

/// What the machine says, read before choosing — and before taking the registry lock, so
/// the lock is held only for the choice itself. A port taken after the survey still fails
/// its test bind. One survey serves any number of choices (`env` makes thousands).
#[derive(Debug, Clone)]
pub struct Survey {
    sysctls: sysctl::PortSysctls,
    /// Protocol, local address and port of every socket (any state).
    locals: Vec<(Proto, Option<IpAddr>, u16)>,
    /// Ports something listens on (TCP LISTEN, bound UDP), to end leases early.
    pub listening: HashSet<u16>,
}

impl Survey {
    /// Local ports of sockets that overlap the spec's host and protocols.
    fn in_use(&self, spec: &Spec) -> HashSet<u16> {
        self.locals
            .iter()
            .filter(|(proto, _, _)| spec.udp || *proto != Proto::Udp)
            .filter(|(_, local, _)| match (spec.host, local) {
                (None, _) | (_, None) => true,
                (Some(h), Some(l)) => overlaps(h, *l),
            })
            .map(|&(_, _, port)| port)
            .collect()
    }
}

/// Read the sysctls and one socket dump.
pub fn survey() -> Result<Survey> {
    let sockets = sock_diag::dump(&SocketQuery::default())?;
    let locals = sockets
        .iter()
        .filter_map(|s| Some((s.proto, s.local.ip(), s.port()?)))
        .collect();
    let listening = sockets
        .iter()
        .filter(|s| s.is_listening())
        .filter_map(|s| s.port())
        .collect();
    Ok(Survey {
        sysctls: sysctl::port_sysctls(),
        locals,
        listening,
    })
}

/// Choose `count` ports for `spec`, given the registry's data (locked by the caller).
/// Returns the ports and the ephemeral range that was avoided.
pub fn choose(data: &Data, spec: &Spec, count: usize) -> Result<Chosen> {
    choose_in(data, spec, &survey()?, count)
}

/// [`choose`] with a survey taken beforehand.
pub fn choose_in(data: &Data, spec: &Spec, survey: &Survey, count: usize) -> Result<Chosen> {
    Pool::new(data, spec, survey).take(spec, count)
}

/// One port for each spec, in order: the ports [`choose_in`] would give if each were
/// reserved in `data` before the next was chosen. The candidates are listed once per kind of
/// spec (everything but its start), not once per spec: `env` chooses for thousands of
/// services in one pass over the range, not one each.
pub fn choose_each(data: &Data, specs: &[Spec], survey: &Survey) -> Result<Vec<u16>> {
    let mut pools: Vec<Pool> = Vec::new();
    let mut chosen: Vec<u16> = Vec::with_capacity(specs.len());
    for spec in specs {
        let at = match pools.iter().position(|p| p.serves(spec)) {
            Some(at) => at,
            None => {
                pools.push(Pool::new(data, spec, survey));
                pools.len() - 1
            }
        };
        let pool = &mut pools[at];
        pool.forget(&chosen);
        chosen.push(pool.take(spec, 1)?.0[0]);
    }
    Ok(chosen)
}

/// The candidates for a kind of spec: the range without the ephemeral range, reserved and
/// well-known ports, what the registry holds and what is in use — before the test binds.
#[derive(Debug)]
struct Pool {
    /// The spec it was made for (its `start` does not matter).
    spec: Spec,
    /// Ascending.
    candidates: Vec<u16>,
    skipped: Skipped,
    ephemeral: Option<(u16, u16)>,
    /// How many ports of a [`choose_each`] batch were taken out already.
    forgotten: usize,
}

impl Pool {
    fn new(data: &Data, spec: &Spec, survey: &Survey) -> Pool {
        let sysctls = &survey.sysctls;
        let ephemeral = sysctls.ephemeral.filter(|_| !spec.allow_ephemeral);
        let in_use = survey.in_use(spec);
        let now = crate::time::now();
        let taken: HashSet<u16> = data
            .reservations
            .iter()
            .map(|r| r.port)
            .chain(
                data.leases
                    .iter()
                    .filter(|l| l.expires > now)
                    .map(|l| l.port),
            )
            .collect();
        let well_known = spec.avoid_well_known.then(well_known_ports);
        let (lo, hi) = spec.range;
        let mut skipped = Skipped::default();
        let candidates: Vec<u16> = (lo.max(1)..=hi)
            .filter(|&port| {
                if ephemeral.is_some_and(|(a, b)| (a..=b).contains(&port))
                    || sysctls
                        .reserved
                        .iter()
                        .any(|&(a, b)| (a..=b).contains(&port))
                {
                    skipped.ephemeral += 1;
                } else if well_known.as_ref().is_some_and(|w| w[usize::from(port)]) {
                    skipped.well_known += 1;
                } else if taken.contains(&port) {
                    skipped.registry += 1;
                } else if in_use.contains(&port) {
                    skipped.in_use += 1;
                } else {
                    return true;
                }
                false
            })
            .collect();
        Pool {
            spec: spec.clone(),
            candidates,
            skipped,
            ephemeral,
            forgotten: 0,
        }
    }

    /// Whether `spec` differs from the pool's only in where it starts.
    fn serves(&self, spec: &Spec) -> bool {
        let s = &self.spec;
        (
            s.range,
            s.avoid_well_known,
            s.allow_ephemeral,
            s.host,
            s.udp,
        ) == (
            spec.range,
            spec.avoid_well_known,
            spec.allow_ephemeral,
            spec.host,
            spec.udp,
        )
    }

    /// Take out the ports of `chosen` it has not seen yet: reserved now, as if in the registry.
    fn forget(&mut self, chosen: &[u16]) {
        for port in &chosen[self.forgotten.min(chosen.len())..] {
            if let Ok(at) = self.candidates.binary_search(port) {
                self.candidates.remove(at);
                self.skipped.registry += 1;
            }
        }
        self.forgotten = chosen.len();
    }

    /// `count` candidates that pass the test bind, from a point among them that `spec.start`
    /// picks (starting among all ports would send every start inside the ephemeral block to
    /// the port just above it).
    fn take(&self, spec: &Spec, count: usize) -> Result<Chosen> {
        let mut skipped_in_use = self.skipped.in_use;
        let mut chosen = Vec::with_capacity(count);
        if !self.candidates.is_empty() {
            let first = usize::try_from(spec.start % self.candidates.len() as u64).unwrap_or(0);
            let (before, after) = self.candidates.split_at(first);
            for &port in after.iter().chain(before) {
                if chosen.len() == count {
                    break;
                }
                if binds(port, spec.host, spec.udp) {
                    chosen.push(port);
                } else {
                    skipped_in_use += 1;
                }
            }
        }
        if chosen.len() < count {
            let skipped = Skipped {
                in_use: skipped_in_use,
                ..self.skipped
            };
            return Err(exhausted(
                spec,
                count,
                chosen.len(),
                &skipped,
                self.ephemeral,
            ));
        }
        Ok((chosen, self.ephemeral))
    }
}

fn exhausted(
    spec: &Spec,
    count: usize,
    found: usize,
    s: &Skipped,
    ephemeral: Option<(u16, u16)>,
) -> Error {
    let (lo, hi) = spec.range;
    let mut why = vec![
        format!("{} in use", s.in_use),
        format!("{} reserved or leased in the registry", s.registry),
    ];
    if s.ephemeral > 0 {
        why.push(format!(
            "{} in the kernel's ephemeral range {}",
            s.ephemeral,
            ephemeral.map_or("(or ip_local_reserved_ports)".into(), |(a, b)| format!(
                "{a}-{b} or ip_local_reserved_ports"
            ))
        ));
    }
    if s.well_known > 0 {
        why.push(format!(
            "{} IANA-assigned or common dev ports",
            s.well_known
        ));
    }
    let accepted = if s.ephemeral > 0 && !spec.allow_ephemeral {
        "a wider --range, or --allow-ephemeral to accept ports an outgoing connection may take"
    } else {
        "a wider --range, a smaller --count, or `portscope reserve --list` to see what the registry holds"
    };
    Error::bad_input(
        format!(
            "only {found} of {count} free port(s) in {lo}-{hi} ({})",
            why.join(", ")
        ),
        accepted,
    )
}

/// Ports IANA assigns a service (TCP or UDP) or common developer tools default to, as a
/// 65536-entry table built from the two tables once (not one lookup per candidate).
fn well_known_ports() -> Vec<bool> {
    let mut table = vec![false; 65536];
    for port in iana::assigned_ports() {
        table[usize::from(port)] = true;
    }
    for d in dev_ports::all_dev_ports() {
        for port in d.port..=d.last {
            table[usize::from(port)] = true;
        }
    }
    table
}

/// Whether a socket bound to `a` and one bound to `b` would clash on the same port.
fn overlaps(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (a, b) = (canon(a), canon(b));
    a.is_unspecified() || b.is_unspecified() || a == b
}

/// The listening ports now (TCP LISTEN, bound UDP), to end leases early.
pub fn listening_ports() -> Result<HashSet<u16>> {
    let sockets = sock_diag::dump(&SocketQuery {
        states: (1 << SockState::Listen.kernel_number()) | (1 << SockState::Close.kernel_number()),
        ..SocketQuery::default()
    })?;
    Ok(sockets
        .iter()
        .filter(|s| s.is_listening())
        .filter_map(|s| s.port())
        .collect())
}

/// A test bind (no `SO_REUSEADDR`, so TIME_WAIT leftovers count as taken): the IPv6
/// wildcard covers both families when IPv6 is on; otherwise the IPv4 wildcard.
fn binds(port: u16, host: Option<IpAddr>, udp: bool) -> bool {
    let addrs: Vec<SocketAddr> = match host {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ],
    };
    addrs.iter().all(|&addr| {
        let ok = |udp| {
            matches!(
                attempt::bind_proto(addr, false, udp).outcome,
                attempt::BindOutcome::Ok
            )
        };
        // No IPv6 here at all: the IPv6 wildcard is not a place anyone can listen.
        let v6_absent = |udp| {
            addr.is_ipv6()
                && host.is_none()
                && matches!(
                    attempt::bind_proto(addr, false, udp).outcome,
                    attempt::BindOutcome::NotAvailable | attempt::BindOutcome::Failed
                )
        };
        (ok(false) || v6_absent(false)) && (!udp || ok(true) || v6_absent(true))
    })
}

/// A random starting point (std's per-process random hash keys; no extra dependency).
pub fn random_start() -> u64 {
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// The spec from the common flags: the given range, or the default one (then well-known
/// ports are avoided too). It cannot fail; the `Result` lets callers chain it with `?`.
pub fn spec(
    range: Option<(u16, u16)>,
    host: Option<IpAddr>,
    udp: bool,
    allow_ephemeral: bool,
    start: u64,
) -> Result<Spec> {
    Ok(Spec {
        range: range.unwrap_or(DEFAULT_RANGE),
        avoid_well_known: range.is_none(),
        allow_ephemeral,
        host,
        udp,
        start,
    })
}

/// Choose `count` ports for `spec` and lease them for `hold` in the (locked) registry:
/// until the lease ends, or something listens on the port, nobody else is handed it.
pub fn lease(reg: &mut Registry, spec: &Spec, count: usize, hold: Duration) -> Result<Chosen> {
    lease_in(reg, spec, &survey()?, count, hold)
}

/// [`lease`] with a survey taken beforehand (before the lock, ideally).
pub fn lease_in(
    reg: &mut Registry,
    spec: &Spec,
    survey: &Survey,
    count: usize,
    hold: Duration,
) -> Result<Chosen> {
    let now = crate::time::now();
    reg.data
        .expire_leases(now, |p| survey.listening.contains(&p));
    let (ports, avoided) = choose_in(&reg.data, spec, survey, count)?;
    let pid = std::process::id();
    let expires = now + hold.as_secs_f64();
    reg.data.leases.extend(ports.iter().map(|&port| Lease {
        port,
        pid,
        expires,
        extra: serde_json::Map::new(),
    }));
    reg.save()?;
    Ok((ports, avoided))
}

/// What `pick` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Pick from this range (`None`: 1024-65535 without the ephemeral range, IANA-assigned
    /// ports and common dev-server ports).
    pub range: Option<(u16, u16)>,
    /// How many ports, 1 to 1000.
    pub count: usize,
    /// The ports must be free on UDP too.
    pub udp: bool,
    /// Free for this address (`None`: every address, IPv4 and IPv6).
    pub host: Option<IpAddr>,
    /// Also consider ports in the kernel's ephemeral range.
    pub allow_ephemeral: bool,
    /// How long the pick is held in the registry, at most a day.
    pub lease: Duration,
    /// portscope's state directory (`None`: the default one).
    pub state_dir: Option<PathBuf>,
}

impl Default for Options {
    /// One port, any address, TCP, leased for 60 s.
    fn default() -> Options {
        Options {
            range: None,
            count: 1,
            udp: false,
            host: None,
            allow_ephemeral: false,
            lease: Duration::from_secs(60),
            state_dir: None,
        }
    }
}

/// Run `pick`: exit 0 with the ports (no free port is bad input, exit 2; so is a `--host`
/// that is not this host's, where every test bind would fail).
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    if let Some(host) = opts.host {
        crate::server::bind::require_local(host, &format!("--host {host}"))?;
    }
    let spec = spec(
        opts.range,
        opts.host,
        opts.udp,
        opts.allow_ephemeral,
        random_start(),
    )?;
    let dir = registry::state_dir(opts.state_dir.as_deref())?;
    let survey = survey()?;
    let mut reg = Registry::open(&dir)?;
    let (ports, avoided) = lease_in(&mut reg, &spec, &survey, opts.count, opts.lease)?;
    let report = PickReport {
        ports,
        range: spec.range,
        host: spec.host,
        udp: spec.udp,
        avoided_ephemeral: avoided,
        avoided_well_known: spec.avoid_well_known,
        lease_seconds: opts.lease.as_secs_f64(),
        registry: reg.path(),
    };
    Ok((Report::Pick(Box::new(report)), Exit::Success))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn overlap_rules() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(overlaps(ip("0.0.0.0"), ip("127.0.0.1")));
        assert!(overlaps(ip("::"), ip("127.0.0.2")));
        assert!(overlaps(ip("::ffff:127.0.0.1"), ip("127.0.0.1")));
        assert!(!overlaps(ip("127.0.0.1"), ip("127.0.0.2")));
        assert!(!overlaps(ip("::1"), ip("127.0.0.1")));
    }

    #[test]
    fn a_batch_chooses_what_one_at_a_time_would() {
        use crate::store::registry::Reservation;
        let survey = survey().unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let specs: Vec<Spec> = (0..60u64)
            .map(|i| {
                let host = [None, ip("127.0.0.1"), None, ip("::1")][(i % 4) as usize];
                spec(
                    None,
                    host,
                    i % 3 == 0,
                    false,
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                )
                .unwrap()
            })
            .collect();
        let batch = choose_each(&Data::default(), &specs, &survey).unwrap();
        let mut data = Data::default();
        let one_by_one: Vec<u16> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let port = choose_in(&data, spec, &survey, 1).unwrap().0[0];
                data.insert(Reservation::new(format!("n{i}"), port, None, 0));
                port
            })
            .collect();
        assert_eq!(batch, one_by_one);
        let distinct: HashSet<u16> = batch.iter().copied().collect();
        assert_eq!(distinct.len(), specs.len());
    }

    #[test]
    fn well_known_ports_are_avoided() {
        let w = well_known_ports();
        assert!(w[22] && w[5173] && w[8080] && w[3000]);
        assert!(!(1024..=65535).all(|p| w[p]));
    }
}
