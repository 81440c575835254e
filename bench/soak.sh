#!/usr/bin/env bash
# bench/soak.sh - an hour of mixed load on the long-running commands: `ui`, `exporter`,
# `forward` and `daemon`, with their RSS, open descriptors and CPU sampled every minute.
#
# The load (bench/soak_load.py, stdlib python): a listener opened and closed every 100 ms,
# RATE connections a second through `forward` to a local echo server (1 KiB each way), SSE
# event streams on the dashboard plus one /api/ls a second, one exporter scrape a second;
# `daemon` records the churn into a private history store. Everything binds loopback ports
# picked at run time.
#
# Printed: a line per sample (minute, then per process: anonymous RSS in MiB, descriptors, CPU
# % of one core over the interval), then the load's counts, and a verdict: anonymous RSS after
# warm-up (the first WARMUP samples) within +-10 % of its first post-warm-up value,
# descriptors likewise flat, and no error counted. Exit 0 when the verdict holds, 1 when not.
# Anonymous RSS (RssAnon: the heap and stacks) is what a leak grows; the whole RSS also counts
# the binary's file-backed pages, which the page cache drops and reloads at will (a first run
# saw all four processes lose 4 MiB in the same minute). Both are printed; the verdict uses
# the anonymous part.
#
# Not run by CI (an hour). Run from anywhere:
#   bash bench/soak.sh
#   DURATION=300 EVERY=15 bash bench/soak.sh     # a five-minute rehearsal
# Options (environment variables): DURATION=3600 EVERY=60 RATE=200 SSE=5 WARMUP=10 NO_BUILD=0
# (WARMUP counts samples: the daemon's SQLite page cache fills over the first 8 minutes.)
# Needs: cargo, python3.
set -euo pipefail
BENCH=soak.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=${DURATION:-3600}
EVERY=${EVERY:-60}
RATE=${RATE:-200}
SSE=${SSE:-5}
WARMUP=${WARMUP:-10}
NO_BUILD=${NO_BUILD:-0}
require_positive_ints DURATION EVERY RATE SSE WARMUP

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-soak.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ $NO_BUILD != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet)
fi
BIN=$WORK/portscope
cp "$REPO/target/release/portscope" "$BIN"

# first_line FILE: waits (up to 30 s) for FILE's first line and prints it.
first_line() {
    local i
    for i in $(seq 300); do
        [[ -s $1 ]] && { head -1 "$1"; return; }
        sleep 0.1
    done
    echo "$BENCH: no start line in $1" >&2
    exit 1
}

export PORTSCOPE_STATE_DIR=$WORK/state
mkdir -p "$PORTSCOPE_STATE_DIR"
"$BIN" ui --listen 127.0.0.1:0 >"$WORK/ui.out" 2>"$WORK/ui.err" &
UI_PID=$!; PIDS+=("$UI_PID")
"$BIN" exporter --listen 127.0.0.1:0 >"$WORK/exporter.out" 2>"$WORK/exporter.err" &
EXP_PID=$!; PIDS+=("$EXP_PID")
"$BIN" daemon >"$WORK/daemon.out" 2>"$WORK/daemon.err" &
DAEMON_PID=$!; PIDS+=("$DAEMON_PID")

