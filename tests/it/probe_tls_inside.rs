//! `probe` inside TLS, against real daemons on run-time ports (tests/it/servers/tls_inside.rs):
//! speak-first protocols named from their greeting inside the session (dovecot's IMAPS and
//! POP3S, Exim's SMTPS, vsftpd's implicit FTPS), request/response ones asked inside (slapd's LDAPS, memcached -Z), and
//! TLS ports that refuse a plain HTTP request (nginx, Apache httpd, Go) reported as HTTPS.
//! None of these ports is a usual TLS port: TLS is found from the owner's name, from the
//! refusal, or after the first plain request.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, portscope, python, run};
use crate::probe::{detail, probe_one};
use crate::servers::{self, Mail, Server, TLS_CN};

/// `portscope probe TARGET --json`: exit 0, the one result.
fn probe_target(target: &str) -> Value {
    let r = run(&["probe", target, "--json"]);
    assert_eq!(
        r.code, 0,
        "{}
{}",
        r.stdout, r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["results"][0].clone()
}

/// The TLS facts of a result: the certificate the launchers make, a finished handshake.
fn certificate_facts(r: &Value) {
    let tls = &r["tls"];
    assert!(tls.is_object(), "no TLS facts: {r:#}");
    let version = tls["version"].as_str().unwrap_or_default();
    assert!(version.starts_with("TLSv1."), "{r:#}");
    assert_eq!(tls["subject"], format!("CN={TLS_CN}"), "{r:#}");
    assert_eq!(tls["self_signed"], true, "{r:#}");
    assert_eq!(tls["expired"], false, "{r:#}");
}

/// The names of the probes a result tried, in order.
fn probes(r: &Value) -> Vec<&str> {
    r["probes"]
        .as_array()
        .unwrap_or_else(|| panic!("probes: {r:#}"))
        .iter()
        .map(|p| p.as_str().unwrap_or_default())
        .collect()
}

/// The version word after `prefix` in what `program args` prints.
fn version_after(program: &str, args: &[&str], prefix: &str) -> String {
    let text = servers::version_of(program, args).unwrap_or_default();
    let rest = text
        .split_once(prefix)
        .unwrap_or_else(|| panic!("{program} {args:?} printed {text:?}"))
        .1;
    rest.split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A speak-first server behind TLS: named from its greeting inside the session, TLS tried
/// first (the owner names the protocol, the port said nothing), well within the deadline.
fn greets_inside(s: &Server, protocol: &str, product: &str) -> (Value, Value) {
    let (r, id) = probe_one(s);
    assert_eq!(id["protocol"], protocol, "{r:#}\n{}", s.log());
    assert_eq!(id["product"], product, "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    certificate_facts(&r);
    assert_eq!(probes(&r), ["tls-handshake", "tls-banner"], "{r:#}");
    assert!(r["elapsed_ms"].as_f64().unwrap() < 1000.0, "{r:#}");
    (r, id)
}

#[test]
fn dovecot_imaps_on_a_run_time_port_is_imaps() {
    let Some(s) = servers::dovecot(Mail::Imaps) else {
        return;
    };
    let (r, id) = greets_inside(&s, "imaps", "Dovecot");
    let caps = detail(&id, "capabilities").unwrap_or_default();
    assert!(caps.starts_with("IMAP4rev1 "), "{r:#}");
    // Inside TLS dovecot offers plain logins and no STARTTLS.
    assert!(
        caps.contains("AUTH=PLAIN") && !caps.contains("STARTTLS"),
        "{r:#}"
    );
    assert!(
        r["evidence"].as_str().unwrap().starts_with("* OK "),
        "{r:#}"
    );
}

#[test]
fn dovecot_pop3s_on_a_run_time_port_is_pop3s() {
    let Some(s) = servers::dovecot(Mail::Pop3s) else {
        return;
    };
    let (r, id) = greets_inside(&s, "pop3s", "Dovecot");
    assert_eq!(
        detail(&id, "greeting"),
        Some("Dovecot (Debian) ready."),
        "{r:#}"
    );
}

#[test]
fn exim_smtps_on_a_run_time_port_is_smtps_with_its_version() {
    let Some(s) = servers::exim_smtps() else {
        return;
    };
    let (r, id) = greets_inside(&s, "smtps", "Exim");
    let want = version_after("exim4", &["-bV"], "Exim version ");
    assert_eq!(id["version"], want.as_str(), "{r:#}");
    let greeting = detail(&id, "greeting").unwrap_or_default();
    assert!(greeting.starts_with("portscope.test ESMTP Exim "), "{r:#}");
}

#[test]
fn vsftpd_implicit_ftps_is_ftps_with_its_version() {
    let Some(s) = servers::vsftpd_ftps() else {
        return;
    };
    let (r, id) = greets_inside(&s, "ftps", "vsftpd");
    // `vsftpd -v` writes `vsftpd: version 3.0.3` to its standard input (fd 0, sic); the
    // greeting says `(vsFTPd 3.0.3)`.
    let want = version_after("sh", &["-c", "vsftpd -v 0>&1"], "version ");
    assert_eq!(id["version"], want.as_str(), "{r:#}");
    assert_eq!(
        detail(&id, "greeting"),
        Some(format!("(vsFTPd {want})").as_str()),
        "{r:#}"
    );
}

/// A relay owned by python3 in front of dovecot's IMAPS port: nothing known names a mail
/// server, so the plain `GET /` goes first — then TLS, and the greeting inside.
#[test]
fn imaps_behind_a_relay_with_nothing_known_is_still_imaps() {
    let Some(s) = servers::dovecot(Mail::Imaps) else {
        return;
    };
    let relay = python(&format!(
        "import socket,threading,time\n\
         def pipe(a,b):\n\
         \x20   try:\n\
         \x20       while True:\n\
         \x20           d=a.recv(65536)\n\
         \x20           if not d: break\n\
         \x20           b.sendall(d)\n\
         \x20   except OSError: pass\n\
         \x20   for x in (a,b):\n\
         \x20       try: x.shutdown(socket.SHUT_RDWR)\n\
         \x20       except OSError: pass\n\
         def serve(l):\n\
         \x20   while True:\n\
         \x20       c,_=l.accept(); u=socket.create_connection(('127.0.0.1',{port}))\n\
         \x20       for a,b in ((c,u),(u,c)): threading.Thread(target=pipe,args=(a,b),daemon=True).start()\n\
         l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(16)\n\
         print(l.getsockname()[1], flush=True)\n\
         threading.Thread(target=serve,args=(l,),daemon=True).start()\n\
         time.sleep(120)\n",
        port = s.port
    ));
    let r = &probe_target(&format!("127.0.0.1:{}", relay.num(0)));
    let id = &r["identification"];
    assert_eq!(id["protocol"], "imaps", "{r:#}\n{}", s.log());
    assert_eq!(id["product"], "Dovecot", "{r:#}");
    certificate_facts(r);
    let tried = probes(r);
    assert_eq!(tried.first(), Some(&"http-get"), "{r:#}");
    assert!(tried.ends_with(&["tls-handshake", "tls-banner"]), "{r:#}");
}

#[test]
fn slapd_ldaps_is_ldaps_and_keeps_listening() {
    let Some(s) = servers::slapd_on(true) else {
        return;
    };
    for _ in 0..2 {
        // Twice: the second probe finds slapd still listening after the first.
        let (r, id) = probe_one(&s);
        assert_eq!(id["protocol"], "ldaps", "{r:#}\n{}", s.log());
        assert_eq!(id["product"], "OpenLDAP", "{r:#}");
        assert_eq!(
            detail(&id, "naming_contexts"),
            Some("dc=portscope,dc=test"),
            "{r:#}"
        );
        certificate_facts(&r);
        assert_eq!(probes(&r).last(), Some(&"ldap-rootdse"), "{r:#}");
        assert!(probes(&r).contains(&"tls-handshake"), "{r:#}");
    }
}

#[test]
fn memcached_with_tls_is_memcached_asked_inside() {
    let Some(s) = servers::memcached_tls() else {
        return;
    };
    let want = version_after("memcached", &["-V"], "memcached ");
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "memcached", "{r:#}\n{}", s.log());
    assert_eq!(id["version"], want.as_str(), "{r:#}");
    assert_eq!(id["product"], "Memcached", "{r:#}");
    certificate_facts(&r);
    let tried = probes(&r);
    let handshake = tried.iter().position(|p| *p == "tls-handshake");
    assert!(handshake.is_some(), "{r:#}");
    assert_eq!(
        tried.get(handshake.unwrap() + 1),
        Some(&"memcached-version"),
        "the text `version`, inside TLS: {r:#}"
    );
}

/// A TLS port answering `GET /` in clear text with its refusal: https, the product from
/// inside, the refusal as a detail.
fn refuses_plain_http(s: &Server, product: &str, words: &str) -> (Value, Value) {
    let (r, id) = probe_one(s);
    assert_eq!(id["protocol"], "https", "{r:#}\n{}", s.log());
    assert_eq!(id["product"], product, "{r:#}");
    let refusal = detail(&id, "plain_http").unwrap_or_default();
    assert_eq!(refusal, format!("refused: {words}"), "{r:#}");
    assert_eq!(detail(&id, "hint"), None, "{r:#}");
    certificate_facts(&r);
    let tried = probes(&r);
    assert_eq!(
        tried[..3],
        ["http-get", "tls-handshake", "http-get"],
        "{r:#}"
    );
    (r, id)
}

#[test]
fn nginx_refusing_plain_http_is_https() {
    let Some(s) = servers::nginx_on(true, false) else {
        return;
    };
    let words = "The plain HTTP request was sent to HTTPS port";
    let (r, id) = refuses_plain_http(&s, "nginx", words);
    let want = version_after("nginx", &["-v"], "nginx/");
    assert_eq!(id["version"], want.as_str(), "{r:#}");
    // What answered inside: the location's 200, not the plain 400.
    assert_eq!(detail(&id, "status"), Some("200 OK"), "{r:#}");
}

#[test]
fn apache_mod_ssl_refusing_plain_http_is_https() {
    let Some(s) = servers::apache_tls() else {
        return;
    };
    let words = "You're speaking plain HTTP to an SSL-enabled server port";
    let (r, id) = refuses_plain_http(&s, "Apache httpd", words);
    let want = version_after("apache2", &["-v"], "Apache/");
    assert_eq!(id["version"], want.as_str(), "{r:#}");
    assert_eq!(detail(&id, "status"), Some("200 OK"), "{r:#}");
}

#[test]
fn go_net_http_refusing_plain_http_is_tls() {
    let Some(s) = servers::node_exporter_tls() else {
        return;
    };
    let (r, id) = probe_one(&s);
    // Inside, GET / answers node_exporter's landing page; /metrics may refine it further.
    assert!(
        id["protocol"] == "https" || id["protocol"] == "prometheus-metrics",
        "{r:#}\n{}",
        s.log()
    );
    assert_eq!(
        detail(&id, "plain_http"),
        Some("refused: Client sent an HTTP request to an HTTPS server"),
        "{r:#}"
    );
    certificate_facts(&r);
}

/// A TLS server that trickles one byte every 100 ms inside the session, forever (an IMAP
/// greeting that never ends its line): the probe still ends within its deadline.
#[test]
fn a_greeting_trickling_inside_tls_is_cut_off_at_the_deadline() {
    let test = harness::current_test();
    let Some(openssl) = harness::needs(&test, "openssl", "openssl") else {
        return;
    };
    let dir = harness::TempDir::new("tls-trickle");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new(openssl)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
        .args([
            "-subj",
            "/CN=trickle",
            "-days",
            "2",
            "-keyout",
            &key,
            "-out",
            &cert,
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let server = python(&format!(
        "import socket,ssl,threading,time\n\
         ctx=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain('{cert}','{key}')\n\
         def trickle(c):\n\
         \x20   try:\n\
         \x20       t=ctx.wrap_socket(c,server_side=True); t.sendall(b'* OK ')\n\
         \x20       for _ in range(1200):\n\
         \x20           t.sendall(b'x'); time.sleep(0.1)\n\
         \x20   except OSError: pass\n\
         l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(16)\n\
         print(l.getsockname()[1], flush=True)\n\
         while True:\n\
         \x20   c,_=l.accept(); threading.Thread(target=trickle,args=(c,),daemon=True).start()\n"
    ));
    let start = Instant::now();
    let out = portscope()
        .args([
            "probe",
            &format!("127.0.0.1:{}", server.num(0)),
            "--deadline",
            "600",
        ])
        .args(["--json"])
        .output()
        .unwrap();
    let wall = start.elapsed();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert!(r["elapsed_ms"].as_f64().unwrap() <= 660.0, "{r:#}");
    assert!(
        wall < Duration::from_millis(660 + 1500),
        "wall {wall:?}: {r:#}"
    );
    assert!(r["tls"].is_object(), "{r:#}");
}
