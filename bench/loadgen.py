#!/usr/bin/env python3
# Copied from the project's shared bench kit (shared/bench/loadgen.py). Added here for
# bench/scale.sh (100,000 sockets): --listen-ports, a cap of 900 s instead of 120, and a hard
# fd limit raised when the soft one cannot be (as root). Without --listen-ports the load is the kit's.
"""loadgen.py - synthetic local-socket load for benchmarking port-inspection tools.

Stdlib only. Spawns M child processes (os.fork) which together hold:
  * N listening TCP sockets        (bound to 127.0.0.1 / ::1, kernel-chosen ports)
  * N established loopback pairs   (client socket + accepted server socket, both ESTABLISHED)
Everything is on loopback only. Each child renames itself (prctl PR_SET_NAME) to
"lgNNN" so that tools' pid->command attribution can be checked.

A manifest (JSON) is written once all children are ready:
  {"parent": pid, "children": {pid: {"name":..., "listen":[ports], "pair_server_port": p,
   "client_ports":[...]} }, "probe_port": p, "probe_pid": pid, ...}

With --listen-ports LO-HI, the IPv4 listeners and pair servers bind explicit ports LO..HI on
127.0.0.2, 127.0.0.3, ... (as many addresses as the count needs; a port already taken falls back
to port 0), and each pair's client connects from its server's address (IP_BIND_ADDRESS_NO_PORT).
Ports bound with bind() are never given to connect(), so listeners bound in the ephemeral range
would starve the clients at large counts; and 127.0.0.1 keeps its ephemeral ports for others.

Bounded: runs at most --duration seconds (hard cap 900 s), then kills its children and
exits. Children also die if the parent dies (PR_SET_PDEATHSIG) and have their own alarm.
Stop early with SIGTERM/SIGINT to the parent pid (written to --pidfile).

Usage: python3 loadgen.py [--pairs 2000] [--listeners 2000] [--procs 50]
                          [--duration 120] [--v6-every 0] [--manifest PATH]
                          [--listen-ports LO-HI]
"""
import argparse
import ctypes
import errno
import json
import os
import resource
import signal
import socket
import sys
import time

HARD_CAP_S = 900
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1
LINGER0 = __import__("struct").pack("ii", 1, 0)


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def set_name(name):
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def set_pdeathsig(sig):
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def split(total, parts):
    base, rem = divmod(total, parts)
    return [base + (1 if i < rem else 0) for i in range(parts)]


