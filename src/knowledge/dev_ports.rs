//! What developers commonly run on a port, and where "random" high ports come from.
//!
//! The IANA registry says who *registered* a number; this curated table says what usually
//! *listens* there on a developer's machine (3000 is registered to RemoteWare, but it is almost
//! always a Node or Rails dev server). It is general knowledge, not a reading of this machine:
//! callers show it as "commonly", next to the process that actually holds the port.
//! Banners are how each program announces itself, with runs of spaces collapsed.

use serde::Serialize;

use crate::model::Proto;

/// Source label for this table.
pub const DEV_PORTS_SOURCE: &str =
    "general knowledge: documented defaults of common developer tools and services";

/// One thing that commonly listens on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DevPort {
    /// The (first) port.
    pub port: u16,
    /// Last port of a per-display range (X11 6000–6063, VNC 5900–5999); equal to `port` otherwise.
    pub last: u16,
    /// Transport protocol.
    pub proto: Proto,
    /// What it is, in a few words.
    pub what: &'static str,
    /// How it announces itself in a terminal or log; empty when it prints nothing telling.
    pub banner: &'static str,
    /// Why it is dangerous when reachable from the network, if it is.
    pub risk: Option<&'static str>,
}

const fn tcp(port: u16, what: &'static str, banner: &'static str) -> DevPort {
    DevPort {
        port,
        last: port,
        proto: Proto::Tcp,
        what,
        banner,
        risk: None,
    }
}

const fn udp(port: u16, what: &'static str, banner: &'static str) -> DevPort {
    DevPort {
        proto: Proto::Udp,
        ..tcp(port, what, banner)
    }
}

const fn risky(entry: DevPort, risk: &'static str) -> DevPort {
    DevPort {
        risk: Some(risk),
        ..entry
    }
}

const fn upto(entry: DevPort, last: u16) -> DevPort {
    DevPort { last, ..entry }
}

