//! Servers that speak TLS from the first byte, for `probe` inside TLS
//! (tests/it/probe_tls_inside.rs): dovecot's IMAPS and POP3S, Exim's SMTPS, vsftpd's implicit
//! FTPS, nginx ([`super::nginx_on`]) and Apache
//! httpd with TLS on a port that also gets plain HTTP requests, slapd's LDAPS
//! ([`super::slapd_on`]), memcached -Z and
//! Go's net/http (prometheus-node-exporter with a TLS web config). Each on a run-time port, on
//! a self-signed certificate (CN [`TLS_CN`]) made in its own temp dir.

use super::*;

/// Which of dovecot's protocols.
#[derive(Clone, Copy)]
pub enum Mail {
    /// `imap`, on an `imaps` listener.
    Imaps,
    /// `pop3`, on a `pop3s` listener.
    Pop3s,
}

/// `dovecot -F -c CONF` serving one protocol with `ssl = required` on a TLS-only listener
/// (`inet_listener imaps { ssl = yes }`), the clear-text one off, every directory in its dir.
/// Root only: its login processes drop to the `dovenull` user.
pub fn dovecot(mail: Mail) -> Option<Server> {
    let (protocol, listener) = match mail {
        Mail::Imaps => ("imap", "imaps"),
        Mail::Pop3s => ("pop3", "pop3s"),
    };
    let bin = need("dovecot", "dovecot-core")?;
    need(
        &format!("/usr/lib/dovecot/{protocol}-login"),
        &format!("dovecot-{protocol}d"),
    )?;
    if !harness::require_root("dovecot", "its login processes run as the dovenull user") {
        return None;
    }
    let dir = TempDir::new("dovecot");
    let (cert, key) = certificate(&dir)?;
    fs::write(dir.path().join("passwd"), "").unwrap();
    let (proc, port) = on_free_port("dovecot", &dir, None, |port| {
        let conf = format!(
            "base_dir = {run}\nstate_dir = {state}\nlog_path = {log}\n\
             protocols = {protocol}\nlisten = 127.0.0.1\n\
             ssl = required\nssl_cert = <{cert}\nssl_key = <{key}\n\
             passdb {{\n  driver = passwd-file\n  args = {passwd}\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={home}\n}}\n\
             mail_location = maildir:{home}/mail\n\
             service {protocol}-login {{\n  inet_listener {protocol} {{\n    port = 0\n  }}\n  \
             inet_listener {listener} {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n",
            run = dir.join("run"),
            state = dir.join("state"),
            log = dir.join("dovecot.log"),
            passwd = dir.join("passwd"),
            home = dir.join("home"),
        );
        let path = dir.join("dovecot.conf");
        fs::write(&path, conf).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["-F", "-c", &path]);
        cmd
    });
    Some(Server::new("dovecot", port, proc, dir))
}

/// Exim (`exim4 -C CONF -bdf`) listening for SMTPS only: `tls_on_connect_ports` on its one
/// port, spool and logs in its dir, every recipient refused. Root only: Exim keeps root for a
/// config given with `-C` only when root starts it.
pub fn exim_smtps() -> Option<Server> {
    let bin = need("exim4", "exim4-daemon-light")?;
    if !harness::require_root("exim", "Exim runs a -C config as a daemon only for root") {
        return None;
    }
    let dir = TempDir::new("exim");
    let (cert, key) = certificate(&dir)?;
    fs::create_dir(dir.path().join("spool")).unwrap();
    let (proc, port) = on_free_port("exim", &dir, None, |port| {
        let conf = format!(
            "primary_hostname = portscope.test\nspool_directory = {spool}\n\
             log_file_path = {logs}/exim-%s.log\npid_file_path = {logs}/exim.pid\n\
             daemon_smtp_ports = {port}\nlocal_interfaces = 127.0.0.1\n\
             tls_on_connect_ports = {port}\ntls_certificate = {cert}\ntls_privatekey = {key}\n\
             tls_advertise_hosts = *\nrfc1413_query_timeout = 0s\nhost_lookup =\n\
             exim_user = root\nexim_group = root\nacl_smtp_rcpt = refuse\n\
             begin acl\nrefuse:\n  deny\n",
            spool = dir.join("spool"),
            logs = dir.arg(),
        );
        let path = dir.join("exim.conf");
        fs::write(&path, conf).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["-C", &path, "-bdf"]);
        cmd
    });
    Some(Server::new("exim", port, proc, dir))
}

