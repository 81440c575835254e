#!/usr/bin/env bash
# bench/doctor.sh - `portscope doctor http://127.0.0.1:PORT/` against its anchor, one `curl` of
# the same URL, on a healthy python http.server bound to port 0.
#
# doctor does more than curl (a snapshot of the sockets on and near the port with their owners,
# the connect attempts, the GET a client sends, the rules); the ratio says what that costs over
# the one request a user would make by hand. Target: a healthy loopback URL in <= 50 ms.
#
#   bash bench/doctor.sh [RUNS]        (default 30; runs alternate doctor, curl, doctor, ...)
#   NO_BUILD=1 bash bench/doctor.sh    use target/release/portscope as it is
# Needs: cargo, python3, curl.
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
url="http://127.0.0.1:$(head -1 "$work/port")/"

"$bin" doctor "$url" >/dev/null || { echo "$BENCH: doctor did not say works for $url" >&2; exit 1; }
env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY python3 - "$RUNS" "$bin" "$url" <<'PY'
import statistics, subprocess, sys, time
runs, bin, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def once(cmd):
    t = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.monotonic() - t) * 1000
doctor, curl = [], []
for _ in range(runs):
    doctor.append(once([bin, "doctor", url]))
    curl.append(once(["curl", "-s", "-o", "/dev/null", url]))
d, c = statistics.median(doctor), statistics.median(curl)
print(f"doctor {url}: median {d:.1f} ms (min {min(doctor):.1f}, max {max(doctor):.1f})")
print(f"curl   {url}: median {c:.1f} ms (min {min(curl):.1f}, max {max(curl):.1f})")
print(f"ratio doctor/curl: {d / c:.2f}   ({runs} runs each, alternating)")
PY
portscope_line "$bin" "$repo"
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
