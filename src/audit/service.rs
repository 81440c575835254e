//! What a listener *is*, for the audit: the probe's answer first, then the owner's command line
//! (a debugger's flag names its port), then the owner's name — matched against the services
//! the rules know ([`super::known`]).
//!
//! Pure: works on the [`Context`] the audit gathered.

use crate::model::{Process, Proto};
use crate::probe::{Auth, Confidence, Identification};

pub use super::flags::{debugger_flag, jdwp_on_any_port};
pub use super::known::{KNOWN, Kind, Known, known};
use super::{Context, Listener};

/// Web servers' protocols (a public web server on 80/443 is informational).
const WEB_PROTOCOLS: &[&str] = &["http", "https", "http2", "tls"];

/// Products and frameworks of development servers (not hardened; they serve source code).
const DEV_SERVERS: &[&str] = &[
    "Vite",
    "webpack-dev-server",
    "Python http.server",
    "Django runserver",
    "Flask/Werkzeug",
    "Next.js",
];

/// How a service was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// The probe's answer.
    Probe,
    /// A debugger flag on the owner's command line naming this port.
    Flag(String),
    /// The owner's name or command line.
    Owner,
    /// Not recognised.
    Unknown,
}

/// What a listener is, as far as the audit can tell.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service, when it is one the rules know.
    pub known: Option<&'static Known>,
    /// A name for titles: `Redis`, `nginx`, `HTTP`, `an unidentified service`.
    pub name: String,
    /// Whether it asks for credentials: the probe's answer, else the service's design.
    pub auth: Option<Auth>,
    /// Whether the probe (rather than the design) said so.
    pub auth_probed: bool,
    /// How it was recognised.
    pub how: How,
    /// A development server (Vite, webpack-dev-server, `python -m http.server`…).
    pub dev_server: bool,
    /// The probe found a web server (HTTP, TLS).
    pub web: bool,
    /// It answered loopback without credentials but refused a non-loopback address of this
    /// machine (Redis protected mode): other machines are refused, for now.
    pub loopback_only: bool,
    /// Facts about how it was recognised, one per line.
    pub evidence: Vec<String>,
}

impl Service {
    /// The kind, when known.
    pub fn kind(&self) -> Option<Kind> {
        self.known.map(|k| k.kind)
    }
}

/// Recognise what listens: probe first, then the owner's flags and name.
pub fn identify(ctx: &Context, l: &Listener) -> Service {
    let owner = ctx.owner(l);
    let probed = from_probe(l);
    if let Some(s) = probed.as_ref().filter(|s| s.known.is_some()) {
        return s.clone();
    }
    // A debugger flag naming this very port beats a generic answer ("HTTP") from the probe.
    if let Some((k, arg)) = owner.and_then(|p| debugger_flag(p, l.port)) {
        let auth = k.auth_by_design;
        return Service {
            known: Some(k),
            name: k.name.to_string(),
            auth,
            auth_probed: false,
            how: How::Flag(arg.clone()),
            dev_server: false,
            web: false,
            loopback_only: false,
            evidence: vec![format!(
                "the command line of {} names this port: {arg}",
                owner.map_or_else(String::new, |p| format!("{}[{}]", p.comm, p.pid))
            )],
        };
    }
    if let Some(s) = probed {
        return s;
    }
    if let Some(k) = owner.and_then(|p| owner_service(p, l.proto, l.port)) {
        let comm = owner.map_or("", |p| p.comm.as_str());
        let mut evidence = vec![if l.probe.is_some() {
            format!("the probe could not identify it; its owner's name ({comm}) did")
        } else if !ctx.probed {
            format!("not probed (--no-probe): recognised by its owner's name ({comm})")
        } else {
            format!("recognised by its owner's name ({comm})")
        }];
        let mut auth = k.auth_by_design;
        let tlsverify = |p: &Process| {
            p.cmdline
                .iter()
                .any(|a| a == "--tlsverify" || a == "--tlsverify=true")
        };
        if k.id == "docker-api" && owner.is_some_and(tlsverify) {
            auth = Some(Auth::Required);
            evidence.push("dockerd runs with --tlsverify: clients need a certificate".into());
        } else if k.id == "docker-api" {
            auth = Some(Auth::NotRequired);
            evidence.push(
                "dockerd's command line has no --tlsverify (nor, unless /etc/docker/daemon.json says \"tlsverify\": true, does its TCP API ask for any authentication)".into(),
            );
        }
        return Service {
            known: Some(k),
            name: k.name.to_string(),
            auth,
            auth_probed: false,
            how: How::Owner,
            dev_server: false,
            web: false,
            loopback_only: false,
            evidence,
        };
    }
    let mut evidence = Vec::new();
    match &l.probe {
        Some(p) if p.note.is_some() => {
            evidence.push(format!(
                "probe of {}: not identified: {}",
                p.addr,
                p.note.as_deref().unwrap_or_default()
            ));
        }
        Some(p) => evidence.push(format!("probe of {}: not identified", p.addr)),
        None if l.proto == Proto::Tcp && !ctx.probed => {
            evidence.push("not probed (--no-probe)".into());
        }
        None if owner.is_some_and(jdwp_on_any_port) => evidence.push(
            "not probed: its JVM runs a JDWP agent on a port chosen at start (address=…:0), which may be this one; connecting would move it. If it is, it runs code for whoever connects".into(),
        ),
        None => {}
    }
    if let Some(hint) = port_hint(l) {
        evidence.push(hint);
    }
    Service {
        known: None,
        name: "an unidentified service".into(),
        auth: None,
        auth_probed: false,
        how: How::Unknown,
        dev_server: false,
        web: false,
        loopback_only: false,
        evidence,
    }
}

