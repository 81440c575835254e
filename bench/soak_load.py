#!/usr/bin/env python3
"""soak_load.py - the mixed load of bench/soak.sh, stdlib only, for DURATION seconds.

  * listener churn: a listener opened and closed every CHURN_MS on a kernel-chosen loopback
    port (what `daemon` records and the dashboard's event stream announces);
  * RATE connections a second through `portscope forward` to a local echo server (this
    script's), each sending 1 KiB and reading it back;
  * SSE clients: SSE long-lived `GET /api/events` streams on `portscope ui` (with its token),
    reconnected when they end; plus one `GET /api/ls` a second;
  * one scrape a second of `portscope exporter`'s /metrics.

Every failure is counted by kind; on SIGTERM (or at the end) one JSON line with the counts
goes to stdout. Usage:
  soak_load.py --forward PORT --echo-port-file F --ui HOST:PORT --token T --exporter PORT
               [--duration S] [--rate N] [--sse N] [--churn-ms MS]
The echo server is started first and its port written to --echo-port-file, so that the
caller can start `forward` towards it before the load begins (the script waits for
--forward to accept).
"""
import argparse
import json
import signal
import socket
import sys
import threading
import time

COUNTS = {}
LOCK = threading.Lock()
STOP = threading.Event()


def count(kind):
    with LOCK:
        COUNTS[kind] = COUNTS.get(kind, 0) + 1


def echo_server():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(512)

    def serve(c):
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        finally:
            c.close()

    def loop():
        while not STOP.is_set():
            try:
                c, _ = s.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def churn(ms):
    while not STOP.is_set():
        try:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            time.sleep(ms / 2000)
            s.close()
            count("churned")
        except OSError:
            count("churn_error")
        time.sleep(ms / 2000)


def relay(port, rate):
    payload = b"x" * 1024
    period = 1.0 / rate

    def one():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    b = c.recv(65536)
                    if not b:
                        break
                    got += b
                count("relayed" if got == payload else "relay_short")
        except OSError:
            count("relay_error")

    nxt = time.monotonic()
    while not STOP.is_set():
        threading.Thread(target=one, daemon=True).start()
        nxt += period
        time.sleep(max(0.0, nxt - time.monotonic()))


def http_get(host, port, path, headers, timeout=10):
    """Status and body of one GET (Connection: close)."""
    with socket.create_connection((host, port), timeout=timeout) as c:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        c.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Connection: close\r\n\r\n".encode()
        )
        raw = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            raw += b
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0
    return status, raw


def sse(host, port, token):
    while not STOP.is_set():
        try:
            with socket.create_connection((host, port), timeout=30) as c:
                c.sendall(
                    (
                        f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        f"Cookie: portscope_token={token}\r\nAccept: text/event-stream\r\n\r\n"
                    ).encode()
                )
                count("sse_connected")
                while not STOP.is_set():
                    b = c.recv(65536)
                    if not b:
                        count("sse_ended")
                        break
                    count("sse_chunks")
        except OSError:
            if not STOP.is_set():
                count("sse_error")
            time.sleep(1)


def every_second(what, fn):
    nxt = time.monotonic()
    while not STOP.is_set():
        try:
            status, _ = fn()
            count(f"{what}_ok" if status == 200 else f"{what}_status_{status}")
        except OSError:
            count(f"{what}_error")
        nxt += 1.0
        time.sleep(max(0.0, nxt - time.monotonic()))


def wait_accepting(port, within=30):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"soak_load.py: nothing accepts on 127.0.0.1:{port}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forward", type=int, required=True)
    ap.add_argument("--echo-port-file", required=True)
    ap.add_argument("--ui", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--exporter", type=int, required=True)
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--sse", type=int, default=5)
    ap.add_argument("--churn-ms", type=float, default=100)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    with open(a.echo_port_file, "w") as f:
        f.write(f"{echo_server()}\n")
    wait_accepting(a.forward)
    ui_host, ui_port = a.ui.rsplit(":", 1)
    ui_port = int(ui_port)
    cookie = {"Cookie": f"portscope_token={a.token}"}
    threads = [
        threading.Thread(target=churn, args=(a.churn_ms,)),
        threading.Thread(target=relay, args=(a.forward, a.rate)),
        threading.Thread(
            target=every_second,
            args=("scrape", lambda: http_get("127.0.0.1", a.exporter, "/metrics", {})),
        ),
        threading.Thread(
            target=every_second,
            args=("ui_ls", lambda: http_get(ui_host, ui_port, "/api/ls", cookie)),
        ),
    ] + [threading.Thread(target=sse, args=(ui_host, ui_port, a.token)) for _ in range(a.sse)]
    for t in threads:
        t.daemon = True
        t.start()
    STOP.wait(a.duration)
    STOP.set()
    time.sleep(1)
    with LOCK:
        print(json.dumps(COUNTS, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