#[rustfmt::skip]
static DEV_PORTS: &[DevPort] = &[
    tcp(53, "systemd-resolved's stub resolver (127.0.0.53), or dnsmasq (libvirt's on 192.168.122.1)", ""),
    udp(53, "systemd-resolved's stub resolver (127.0.0.53), or dnsmasq (libvirt's on 192.168.122.1)", ""),
    tcp(631, "CUPS printing daemon (cupsd), normally on loopback only", ""),
    udp(631, "cups-browsed, discovering network printers", ""),
    udp(5353, "mDNS / DNS-SD (avahi-daemon, systemd-resolved, and browsers or apps that discover devices)", ""),
    tcp(1234, "Parcel dev server", "Server running at http://localhost:1234"),
    tcp(1313, "Hugo dev server (hugo server)", "Web Server is available at http://localhost:1313/"),
    risky(tcp(2375, "Docker Engine API over plain TCP", "API listen on [::]:2375"),
        "root on the host for anyone who connects; the safe default is the unix socket, or TLS on 2376"),
    risky(tcp(2376, "Docker Engine API over TLS", "API listen on [::]:2376"),
        "root on the host for any client if dockerd runs without --tlsverify (client certificates)"),
    tcp(3000, "Node.js app (Express and many Node frameworks default to 3000; a second copy fails with `Error: listen EADDRINUSE: address already in use :::3000`)", ""),
    tcp(3000, "Rails dev server (Puma)", "* Listening on http://127.0.0.1:3000"),
    tcp(3000, "create-react-app or Next.js dev server", "Local: http://localhost:3000"),
    tcp(3000, "Grafana", "msg=\"HTTP Server Listen\" address=[::]:3000"),
    tcp(3306, "MySQL / MariaDB", "ready for connections. … port: 3306"),
    tcp(4000, "Phoenix (Elixir) dev server", "Running MyAppWeb.Endpoint with cowboy … at 127.0.0.1:4000 (http)"),
    tcp(4000, "Jekyll (jekyll serve)", "Server address: http://127.0.0.1:4000/"),
    tcp(4173, "Vite preview server (vite preview)", "Local: http://localhost:4173/"),
    tcp(4200, "Angular dev server (ng serve)", "** Angular Live Development Server is listening on localhost:4200, open your browser on http://localhost:4200/ **"),
    tcp(5000, "Flask dev server", " * Running on http://127.0.0.1:5000"),
    tcp(5000, "macOS AirPlay Receiver (ControlCenter, macOS 12 and later): the usual reason port 5000 is taken on a Mac", "HTTP 403 with `Server: AirTunes/<version>`"),
    risky(tcp(5005, "Java debug agent, JDWP (server=y; IntelliJ's Remote JVM Debug default)", "Listening for transport dt_socket at address: 5005"),
        "remote code execution by design: whoever connects runs code in the JVM; bind it to 127.0.0.1"),
    tcp(5037, "Android Debug Bridge server (adb)", "* daemon started successfully"),
    risky(tcp(5173, "Vite dev server", "Local: http://localhost:5173/"),
        "source code theft through DNS rebinding or cross-origin requests (CVE-2025-24010) unless Host/Origin are checked"),
    tcp(5432, "PostgreSQL", "listening on IPv4 address \"127.0.0.1\", port 5432"),
    tcp(5672, "RabbitMQ (AMQP)", ""),
    risky(upto(tcp(5900, "VNC server (display :N listens on 5900+N)", "PORT=5900 (x11vnc)"), 5999),
        "screen and keyboard control; require a password and TLS or tunnel it over SSH"),
    risky(upto(tcp(6000, "X11 server listening on TCP (display :N on 6000+N)", ""), 6063),
        "keystrokes and screen contents can be read; start X with -nolisten tcp"),
    tcp(6006, "Storybook", "Local: http://localhost:6006/"),
    tcp(6006, "TensorBoard", "TensorBoard … at http://localhost:6006/ (Press CTRL+C to quit)"),
    risky(tcp(6379, "Redis", "Ready to accept connections"),
        "without a password anyone can read and write everything and abuse CONFIG SET; protected mode (since 3.2) refuses outside clients when no password is set"),
    tcp(6443, "Kubernetes API server (kubeadm, kind, k3s)", ""),
    tcp(7000, "macOS AirPlay Receiver (ControlCenter, macOS 12 and later)", "HTTP 403 with `Server: AirTunes/<version>`"),
    tcp(8000, "Django dev server (manage.py runserver)", "Starting development server at http://127.0.0.1:8000/"),
    tcp(8000, "Uvicorn (FastAPI, Starlette)", "Uvicorn running on http://127.0.0.1:8000"),
    tcp(8000, "python -m http.server (serves the current directory to everyone when bound to 0.0.0.0)", "Serving HTTP on 0.0.0.0 port 8000 …"),
    risky(tcp(8080, "webpack-dev-server", "[webpack-dev-server] Project is running at:"),
        "source code theft through DNS rebinding or cross-origin requests (CVE-2018-14732, CVE-2025-30359, CVE-2025-30360) unless Host/Origin are checked"),
    tcp(8080, "Tomcat, or Spring Boot's embedded Tomcat", "Tomcat started on port(s): 8080 (http)"),
    tcp(8080, "HTTP proxies and alternate web servers; or a published container port (`-p 8080:…`), held on the host by docker-proxy", "Bind for 0.0.0.0:8080 failed: port is already allocated"),
    tcp(8081, "Metro, the React Native bundler", "Welcome to Metro"),
    risky(tcp(8888, "Jupyter Server / JupyterLab / Notebook", "Jupyter Server … is running at: http://localhost:8888/lab?token=…"),
        "code execution for anyone who gets in; the token is required by default and the Host header is checked"),
    tcp(9000, "PHP-FPM (FastCGI, not HTTP), or MinIO's S3 API", ""),
    tcp(9090, "Prometheus server", "Server is ready to receive web requests."),
    tcp(9090, "Cockpit web console (socket-activated by systemd)", ""),
    tcp(9092, "Apache Kafka broker", ""),
    tcp(9100, "Prometheus node_exporter", ""),
    risky(tcp(9200, "Elasticsearch / OpenSearch HTTP API", "publish_address {127.0.0.1:9200}, bound_addresses {…}"),
        "no authentication before Elasticsearch 8.0 (security is on by default since 8.0)"),
    risky(tcp(9222, "Chrome DevTools Protocol (--remote-debugging-port=9222 is the conventional choice)", "DevTools listening on ws://127.0.0.1:9222/devtools/browser/<id>"),
        "full control of the browser and theft of its cookies; Chrome checks the Host header since version 66"),
    risky(tcp(9229, "Node.js inspector (node --inspect)", "Debugger listening on ws://127.0.0.1:9229/<uuid>"),
        "code execution in the Node process; DNS rebinding (CVE-2018-7160), fixed by a Host check in 2018"),
    tcp(9515, "ChromeDriver (its fixed default port)", "Starting ChromeDriver … on port 9515"),
    risky(tcp(10250, "kubelet API", ""),
        "with anonymous auth, anyone can exec into pods; authentication is on by default"),
    risky(tcp(10255, "kubelet read-only API", ""),
        "no authentication at all: lists pods and their specs to anyone"),
    risky(tcp(11211, "memcached", ""),
        "anyone can read and overwrite the cached data"),
    risky(udp(11211, "memcached over UDP", ""),
        "data exposure and huge UDP amplification attacks (CVE-2018-1000115); UDP is off by default since memcached 1.5.6"),
    tcp(15672, "RabbitMQ management web UI", ""),
    risky(tcp(27017, "MongoDB", "\"msg\":\"Waiting for connections\""),
        "an unauthenticated database for anyone who connects; binds to localhost by default since 3.6"),
];

