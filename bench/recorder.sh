#!/usr/bin/env bash
# bench/recorder.sh - idle cost of the history recorder (`portscope daemon`) with many
# listeners present, against the naive recorder (`ss -tlnup` once per interval).
#
# Phase 1: bench/loadgen.py opens LISTENERS listening sockets over PROCS processes; then
#   `portscope daemon --interval 1s` records into a fresh state directory for IDLE seconds
#   (after a WARMUP during which it takes its first look and walks every process once).
#   Recorded: its CPU (utime+stime from /proc/PID/stat) as a share of one core (target
#   <= 1 %), its peak RSS, and the events it recorded in the window (0 expected: nothing
#   changes; on a fresh store its first look records the listeners already open, before).
# Phase 2: a fresh loadgen; `ss -tlnup` (sockets and their processes, what a shell-script
#   recorder would run) once per second for IDLE seconds. Recorded: its CPU the same way.
# Phase 3: as phase 1, but a listener opens or closes every CHURN seconds, so the process
#   walk runs on those ticks: the cost of a recorder that is busy.
# The ratio printed is portscope / ss (phase 1 / phase 2).
#
# Run from anywhere, as root (so that every process's sockets are visible):
#   bash bench/recorder.sh
#   LISTENERS=2000 IDLE=60 bash bench/recorder.sh
# Options (environment variable in brackets):
#   --listeners N [LISTENERS=2000]  --procs M [PROCS=20]  --idle S [IDLE=60]
#   --warmup S [WARMUP=5]           --churn S [CHURN=5]   --no-build [NO_BUILD=1]
# Needs: cargo, python3, ss (iproute2).
set -euo pipefail
BENCH=recorder.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LISTENERS=${LISTENERS:-2000}
PROCS=${PROCS:-20}
IDLE=${IDLE:-60}
WARMUP=${WARMUP:-5}
CHURN=${CHURN:-5}
NO_BUILD=${NO_BUILD:-0}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --listeners) LISTENERS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --churn) CHURN=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "recorder.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
require_positive_ints LISTENERS PROCS IDLE WARMUP CHURN
(( WARMUP + IDLE <= 100 )) || { echo "recorder.sh: WARMUP + IDLE must stay under 100 s (loadgen stops itself at 120 s)" >&2; exit 2; }
command -v ss >/dev/null || { echo "recorder.sh: ss (iproute2) is needed" >&2; exit 2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$REPO/bench/loadgen.py
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-recorder.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
LG_PID=""
D_PID=""
CHURN_PID=""
CLK_TCK=$(getconf CLK_TCK)

stop_daemon() { stop_pid_in D_PID; }
stop_churn() { stop_pid_in CHURN_PID; }
cleanup() {
    stop_churn
    stop_daemon
    stop_loadgen
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_daemon NAME: the recorder into $WORK/NAME, events as JSON lines into $WORK/NAME.jsonl;
# waits for its first look (the watch-started line). Sets D_PID.
start_daemon() {
    local name=$1
    "$PORTSCOPE" daemon --interval 1s --events --state-dir "$WORK/$name" \
        >"$WORK/$name.jsonl" 2>"$WORK/$name.err" &
    D_PID=$!
    local waited=0
    until grep -q '"watch-started"' "$WORK/$name.jsonl" 2>/dev/null; do
        if ! kill -0 "$D_PID" 2>/dev/null || (( waited > 300 )); then
            echo "recorder.sh: the recorder did not start:" >&2
            cat "$WORK/$name.err" >&2
            exit 1
        fi
        sleep 0.1; waited=$((waited + 1))
    done
}

# measure PID SECONDS: CPU ticks used by PID over SECONDS of wall time, as
# "ticks wall_s start_unix".
measure() {
    local t0 t1 s0 s1
    t0=$(cpu_ticks "$1"); s0=$(date +%s.%N)
    sleep "$2"
    t1=$(cpu_ticks "$1"); s1=$(date +%s.%N)
    echo "$((t1 - t0)) $(python3 -c "print($s1 - $s0)") $s0"
}

# events_since FILE UNIX: how many listen-opened/closed lines of FILE are from UNIX on (a
# recorder on a fresh store first records every listener already open; those come before).
events_since() {
    python3 - "$1" "$2" <<'PY'
import json, sys
since = float(sys.argv[2])
n = 0
for line in open(sys.argv[1]):
    v = json.loads(line)
    if v.get("event", "").startswith("listen-") and v["unix"] >= since:
        n += 1
print(n)
PY
}

if [[ $NO_BUILD != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet)
fi
cp "$BUILT" "$PORTSCOPE"

echo "machine:   $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "kernel:    $(uname -r); user $(id -un)"
portscope_line "$PORTSCOPE" "$REPO"
echo "ss:        $(ss -V 2>&1 | head -1)"
echo "loadavg:   $(cut -d' ' -f1-3 /proc/loadavg) (before the run; other work on the machine skews the figures)"
echo "load:      $LISTENERS listeners over $PROCS loadgen processes (bench/loadgen.py --pairs 0); $(ls /proc | grep -c '^[0-9]') processes in all"
echo

# Phase 1: the recorder, idle.
start_loadgen_run 0 "$LISTENERS" "$PROCS"
start_daemon idle
sleep "$WARMUP"
read -r P_TICKS P_WALL P_START < <(measure "$D_PID" "$IDLE")
P_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$D_PID/status")
stop_daemon
P_EVENTS=$(events_since "$WORK/idle.jsonl" "$P_START")
stop_loadgen

# Phase 2: ss -tlnup once per second.
start_loadgen_run 0 "$LISTENERS" "$PROCS"
read -r S_TICKS S_WALL S_RUNS < <(python3 - "$IDLE" "$CLK_TCK" <<'PY'
import resource, subprocess, sys, time
idle, tck = float(sys.argv[1]), int(sys.argv[2])
t0 = time.monotonic(); runs = 0
before = resource.getrusage(resource.RUSAGE_CHILDREN)
while time.monotonic() - t0 < idle:
    subprocess.run(["ss", "-tlnup"], stdout=subprocess.DEVNULL, check=True)
    runs += 1
    time.sleep(max(0.0, t0 + runs - time.monotonic()))
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(round(cpu * tck), time.monotonic() - t0, runs)
PY
)
stop_loadgen

# Phase 3: the recorder while a listener opens or closes every CHURN seconds.
start_loadgen_run 0 "$LISTENERS" "$PROCS"
start_daemon churn
sleep "$WARMUP"
python3 - "$CHURN" <<'PY' &
import socket, sys, time
every = float(sys.argv[1]); held = None
while True:
    if held is None:
        held = socket.socket(); held.bind(("127.0.0.1", 0)); held.listen()
    else:
        held.close(); held = None
    time.sleep(every)
PY
CHURN_PID=$!
read -r C_TICKS C_WALL C_START < <(measure "$D_PID" "$IDLE")
stop_churn
sleep 1.5
stop_daemon
C_EVENTS=$(events_since "$WORK/churn.jsonl" "$C_START")
stop_loadgen

python3 - "$CLK_TCK" "$P_TICKS" "$P_WALL" "$S_TICKS" "$S_WALL" "$S_RUNS" "$C_TICKS" "$C_WALL" \
    "$P_EVENTS" "$C_EVENTS" "$P_RSS" "$LISTENERS" "$CHURN" <<'PY'
import sys
tck = int(sys.argv[1])
p_t, p_w, s_t, s_w, s_n, c_t, c_w = (float(x) for x in sys.argv[2:9])
p_ev, c_ev, rss, n, churn = sys.argv[9:14]
pct = lambda ticks, wall: 100.0 * ticks / tck / wall
p, s, c = pct(p_t, p_w), pct(s_t, s_w), pct(c_t, c_w)
print(f"portscope daemon --interval 1s, idle:   {p:6.3f} % of a core over {p_w:.0f} s "
      f"({int(p_t)} ticks of 1/{tck} s), peak RSS {int(rss)/1024:.1f} MiB, {p_ev} events in the window (0 expected)")
print(f"ss -tlnup once per second:              {s:6.3f} % of a core over {s_w:.0f} s ({int(s_n)} runs)")
print(f"portscope daemon, a change every {churn} s:  {c:6.3f} % of a core over {c_w:.0f} s ({c_ev} events in the window)")
print(f"ratio portscope/ss (idle):              {p / s if s else float('nan'):.3f}")
print(f"target <= 1 % of a core with {n} listeners idle: {'MET' if p <= 1.0 else 'MISSED'}")
PY
