//! Rule family: listeners reachable beyond loopback (a wildcard address or a non-loopback
//! one), graded by what they are — a debugger or a datastore that answers without a password
//! is critical, a login prompt a warning, a web server on 80/443 informational.

use crate::knowledge::addr_class::{self, Exposure};
use crate::model::{Proto, Severity};
use crate::probe::Auth;

use super::container::is_port_proxy;
use super::service::{self, Kind, Service};
use super::{AuditFinding, Context, Listener, fill, finding, firewall_fix};

/// AUD-EXPOSED-*: one finding per listener reachable beyond loopback.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    ctx.listeners
        .iter()
        .filter(|l| l.exposure() != Exposure::Loopback)
        .map(|l| exposed(ctx, l))
        .collect()
}

/// The code and severity for what listens.
fn verdict(s: &Service, l: &Listener) -> (&'static str, Severity) {
    let by_auth = |open: &'static str| match s.auth {
        Some(Auth::NotRequired) if s.loopback_only => (open, Severity::Warning),
        Some(Auth::NotRequired) => (open, Severity::Critical),
        Some(Auth::Required) => ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning),
        None => (open, Severity::Warning),
    };
    match s.kind() {
        Some(Kind::Debugger) => match s.auth {
            Some(Auth::Required) => ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning),
            _ => ("AUD-EXPOSED-DEBUGGER", Severity::Critical),
        },
        Some(Kind::Datastore) => by_auth("AUD-EXPOSED-DATASTORE"),
        Some(Kind::Control) => by_auth("AUD-EXPOSED-CONTROL"),
        Some(Kind::Authenticated) => match s.auth {
            Some(Auth::NotRequired) => ("AUD-EXPOSED-NO-AUTH", Severity::Warning),
            _ => ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning),
        },
        Some(Kind::Bus) => match s.auth {
            Some(Auth::NotRequired) => ("AUD-EXPOSED-NO-AUTH", Severity::Warning),
            Some(Auth::Required) => ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning),
            None => ("AUD-EXPOSED-SERVICE", Severity::Info),
        },
        Some(Kind::Metrics) => ("AUD-EXPOSED-SERVICE", Severity::Info),
        None if s.dev_server => ("AUD-EXPOSED-DEV-SERVER", Severity::Warning),
        None if s.web && matches!(l.port, 80 | 443) => ("AUD-EXPOSED-WEB", Severity::Info),
        None if s.web => ("AUD-EXPOSED-SERVICE", Severity::Info),
        None => match s.auth {
            Some(Auth::NotRequired) => ("AUD-EXPOSED-NO-AUTH", Severity::Warning),
            Some(Auth::Required) => ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning),
            None => ("AUD-EXPOSED-SERVICE", Severity::Info),
        },
    }
}

fn exposed(ctx: &Context, l: &Listener) -> AuditFinding {
    let s = service::identify(ctx, l);
    let (code, severity) = verdict(&s, l);
    let owner = ctx.owner(l);
    let name = match owner {
        Some(p) => format!("{} ({}[{}])", s.name, p.comm, p.pid),
        None if l.owner_hidden => format!("{} (owner hidden)", s.name),
        None => s.name.clone(),
    };
    let user = owner
        .map(|p| p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid)))
        .map_or_else(|| "its user".to_string(), |u| format!("user {u}"));
    let place = l.where_text();
    let udp_memcached = l.proto == Proto::Udp && s.known.is_some_and(|k| k.id == "memcached");
    let unknown_why = if ctx.probed && l.proto == Proto::Tcp {
        "the probe could not tell"
    } else {
        "not probed"
    };
    let title = match code {
        "AUD-EXPOSED-DEBUGGER" => format!(
            "{name} listens {place}: anyone who can reach this machine can run code as {user}"
        ),
        "AUD-EXPOSED-DATASTORE" if udp_memcached => format!(
            "{name} answers over UDP {place}: anyone can read its data, and it amplifies attacks on others"
        ),
        "AUD-EXPOSED-DATASTORE" | "AUD-EXPOSED-CONTROL" if s.loopback_only => format!(
            "{name} listens {place} without a password; it refuses other machines for now (protected mode), one setting away from open"
        ),
        "AUD-EXPOSED-DATASTORE" if severity == Severity::Critical => format!(
            "{name} answers without a password {place}: anyone who can reach this machine can read and change its data"
        ),
        "AUD-EXPOSED-DATASTORE" => format!(
            "{name} listens {place}; whether it asks for a password is unknown ({unknown_why})"
        ),
        "AUD-EXPOSED-CONTROL" if severity == Severity::Critical => format!(
            "{name} answers without authentication {place}: {}",
            s.known.map_or("", |k| k.risk)
        ),
        "AUD-EXPOSED-CONTROL" => format!(
            "{name} listens {place}; whether it asks for credentials is unknown ({unknown_why})"
        ),
        "AUD-EXPOSED-NO-AUTH" => format!("{name} answers without credentials {place}"),
        "AUD-EXPOSED-AUTHENTICATED" => format!(
            "{name} listens {place}: it asks for credentials, but its login is open to the network"
        ),
        "AUD-EXPOSED-DEV-SERVER" => format!(
            "a development server, {name}, listens {place}: it serves files and source code to whoever can reach this machine"
        ),
        "AUD-EXPOSED-WEB" => format!("a web server, {name}, listens {place}"),
        _ => format!("{name} listens {place}"),
    };
    let mut evidence = vec![format!(
        "{} {}, held by {}",
        l.sockets_text(),
        if l.proto == Proto::Tcp {
            "LISTEN"
        } else {
            "bound"
        },
        ctx.owner_label(l)
    )];
    evidence.extend(s.evidence.iter().cloned());
    evidence.push(exposure_fact(l));
    if let Some(k) = s.known {
        evidence.push(format!("why it matters: {}", k.risk));
    }
    let proxied = owner.is_some_and(is_port_proxy);
    finding(
        code,
        severity,
        title,
        evidence,
        fixes(&s, l, code, proxied),
        ctx.subject(l),
    )
}

