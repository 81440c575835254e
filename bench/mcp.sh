#!/usr/bin/env bash
# bench/mcp.sh - what `portscope mcp` costs a coding agent, against the command line.
#
# Two cases, each measured by bench/mcp.py (a raw JSON-RPC client, stdlib only):
#   idle: one python3 listener on loopback;
#   load: bench/loadgen.py (PAIRS pairs + LISTENERS listeners over PROCS processes), asking about
#         its probe port.
# For each: start-up to `initialize` answered (target <= 50 ms), a `who` tools/call in a running
# session against `portscope who PORT --json` (target <= 2x), and a new server per question.
#
#   bash bench/mcp.sh                 # release build, 21 reps, load 10000/10000/50
#   NO_BUILD=1 REPS=31 bash bench/mcp.sh --no-load
# Needs: cargo, python3.
set -euo pipefail

BENCH=mcp.sh
REPS=${REPS:-21}
PAIRS=${PAIRS:-10000}
LISTENERS=${LISTENERS:-10000}
PROCS=${PROCS:-50}
NO_BUILD=${NO_BUILD:-0}
NO_LOAD=0
[[ ${1:-} == --no-load ]] && NO_LOAD=1

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
require_positive_ints REPS PAIRS LISTENERS PROCS
[[ $NO_BUILD == 1 ]] || cargo build --release --quiet --manifest-path "$REPO/Cargo.toml"
BIN=$REPO/target/release/portscope
WORK=$(mktemp -d)
LOADGEN=$REPO/bench/loadgen.py
LG_PID=""
LISTENER=""
cleanup() {
    [[ -n $LISTENER ]] && kill "$LISTENER" 2>/dev/null || true
    [[ -n $LG_PID ]] && kill "$LG_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== machine"
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
portscope_line "$BIN" "$REPO"

echo "== idle"
python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$WORK/port" &
LISTENER=$!
until [[ -s $WORK/port ]]; do sleep 0.05; done
python3 "$REPO/bench/mcp.py" "$BIN" "$(cat "$WORK/port")" --reps "$REPS"

if [[ $NO_LOAD == 0 ]]; then
    echo "== load: $PAIRS pairs + $LISTENERS listeners over $PROCS processes"
    start_loadgen_run "$PAIRS" "$LISTENERS" "$PROCS"
    port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe_port"])' "$WORK/lg/manifest.json")
    python3 "$REPO/bench/mcp.py" "$BIN" "$port" --reps "$REPS"
fi
