//! The audit's rules by stable code: what each finds, how serious it is at most, and how to
//! fix it. One table feeds the allowlist's check of rule names, SARIF's `rules`, and the
//! documentation.

use serde::Serialize;

use crate::model::Severity;

/// One rule of the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable code (`AUD-EXPOSED-DATASTORE`).
    pub code: &'static str,
    /// The severity it usually has (a finding may be milder when facts are missing).
    pub severity: Severity,
    /// What it finds, in one sentence.
    pub summary: &'static str,
    /// Why it matters and how to fix it.
    pub help: &'static str,
}

/// Every audit rule, in the order the documentation lists them.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        code: "AUD-EXPOSED-DEBUGGER",
        severity: Severity::Critical,
        summary: "A debugger (JDWP, Node/Deno inspector, Chrome DevTools, Delve, debugpy, gdbserver) listens beyond loopback.",
        help: "A debug port runs code for whoever connects: it is remote code execution by design. Bind it to 127.0.0.1 with the tool's own flag (node --inspect=127.0.0.1:PORT, -agentlib:jdwp=…,address=127.0.0.1:PORT, dlv --listen=127.0.0.1:PORT) and reach it from elsewhere through ssh -L.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-DATASTORE",
        severity: Severity::Critical,
        summary: "A datastore that answers without a password (Redis, Memcached, MongoDB, Elasticsearch) listens beyond loopback.",
        help: "Anyone who can reach the port reads and overwrites the data (and Redis can be made to write files). Critical when the probe saw it answer without credentials (Memcached: always); a warning when it was not probed. Bind it to 127.0.0.1 (redis-server --bind 127.0.0.1 --protected-mode yes, memcached -l 127.0.0.1, mongod --bind_ip 127.0.0.1) and turn authentication on.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-CONTROL",
        severity: Severity::Critical,
        summary: "An API that controls the host or a session (Docker Engine API, Jupyter, X11, VNC, kubelet) listens beyond loopback without authentication.",
        help: "The Docker API over plain TCP is root on the host; Jupyter without a token runs code; X11 and VNC give away the screen and keyboard. Critical when it answered without credentials; a warning when that is unknown. Keep such APIs on unix sockets or loopback, and require TLS client certificates or a token.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-NO-AUTH",
        severity: Severity::Warning,
        summary: "A service the probe saw answer without credentials (an MQTT or NATS bus, an IMAP server in PREAUTH…) listens beyond loopback.",
        help: "Whatever the service offers, anyone who can reach it gets. Bind it to loopback or turn its authentication on.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-AUTHENTICATED",
        severity: Severity::Warning,
        summary: "A service that asks for credentials (SSH, PostgreSQL, MySQL, Redis with a password) listens beyond loopback.",
        help: "Reachable login prompts attract password guessing and pre-authentication exploits. If only this machine (or a VPN) needs it, bind it there; otherwise keys instead of passwords, and a firewall rule that admits only the clients that need it.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-DEV-SERVER",
        severity: Severity::Warning,
        summary: "A development server (Vite, webpack-dev-server, python -m http.server, Django runserver, Flask) listens beyond loopback.",
        help: "Development servers are not hardened and serve source code and files; Vite and webpack-dev-server had source-theft CVEs. Run them on 127.0.0.1 (vite without --host, python3 -m http.server --bind 127.0.0.1).",
    },
    RuleInfo {
        code: "AUD-EXPOSED-WEB",
        severity: Severity::Info,
        summary: "A web server on port 80 or 443 listens beyond loopback.",
        help: "Usually intended: listed so the inventory of exposed services is complete. Check that it should be public.",
    },
    RuleInfo {
        code: "AUD-EXPOSED-SERVICE",
        severity: Severity::Info,
        summary: "Another service (unidentified, or not known to be dangerous) listens beyond loopback.",
        help: "Everything reachable from the network is attack surface. If nothing outside this machine needs it, bind it to 127.0.0.1; otherwise make sure a firewall admits only the clients that need it.",
    },
    RuleInfo {
        code: "AUD-DEBUGGER-LOOPBACK",
        severity: Severity::Warning,
        summary: "A debugger listens on loopback.",
        help: "Every local user and process can attach and run code as the debugged program's user; web pages can reach inspectors through DNS rebinding when Host is not checked. Leave debug ports on only for a debug session.",
    },
    RuleInfo {
        code: "AUD-LOOPBACK-NO-AUTH",
        severity: Severity::Warning,
        summary: "An API that controls the host or a session (Docker API, Jupyter, X11) answers on loopback without authentication.",
        help: "Every local user gets what the API gives: the Docker API over TCP bypasses the docker group that guards its unix socket (root for anyone), Jupyter without a token runs code as its user. Use the unix socket, or keep the token on. Datastores without a password on loopback, the packaged default of Redis and Memcached, are not reported.",
    },
    RuleInfo {
        code: "AUD-UNIX-WORLD-WRITABLE",
        severity: Severity::Warning,
        summary: "A root daemon's unix socket is writable by every user (mode o+w, every directory above it searchable).",
        help: "Any local user can connect and talk to a process running as root; for container engines (docker.sock, containerd.sock, podman.sock) that is root on the host (critical). chmod 660 and a group, or a systemd socket unit with SocketMode=0660 and SocketGroup=. Sockets designed for everyone (D-Bus system bus, journald, systemd's varlink services…) are not reported.",
    },
    RuleInfo {
        code: "AUD-ROOT-HIGH-PORT",
        severity: Severity::Warning,
        summary: "A process running as root listens beyond loopback on an unprivileged port (at or above net.ipv4.ip_unprivileged_port_start).",
        help: "Any local user may bind that port while the daemon is down (restart, crash) and receive its clients and their credentials. Run it as an unprivileged user (systemd User= or DynamicUser=yes), or move it to a privileged port if clients must trust it.",
    },
    RuleInfo {
        code: "AUD-CONTAINER-PUBLISHED",
        severity: Severity::Warning,
        summary: "A container port is published on all interfaces (docker-proxy, rootlessport, conmon).",
        help: "docker run -p PORT:PORT publishes to every interface, and Docker's own iptables rules bypass ufw and firewalld INPUT rules. Publish to loopback: -p 127.0.0.1:PORT:CPORT (compose: \"127.0.0.1:PORT:CPORT\"), or set \"ip\": \"127.0.0.1\" in /etc/docker/daemon.json.",
    },
    RuleInfo {
        code: "AUD-CONTAINER-HOST-NETWORK",
        severity: Severity::Warning,
        summary: "A process of a container on the host network listens on all interfaces.",
        help: "With --network host the container's services listen on the host's interfaces, unfiltered by Docker's port publishing. Publish only what is needed with -p 127.0.0.1:PORT:PORT, or bind the service to 127.0.0.1 inside the container.",
    },
];

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code == code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(r.code.starts_with("AUD-"), "{}", r.code);
            assert!(
                r.code.chars().all(|c| c.is_ascii_uppercase() || c == '-'),
                "{}",
                r.code
            );
            assert!(
                RULES.iter().skip(i + 1).all(|o| o.code != r.code),
                "{} twice",
                r.code
            );
            assert!(
                r.summary.ends_with('.') && r.help.ends_with('.'),
                "{}",
                r.code
            );
        }
    }
}
