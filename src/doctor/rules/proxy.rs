//! Rule: the user's HTTP client does not go where doctor looked. `http_proxy` (or
//! `HTTPS_PROXY`, `all_proxy`) is set and `no_proxy` does not cover the URL's host, so curl,
//! Python and (for non-loopback hosts) Go send the request to the proxy — which, for a
//! loopback address, cannot reach this machine's port, or reaches its own.

use crate::doctor::Context;
use crate::knowledge::proxy::Client;
use crate::model::{Finding, Severity};
use crate::target::{Host, Target};

/// DOC-PROXY.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Target::Addr {
        host,
        scheme: Some(scheme),
        ..
    } = &ctx.target
    else {
        return Vec::new();
    };
    let Some(first) = ctx.proxies.first() else {
        return Vec::new();
    };
    let host_text = host.to_string();
    let local = match host {
        Host::Ip(ip) => ip.is_loopback(),
        Host::Name(n) => n.eq_ignore_ascii_case("localhost"),
    };
    let url = ctx.target.to_string();
    let names: Vec<&str> = ctx.proxies.iter().map(|r| r.client.label()).collect();
    let mut evidence: Vec<String> = Vec::new();
    // One line per variable, naming the clients that read it.
    let mut vars: Vec<(&str, &str)> = ctx
        .proxies
        .iter()
        .map(|r| (r.variable.as_str(), r.proxy.as_str()))
        .collect();
    vars.sort_unstable();
    vars.dedup();
    for (var, proxy) in vars {
        let users: Vec<&str> = ctx
            .proxies
            .iter()
            .filter(|r| r.variable == var)
            .map(|r| r.client.label())
            .collect();
        evidence.push(format!(
            "{}{var}={proxy} is set: {} {} {scheme}:// requests to it",
            ctx.env_from.map_or(String::new(), |pid| format!(
                "in the environment of pid {pid}: "
            )),
            users.join(", "),
            if users.len() == 1 { "sends" } else { "send" }
        ));
    }
    evidence.push(match &ctx.no_proxy {
        Some((name, value)) => format!(
            "{name}={} does not cover {host_text} for {} (each client matches it against the host as written in the URL, by its own rules; `localhost` does not cover 127.0.0.1)",
            crate::text::terminal(value),
            names.join(", ")
        ),
        None => format!(
            "neither no_proxy nor NO_PROXY is set{}",
            ctx.env_from
                .map_or(String::new(), |pid| format!(" in the environment of pid {pid}"))
        ),
    });
    let direct: Vec<Client> = Client::ALL
        .into_iter()
        .filter(|c| !ctx.proxies.iter().any(|r| r.client == *c))
        .collect();
    if !direct.is_empty() {
        let labels: Vec<&str> = direct.iter().map(|c| c.label()).collect();
        evidence.push(format!(
            "{} would connect directly{}",
            labels.join(", "),
            if direct.contains(&Client::Go) && local {
                " (Go never proxies localhost or loopback addresses)"
            } else {
                ""
            }
        ));
    }
    let (severity, title) = if local {
        (
            Severity::Critical,
            format!(
                "{url} goes to the proxy {}, not to this machine's port, for {}: a proxy cannot reach this machine's loopback",
                first.proxy,
                names.join(", ")
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "{url} goes through the proxy {} for {}: what doctor tried directly is not what they do",
                first.proxy,
                names.join(", ")
            ),
        )
    };
    let list = "localhost,127.0.0.1,::1";
    let mut fix = vec![
        format!(
            "export no_proxy={list}{} NO_PROXY=\"$no_proxy\"",
            if local {
                String::new()
            } else {
                format!(",{host_text}")
            }
        ),
        format!("curl --noproxy '*' {url}   # one request without the proxy"),
    ];
    if names.iter().any(|n| n.starts_with("Python")) {
        fix.push(
            "Python requests: session.trust_env = False (or proxies={'http': None, 'https': None})"
                .into(),
        );
    }
    vec![Finding {
        code: "DOC-PROXY",
        severity,
        title,
        evidence,
        fix,
    }]
}
