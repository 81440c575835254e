//! `doctor` when nothing listens on the port: it looks one step wider before giving up — a
//! real PostgreSQL serving its unix socket only, a real program told `--port P` that listens
//! on another port or on none — and, when nothing explains a failure, says what it checked.

use crate::harness::{self, Spawned, finding};

/// A port nothing listens on now (the kernel's pick for a bind to port 0, released).
fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `portscope doctor ARGS --json`: exit code and report.
fn doctor(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = harness::run(&all);
    let report = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    (r.code, report)
}

#[test]
fn a_postgres_on_its_unix_socket_only_is_found() {
    let Some((pg, socket)) = crate::servers::postgres_unix_only() else {
        return;
    };
    let port = pg.port.to_string();
    let (code, r) = doctor(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(
        r["findings"][0]["code"],
        "DOC-UNIX-SOCKET-ONLY",
        "{r}\n{}",
        pg.log()
    );
    assert_eq!(r["verdict"], r["findings"][0]["title"]);
    let f = finding(&r, "DOC-UNIX-SOCKET-ONLY");
    assert_eq!(f["severity"], "critical");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains(&format!(
            "{socket}: a unix socket listening, held by postgres[{}]",
            pg.pid()
        )),
        "{evidence}"
    );
    let fix = f["fix"].to_string();
    let dir = socket.rsplit_once('/').unwrap().0;
    assert!(fix.contains(&format!("psql -h {dir} -p {port}")), "{fix}");
    assert!(fix.contains("listen_addresses = 'localhost'"), "{fix}");
    assert!(
        fix.contains("overrides postgresql.conf"),
        "started with -h '': {fix}"
    );
}

/// python3 with `--port P` in its argv; listening on port 0 (`listen`) or not at all. Prints
/// `PID [PORT]`.
fn told(port: u16, listen: bool) -> Spawned {
    let script = if listen {
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n\
         print(os.getpid(), s.getsockname()[1], flush=True)\n\
         time.sleep(120)\n"
    } else {
        "import os,time\nprint(os.getpid(), flush=True)\ntime.sleep(120)\n"
    };
    harness::spawn("python3", &["-c", script, "--port", &port.to_string()])
}

#[test]
fn a_program_told_the_port_that_listens_elsewhere_is_found() {
    // Another port far enough away not to be a "nearby" listener (reported on its own).
    let (port, server) = loop {
        let port = unused_port();
        let server = told(port, true);
        if server.num(1).abs_diff(u32::from(port)) > 10 {
            break (port, server);
        }
    };
    let (pid, actual) = (server.words[0].clone(), server.words[1].clone());
    let (code, r) = doctor(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(
        r["findings"][0]["code"], "DOC-REFUSED-NOTHING-LISTENING",
        "{r}"
    );
    let f = finding(&r, "DOC-LISTENS-ELSEWHERE");
    assert_eq!(f["severity"], "warning");
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains(&format!("pid {pid}: ")), "{evidence}");
    assert!(evidence.contains(&format!("--port {port}")), "{evidence}");
    assert!(
        evidence.contains(&format!("it listens on 127.0.0.1:{actual}")),
        "{evidence}"
    );
    assert!(
        f["fix"]
            .to_string()
            .contains(&format!("connect to port {actual}")),
        "{f}"
    );
}

#[test]
fn a_program_told_the_port_that_listens_nowhere_is_noted() {
    let port = unused_port();
    let idle = told(port, false);
    let (code, r) = doctor(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(code, 1, "{r}");
    let f = finding(&r, "DOC-NAMES-PORT-NOT-LISTENING");
    assert_eq!(f["severity"], "info");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains(&format!("pid {}: ", idle.words[0])),
        "{evidence}"
    );
    assert!(evidence.contains("listens on no TCP port"), "{evidence}");
    assert!(
        !r.to_string().contains("DOC-LISTENS-ELSEWHERE"),
        "portscope's own command line names the port too, and is not reported: {r}"
    );
}
