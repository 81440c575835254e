#!/usr/bin/env bash
# bench/doctor.sh - `portscope doctor http://127.0.0.1:PORT/` and `portscope doctor PORT` (a bare
# port: both loopback addresses dialled, the protocol probed, then GET / asked) against their
# anchors, one `curl` of the URL and, when installed, `nmap -sV` of the port (the other tool
# that finds out what a port speaks), on a healthy python http.server bound to port 0.
#
# doctor does more than curl (a snapshot of the sockets on and near the port with their owners,
# the connect attempts, the GET a client sends, the rules); the ratio says what that costs over
# the one request a user would make by hand. Target: a healthy loopback target in <= 50 ms.
#
#   bash bench/doctor.sh [RUNS]        (default 30; runs alternate doctor, curl, doctor, ...)
#   NO_BUILD=1 bash bench/doctor.sh    use target/release/portscope as it is
# Needs: cargo, python3, curl (nmap optional).
set -euo pipefail
BENCH=doctor.sh
RUNS=${1:-30}
NO_BUILD=${NO_BUILD:-0}
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
require_positive_ints RUNS
command -v curl >/dev/null || { echo "$BENCH: needs curl (Debian package curl)" >&2; exit 1; }
[[ $NO_BUILD == 1 ]] || cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin=$repo/target/release/portscope

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -c '
import http.server, sys
s = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(s.server_address[1], flush=True)
s.serve_forever()' >"$work/port" 2>/dev/null &
server=$!
until [[ -s $work/port ]]; do sleep 0.05; done
port=$(head -1 "$work/port")
url="http://127.0.0.1:$port/"

for t in "$url" "$port"; do
  "$bin" doctor "$t" >/dev/null || { echo "$BENCH: doctor did not say works for $t" >&2; exit 1; }
done
nmap=$(command -v nmap || true)
env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY python3 - "$RUNS" "$bin" "$url" "$port" "$nmap" <<'PY'
import statistics, subprocess, sys, time
runs, bin, url, port, nmap = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def once(cmd):
    t = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.monotonic() - t) * 1000
cmds = {
    f"doctor {url}": [bin, "doctor", url],
    f"doctor {port}": [bin, "doctor", port],
    f"curl {url}": ["curl", "-s", "-o", "/dev/null", url],
}
if nmap:
    cmds[f"nmap -sV -p {port} 127.0.0.1"] = [nmap, "-sV", "-Pn", "-n", "-p", port, "127.0.0.1"]
times = {name: [] for name in cmds}
for _ in range(runs):
    for name, cmd in cmds.items():
        times[name].append(once(cmd))
med = {name: statistics.median(t) for name, t in times.items()}
for name, t in times.items():
    print(f"{name}: median {med[name]:.1f} ms (min {min(t):.1f}, max {max(t):.1f})")
curl = med[f"curl {url}"]
print(f"ratio doctor URL/curl: {med[f'doctor {url}'] / curl:.2f}")
print(f"ratio doctor PORT/curl: {med[f'doctor {port}'] / curl:.2f}")
if nmap:
    print(f"ratio doctor PORT/nmap -sV: {med[f'doctor {port}'] / med[f'nmap -sV -p {port} 127.0.0.1']:.3f}")
print(f"({runs} runs each, interleaved)")
PY
portscope_line "$bin" "$repo"
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
