//! Rule: an API that controls the host or a session answers on loopback without
//! authentication (the probe saw it). Every local user then gets what it gives: the Docker
//! API over TCP skips the docker group that guards its unix socket; Jupyter without a token
//! runs code; X11 without access control shows every keystroke.
//!
//! Datastores without a password on loopback (the packaged default of Redis and Memcached)
//! are not reported: on loopback that is the expected setup, and the exposure rule reports
//! them as soon as they listen anywhere else.

use crate::knowledge::addr_class::Exposure;
use crate::model::Severity;
use crate::probe::Auth;

use super::service::{self, Kind};
use super::{AuditFinding, Context, fill, finding, listen_evidence, named};

/// AUD-LOOPBACK-NO-AUTH: one finding per such API on loopback.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for l in ctx
        .listeners
        .iter()
        .filter(|l| l.exposure() == Exposure::Loopback)
    {
        let s = service::identify(ctx, l);
        let Some(k) = s.known.filter(|k| k.kind == Kind::Control) else {
            continue;
        };
        if s.auth != Some(Auth::NotRequired) {
            continue;
        }
        let owner = ctx.owner(l);
        let user = owner
            .map(|p| p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid)))
            .unwrap_or_else(|| "its user".into());
        let name = named(k.name, owner);
        let gives = match k.id {
            "docker-api" => "root on this machine".to_string(),
            "jupyter" => format!("code execution as {user}"),
            "x11" | "vnc" => "the screen and the keyboard".to_string(),
            _ => "what it controls".to_string(),
        };
        let evidence = listen_evidence(ctx, l, &s, k.risk);
        let mut fix: Vec<String> = k.local_fix.iter().map(|t| fill(t, l.port)).collect();
        fix.extend(
            k.auth_fix
                .iter()
                .map(|t| fill(t, l.port))
                .filter(|f| !fix.contains(f))
                .collect::<Vec<_>>(),
        );
        out.push(finding(
            "AUD-LOOPBACK-NO-AUTH",
            Severity::Warning,
            format!(
                "{name} answers without authentication {}: every local user gets {gives}",
                l.where_text()
            ),
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
    fn docker_api_on_loopback_is_root_for_everyone_but_redis_is_not_reported() {
        let mut ctx = with(vec![
            process(3, "dockerd", 0),
            process(4, "redis-server", 0),
        ]);
        let mut docker = listener("127.0.0.1", 2375, &[3]);
        docker.probe = probed(
            &docker,
            Identification::new("docker-api", Confidence::Certain).auth(Auth::NotRequired),
            "HTTP/1.1 200 OK",
        );
        let mut redis = listener("127.0.0.1", 6379, &[4]);
        redis.probe = probed(
            &redis,
            Identification::new("redis", Confidence::Certain).auth(Auth::NotRequired),
            "+PONG",
        );
        ctx.listeners = vec![docker, redis];
        let found = check(&ctx);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].finding.code, "AUD-LOOPBACK-NO-AUTH");
        assert!(
            found[0].finding.title.contains("root on this machine"),
            "{}",
            found[0].finding.title
        );
        assert!(
            found[0].finding.fix[0].contains("unix socket"),
            "{:?}",
            found[0].finding.fix
        );
    }

    #[test]
    fn a_jupyter_with_its_token_is_fine() {
        let mut ctx = with(vec![process(5, "jupyter-lab", 1000)]);
        let mut j = listener("127.0.0.1", 8888, &[5]);
        j.probe = probed(
            &j,
            Identification::new("jupyter", Confidence::Certain).auth(Auth::Required),
            "HTTP/1.1 403 Forbidden",
        );
        ctx.listeners = vec![j];
        assert!(check(&ctx).is_empty());
    }
}