/// What the address means for who can reach it.
fn exposure_fact(l: &Listener) -> String {
    let addr = l.addr();
    match l.exposure() {
        Exposure::AllInterfaces => format!(
            "{addr} is the wildcard address: every interface of this machine, so anything that can route to it"
        ),
        _ => {
            let info = addr_class::classify(addr);
            format!("{addr} is {}: {}", info.class.label(), info.meaning)
        }
    }
}

/// The fixes, the product's own flag first.
fn fixes(s: &Service, l: &Listener, code: &str, proxied: bool) -> Vec<String> {
    let port = l.port;
    let mut fix = Vec::new();
    if proxied {
        fix.push(format!(
            "it is a published container port: publish it on loopback instead, docker run -p 127.0.0.1:{port}:CONTAINER_PORT … (compose: \"127.0.0.1:{port}:CONTAINER_PORT\")"
        ));
    }
    match s.known {
        Some(k) => {
            fix.extend(k.bind_fix.iter().map(|t| fill(t, port)));
            if code != "AUD-EXPOSED-DEBUGGER" && s.auth != Some(Auth::Required) {
                fix.extend(k.auth_fix.iter().map(|t| fill(t, port)));
            }
            if k.id == "memcached" && l.proto == Proto::Udp {
                fix.insert(0, format!("turn UDP off: memcached -U 0 (UDP port {port})"));
            }
        }
        None if s.dev_server => fix.push(format!(
            "run it on loopback: vite without --host, python3 -m http.server --bind 127.0.0.1 {port}, manage.py runserver 127.0.0.1:{port}, flask run --host 127.0.0.1"
        )),
        None => fix.push(format!(
            "if nothing outside this machine needs it, bind it to 127.0.0.1 (its own listen/bind option); see what it is: portscope who {port}"
        )),
    }
    if !proxied {
        fix.push(firewall_fix(l));
    }
    fix
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::{listener, probed, process, with};
    use crate::probe::{Confidence, Identification};

    fn one(ctx: &Context, l: &Listener) -> AuditFinding {
        let mut ctx = ctx.clone();
        ctx.listeners = vec![l.clone()];
        let mut found = check(&ctx);
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    #[test]
    fn redis_without_a_password_on_the_wildcard_is_critical() {
        let ctx = with(vec![process(42, "redis-server", 0)]);
        let mut l = listener("0.0.0.0", 6379, &[42]);
        l.probe = probed(
            &l,
            Identification::new("redis", Confidence::Certain)
                .product("Redis")
                .auth(Auth::NotRequired),
            "+PONG\\r\\n",
        );
        let f = one(&ctx, &l);
        assert_eq!(f.finding.code, "AUD-EXPOSED-DATASTORE");
        assert_eq!(f.finding.severity, Severity::Critical);
        assert!(
            f.finding.title.contains("without a password"),
            "{}",
            f.finding.title
        );
        assert!(
            f.finding.fix[0].contains("redis-server --bind 127.0.0.1"),
            "{:?}",
            f.finding.fix
        );
        assert!(f.finding.fix.iter().any(|x| x.contains("requirepass")));
        assert!(f.finding.evidence.iter().any(|e| e.contains("+PONG")));
        assert_eq!(f.subject.port, Some(6379));
        assert_eq!(f.subject.address.as_deref(), Some("0.0.0.0"));
        assert_eq!(f.subject.process.as_deref(), Some("redis-server"));
        assert_eq!(f.subject.pid, Some(42));
    }

    #[test]
    fn protected_mode_seen_from_outside_makes_it_a_warning() {
        let ctx = with(vec![process(42, "redis-server", 0)]);
        let mut l = listener("0.0.0.0", 6379, &[42]);
        l.probe = probed(
            &l,
            Identification::new("redis", Confidence::Certain).auth(Auth::NotRequired),
            "+PONG\\r\\n",
        );
        let mut outside = l.probe.clone().unwrap();
        outside.addr = "192.0.2.2:6379".parse().unwrap();
        outside.identification = None;
        outside.evidence =
            "-DENIED Redis is running in protected mode because protected mode is enabled".into();
        l.outside = Some(outside.clone());
        let f = one(&ctx, &l);
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-DATASTORE", Severity::Warning)
        );
        assert!(
            f.finding.title.contains("protected mode"),
            "{}",
            f.finding.title
        );
        assert!(f.finding.fix.iter().any(|x| x.contains("requirepass")));
        // Open from outside too: critical.
        outside.evidence = "+PONG\\r\\n".into();
        outside.identification = l.probe.as_ref().unwrap().identification.clone();
        l.outside = Some(outside);
        let f = one(&ctx, &l);
        assert_eq!(f.finding.severity, Severity::Critical);
        assert!(
            f.finding
                .evidence
                .iter()
                .any(|e| e.contains("answered without credentials too"))
        );
    }

    #[test]
    fn a_password_makes_it_a_warning_and_no_probe_an_unknown() {
        let ctx = with(vec![process(42, "redis-server", 0)]);
        let mut l = listener("0.0.0.0", 6379, &[42]);
        l.probe = probed(
            &l,
            Identification::new("redis", Confidence::Certain).auth(Auth::Required),
            "-NOAUTH Authentication required.",
        );
        let f = one(&ctx, &l);
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning)
        );
        assert!(!f.finding.fix.iter().any(|x| x.contains("requirepass")));

        let mut unprobed = with(vec![process(42, "redis-server", 0)]);
        unprobed.probed = false;
        l.probe = None;
        let f = one(&unprobed, &l);
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-DATASTORE", Severity::Warning)
        );
        assert!(
            f.finding.title.contains("not probed"),
            "{}",
            f.finding.title
        );
    }

    #[test]
    fn memcached_and_debuggers_are_critical_without_a_probe() {
        let mut node = process(7, "node", 1000);
        node.cmdline = vec![
            "node".into(),
            "--inspect=0.0.0.0:9229".into(),
            "app.js".into(),
        ];
        let mut ctx = with(vec![process(5, "memcached", 0), node]);
        ctx.probed = false;
        let f = one(&ctx, &listener("0.0.0.0", 11211, &[5]));
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-DATASTORE", Severity::Critical)
        );
        assert!(
            f.finding.fix[0].starts_with("memcached -l 127.0.0.1"),
            "{:?}",
            f.finding.fix
        );
        let f = one(&ctx, &listener("::", 9229, &[7]));
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-DEBUGGER", Severity::Critical)
        );
        assert!(
            f.finding.title.contains("run code as user u1000"),
            "{}",
            f.finding.title
        );
        assert!(
            f.finding.fix[0].contains("node --inspect=127.0.0.1:9229"),
            "{:?}",
            f.finding.fix
        );
        assert_eq!(f.subject.address.as_deref(), Some("::"));
        // The app's own port is not the debugger.
        let f = one(&ctx, &listener("0.0.0.0", 3000, &[7]));
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-SERVICE", Severity::Info)
        );
    }

    #[test]
    fn web_servers_ssh_and_unknowns_are_graded() {
        let ctx = with(vec![
            process(3, "nginx", 0),
            process(4, "sshd", 0),
            process(8, "python3", 0),
        ]);
        let mut web = listener("0.0.0.0", 443, &[3]);
        web.probe = probed(
            &web,
            Identification::new("https", Confidence::Certain).product("nginx"),
            "",
        );
        assert_eq!(one(&ctx, &web).finding.code, "AUD-EXPOSED-WEB");
        assert_eq!(one(&ctx, &web).finding.severity, Severity::Info);
        let f = one(&ctx, &listener("192.168.1.5", 22, &[4]));
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-AUTHENTICATED", Severity::Warning)
        );
        assert!(
            f.finding.title.contains("192.168.1.5:22 (private)"),
            "{}",
            f.finding.title
        );
        let mut dev = listener("0.0.0.0", 8000, &[8]);
        dev.probe = probed(
            &dev,
            Identification::new("http", Confidence::Certain).product("Python http.server"),
            "",
        );
        assert_eq!(one(&ctx, &dev).finding.code, "AUD-EXPOSED-DEV-SERVER");
        let f = one(&ctx, &listener("0.0.0.0", 41234, &[8]));
        assert_eq!(
            (f.finding.code, f.finding.severity),
            ("AUD-EXPOSED-SERVICE", Severity::Info)
        );
        assert!(
            f.finding.fix.last().unwrap().contains("iptables"),
            "{:?}",
            f.finding.fix
        );
    }

    #[test]
    fn loopback_listeners_are_not_exposed_and_hidden_owners_are_kept() {
        let mut ctx = with(vec![process(42, "redis-server", 0)]);
        ctx.listeners = vec![
            listener("127.0.0.1", 6379, &[42]),
            listener("::1", 6380, &[42]),
        ];
        assert!(check(&ctx).is_empty());
        let mut hidden = listener("0.0.0.0", 2024, &[]);
        hidden.owner_hidden = true;
        hidden.uid = 0;
        let f = one(&ctx, &hidden);
        assert_eq!(f.subject.process, None);
        assert!(
            f.finding.evidence[0].contains("may not inspect"),
            "{:?}",
            f.finding.evidence
        );
    }
}