/// "port 6379 is commonly Redis", from the curated table, for listeners nothing identified.
fn port_hint(l: &Listener) -> Option<String> {
    let found = crate::knowledge::dev_ports::dev_ports(l.port, l.proto);
    let d = found.iter().find(|d| d.risk.is_some())?;
    Some(format!(
        "port {} is commonly {} ({})",
        l.port,
        d.what,
        d.risk.unwrap_or_default()
    ))
}

/// A service from the probe's answer, when it identified one.
fn from_probe(l: &Listener) -> Option<Service> {
    let p = l.probe.as_ref()?;
    let id = p.identification.as_ref()?;
    if id.protocol.is_empty() || id.confidence.is_none_or(|c| c == Confidence::Unknown) {
        return None;
    }
    // The debugger's side of JDWP (an IDE waiting for a JVM) runs nothing for whoever connects.
    if id.protocol == "jdwp" && detail(id, "side").is_some_and(|s| s.starts_with("debugger")) {
        return None;
    }
    let known = match id.protocol.as_str() {
        "dap" | "lsp" if id.product.as_deref() == Some("debugpy") => known("debugpy"),
        "dap" if id.product.as_deref() == Some("Delve") => known("delve"),
        "dap" => known("debugpy"),
        "http" | "https" if detail(id, "metrics").is_some() => known("prometheus-metrics"),
        other => known(other),
    };
    let product = id.product.as_deref();
    let framework = detail(id, "framework");
    let dev_server = [product, framework]
        .into_iter()
        .flatten()
        .any(|n| DEV_SERVERS.contains(&n));
    let web = known.is_none() && WEB_PROTOCOLS.contains(&id.protocol.as_str());
    let name = match (known, product) {
        (Some(k), _) => k.name.to_string(),
        (None, Some(product)) => product.to_string(),
        (None, None) => id.protocol.to_uppercase(),
    };
    let mut line = format!("probe of {}: {}", p.addr, id.protocol);
    if let Some(product) = product {
        line.push_str(&format!(", {product}"));
        if let Some(v) = &id.version {
            line.push_str(&format!(" {v}"));
        }
    }
    if !p.evidence.is_empty() {
        line.push_str(&format!(", reply \"{}\"", first_line(&p.evidence)));
    }
    let mut evidence = vec![line];
    let probed_auth = id.auth;
    let auth = probed_auth.or(known.and_then(|k| k.auth_by_design));
    match probed_auth {
        Some(Auth::NotRequired) => {
            evidence.push("it answered without credentials".into());
        }
        Some(Auth::Required) => {
            let why = detail(id, "error")
                .or(detail(id, "status"))
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            evidence.push(format!("it asked for credentials{why}"));
        }
        None => {}
    }
    if id.protocol == "redis" && detail(id, "protected_mode").is_some() {
        evidence.push("Redis protected mode refused the probe (no password set)".into());
    }
    let loopback_only = outside_view(l, id, &mut evidence);
    Some(Service {
        known,
        name,
        auth,
        auth_probed: probed_auth.is_some(),
        how: How::Probe,
        dev_server,
        web,
        loopback_only,
        evidence,
    })
}

/// What the probe from a non-loopback address of this machine saw, as evidence; true when
/// the service refused it although it answered loopback without credentials.
fn outside_view(l: &Listener, id: &Identification, evidence: &mut Vec<String>) -> bool {
    let Some(o) = &l.outside else {
        return false;
    };
    // Redis in protected mode speaks first to a non-loopback client: `-DENIED … protected
    // mode …`, before reading any command.
    if id.protocol == "redis"
        && o.evidence.starts_with("-DENIED")
        && o.evidence.contains("protected mode")
    {
        evidence.push(format!(
            "probe of {}, a non-loopback address of this machine (not a loopback client): refused, \"{}\" (protected mode: no password is set, so only loopback clients are served)",
            o.addr,
            o.evidence.chars().take(60).collect::<String>()
        ));
        return true;
    }
    match o
        .identification
        .as_ref()
        .filter(|o| o.protocol == id.protocol)
    {
        Some(seen) if seen.auth == Some(Auth::Required) => {
            let why = if detail(seen, "protected_mode").is_some() {
                " (Redis protected mode: no password is set, so only loopback clients are served)"
            } else {
                ""
            };
            evidence.push(format!(
                "probe of {}, a non-loopback address of this machine (not a loopback client): refused{why}",
                o.addr
            ));
            true
        }
        Some(seen) if seen.auth == Some(Auth::NotRequired) => {
            evidence.push(format!(
                "probe of {}, a non-loopback address of this machine (not a loopback client): answered without credentials too",
                o.addr
            ));
            false
        }
        _ => false,
    }
}

