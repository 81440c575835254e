//! The services the audit knows, table-driven: what kind each is (it decides the severity
//! when it is reachable), how to recognise it by its owner, why it matters, and the commands
//! that bind it to loopback or make it ask for credentials (`{port}` is filled in).

use crate::probe::Auth;

/// What kind of thing a service is: it decides the severity when it is reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Runs code for whoever connects (JDWP, Node inspector, Chrome DevTools, Delve…).
    Debugger,
    /// Stores data and, in its default setup, answers without a password (Redis, Memcached…).
    Datastore,
    /// Controls the host or a session (Docker API, Jupyter, X11, VNC, kubelet).
    Control,
    /// Asks for credentials by design (SSH, PostgreSQL, MySQL).
    Authenticated,
    /// A message bus (MQTT, NATS): anyone allowed in may publish and subscribe.
    Bus,
    /// Metrics meant to be scraped (Prometheus exposition format).
    Metrics,
}

/// A service the audit knows.
#[derive(Debug)]
pub struct Known {
    /// The probe's protocol name (`redis`, `node-inspector`).
    pub id: &'static str,
    /// How people call it.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Owner `comm` names that identify it without a probe (the whole name).
    pub processes: &'static [&'static str],
    /// Substrings of the owner's command line that identify it (`org.elasticsearch.`).
    pub cmdline_marks: &'static [&'static str],
    /// Whether it asks for credentials when nothing else tells (memcached: never; sshd: always).
    pub auth_by_design: Option<Auth>,
    /// Why it matters when someone unexpected connects.
    pub risk: &'static str,
    /// How to make it listen on loopback only (`{port}` is replaced).
    pub bind_fix: &'static [&'static str],
    /// How to make it ask for credentials.
    pub auth_fix: &'static [&'static str],
    /// What to do about it on loopback (debuggers: stop it when done).
    pub local_fix: &'static [&'static str],
}

