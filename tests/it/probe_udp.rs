//! `probe` over UDP against real daemons from Debian, each started by the test on a loopback
//! port picked at run time with its own config in a temp dir: net-snmp's `snmpd`, `chronyd`,
//! coturn's `turnserver` and libcoap's `coap-server`. A daemon that is not installed skips
//! its test with one line (a failure under `PORTSCOPE_REQUIRE_ROOT=1`, where CI installs them).
//!
//! Ports: these daemons take a port number, not port 0, so a free UDP port is asked of the
//! kernel (bind, read, close) and given to them; ready = a UDP socket bound on that port that
//! belongs to the daemon's process group (read from `/proc`). A daemon that loses the port to
//! someone else exits, and is started again on another port (3 attempts).

use std::fs;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, Spawned, TempDir};

/// A daemon we started; killed (its process group) and its dir removed on drop.
struct Daemon {
    port: u16,
    proc: Spawned,
    dir: TempDir,
}

impl Daemon {
    /// The result names this daemon as the owner, and its probe was asked first: the hint
    /// of the owning process ordered the table.
    fn assert_hinted(&self, res: &Value, probe: &str) {
        assert_eq!(res["owner"]["pid"], self.proc.pid, "{res:#}");
        assert_eq!(res["probes"][0], probe, "{res:#}");
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }
}

/// Start `make(dir, port)` on a free UDP port until it binds it (3 attempts).
fn start(
    name: &str,
    binary: &str,
    package: &str,
    make: impl Fn(&PathBuf, &TempDir, u16) -> Command,
) -> Option<Daemon> {
    let bin = harness::needs(&harness::current_test(), binary, package)?;
    let dir = TempDir::new(name);
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("bind 127.0.0.1:0/udp")
            .port();
        let log = fs::File::create(dir.path().join("daemon.log")).unwrap();
        let child = {
            use std::os::unix::process::CommandExt;
            make(&bin, &dir, port)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {name}: {e}"))
        };
        let mut proc = Spawned {
            pid: child.id(),
            child,
            words: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if group_binds_udp(proc.pid, port) {
                return Some(Daemon { port, proc, dir });
            }
            let text = fs::read_to_string(dir.path().join("daemon.log")).unwrap_or_default();
            if let Ok(Some(status)) = proc.child.try_wait() {
                failures.push(format!("port {port}: exited {status}:\n{text}"));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not bind 127.0.0.1:{port}/udp in 10 s; its output:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("{name} never came up:\n{}", failures.join("\n"));
}

/// Whether a process of process group `pgid` holds a UDP socket bound on `port`.
fn group_binds_udp(pgid: u32, port: u16) -> bool {
    let mut inodes = Vec::new();
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        for line in fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f.get(1).and_then(|a| a.rsplit_once(':'));
            if local.and_then(|(_, p)| u16::from_str_radix(p, 16).ok()) == Some(port) {
                inodes.extend(f.get(9).and_then(|i| i.parse::<u64>().ok()));
            }
        }
    }
    if inodes.is_empty() {
        return false;
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            return false;
        };
        let group = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(2)?
                    .parse::<u32>()
                    .ok()
            });
        if group != Some(pgid) {
            return false;
        }
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            return false;
        };
        fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|l| {
                let l = l.to_string_lossy();
                l.strip_prefix("socket:[")
                    .and_then(|s| s.strip_suffix(']'))
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|i| inodes.contains(&i))
            })
        })
    })
}

/// `portscope probe 127.0.0.1:PORT/udp --json`: the one result.
fn probe(port: u16) -> Value {
    let r = harness::json(&["probe", &format!("127.0.0.1:{port}/udp")]);
    let res = r["results"][0].clone();
    assert_eq!(res["proto"], "udp", "{r}");
    res
}

fn detail(res: &Value, key: &str) -> Option<String> {
    res["identification"]["details"]
        .as_array()?
        .iter()
        .find(|d| d[0] == key)
        .and_then(|d| d[1].as_str().map(str::to_string))
}