/// The first line of a probe's escaped evidence (`HTTP/1.0 200 OK\r\n`), at most 80
/// characters.
fn first_line(evidence: &str) -> String {
    let end = evidence.find("\\n").map_or(evidence.len(), |at| at + 2);
    let line = evidence.get(..end).unwrap_or(evidence);
    if line.chars().count() > 80 {
        line.chars().take(80).chain(std::iter::once('…')).collect()
    } else {
        line.to_string()
    }
}

/// A detail of an identification.
fn detail<'a>(id: &'a Identification, key: &str) -> Option<&'a str> {
    id.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A service recognised by its owner's name or command line (TCP; memcached also over UDP).
/// The Docker API only on the ports dockerd was told to serve it on (`-H tcp://…:PORT`, or
/// 2375/2376): swarm's own ports (2377, 7946) speak other protocols.
pub fn owner_service(p: &Process, proto: Proto, port: u16) -> Option<&'static Known> {
    let k = KNOWN.iter().find(|k| {
        k.kind != Kind::Debugger
            && (k.processes.contains(&p.comm.as_str())
                || k.cmdline_marks
                    .iter()
                    .any(|m| p.cmdline.iter().any(|a| a.contains(m))))
    })?;
    if k.id == "docker-api" && !docker_api_port(p, port) {
        return None;
    }
    (proto == Proto::Tcp || k.id == "memcached").then_some(k)
}

/// Whether dockerd serves its API on `port` (`-H tcp://0.0.0.0:2375`, `--host=tcp://…`).
fn docker_api_port(p: &Process, port: u16) -> bool {
    let named = p
        .cmdline
        .iter()
        .filter_map(|a| a.split_once("tcp://").map(|(_, rest)| rest))
        .filter_map(|rest| {
            rest.rsplit(':')
                .next()?
                .trim_end_matches('/')
                .parse::<u16>()
                .ok()
        })
        .any(|p| p == port);
    named || matches!(port, 2375 | 2376)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::{listener, probed, process, with};

    #[test]
    fn the_probe_wins_over_the_owner_name() {
        let mut ctx = with(vec![process(5, "redis-server", 0)]);
        let mut l = listener("0.0.0.0", 6379, &[5]);
        l.probe = probed(
            &l,
            Identification::new("redis", Confidence::Certain).auth(Auth::Required),
            "-NOAUTH Authentication required.\\r\\n",
        );
        ctx.listeners.push(l.clone());
        let s = identify(&ctx, &l);
        assert_eq!(s.known.map(|k| k.id), Some("redis"));
        assert_eq!(s.auth, Some(Auth::Required));
        assert!(s.auth_probed);
        assert_eq!(s.how, How::Probe);

        let mut l2 = l.clone();
        l2.probe = None;
        let s = identify(&ctx, &l2);
        assert_eq!(s.how, How::Owner);
        assert_eq!(
            s.auth, None,
            "a Redis nobody asked may or may not want a password"
        );
    }

    #[test]
    fn an_ide_waiting_for_a_jvm_is_not_a_debugger_to_fear() {
        let ctx = with(vec![process(5, "java", 1000)]);
        let mut l = listener("127.0.0.1", 40000, &[5]);
        l.probe = probed(
            &l,
            Identification::new("jdwp", Confidence::Certain)
                .detail("side", "debugger (waiting for a JVM to attach)"),
            "JDWP-Handshake",
        );
        assert_eq!(identify(&ctx, &l).how, How::Unknown);
    }

    #[test]
    fn dev_servers_and_web_servers_are_told_apart() {
        let ctx = with(vec![process(5, "python3", 1000)]);
        let mut l = listener("0.0.0.0", 8000, &[5]);
        l.probe = probed(
            &l,
            Identification::new("http", Confidence::Certain).product("Python http.server"),
            "HTTP/1.0 200 OK",
        );
        let s = identify(&ctx, &l);
        assert!(s.dev_server && s.web, "{s:?}");
        l.probe = probed(
            &l,
            Identification::new("http", Confidence::Certain).product("nginx"),
            "HTTP/1.1 200 OK",
        );
        let s = identify(&ctx, &l);
        assert!(!s.dev_server && s.web, "{s:?}");
        assert_eq!(s.name, "nginx");
        assert_eq!(
            first_line("HTTP/1.1 200 OK\\r\\nServer: x"),
            "HTTP/1.1 200 OK\\r\\n"
        );
        assert_eq!(first_line("+PONG\\r\\n"), "+PONG\\r\\n");
    }
}
