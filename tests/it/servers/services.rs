//! Servers for the services probes (tests/it/probe_services.rs): slapd, smbd and memcached in
//! its binary-only and SASL modes, each on a run-time port with its config and state in its
//! own temp dir.

use std::os::unix::fs::PermissionsExt;

use super::*;

/// `slapd -h ldap://127.0.0.1:PORT/ -f CONF -d 0` (foreground) with one mdb database
/// `dc=portscope,dc=test` in its dir.
pub fn slapd() -> Option<Server> {
    slapd_on(false)
}

/// slapd as [`slapd`] does, or on `ldaps://` only (TLS from the first byte, a self-signed
/// certificate for CN [`TLS_CN`], SAN localhost and 127.0.0.1) when `tls`.
pub fn slapd_on(tls: bool) -> Option<Server> {
    let bin = need("slapd", "slapd")?;
    let dir = TempDir::new("slapd");
    fs::create_dir(dir.path().join("db")).unwrap();
    let mut tls_conf = String::new();
    if tls {
        let (cert, key) = certificate(&dir)?;
        tls_conf = format!("TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n");
    }
    let conf = format!(
        "include /etc/ldap/schema/core.schema\n\
         pidfile {pid}\nargsfile {args}\n{tls_conf}\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         database mdb\nsuffix \"dc=portscope,dc=test\"\n\
         rootdn \"cn=admin,dc=portscope,dc=test\"\ndirectory {db}\n",
        pid = dir.join("slapd.pid"),
        args = dir.join("slapd.args"),
        db = dir.join("db"),
    );
    fs::write(dir.path().join("slapd.conf"), conf).unwrap();
    let (scheme, name) = if tls {
        ("ldaps", "slapd (ldaps)")
    } else {
        ("ldap", "slapd")
    };
    let (proc, port) = on_free_port(name, &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-h", &format!("{scheme}://127.0.0.1:{port}/")])
            .args(["-f", &dir.join("slapd.conf"), "-d", "0"]);
        cmd
    });
    Some(Server::new(name, port, proc, dir))
}

/// `smbd --foreground --no-process-group -s CONF` with `smb ports = PORT` on 127.0.0.1 only,
/// every directory it writes in its dir; `server signing = mandatory` when `signing`.
pub fn smbd(signing: bool) -> Option<Server> {
    let bin = need("smbd", "samba")?;
    let dir = TempDir::new("smbd");
    for sub in ["private", "lock", "state", "cache", "pid", "ncalrpc"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let (proc, port) = on_free_port("smbd", &dir, None, |port| {
        let mut conf = format!(
            "[global]\n  smb ports = {port}\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n"
        );
        for (key, sub) in [
            ("private dir", "private"),
            ("lock directory", "lock"),
            ("state directory", "state"),
            ("cache directory", "cache"),
            ("pid directory", "pid"),
            ("ncalrpc dir", "ncalrpc"),
        ] {
            conf.push_str(&format!("  {key} = {}\n", dir.join(sub)));
        }
        conf.push_str(&format!("  log file = {}\n", dir.join("smbd-%m.txt")));
        conf.push_str(
            "  load printers = no\n  printcap name = /dev/null\n  disable spoolss = yes\n",
        );
        if signing {
            conf.push_str("  server signing = mandatory\n");
        }
        fs::write(dir.path().join("smb.conf"), conf).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["--foreground", "--no-process-group", "--debug-stdout"])
            .args(["-s", &dir.join("smb.conf")]);
        cmd
    });
    Some(Server::new("smbd", port, proc, dir))
}

/// `memcached -B binary` (no text protocol), or `-S` (SASL required: binary only, its SASL
/// config — `mech_list: plain`, no users — in its dir through `SASL_CONF_PATH`).
pub fn memcached_binary(sasl: bool) -> Option<Server> {
    let bin = need("memcached", "memcached")?;
    let dir = TempDir::new("memcached-binary");
    if sasl {
        let conf = format!("mech_list: plain\nsasldb_path: {}\n", dir.join("sasldb2"));
        fs::write(dir.path().join("memcached.conf"), conf).unwrap();
        // memcached reads it after dropping to nobody.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (proc, port) = on_free_port("memcached", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"]);
        if sasl {
            cmd.arg("-S").env("SASL_CONF_PATH", dir.arg());
        } else {
            cmd.args(["-B", "binary"]);
        }
        if harness::is_root() {
            cmd.args(["-u", "nobody"]);
        }
        cmd
    });
    let name = if sasl {
        "memcached -S"
    } else {
        "memcached -B binary"
    };
    Some(Server::new(name, port, proc, dir))
}

/// Debian's ZooKeeper, standalone: `java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar
/// org.apache.zookeeper.server.ZooKeeperServerMain CONF` with `clientPortAddress=127.0.0.1`,
/// the admin server (Jetty, port 8080) off, data in its dir. It logs nothing (no SLF4J
/// binding): ready = its listener, within the slow timeout a JVM needs on a busy machine.
pub fn zookeeper() -> Option<Server> {
    need("/usr/share/zookeeper/bin/zkServer.sh", "zookeeper")?;
    let java = need("java", "default-jre-headless")?;
    let dir = TempDir::new("zookeeper");
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port();
        let conf = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\n",
            dir.join("data")
        );
        fs::write(dir.path().join("zoo.cfg"), conf).unwrap();
        let mut cmd = Command::new(&java);
        cmd.args(["-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"])
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(dir.join("zoo.cfg"));
        let mut proc = start("zookeeper", &dir, &format!("port-{port}"), &mut cmd);
        if wait_listening("zookeeper", &mut proc, &dir, port, None, SLOW_READY_TIMEOUT).is_ok() {
            serving(port);
            return Some(Server::new("zookeeper", port, proc, dir));
        }
    }
    panic!("zookeeper: lost the race for a free port {PORT_ATTEMPTS} times");
}

/// Wait until ZooKeeper serves: it listens first and answers every request with `This
/// ZooKeeper instance is not currently serving requests` until its database is loaded.
fn serving(port: u16) {
    use std::io::{Read, Write};
    let deadline = Instant::now() + SLOW_READY_TIMEOUT;
    let mut last = String::new();
    while Instant::now() < deadline {
        let mut reply = Vec::new();
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = c
                .write_all(b"srvr")
                .and_then(|()| c.read_to_end(&mut reply));
        }
        last = String::from_utf8_lossy(&reply).into_owned();
        if last.starts_with("Zookeeper version: ") {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("zookeeper on {port} not serving after {SLOW_READY_TIMEOUT:?}; last reply: {last:?}");
}