UI_URL=$(first_line "$WORK/ui.err" | sed -n 's|.*serving http://\([^/]*\)/?token=\(.*\)$|\1 \2|p')
read -r UI_HOST UI_TOKEN <<<"$UI_URL"
EXP_PORT=$(first_line "$WORK/exporter.err" | sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p')
FWD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

python3 "$REPO/bench/soak_load.py" --forward "$FWD_PORT" --echo-port-file "$WORK/echo.port" \
    --ui "$UI_HOST" --token "$UI_TOKEN" --exporter "$EXP_PORT" --duration "$DURATION" \
    --rate "$RATE" --sse "$SSE" >"$WORK/load.out" 2>"$WORK/load.err" &
LOAD_PID=$!; PIDS+=("$LOAD_PID")
ECHO_PORT=$(first_line "$WORK/echo.port")
"$BIN" forward "127.0.0.1:$FWD_PORT" "127.0.0.1:$ECHO_PORT" >"$WORK/forward.out" 2>"$WORK/forward.err" &
FWD_PID=$!; PIDS+=("$FWD_PID")

echo "soak: $(portscope_line "$BIN" "$REPO")"
echo "soak: machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "soak: ${DURATION}s, a sample every ${EVERY}s; load: churn every 100 ms, $RATE conn/s through forward, $SSE SSE clients, 1 scrape/s, 1 /api/ls/s"
NAMES=(ui exporter forward daemon)
PROCS=("$UI_PID" "$EXP_PID" "$FWD_PID" "$DAEMON_PID")
TICK=$(getconf CLK_TCK)
declare -A LAST_CPU RSS0 FD0 RSS_MIN RSS_MAX FD_MIN FD_MAX
for i in "${!PROCS[@]}"; do LAST_CPU[$i]=$(cpu_ticks "${PROCS[$i]}"); done
printf '%-6s' "min"; for n in "${NAMES[@]}"; do printf ' | %-33s' "$n anon/RSS MiB / fds / CPU%"; done; echo
samples=$((DURATION / EVERY))
for s in $(seq "$samples"); do
    sleep "$EVERY"
    printf '%-6s' "$((s * EVERY / 60)):$(printf %02d $((s * EVERY % 60)))"
    for i in "${!PROCS[@]}"; do
        p=${PROCS[$i]}
        if [[ ! -d /proc/$p ]]; then echo; echo "$BENCH: ${NAMES[$i]} (pid $p) exited" >&2; exit 1; fi
        rss=$(awk '/RssAnon/ {print $2}' "/proc/$p/status")
        whole=$(awk '/VmRSS/ {print $2}' "/proc/$p/status")
        fds=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 | wc -l)
        cpu=$(cpu_ticks "$p")
        pct=$(awk -v d=$((cpu - LAST_CPU[$i])) -v t="$TICK" -v e="$EVERY" 'BEGIN {printf "%.1f", 100 * d / t / e}')
        LAST_CPU[$i]=$cpu
        printf ' | %6.1f/%5.1f / %5d / %6s' "$(awk -v r="$rss" 'BEGIN {print r/1024}')" \
            "$(awk -v r="$whole" 'BEGIN {print r/1024}')" "$fds" "$pct"
        if (( s == WARMUP + 1 )); then RSS0[$i]=$rss; FD0[$i]=$fds; RSS_MIN[$i]=$rss; RSS_MAX[$i]=$rss; FD_MIN[$i]=$fds; FD_MAX[$i]=$fds; fi
        if (( s > WARMUP + 1 )); then
            (( rss < RSS_MIN[$i] )) && RSS_MIN[$i]=$rss
            (( rss > RSS_MAX[$i] )) && RSS_MAX[$i]=$rss
            (( fds < FD_MIN[$i] )) && FD_MIN[$i]=$fds
            (( fds > FD_MAX[$i] )) && FD_MAX[$i]=$fds
        fi
    done
    echo
done
kill -TERM "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" 2>/dev/null || true
COUNTS=$(cat "$WORK/load.out")
echo "soak: load counts: $COUNTS"
ok=1
for i in "${!PROCS[@]}"; do
    [[ -n ${RSS0[$i]:-} ]] || { echo "soak: too few samples for a verdict (need more than WARMUP=$WARMUP)"; exit 1; }
    spread=$(awk -v lo="${RSS_MIN[$i]}" -v hi="${RSS_MAX[$i]}" -v b="${RSS0[$i]}" 'BEGIN {printf "%.1f", 100 * (hi - lo) / b}')
    within=$(awk -v lo="${RSS_MIN[$i]}" -v hi="${RSS_MAX[$i]}" -v b="${RSS0[$i]}" 'BEGIN {print (hi <= b * 1.1 && lo >= b * 0.9) ? 1 : 0}')
    range=$(awk -v lo="${RSS_MIN[$i]}" -v hi="${RSS_MAX[$i]}" 'BEGIN {printf "%.2f-%.2f", lo / 1024, hi / 1024}')
    echo "soak: ${NAMES[$i]}: anonymous RSS after warm-up $range MiB (spread ${spread} % of the first), fds ${FD_MIN[$i]}-${FD_MAX[$i]}"
    [[ $within == 1 ]] || ok=0
    # Descriptors come and go with live connections; flat means no upward drift beyond the
    # load's own concurrency (a few dozen).
    (( FD_MAX[$i] - FD0[$i] <= 64 )) || ok=0
done
errors=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(sum(v for k,v in c.items() if "error" in k or "status" in k or "short" in k or k=="sse_ended"))' "$COUNTS")
echo "soak: errors counted by the load: $errors"
(( errors == 0 )) || ok=0
if (( ok )); then echo "soak: verdict: flat (anonymous RSS within +-10 %, descriptors flat), no error"; exit 0; fi
echo "soak: verdict: NOT flat or errors seen (above)"
exit 1
