#!/usr/bin/env bash
# bench/exporter.sh - load and idle cost of `portscope exporter` with many listeners present.
#
# Phase 1, load: bench/loadgen.py opens LISTENERS listening sockets (over PROCS processes,
#   no connection pairs); the exporter serves on a loopback port picked at run time; then
#   `wrk -tTHREADS -cCONNS -dDURATIONs --latency http://127.0.0.1:PORT/metrics`.
#   Recorded: requests/s, latency percentiles (p50/p75/p90/p99), socket errors and non-2xx
#   responses, the exporter's CPU (utime+stime from /proc/PID/stat) during the run, and how
#   many fresh collections the exporter made (its --json report on SIGTERM).
# Phase 2, idle: a fresh loadgen and a fresh exporter; one Prometheus-like scrape (curl with
#   Prometheus's Accept header) every INTERVAL s for IDLE s. Recorded: the exporter's CPU over
#   the window as a share of one core (target <= 1 %), the scrape latencies, the collection
#   time the exporter reports (portscope_scrape_duration_seconds), and its peak RSS.
#
# Run from anywhere, as root (so that the exporter sees every process):
#   bash bench/exporter.sh
#   LISTENERS=2000 DURATION=30 IDLE=60 INTERVAL=15 bash bench/exporter.sh
# Options (environment variable in brackets):
#   --listeners N [LISTENERS=2000]  --procs M [PROCS=20]       --duration S [DURATION=30]
#   --threads T [THREADS=2]         --conns C [CONNS=50]       --idle S [IDLE=60]
#   --interval S [INTERVAL=15]      --no-build [NO_BUILD=1]
# Needs: cargo, python3, wrk, curl.
set -euo pipefail
BENCH=exporter.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LISTENERS=${LISTENERS:-2000}
PROCS=${PROCS:-20}
DURATION=${DURATION:-30}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
IDLE=${IDLE:-60}
INTERVAL=${INTERVAL:-15}
NO_BUILD=${NO_BUILD:-0}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --listeners) LISTENERS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --conns) CONNS=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --interval) INTERVAL=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "exporter.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
require_positive_ints LISTENERS PROCS DURATION THREADS CONNS IDLE INTERVAL
(( DURATION <= 100 && IDLE <= 100 )) || { echo "exporter.sh: DURATION and IDLE must be <= 100 s (loadgen stops itself after 120 s)" >&2; exit 2; }
for tool in python3 wrk curl; do
    command -v "$tool" >/dev/null || { echo "exporter.sh: '$tool' not found in PATH" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$REPO/bench/loadgen.py
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-exporter.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
LG_PID=""
EX_PID=""
CLK_TCK=$(getconf CLK_TCK)

stop_exporter() { stop_pid_in EX_PID; }
cleanup() {
    stop_exporter
    stop_loadgen
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_loadgen: LISTENERS listeners over PROCS processes, no pairs; waits for the manifest.
start_loadgen() {
    start_loadgen_run 0 "$LISTENERS" "$PROCS"
}

# start_exporter NAME: the exporter on 127.0.0.1:0 (the kernel picks the port; the startup
# line says which), --json so that it reports its collections when stopped. Sets EX_PID, PORT.
start_exporter() {
    local name=$1
    "$PORTSCOPE" exporter --listen 127.0.0.1:0 --json >"$WORK/$name.json" 2>"$WORK/$name.err" &
    EX_PID=$!
    local waited=0
    until grep -q 'serving http://' "$WORK/$name.err" 2>/dev/null; do
        if ! kill -0 "$EX_PID" 2>/dev/null || (( waited > 100 )); then
            echo "exporter.sh: the exporter did not start:" >&2
            cat "$WORK/$name.err" >&2
            exit 1
        fi
        sleep 0.1; waited=$((waited + 1))
    done
    PORT=$(sed -n 's#.*serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*#\1#p' "$WORK/$name.err" | head -1)
}

scrape() {
    curl -s -o "$1" -w '%{http_code} %{time_total}\n' \
        -H 'Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1' \
        -H 'X-Prometheus-Scrape-Timeout-Seconds: 10' \
        "http://127.0.0.1:$PORT/metrics"
}

if [[ $NO_BUILD != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet)
fi
cp "$BUILT" "$PORTSCOPE"

echo "machine:   $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "kernel:    $(uname -r); user $(id -un)"
portscope_line "$PORTSCOPE" "$REPO"
echo "wrk:       $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "loadavg:   $(cut -d' ' -f1-3 /proc/loadavg) (before the run; other work on the machine skews the figures)"
echo "load:      $LISTENERS listeners over $PROCS loadgen processes (bench/loadgen.py --pairs 0)"
echo

# ---- phase 1: wrk ----------------------------------------------------------------------
start_loadgen
start_exporter load
scrape "$WORK/first.txt" >/dev/null
SERIES=$(grep -c '^portscope_listener_info{' "$WORK/first.txt" || true)
LISTEN_TCP=$(sed -n 's/^portscope_sockets{proto="tcp",state="listen"} //p' "$WORK/first.txt")
echo "sanity:    /metrics has $SERIES portscope_listener_info series, portscope_sockets{tcp,listen} = $LISTEN_TCP, $(wc -c <"$WORK/first.txt") bytes"
(( SERIES >= LISTENERS )) || { echo "exporter.sh: expected at least $LISTENERS listener series" >&2; exit 1; }
(( SERIES <= LISTENERS + PROCS + 500 )) || echo "exporter.sh: warning: $SERIES listener series: another load runs on this machine" >&2
sleep 1.1   # let the warm-up collection expire: wrk starts on a cold cache

T0=$(cpu_ticks "$EX_PID")
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/metrics" >"$WORK/wrk.txt" 2>&1
T1=$(cpu_ticks "$EX_PID")
RSS_LOAD=$(awk '/VmHWM/{print $2}' "/proc/$EX_PID/status")
stop_exporter
stop_loadgen
echo
echo "== wrk -t$THREADS -c$CONNS -d${DURATION}s --latency http://127.0.0.1:PORT/metrics =="
cat "$WORK/wrk.txt"
python3 - "$WORK/wrk.txt" "$WORK/load.json" "$T0" "$T1" "$CLK_TCK" "$DURATION" "$RSS_LOAD" <<'PY'
import json, re, sys
wrk, report, t0, t1, hz, dur, rss = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
text = open(wrk).read()
def unit(v, u):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]
pct = {p: unit(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
reqs = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errors = sum(map(int, sock.groups())) if sock else 0
non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
r = json.load(open(report))
cpu = (t1 - t0) / hz
print()
print("summary (load): %d requests, %.0f req/s, errors %d (socket) + %d (non-2xx)" % (reqs, rps, errors, non2xx))
print("                latency p50 %.2f ms, p75 %.2f ms, p90 %.2f ms, p99 %.2f ms" % (pct["50"], pct["75"], pct["90"], pct["99"]))
print("                exporter CPU %.2f s in %d s = %.0f %% of one core; %d fresh collections for %d responses; peak RSS %.1f MiB"
      % (cpu, dur, 100 * cpu / dur, r["collections"], r["responses"], rss / 1024))
PY

# ---- phase 2: idle, scraped like Prometheus ---------------------------------------------
start_loadgen
start_exporter idle
sleep 2   # start-up done; measure the steady state only
echo
echo "== idle: one scrape every ${INTERVAL}s for ${IDLE}s =="
T0=$(cpu_ticks "$EX_PID")
START=$(date +%s.%N)
: >"$WORK/scrapes.txt"
while :; do
    NOW=$(date +%s.%N)
    python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) < float(sys.argv[3]) else 1)" "$START" "$NOW" "$IDLE" || break
    OUT=$(scrape "$WORK/body.txt")
    DUR=$(sed -n 's/^portscope_scrape_duration_seconds //p' "$WORK/body.txt")
    SERIES=$(grep -c '^portscope_listener_info{' "$WORK/body.txt" || true)
    echo "$OUT $DUR $SERIES" | tee -a "$WORK/scrapes.txt" \
        | awk '{printf "scrape: HTTP %s in %.1f ms (collection %.1f ms, %d listener series)\n", $1, $2 * 1000, $3 * 1000, $4}'
    NEXT=$(python3 -c "import sys; print(max(0.0, float(sys.argv[1]) - (float(sys.argv[3]) - float(sys.argv[2])) % float(sys.argv[1])))" "$INTERVAL" "$START" "$(date +%s.%N)")
    sleep "$NEXT"
done
END=$(date +%s.%N)
T1=$(cpu_ticks "$EX_PID")
RSS_IDLE=$(awk '/VmHWM/{print $2}' "/proc/$EX_PID/status")
stop_exporter
stop_loadgen
python3 - "$WORK/scrapes.txt" "$T0" "$T1" "$CLK_TCK" "$START" "$END" "$RSS_IDLE" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t0, t1, hz, start, end, rss = map(float, sys.argv[2:])
window = end - start
cpu = (t1 - t0) / hz
share = 100 * cpu / window
ok = all(r[0] == "200" for r in rows)
print()
print("summary (idle): %d scrapes (all HTTP 200: %s), exporter CPU %.2f s over %.1f s = %.2f %% of one core (target <= 1 %%: %s)"
      % (len(rows), "yes" if ok else "NO", cpu, window, share, "PASS" if share <= 1.0 else "MISS"))
print("                scrape latency %.1f-%.1f ms, collection %.1f-%.1f ms; peak RSS %.1f MiB"
      % (min(float(r[1]) for r in rows) * 1000, max(float(r[1]) for r in rows) * 1000,
         min(float(r[2]) for r in rows) * 1000, max(float(r[2]) for r in rows) * 1000, rss / 1024))
print("                listener series per scrape: %s" % ", ".join(r[3] for r in rows))
print("                (CPU from /proc/PID/stat utime+stime at %d ticks/s: resolution %.0f ms)" % (hz, 1000 / hz))
PY
