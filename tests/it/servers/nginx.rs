//! nginx for the probe tests: in clear text, with TLS on its one port (the plain-HTTP refusal
//! case), and with `http2` on a TLS listener (ALPN `h2`) — each on a run-time port with its
//! config, pid and temp paths in its own dir.

use super::*;

/// nginx in the foreground on a config of its own that answers `hello` on `/`.
pub fn nginx() -> Option<Server> {
    nginx_on(false, false)
}

/// nginx as [`nginx`] does, with TLS on its one port when `tls` (a self-signed certificate,
/// CN [`TLS_CN`], SAN localhost and 127.0.0.1: a plain request gets nginx's `400 The plain
/// HTTP request was sent to HTTPS port`) and `http2` on the listener when `http2` (nginx then
/// chooses `h2` from an ALPN offer of `h2, http/1.1`).
pub fn nginx_on(tls: bool, http2: bool) -> Option<Server> {
    let bin = need("nginx", "nginx-light")?;
    let dir = TempDir::new("nginx");
    let mut tls_conf = String::new();
    if tls {
        let (cert, key) = certificate(&dir)?;
        tls_conf = format!("    ssl_certificate {cert};\n    ssl_certificate_key {key};\n");
    }
    let options = match (tls, http2) {
        (true, true) => " ssl http2",
        (true, false) => " ssl",
        (false, true) => " http2",
        (false, false) => "",
    };
    let (proc, port) = on_free_port("nginx", &dir, None, |port| {
        let t = dir.join("");
        let t = t.trim_end_matches('/');
        let conf = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid {t}/nginx.pid;\n\
             error_log {t}/error.log;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {t}/body;\n  \
             proxy_temp_path {t}/proxy;\n  fastcgi_temp_path {t}/fastcgi;\n  \
             uwsgi_temp_path {t}/uwsgi;\n  scgi_temp_path {t}/scgi;\n  \
             server {{\n    listen 127.0.0.1:{port}{options};\n{tls_conf}    \
             location / {{ return 200 \"hello\\n\"; }}\n  }}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        fs::write(&path, conf).unwrap();
        let mut cmd = Command::new(&bin);
        // -e: the error log before the config is read (else /var/log/nginx/error.log).
        cmd.args(["-c", &path, "-p", t, "-e", &format!("{t}/error.log")]);
        cmd
    });
    let mut s = Server::new("nginx", port, proc, dir);
    s.cn = tls.then(|| TLS_CN.to_string());
    Some(s)
}