/// Every service the rules know, by probe protocol name.
pub static KNOWN: &[Known] = &[
    Known {
        id: "jdwp",
        name: "JDWP debug agent",
        kind: Kind::Debugger,
        processes: &[],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects runs any code in the JVM, as its user",
        bind_fix: &[
            "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:{port}   # JDK 9+: address={port} alone is loopback only, *:{port} is every interface",
        ],
        auth_fix: &[],
        local_fix: &[
            "let the IDE listen and the JVM connect out: -agentlib:jdwp=transport=dt_socket,server=n,address=127.0.0.1:PORT",
        ],
    },
    Known {
        id: "node-inspector",
        name: "Node.js inspector",
        kind: Kind::Debugger,
        processes: &["node", "nodejs"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects runs any code in the Node process, as its user (and web pages could, through DNS rebinding, before the 2018 Host check: CVE-2018-7160)",
        bind_fix: &["node --inspect=127.0.0.1:{port} …   # plain --inspect binds 127.0.0.1:9229"],
        auth_fix: &[],
        local_fix: &[
            "start the inspector only for a debug session: kill -USR1 <pid> turns it on in a running node",
        ],
    },
    Known {
        id: "deno-inspector",
        name: "Deno inspector",
        kind: Kind::Debugger,
        processes: &["deno"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects runs any code in the Deno process, with every permission it was granted",
        bind_fix: &["deno run --inspect=127.0.0.1:{port} …"],
        auth_fix: &[],
        local_fix: &["drop --inspect when the debug session is over"],
    },
    Known {
        id: "chrome-devtools",
        name: "Chrome DevTools protocol",
        kind: Kind::Debugger,
        processes: &["chrome", "chromium", "headless_shell", "msedge", "electron"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects controls the browser: reads every cookie and runs script in every tab",
        bind_fix: &[
            "drop --remote-debugging-address=0.0.0.0 (Chrome binds 127.0.0.1 by default), or use --remote-debugging-pipe",
        ],
        auth_fix: &[],
        local_fix: &[
            "use --remote-debugging-pipe (no port) for automation, and a separate --user-data-dir",
        ],
    },
    Known {
        id: "dart-vm-service",
        name: "Dart VM service",
        kind: Kind::Debugger,
        processes: &["dart"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "whoever connects with the URL's auth code runs code in the Dart VM",
        bind_fix: &["dart run --observe={port}/127.0.0.1 …"],
        auth_fix: &["keep the auth codes on: drop --disable-service-auth-codes"],
        local_fix: &["drop --disable-service-auth-codes; stop the VM service when done"],
    },
    Known {
        id: "delve",
        name: "Delve debugger",
        kind: Kind::Debugger,
        processes: &["dlv"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects controls the debugged Go program and can run commands as its user",
        bind_fix: &["dlv … --headless --listen=127.0.0.1:{port}"],
        auth_fix: &[],
        local_fix: &[
            "stop the headless server when the session is over (or --accept-multiclient off)",
        ],
    },
    Known {
        id: "debugpy",
        name: "debugpy debug adapter",
        kind: Kind::Debugger,
        processes: &[],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects evaluates any Python in the debugged process",
        bind_fix: &["python -m debugpy --listen 127.0.0.1:{port} …"],
        auth_fix: &[],
        local_fix: &["stop debugpy when the debug session is over"],
    },
    Known {
        id: "gdbserver",
        name: "gdbserver",
        kind: Kind::Debugger,
        processes: &["gdbserver"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "whoever connects controls the debugged program: memory, registers, and code",
        bind_fix: &["gdbserver 127.0.0.1:{port} PROGRAM   # :{port} alone is every interface"],
        auth_fix: &[],
        local_fix: &["stop gdbserver when the debug session is over"],
    },
    Known {
        id: "redis",
        name: "Redis",
        kind: Kind::Datastore,
        processes: &["redis-server", "valkey-server", "keydb-server"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "without a password anyone who connects reads and overwrites every key, and CONFIG SET can make it write files as its user",
        bind_fix: &[
            "redis-server --bind 127.0.0.1 -::1 --protected-mode yes --port {port}   # redis.conf: bind 127.0.0.1 -::1",
        ],
        auth_fix: &[
            "require a password: requirepass <long random secret> in redis.conf (or ACL SETUSER default on >secret), then restart",
        ],
        local_fix: &[],
    },
    Known {
        id: "memcached",
        name: "Memcached",
        kind: Kind::Datastore,
        processes: &["memcached"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::NotRequired),
        risk: "anyone who connects reads and overwrites the cached data; over UDP it amplifies attacks (CVE-2018-1000115)",
        bind_fix: &[
            "memcached -l 127.0.0.1 -p {port} -U 0   # /etc/memcached.conf: -l 127.0.0.1 and -U 0",
        ],
        auth_fix: &[
            "memcached has no password in its default build: keep it on loopback, or enable SASL (-S, binary protocol)",
        ],
        local_fix: &[],
    },
    Known {
        id: "mongodb",
        name: "MongoDB",
        kind: Kind::Datastore,
        processes: &["mongod", "mongos"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "without access control anyone who connects reads and writes every database",
        bind_fix: &[
            "mongod --bind_ip 127.0.0.1 --port {port}   # mongod.conf: net.bindIp: 127.0.0.1",
        ],
        auth_fix: &[
            "turn access control on: security.authorization: enabled in mongod.conf (create an admin user first)",
        ],
        local_fix: &[],
    },
    Known {
        id: "elasticsearch",
        name: "Elasticsearch",
        kind: Kind::Datastore,
        processes: &[],
        cmdline_marks: &["org.elasticsearch.", "org.opensearch."],
        auth_by_design: None,
        risk: "without security anyone who connects reads and writes every index",
        bind_fix: &["network.host: 127.0.0.1 in elasticsearch.yml, then restart"],
        auth_fix: &[
            "xpack.security.enabled: true (the default since 8.0), then elasticsearch-reset-password -u elastic",
        ],
        local_fix: &[],
    },
    Known {
        id: "docker-api",
        name: "Docker Engine API",
        kind: Kind::Control,
        processes: &["dockerd"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "root on the host for whoever connects: they can start a privileged container that mounts /",
        bind_fix: &[
            "remove -H tcp://… from dockerd (and \"hosts\" from /etc/docker/daemon.json): keep the unix socket, and reach it from elsewhere with DOCKER_HOST=ssh://user@host",
        ],
        auth_fix: &[
            "if TCP is needed: dockerd --tlsverify --tlscacert ca.pem --tlscert server.pem --tlskey key.pem -H tcp://0.0.0.0:2376",
        ],
        local_fix: &[
            "use the unix socket (/run/docker.sock, guarded by the docker group) instead of TCP",
        ],
    },
    Known {
        id: "jupyter",
        name: "Jupyter",
        kind: Kind::Control,
        processes: &["jupyter-lab", "jupyter-notebook", "jupyter-server"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "whoever gets in runs any code in a kernel, as the server's user",
        bind_fix: &["jupyter lab --ip=127.0.0.1 --port={port}   # or c.ServerApp.ip = '127.0.0.1'"],
        auth_fix: &[
            "keep the token on (drop --ServerApp.token='' / --NotebookApp.token=''), or set a password: jupyter server password",
        ],
        local_fix: &["keep the token on: drop --ServerApp.token='' (--NotebookApp.token='')"],
    },
    Known {
        id: "x11",
        name: "X11 server",
        kind: Kind::Control,
        processes: &["Xorg", "X", "Xvfb", "Xephyr", "Xwayland"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "whoever connects reads keystrokes and screen contents and injects input",
        bind_fix: &[
            "start the X server with -nolisten tcp (the default of current Xorg and display managers)",
        ],
        auth_fix: &["xhost -   # turn access control back on (and use xauth cookies)"],
        local_fix: &["xhost -   # turn access control back on (and use xauth cookies)"],
    },
    Known {
        id: "vnc",
        name: "VNC server",
        kind: Kind::Control,
        processes: &[
            "x11vnc",
            "Xvnc",
            "Xtigervnc",
            "Xtightvnc",
            "wayvnc",
            "vncserver",
        ],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "whoever gets in sees the screen and types on the keyboard",
        bind_fix: &[
            "x11vnc -localhost … (Xvnc -localhost …), and reach it through ssh -L 5900:127.0.0.1:{port} HOST",
        ],
        auth_fix: &["require a password: x11vnc -rfbauth ~/.vnc/passwd (vncpasswd makes it)"],
        local_fix: &[],
    },
    Known {
        id: "kubelet",
        name: "kubelet API",
        kind: Kind::Control,
        processes: &["kubelet"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "with anonymous access anyone can exec into every pod on the node",
        bind_fix: &[],
        auth_fix: &[
            "kubelet --anonymous-auth=false --authorization-mode=Webhook --read-only-port=0",
        ],
        local_fix: &[],
    },
    Known {
        id: "ssh",
        name: "SSH server",
        kind: Kind::Authenticated,
        processes: &["sshd", "dropbear"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::Required),
        risk: "password guessing and pre-authentication bugs are tried on every reachable SSH server",
        bind_fix: &[
            "if only local or VPN users need it: ListenAddress 127.0.0.1 (or the VPN address) in /etc/ssh/sshd_config",
        ],
        auth_fix: &[
            "PasswordAuthentication no and PermitRootLogin prohibit-password in /etc/ssh/sshd_config",
        ],
        local_fix: &[],
    },
    Known {
        id: "postgresql",
        name: "PostgreSQL",
        kind: Kind::Authenticated,
        processes: &["postgres", "postmaster"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::Required),
        risk: "passwords are guessed on every reachable database, and a 'trust' line in pg_hba.conf lets anyone in",
        bind_fix: &["listen_addresses = 'localhost' in postgresql.conf, then restart"],
        auth_fix: &["no 'trust' lines for host connections in pg_hba.conf: scram-sha-256"],
        local_fix: &[],
    },
    Known {
        id: "mysql",
        name: "MySQL / MariaDB",
        kind: Kind::Authenticated,
        processes: &["mysqld", "mariadbd"],
        cmdline_marks: &[],
        auth_by_design: Some(Auth::Required),
        risk: "passwords are guessed on every reachable database",
        bind_fix: &["bind-address = 127.0.0.1 under [mysqld] in my.cnf, then restart"],
        auth_fix: &["no accounts without a password and none at host '%' that need not be remote"],
        local_fix: &[],
    },
    Known {
        id: "mqtt",
        name: "MQTT broker",
        kind: Kind::Bus,
        processes: &["mosquitto"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "anyone allowed in reads and publishes every topic (devices often act on them)",
        bind_fix: &["listener {port} 127.0.0.1 in mosquitto.conf"],
        auth_fix: &[
            "allow_anonymous false and a password_file (mosquitto_passwd) in mosquitto.conf",
        ],
        local_fix: &[],
    },
    Known {
        id: "nats",
        name: "NATS server",
        kind: Kind::Bus,
        processes: &["nats-server"],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "anyone allowed in reads and publishes every subject",
        bind_fix: &["nats-server -a 127.0.0.1 -p {port}"],
        auth_fix: &["an authorization block (token or users) in the server configuration"],
        local_fix: &[],
    },
    Known {
        id: "prometheus-metrics",
        name: "Prometheus metrics endpoint",
        kind: Kind::Metrics,
        processes: &[],
        cmdline_marks: &[],
        auth_by_design: None,
        risk: "metrics show versions, hosts and internals to whoever reads them (usually meant for a Prometheus server)",
        bind_fix: &[
            "listen on 127.0.0.1 or the monitoring network only (e.g. node_exporter --web.listen-address=127.0.0.1:{port})",
        ],
        auth_fix: &["basic auth or TLS client certificates with a --web.config.file"],
        local_fix: &[],
    },
];

/// The known service with this probe protocol name.
pub fn known(id: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_fixes_name_the_port_where_they_bind() {
        for (i, k) in KNOWN.iter().enumerate() {
            assert!(
                KNOWN.iter().skip(i + 1).all(|o| o.id != k.id),
                "{} twice",
                k.id
            );
            assert!(!k.risk.is_empty(), "{}", k.id);
            if k.kind == Kind::Debugger {
                assert!(
                    k.bind_fix.iter().any(|f| f.contains("127.0.0.1")),
                    "{}",
                    k.id
                );
            }
        }
        assert_eq!(known("redis").map(|k| k.kind), Some(Kind::Datastore));
    }
}
