#!/usr/bin/env bash
# bench/forward.sh - throughput of `portscope forward` against a direct loopback connection and
# socat, measured with iperf3 in ONE run (so machine drift hits every side alike).
#
# What it measures (iperf3 client → server over 127.0.0.1, one TCP stream, DURATION seconds each,
# the receiver's Gbit/s):
#   direct                         iperf3 -c 127.0.0.1 -p SERVER
#   socat -b65536                  socat -b65536 TCP-LISTEN:P1,reuseaddr,fork TCP:127.0.0.1:SERVER
#   socat (default buffer)         socat TCP-LISTEN:P2,reuseaddr,fork TCP:127.0.0.1:SERVER
#   portscope forward              portscope forward 127.0.0.1:P3 127.0.0.1:SERVER --quiet
#   splice reference               bench/splice_relay.py P4 SERVER (the barest splice relay:
#                                  what any splice relay costs on this machine)
# and the ratios portscope/direct (target >= 0.8) and portscope/socat-b65536 (target >= 1.5),
# and the reference's own ratio to direct.
# Every port is picked free at run time. Each case runs ROUNDS times, interleaved
# (direct, socat-b65536, socat, portscope, direct, ...); the best round of each counts.
#
# Run from anywhere:
#   bash bench/forward.sh                          # 10 s per measurement, 1 round
#   DURATION=5 ROUNDS=3 bash bench/forward.sh
#   bash bench/forward.sh --duration 5 --rounds 3 --no-build
# Options (environment variable in brackets):
#   --duration S [DURATION=10]  --rounds N [ROUNDS=1]  --no-build [NO_BUILD=1]
# Needs: cargo, iperf3, socat, python3.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
NO_BUILD=${NO_BUILD:-0}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "forward.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
BENCH=forward.sh
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
require_positive_ints DURATION ROUNDS
for tool in iperf3 socat python3; do
    command -v "$tool" >/dev/null || { echo "forward.sh: '$tool' not found in PATH" >&2; exit 2; }
done

SERVER_PID="" SOCAT_B_PID="" SOCAT_PID="" FWD_PID="" REF_PID=""
cleanup() {
    stop_pid_in FWD_PID
    stop_pid_in REF_PID
    stop_pid_in SOCAT_PID
    stop_pid_in SOCAT_B_PID
    stop_pid_in SERVER_PID
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: a TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s at most).
wait_port() {
    local i
    for i in $(seq 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1).close()" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "forward.sh: nothing listens on 127.0.0.1:$1" >&2
    exit 1
}

if [[ $NO_BUILD != 1 ]]; then
    echo "building portscope (cargo build --release) ..." >&2
    (cd "$REPO" && cargo build --release --quiet)
fi
[[ -x $BUILT ]] || { echo "forward.sh: $BUILT not found (build failed?)" >&2; exit 1; }
cp "$BUILT" "$PORTSCOPE"

SERVER=$(free_port)
iperf3 -s -p "$SERVER" >/dev/null 2>&1 &
SERVER_PID=$!
wait_port "$SERVER"

P_SOCAT_B=$(free_port)
# socat's stderr: it reports every iperf3 control connection's close as an error.
socat -b65536 "TCP-LISTEN:$P_SOCAT_B,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$SERVER" \
    2>>"$WORK/socat.log" &
SOCAT_B_PID=$!
P_SOCAT=$(free_port)
socat "TCP-LISTEN:$P_SOCAT,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$SERVER" \
    2>>"$WORK/socat.log" &
SOCAT_PID=$!
P_FWD=$(free_port)
"$PORTSCOPE" forward "127.0.0.1:$P_FWD" "127.0.0.1:$SERVER" --quiet >"$WORK/forward.log" 2>&1 &
FWD_PID=$!
P_REF=$(free_port)
python3 "$REPO/bench/splice_relay.py" "$P_REF" "$SERVER" 2>>"$WORK/reference.log" &
REF_PID=$!
wait_port "$P_SOCAT_B"; wait_port "$P_SOCAT"; wait_port "$P_FWD"; wait_port "$P_REF"

echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpus:      $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:    $(uname -r)"
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo "iperf3:    $(iperf3 --version 2>&1 | head -1)"
echo "socat:     $(socat -V 2>&1 | awk '/socat version/ {print $3; exit}')"
portscope_line "$PORTSCOPE" "$REPO"
echo "each:      ${DURATION}s, ${ROUNDS} round(s), iperf3 server on 127.0.0.1:$SERVER"
echo

# gbits PORT: one iperf3 run through 127.0.0.1:PORT; prints the receiver's Gbit/s.
gbits() {
    iperf3 -c 127.0.0.1 -p "$1" -t "$DURATION" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")'
}

declare -A BEST=([direct]=0 [socat_b65536]=0 [socat]=0 [portscope]=0 [splice_ref]=0)
declare -A PORT=([direct]=$SERVER [socat_b65536]=$P_SOCAT_B [socat]=$P_SOCAT [portscope]=$P_FWD [splice_ref]=$P_REF)
for round in $(seq "$ROUNDS"); do
    for case in direct socat_b65536 socat portscope splice_ref; do
        g=$(gbits "${PORT[$case]}")
        printf '%-14s round %d: %6s Gbit/s\n' "$case" "$round" "$g"
        BEST[$case]=$(python3 -c "print(max($g, ${BEST[$case]}))")
        sleep 1
    done
done
echo
python3 - "${BEST[direct]}" "${BEST[socat_b65536]}" "${BEST[socat]}" "${BEST[portscope]}" \
    "${BEST[splice_ref]}" <<'PY'
import sys
d, sb, s, p, ref = map(float, sys.argv[1:])
print("== result (best round, Gbit/s)")
for name, v in [("direct", d), ("socat -b65536", sb), ("socat default", s), ("portscope forward", p),
                ("splice reference", ref)]:
    print(f"{name:18} {v:6.2f}")
r1 = p / d if d else 0.0
r2 = p / sb if sb else 0.0
print(f"portscope/direct        {r1:5.2f}  (target >= 0.80: {'met' if r1 >= 0.8 else 'NOT met'})")
print(f"portscope/socat-b65536  {r2:5.2f}  (target >= 1.50: {'met' if r2 >= 1.5 else 'NOT met'})")
print(f"reference/direct        {ref / d if d else 0.0:5.2f}  (the barest splice relay, for scale)")
PY
