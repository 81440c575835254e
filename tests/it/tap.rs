//! `portscope tap`: a real HTTP exchange captured on loopback, the live line with its bytes,
//! and a pcap file that tshark reads; the permission message without CAP_NET_RAW; bad ports.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{
    TempDir, binary_for_other_users, needs, python, require_root, run, tcp_listener,
};
use crate::stream::EventStream;

/// A python HTTP server on 127.0.0.1 port 0 answering every GET with 200 and a short body;
/// prints its port.
fn http_server() -> crate::harness::Spawned {
    python(
        "import http.server,time\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       b=b'hello from the tap test\\n'\n\
         \x20       self.send_response(200); self.send_header('Content-Length',str(len(b))); self.end_headers(); self.wfile.write(b)\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.HTTPServer(('127.0.0.1',0),H)\n\
         print(s.server_address[1],flush=True)\n\
         s.timeout=120\n\
         s.serve_forever()\n",
    )
}

/// `portscope tap … --json` running, its start line read.
struct Tap {
    stream: EventStream,
}

impl Tap {
    fn start(args: &[&str]) -> Tap {
        let mut all = vec!["tap"];
        all.extend_from_slice(args);
        Tap {
            stream: EventStream::start_until(&all, "started"),
        }
    }

    /// The `started` line.
    fn started(&self) -> serde_json::Value {
        self.stream.started.clone()
    }

    /// The next JSON live line that `want` accepts (others are skipped), within 30 s.
    fn wait_for(
        &mut self,
        what: &str,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.stream
            .wait_for(Duration::from_secs(30), want)
            .unwrap_or_else(|| panic!("no {what} line from tap within 30 s"))
    }

    /// SIGINT it, wait for it to exit; its exit code and the lines printed after the last
    /// one waited for (the report last).
    fn interrupt(mut self) -> (i32, Vec<serde_json::Value>) {
        let before = self.stream.seen.len();
        let code = self.stream.stop(rustix::process::Signal::INT);
        (code, self.stream.seen.split_off(before))
    }
}