#[test]
fn snmpd_answers_a_v2c_get_of_sysdescr() {
    let Some(d) = start("snmpd", "snmpd", "snmpd", |bin, dir, port| {
        fs::write(dir.join("snmpd.conf"), "rocommunity public 127.0.0.1\n").unwrap();
        let mut cmd = Command::new(bin);
        cmd.env("SNMP_PERSISTENT_DIR", dir.path())
            .env("MIBS", "")
            .args(["-f", "-Lo", "-C", "-c", &dir.join("snmpd.conf")])
            .args(["-p", &dir.join("snmpd.pid")])
            .arg(format!("udp:127.0.0.1:{port}"));
        cmd
    }) else {
        return;
    };
    let res = probe(d.port);
    let id = &res["identification"];
    assert_eq!(id["protocol"], "snmp", "{res:#}\n{}", d.log());
    d.assert_hinted(&res, "snmp-get-sysdescr");
    assert_eq!(id["product"], "net-snmp", "{res:#}");
    assert_eq!(id["version"], "2c", "{res:#}");
    assert_eq!(id["confidence"], "certain", "{res:#}");
    assert_eq!(id["auth"], "not_required", "{res:#}");
    // sysDescr is the machine's `uname -snrvm`: its first word is the kernel's name.
    let sysdescr = detail(&res, "sysdescr").unwrap_or_default();
    assert!(sysdescr.starts_with("Linux "), "{res:#}");
}

#[test]
fn chronyd_answers_an_ntp_client_packet() {
    let Some(d) = start("chronyd", "chronyd", "chrony", |bin, dir, port| {
        let conf = format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\ncmdport 0\npidfile {}\n",
            dir.join("chronyd.pid")
        );
        fs::write(dir.join("chrony.conf"), conf).unwrap();
        let mut cmd = Command::new(bin);
        // -x: never touch the system clock; -d: foreground, log to stderr.
        cmd.args(["-d", "-x", "-f", &dir.join("chrony.conf")]);
        cmd
    }) else {
        return;
    };
    let res = probe(d.port);
    let id = &res["identification"];
    assert_eq!(id["protocol"], "ntp", "{res:#}\n{}", d.log());
    d.assert_hinted(&res, "ntp-client");
    assert_eq!(id["version"], "4", "{res:#}");
    // No sources configured: unsynchronised, stratum 0.
    assert_eq!(detail(&res, "stratum").as_deref(), Some("0"), "{res:#}");
    assert_eq!(
        detail(&res, "synchronised").as_deref(),
        Some("no"),
        "{res:#}"
    );
}

#[test]
fn coturn_answers_a_stun_binding_request() {
    let Some(d) = start("turnserver", "turnserver", "coturn", |bin, dir, port| {
        let mut cmd = Command::new(bin);
        cmd.args(["-n", "--listening-ip", "127.0.0.1", "--listening-port"])
            .arg(port.to_string())
            // UDP only: the port was picked free for UDP, and a TCP listener that another test
            // holds on the same number left coturn retrying its bind, never answering.
            .args([
                "--no-tcp",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--log-file",
                "stdout",
            ])
            .args(["--pidfile", &dir.join("turnserver.pid")])
            .args(["--db", &dir.join("turndb")]);
        cmd
    }) else {
        return;
    };
    let res = probe(d.port);
    let id = &res["identification"];
    assert_eq!(id["protocol"], "stun", "{res:#}\n{}", d.log());
    d.assert_hinted(&res, "stun-binding");
    assert_eq!(id["product"], "Coturn", "{res:#}");
    let version = crate::servers::version_of("turnserver", &["--version"]).unwrap_or_default();
    assert!(
        id["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty() && version.contains(v)),
        "turnserver --version says {version:?}: {res:#}"
    );
    // XOR-MAPPED-ADDRESS: the prober's own loopback address, as the server saw it.
    let mapped = detail(&res, "mapped").unwrap_or_default();
    assert!(mapped.starts_with("127.0.0.1:"), "{res:#}");
}

#[test]
fn coap_server_lists_its_resources() {
    let Some(d) = start(
        "coap-server",
        "coap-server-notls",
        "libcoap3-bin",
        |bin, _, port| {
            let mut cmd = Command::new(bin);
            cmd.args(["-A", "127.0.0.1", "-p"]).arg(port.to_string());
            cmd
        },
    ) else {
        return;
    };
    let res = probe(d.port);
    let id = &res["identification"];
    assert_eq!(id["protocol"], "coap", "{res:#}\n{}", d.log());
    d.assert_hinted(&res, "coap-well-known-core");
    assert_eq!(detail(&res, "code").as_deref(), Some("2.05"), "{res:#}");
    // The example server's own resources.
    let resources = detail(&res, "resources").unwrap_or_default();
    assert!(resources.split(' ').any(|r| r == "/time"), "{res:#}");
}

#[test]
fn a_closed_udp_port_is_refused_not_unknown() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let res = probe(port);
    assert_eq!(res["state"], "refused", "{res:#}");
    assert!(res["identification"].is_null(), "{res:#}");
    // The ICMP port-unreachable came back to the first datagram: one probe, well in time.
    assert_eq!(res["probes"].as_array().map(Vec::len), Some(1), "{res:#}");
}