/// vsftpd with implicit TLS (`implicit_ssl=YES`, FTPS as on port 990) on 127.0.0.1, anonymous
/// logins allowed to an empty root (vsftpd refuses to start a session with no login method at
/// all). Root only: vsftpd binds, chroots and drops to the `ftp` user itself.
pub fn vsftpd_ftps() -> Option<Server> {
    let bin = need("vsftpd", "vsftpd")?;
    if !harness::require_root("vsftpd", "vsftpd chroots and drops to the ftp user") {
        return None;
    }
    let dir = TempDir::new("vsftpd");
    let (cert, key) = certificate(&dir)?;
    for sub in ["empty", "anon"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let (proc, port) = on_free_port("vsftpd", &dir, None, |port| {
        let conf = format!(
            "listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
             background=NO
anonymous_enable=YES
anon_root={anon}
no_anon_password=YES
             local_enable=NO
write_enable=NO
ssl_enable=YES
implicit_ssl=YES
             allow_anon_ssl=YES
rsa_cert_file={cert}
rsa_private_key_file={key}
             secure_chroot_dir={empty}
xferlog_enable=NO
vsftpd_log_file={log}
",
            anon = dir.join("anon"),
            empty = dir.join("empty"),
            log = dir.join("vsftpd.log"),
        );
        let path = dir.join("vsftpd.conf");
        fs::write(&path, conf).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg(&path);
        cmd
    });
    Some(Server::new("vsftpd", port, proc, dir))
}

/// Apache httpd (`apache2 -f CONF -DFOREGROUND`, event MPM) with mod_ssl's `SSLEngine on` on
/// its one port: a plain request gets `You're speaking plain HTTP to an SSL-enabled server
/// port`.
pub fn apache_tls() -> Option<Server> {
    let bin = need("apache2", "apache2")?;
    let modules = "/usr/lib/apache2/modules";
    let dir = TempDir::new("apache");
    let (cert, key) = certificate(&dir)?;
    fs::create_dir(dir.path().join("www")).unwrap();
    fs::write(dir.path().join("www/index.html"), "hello\n").unwrap();
    let user = if harness::is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let (proc, port) = on_free_port("apache2", &dir, None, |port| {
        let t = dir.arg();
        let mut conf = format!(
            "ServerRoot {t}\nPidFile {t}/httpd.pid\nErrorLog {t}/error.log\n\
             Listen 127.0.0.1:{port}\nServerName localhost\n{user}DocumentRoot {t}/www\n\
             SSLEngine on\nSSLCertificateFile {cert}\nSSLCertificateKeyFile {key}\n\
             SSLSessionCache none\n<Directory {t}/www>\n  Require all granted\n</Directory>\n"
        );
        for m in ["mpm_event", "authz_core", "dir", "socache_shmcb", "ssl"] {
            conf.push_str(&format!("LoadModule {m}_module {modules}/mod_{m}.so\n"));
        }
        let path = dir.join("httpd.conf");
        fs::write(&path, conf).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["-f", &path, "-DFOREGROUND"]);
        cmd
    });
    Some(Server::new("apache2", port, proc, dir))
}

/// `memcached -Z` (TLS on every connection) with the certificate, on 127.0.0.1.
pub fn memcached_tls() -> Option<Server> {
    let bin = need("memcached", "memcached")?;
    let dir = TempDir::new("memcached-tls");
    let (cert, key) = certificate(&dir)?;
    let (proc, port) = on_free_port("memcached -Z", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0", "-Z"])
            .args(["-o", &format!("ssl_chain_cert={cert},ssl_key={key}")]);
        if harness::is_root() {
            cmd.args(["-u", "nobody"]);
        }
        cmd
    });
    Some(Server::new("memcached -Z", port, proc, dir))
}

/// Go's net/http serving TLS: `prometheus-node-exporter` with a web config naming the
/// certificate (`tls_server_config`), no collectors. A plain request gets Go's `Client sent
/// an HTTP request to an HTTPS server`.
pub fn node_exporter_tls() -> Option<Server> {
    let bin = need("prometheus-node-exporter", "prometheus-node-exporter")?;
    let dir = TempDir::new("node-exporter-tls");
    let (cert, key) = certificate(&dir)?;
    let web = dir.join("web.yml");
    fs::write(
        &web,
        format!("tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"),
    )
    .unwrap();
    let (proc, port) = on_free_port("node_exporter (tls)", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--web.config.file={web}"))
            .arg("--collector.disable-defaults");
        cmd
    });
    Some(Server::new("node_exporter (tls)", port, proc, dir))
}

up_tests! {
    dovecot_imaps_comes_up: || dovecot(Mail::Imaps);
    dovecot_pop3s_comes_up: || dovecot(Mail::Pop3s);
    exim_smtps_comes_up: exim_smtps;
    vsftpd_ftps_comes_up: vsftpd_ftps;
    nginx_tls_comes_up: || nginx_on(true, false);
    apache_tls_comes_up: apache_tls;
    slapd_tls_comes_up: || super::slapd_on(true);
    memcached_tls_comes_up: memcached_tls;
    node_exporter_tls_comes_up: node_exporter_tls;
}