class Band:
    """Explicit listening addresses: global listener number g -> (127.0.0.(2 + g // span), lo + g % span)."""

    def __init__(self, spec, count):
        lo, _, hi = spec.partition("-")
        self.lo, hi = int(lo), int(hi or lo)
        if not 1 <= self.lo <= hi <= 65535:
            raise ValueError("--listen-ports: want LO-HI within 1-65535, got %r" % spec)
        self.span = hi - self.lo + 1
        if (count - 1) // self.span + 2 > 254:
            raise ValueError("--listen-ports %s: %d listeners need more than 253 addresses" % (spec, count))

    def addr(self, g):
        return ("127.0.0.%d" % (2 + g // self.span), self.lo + g % self.span)


def bind_listener(s, addr, info):
    """Bind to addr; when that port is taken (another program, a wildcard bind), take port 0."""
    try:
        s.bind(addr)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        s.bind((addr[0], 0))
        info["fallbacks"] = info.get("fallbacks", 0) + 1


def child_main(idx, n_listen, n_pairs, v6_every, wfd, deadline, band=None, first=0, server_g=0):
    set_pdeathsig(signal.SIGKILL)
    if os.getppid() == 1:  # parent already gone
        os._exit(0)
    name = "lg%03d" % idx
    set_name(name)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    signal.alarm(max(1, int(deadline - time.time()) + 5))
    keep = []
    info = {"name": name, "listen": [], "listen6": [], "pair_server_port": None,
            "client_ports": []}
    try:
        for i in range(n_listen):
            v6 = v6_every and (i % v6_every == v6_every - 1)
            fam, host = (socket.AF_INET6, "::1") if v6 else (socket.AF_INET, "127.0.0.1")
            s = socket.socket(fam, socket.SOCK_STREAM)
            if band is not None and not v6:
                bind_listener(s, band.addr(first + i), info)
            else:
                s.bind((host, 0))
            s.listen(16)
            keep.append(s)
            (info["listen6"] if v6 else info["listen"]).append(s.getsockname()[1])
        if n_pairs:
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if band is not None:
                bind_listener(srv, band.addr(server_g), info)
            else:
                srv.bind(("127.0.0.1", 0))
            srv.listen(max(128, n_pairs))
            keep.append(srv)
            shost, sport = srv.getsockname()
            info["pair_server_port"] = sport
            for _ in range(n_pairs):
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                if band is not None:
                    # from the server's address, the port chosen at connect (4-tuple unique)
                    c.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    c.bind((shost, 0))
                c.connect((shost, sport))
                a, _ = srv.accept()
                # RST on exit instead of FIN: leaves no TIME_WAIT entries behind
                for x in (c, a):
                    x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
                keep.extend((c, a))
                info["client_ports"].append(c.getsockname()[1])
        msg = json.dumps({"pid": os.getpid(), "info": info}).encode() + b"\n"
    except OSError as e:
        msg = json.dumps({"pid": os.getpid(), "error": str(e)}).encode() + b"\n"
    os.write(wfd, msg)
    os.close(wfd)
    while time.time() < deadline:
        time.sleep(min(1.0, max(0.05, deadline - time.time())))
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2000, help="established loopback pairs")
    ap.add_argument("--listeners", type=int, default=2000, help="listening sockets (not counting one pair-server per child)")
    ap.add_argument("--procs", type=int, default=50)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds (cap %d)" % HARD_CAP_S)
    ap.add_argument("--v6-every", type=int, default=0, help="every k-th listener on ::1 (0 = none)")
    ap.add_argument("--manifest", default="loadgen-manifest.json")
    ap.add_argument("--pidfile", default="loadgen.pid")
    ap.add_argument("--listen-ports", metavar="LO-HI",
                    help="IPv4 listeners and pair servers on explicit ports LO..HI of 127.0.0.2, .3, ..."
                         " (default: port 0 on 127.0.0.1)")
    args = ap.parse_args()
    band = None
    if args.listen_ports:
        try:
            band = Band(args.listen_ports, args.listeners + args.procs)
        except ValueError as e:
            sys.exit(str(e))

    duration = min(max(1.0, args.duration), HARD_CAP_S)
    deadline = time.time() + duration
    per_child_fds = (args.listeners // args.procs + 1) + 2 * (args.pairs // args.procs + 1) + 1 + 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(per_child_fds, args.procs + 64)
    if soft < need:
        try:  # above the hard limit only as root (CAP_SYS_RESOURCE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
        except (ValueError, OSError):
            sys.exit("ulimit -n hard limit %d < needed %d" % (hard, need))

    lsplit = split(args.listeners, args.procs)
    psplit = split(args.pairs, args.procs)
    lstart = [sum(lsplit[:i]) for i in range(args.procs)] if band else [0] * args.procs
    children = {}
    rfds = []
    for i in range(args.procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for fd in rfds:
                os.close(fd)
            try:
                child_main(i, lsplit[i], psplit[i], args.v6_every, w, deadline,
                           band, lstart[i], args.listeners + i)
            finally:
                os._exit(0)
        os.close(w)
        rfds.append(r)
        children[pid] = None

    def cleanup(*_):
        for p in list(children):
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in list(children):
            try:
                os.waitpid(p, 0)
            except ChildProcessError:
                pass
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)
    with open(args.pidfile, "w") as f:
        f.write("%d\n" % os.getpid())

    errors = []
    for r in rfds:
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = os.read(r, 65536)
            if not chunk:
                break
            buf += chunk
        os.close(r)
        if buf:
            rec = json.loads(buf)
            if "error" in rec:
                errors.append(rec)
            else:
                children[rec["pid"]] = rec["info"]
    first = next(p for p, v in children.items() if v)
    manifest = {
        "parent": os.getpid(),
        "deadline_epoch": deadline,
        "listeners": args.listeners, "pairs": args.pairs, "procs": args.procs,
        "children": {str(p): v for p, v in children.items()},
        "errors": errors,
        "probe_port": children[first]["pair_server_port"] or children[first]["listen"][0],
        "probe_pid": first,
    }
    tmp = args.manifest + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f)
    os.replace(tmp, args.manifest)
    print("ready: parent=%d children=%d errors=%d manifest=%s (ends in %.0fs)"
          % (os.getpid(), len(children), len(errors), args.manifest, deadline - time.time()),
          flush=True)
    while time.time() < deadline:
        time.sleep(min(1.0, max(0.05, deadline - time.time())))
    cleanup()


if __name__ == "__main__":
    main()
