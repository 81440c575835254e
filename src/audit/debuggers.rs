//! Rule: a debugger listening at all. On loopback it is still open to every local user and
//! process (and, for inspectors that do not check `Host`, to web pages through DNS
//! rebinding); beyond loopback the exposure rule reports it as critical instead.

use crate::knowledge::addr_class::Exposure;
use crate::model::Severity;
use crate::probe::Auth;

use super::service::{self, Kind};
use super::{AuditFinding, Context, fill, finding, listen_evidence, named};

/// AUD-DEBUGGER-LOOPBACK: one finding per debugger on loopback.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for l in ctx
        .listeners
        .iter()
        .filter(|l| l.exposure() == Exposure::Loopback)
    {
        let s = service::identify(ctx, l);
        let Some(k) = s.known.filter(|k| k.kind == Kind::Debugger) else {
            continue;
        };
        if s.auth == Some(Auth::Required) {
            continue;
        }
        let owner = ctx.owner(l);
        let user = owner
            .map(|p| p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid)))
            .map_or_else(|| "its user".to_string(), |u| format!("user {u}"));
        let name = named(k.name, owner);
        let rebinding = matches!(
            k.id,
            "node-inspector" | "chrome-devtools" | "deno-inspector"
        );
        let title = if rebinding {
            format!(
                "{name} listens {}: any local user or process can attach and run code as {user}, and web pages can try through DNS rebinding",
                l.where_text()
            )
        } else {
            format!(
                "{name} listens {}: any local user or process can attach and run code as {user}",
                l.where_text()
            )
        };
        let evidence = listen_evidence(ctx, l, &s, k.risk);
        let mut fix: Vec<String> = k.local_fix.iter().map(|t| fill(t, l.port)).collect();
        if let Some(p) = owner {
            fix.push(format!(
                "when the debug session is over, stop it: kill {} (or restart the program without the debug flag)",
                p.pid
            ));
        }
        out.push(finding(
            "AUD-DEBUGGER-LOOPBACK",
            Severity::Warning,
            title,
            evidence,
            fix,
            ctx.subject(l),
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::{listener, probed, process, with};
    use crate::probe::{Confidence, Identification};

    #[test]
    fn a_debugger_on_loopback_is_a_warning() {
        let mut ctx = with(vec![process(9, "node", 1000), process(10, "java", 1000)]);
        let mut inspector = listener("127.0.0.1", 40001, &[9]);
        inspector.probe = probed(
            &inspector,
            Identification::new("node-inspector", Confidence::Certain).auth(Auth::NotRequired),
            "HTTP/1.0 200 OK",
        );
        let mut jvm = listener("127.0.0.1", 5005, &[10]);
        jvm.probe = probed(
            &jvm,
            Identification::new("jdwp", Confidence::Certain)
                .detail("side", "jvm (debuggee listening)"),
            "JDWP-Handshake",
        );
        let mut exposed = inspector.clone();
        exposed.addrs = vec!["0.0.0.0".parse().unwrap()];
        exposed.port = 40002;
        ctx.listeners = vec![inspector, jvm, exposed];
        let found = check(&ctx);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|f| f.finding.code == "AUD-DEBUGGER-LOOPBACK"
                    && f.finding.severity == Severity::Warning)
        );
        assert!(
            found[0].finding.title.contains("DNS rebinding"),
            "{}",
            found[0].finding.title
        );
        assert!(found[0].finding.fix.iter().any(|x| x.contains("kill 9")));
        assert!(
            found[1].finding.fix[0].contains("server=n"),
            "{:?}",
            found[1].finding.fix
        );
    }

    #[test]
    fn a_plain_listener_on_loopback_is_nothing() {
        let mut ctx = with(vec![process(11, "python3", 0)]);
        ctx.listeners = vec![listener("127.0.0.1", 40003, &[11])];
        assert!(check(&ctx).is_empty());
    }
}