/// Everything that commonly listens on `port`/`proto`, in table order (most common first
/// where several share a port). Empty when the port has no well-known developer use.
pub fn dev_ports(port: u16, proto: Proto) -> Vec<&'static DevPort> {
    DEV_PORTS
        .iter()
        .filter(|d| d.proto == proto && (d.port..=d.last).contains(&port))
        .collect()
}

/// The whole curated table (for documentation and `audit` rules that look for risky services).
pub fn all_dev_ports() -> &'static [DevPort] {
    DEV_PORTS
}

/// A common origin of ports that are *not* a fixed default: chosen at run time, usually by
/// binding port 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The tool or situation.
    pub what: &'static str,
    /// What the user sees: the log line or socket shape that names the port.
    pub looks_like: &'static str,
    /// Which process holds the port (or why none does).
    pub who_listens: &'static str,
}

#[rustfmt::skip]
static RANDOM_PORT_SOURCES: &[Source] = &[
    Source {
        what: "IntelliJ IDEA / Android Studio debugging a local run",
        looks_like: "Connected to the target VM, address: '127.0.0.1:62893', transport: 'socket' (later: Disconnected from the target VM, address: …)",
        who_listens: "The IDE's own java process: it binds port 0 and the debugged JVM connects out to it (-agentlib:jdwp=…,server=n). Once connected no listener remains, only an ESTABLISHED pair between the IDE and the JVM.",
    },
    Source {
        what: "A JVM started with -agentlib:jdwp=transport=dt_socket,server=y and no fixed address",
        looks_like: "Listening for transport dt_socket at address: <port>",
        who_listens: "The debugged JVM itself, waiting for a debugger; whoever connects can run code in it.",
    },
    Source {
        what: "Flutter / Dart VM service",
        looks_like: "A Dart VM Service on <device> is available at: http://127.0.0.1:<port>/<token>=/",
        who_listens: "The Dart VM of the running app when it runs on this machine; for an app on a phone or emulator the local port is a forward to the device.",
    },
    Source {
        what: "Jupyter kernels",
        looks_like: "Five ports on 127.0.0.1 (shell, iopub, stdin, control, heartbeat), listed in the kernel's connection file kernel-<id>.json",
        who_listens: "The kernel process (e.g. python -m ipykernel_launcher -f …/kernel-<id>.json), speaking ZeroMQ; the Jupyter server picked the ports and connects to them.",
    },
    Source {
        what: "Delve, the Go debugger (dlv, often started by an editor)",
        looks_like: "API server listening at: 127.0.0.1:<port>",
        who_listens: "The dlv process; the program being debugged is its child.",
    },
    Source {
        what: "ChromeDriver started by Selenium or another WebDriver client",
        looks_like: "Starting ChromeDriver … on port <port>",
        who_listens: "The chromedriver process, started on a free port (its fixed default is 9515).",
    },
    Source {
        what: "Chrome or Chromium under automation (e.g. Puppeteer), started with --remote-debugging-port=0",
        looks_like: "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>",
        who_listens: "The browser's main process, exposing the DevTools protocol (full control of the browser).",
    },
    Source {
        what: "A test server bound to port 0",
        looks_like: "A listener that exists only while tests run, often logged as listening on 127.0.0.1:<port>",
        who_listens: "The test process (or a server it spawned); the port changes on every run.",
    },
    Source {
        what: "The local end of an outgoing connection",
        looks_like: "An ESTABLISHED or TIME_WAIT socket with a high local port that changes every time, and no LISTEN socket on it",
        who_listens: "Nobody: the kernel picked the port for connect() from net.ipv4.ip_local_port_range (32768-60999 by default on Linux); the program that connected owns the socket.",
    },
];