/// `tshark ARGS…` (from [`needs`]); what it printed.
fn tshark(tshark: &Path, args: &[&str]) -> String {
    let out = Command::new(tshark)
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn captures_a_real_http_exchange_that_tshark_reads() {
    if !require_root(
        "tap::captures_a_real_http_exchange_that_tshark_reads",
        "AF_PACKET capture",
    ) {
        return;
    }
    let Some(tshark_bin) = needs(
        "tap::captures_a_real_http_exchange_that_tshark_reads",
        "tshark",
        "tshark",
    ) else {
        return;
    };
    let server = http_server();
    let port = server.num(0);
    let other = tcp_listener("127.0.0.1");
    let dir = TempDir::new("tap");
    let pcap = dir.join("x.pcap");
    let mut tap = Tap::start(&[&port.to_string(), "-w", &pcap, "--json"]);
    let started = tap.started();
    assert_eq!(started["port"], port);
    assert_eq!(started["pcap"], pcap.as_str());

    // Traffic on another port must stay out of the capture.
    let mut o = TcpStream::connect(("127.0.0.1", other.num(0) as u16)).unwrap();
    o.write_all(b"OTHER-PORT-PAYLOAD").unwrap();

    let mut s = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let client = s.local_addr().unwrap().to_string();
    s.write_all(b"GET /tap-probe?n=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    assert!(
        resp.starts_with(b"HTTP/1.0 200"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    drop(s);

    let open = tap.wait_for("open", |v| {
        v["event"] == "open" && v["client"] == client.as_str()
    });
    assert_eq!(open["server"], format!("127.0.0.1:{port}").as_str());
    let end = tap.wait_for("end", |v| {
        v["event"] == "end" && v["client"] == client.as_str()
    });
    assert_eq!(end["proto"], "tcp");
    assert_eq!(end["ended"], "fin", "{end}");
    assert_eq!(end["request_bytes"], 67, "{end}");
    // Every segment was seen: no gap in either side's sequence numbers.
    assert_eq!(end["request_missed_bytes"], 0, "{end}");
    assert_eq!(end["response_missed_bytes"], 0, "{end}");
    assert!(end["response_bytes"].as_u64().unwrap() >= 24, "{end}");
    assert_eq!(end["request_first_line"], "GET /tap-probe?n=1 HTTP/1.1");
    assert!(
        end["response_first_line"]
            .as_str()
            .unwrap()
            .starts_with("HTTP/1.0 200"),
        "{end}"
    );

    let (code, rest) = tap.interrupt();
    assert_eq!(code, 0, "{rest:?}");
    assert_eq!(
        rest.len(),
        1,
        "only the report after the end line: {rest:?}"
    );
    let report = rest[0].clone();
    assert_eq!(report["command"], "tap");
    assert_eq!(report["stopped_by"], "signal");
    assert_eq!(report["missed_bytes"], 0, "{report}");
    assert!(report["connections"].as_u64().unwrap() >= 1, "{report}");
    let packets = report["pcap_packets"].as_u64().unwrap();
    assert!(
        packets >= 8,
        "a handshake, a request, a response and two FINs: {report}"
    );

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&pcap).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let raw = std::fs::read(&pcap).unwrap();
    assert!(!raw.windows(18).any(|w| w == b"OTHER-PORT-PAYLOAD"));

    // The port is random: tell tshark it carries HTTP, or a port Wireshark assigns to another
    // protocol is dissected as that one and no request is found.
    let as_http = format!("tcp.port=={port},http");
    let requests = tshark(
        &tshark_bin,
        &[
            "-r",
            &pcap,
            "-d",
            &as_http,
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.method",
            "-e",
            "http.request.uri",
        ],
    );
    assert_eq!(requests.trim(), "GET\t/tap-probe?n=1", "{requests}");
    // Every packet once: loopback hands each to a packet socket twice (out and in).
    let cport = client.rsplit_once(':').unwrap().1;
    let syns = tshark(
        &tshark_bin,
        &[
            "-r",
            &pcap,
            "-Y",
            &format!("tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.srcport=={cport}"),
        ],
    );
    assert_eq!(syns.lines().count(), 1, "{syns}");
    let all = tshark(
        &tshark_bin,
        &[
            "-r",
            &pcap,
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
        ],
    );
    assert_eq!(all.lines().count() as u64, packets);
    for l in all.lines() {
        assert!(l.split('\t').any(|p| p == port.to_string()), "{l}");
    }
}

#[test]
fn without_cap_net_raw_it_says_so() {
    if !require_root(
        "tap::without_cap_net_raw_it_says_so",
        "switching to uid 65534",
    ) {
        return;
    }
    let bin = binary_for_other_users();
    let r = bin.run_as_nobody(&["tap", "8080", "--duration", "1s"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("CAP_NET_RAW"), "{}", r.stderr);
    assert!(r.stderr.contains("setcap cap_net_raw+ep"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn bad_ports_and_flags_are_bad_input() {
    for args in [
        &["tap", "0"][..],
        &["tap", "70000"],
        &["tap", "abc"],
        &["tap", "8080", "--duration", "soon"],
        &["tap", "8080", "--count", "0"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.trim().lines().count(), 1, "{args:?}: {}", r.stderr);
    }
    assert!(run(&["tap", "abc"]).stderr.contains("PORT abc"));
}

#[test]
fn an_unwritable_pcap_path_fails_before_capturing() {
    if !require_root(
        "tap::an_unwritable_pcap_path_fails_before_capturing",
        "AF_PACKET capture",
    ) {
        return;
    }
    let dir = TempDir::new("tap-badpath");
    let path = dir.join("no/such/dir/x.pcap");
    let r = run(&["tap", "8080", "-w", &path, "--duration", "5s"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("pcap file"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn packets_the_kernel_dropped_are_counted_not_hidden() {
    if !require_root("tap missed bytes", "capturing needs CAP_NET_RAW") {
        return;
    }
    // A sink that reads everything until end-of-file.
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = sink.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut c, _) = sink.accept().unwrap();
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break total,
                Ok(n) => total += n as u64,
            }
        }
    });
    let mut tap = Tap::start(&[&port.to_string(), "--json"]);
    // Stop the capture while 32 MiB pass: its socket queue overflows and the kernel drops
    // packets. Resumed, it sees the connection's last segments far ahead of what it read.
    let pid = rustix::process::Pid::from_raw(tap.stream.pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..32 {
        client.write_all(&chunk).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    client.write_all(b"end").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let sent = 32 * (1u64 << 20) + 3;
    assert_eq!(reader.join().unwrap(), sent);
    drop(client);
    let end = tap.wait_for("end", |v| v["event"] == "end");
    let seen = end["request_bytes"].as_u64().unwrap();
    let missed = end["request_missed_bytes"].as_u64().unwrap();
    assert!(missed > 0, "the drops were not noticed: {end}");
    assert!(seen < sent, "{end}");
    // What was seen and what was missed add up to what was sent (no retransmissions on
    // loopback; a retransmitted segment would only add to `seen`).
    assert!(seen + missed >= sent, "{end}");
    let (code, rest) = tap.interrupt();
    assert_eq!(code, 0);
    let report = rest.last().unwrap();
    assert_eq!(report["missed_bytes"], missed, "{report}");
}