/// Where ports that are not a fixed default usually come from (general knowledge).
pub fn random_port_sources() -> &'static [Source] {
    RANDOM_PORT_SOURCES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(port: u16, proto: Proto) -> Vec<&'static str> {
        dev_ports(port, proto).iter().map(|d| d.what).collect()
    }

    #[test]
    fn common_dev_servers() {
        assert!(whats(5173, Proto::Tcp).iter().any(|w| w.contains("Vite")));
        assert!(
            whats(4200, Proto::Tcp)
                .iter()
                .any(|w| w.contains("Angular"))
        );
        assert!(
            whats(8888, Proto::Tcp)
                .iter()
                .any(|w| w.contains("Jupyter"))
        );
        let three_k = whats(3000, Proto::Tcp);
        for tool in ["Node.js", "Rails", "create-react-app", "Grafana"] {
            assert!(
                three_k.iter().any(|w| w.contains(tool)),
                "3000 lacks {tool}"
            );
        }
        let eight_k = whats(8000, Proto::Tcp);
        for tool in ["Django", "Uvicorn", "http.server"] {
            assert!(
                eight_k.iter().any(|w| w.contains(tool)),
                "8000 lacks {tool}"
            );
        }
    }

    #[test]
    fn airplay_gotcha_on_5000_and_7000() {
        assert!(whats(5000, Proto::Tcp).iter().any(|w| w.contains("Flask")));
        assert!(
            whats(5000, Proto::Tcp)
                .iter()
                .any(|w| w.contains("AirPlay"))
        );
        assert!(
            whats(7000, Proto::Tcp)
                .iter()
                .any(|w| w.contains("AirPlay"))
        );
    }

    #[test]
    fn banners_match_the_facts() {
        let banner = |port, proto| dev_ports(port, proto).first().map(|d| d.banner);
        assert_eq!(
            banner(5173, Proto::Tcp),
            Some("Local: http://localhost:5173/")
        );
        assert_eq!(
            banner(5005, Proto::Tcp),
            Some("Listening for transport dt_socket at address: 5005")
        );
        assert_eq!(
            banner(9229, Proto::Tcp),
            Some("Debugger listening on ws://127.0.0.1:9229/<uuid>")
        );
    }

    #[test]
    fn dangerous_services_carry_a_risk() {
        for port in [
            2375, 5005, 6379, 9200, 9222, 9229, 10250, 11211, 27017, 5900, 6000,
        ] {
            assert!(
                dev_ports(port, Proto::Tcp).iter().any(|d| d.risk.is_some()),
                "{port}/tcp has no risk"
            );
        }
        let udp = dev_ports(11211, Proto::Udp);
        assert!(
            udp.iter()
                .any(|d| d.risk.is_some_and(|r| r.contains("CVE-2018-1000115")))
        );
        assert!(dev_ports(5432, Proto::Tcp).iter().all(|d| d.risk.is_none()));
    }

    #[test]
    fn display_ranges_and_protocols() {
        assert!(whats(6001, Proto::Tcp).iter().any(|w| w.contains("X11")));
        assert!(whats(5901, Proto::Tcp).iter().any(|w| w.contains("VNC")));
        assert!(dev_ports(6064, Proto::Tcp).is_empty());
        assert!(dev_ports(5173, Proto::Udp).is_empty());
        assert!(dev_ports(62893, Proto::Tcp).is_empty());
        assert!(all_dev_ports().iter().all(|d| d.port <= d.last));
        assert!(all_dev_ports().iter().all(|d| d.proto != Proto::Unix));
    }

    #[test]
    fn random_sources() {
        let s = random_port_sources();
        let ide = s.iter().find(|s| s.what.contains("IntelliJ"));
        assert!(ide.is_some_and(|s| s.looks_like.contains("127.0.0.1:62893")
            && s.who_listens.contains("port 0")
            && s.who_listens.contains("server=n")));
        for needle in [
            "Delve",
            "ChromeDriver",
            "Jupyter",
            "Dart",
            "port 0",
            "outgoing",
        ] {
            assert!(
                s.iter().any(|x| x.what.contains(needle)),
                "missing {needle}"
            );
        }
        assert!(
            s.iter()
                .all(|x| !x.looks_like.is_empty() && !x.who_listens.is_empty())
        );
    }
}
