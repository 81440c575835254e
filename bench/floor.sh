#!/usr/bin/env bash
# bench/floor.sh - how close portscope is to the least any tool could take: each command beside
# its "floor" (only the kernel's part of it, through the library, then exit: `bench/phases`'s
# `portscope-phases floor`) and beside its anchor, alternating in one run, as in compare.sh.
#
#   portscope ls --all   floor ls-all (every TCP/UDP socket dumped beside the fd walk)   ss -tanp
#   portscope ls         floor ls (the listeners' dump, then the walk for their owners)  ss -tlnp
#   portscope who PORT   floor who PORT (the connection and bind tables, on two threads) fuser, lsof
#   floor exit (start and exit, nothing else)                                            /bin/true
#
# A floor's ratio to the anchor is the best ratio any program doing that kernel work could
# reach here: when it is above an issue's target, the target is below the machine's floor.
# The floor binary links the whole library (its start is portscope's own); `floor exit` and
# /bin/true show what that start costs.
#
#   bash bench/floor.sh [--pairs N] [--listeners N] [--procs M] [--reps K] [--no-build]
# Needs: cargo, python3, ss, fuser, lsof; root for complete attribution.
set -euo pipefail

PAIRS=${PAIRS:-10000}
LISTENERS=${LISTENERS:-10000}
PROCS=${PROCS:-50}
REPS=${REPS:-15}
WARMUP=${WARMUP:-2}
NO_BUILD=${NO_BUILD:-0}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pairs) PAIRS=$2; shift 2 ;;
        --listeners) LISTENERS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "floor.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
for tool in python3 ss fuser lsof; do
    command -v "$tool" >/dev/null || { echo "floor.sh: '$tool' not found in PATH" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=floor.sh
LOADGEN=$REPO/bench/loadgen.py
BUILT=$REPO/target/release/portscope
FLOOR_BUILT=$REPO/bench/phases/target/release/portscope-phases
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-floor.XXXXXX")
PORTSCOPE=$WORK/portscope
FLOOR=$WORK/portscope-phases
LG_PID=""
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
require_positive_ints PROCS REPS
trap 'stop_loadgen; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

copy_binary
if [[ $NO_BUILD != 1 ]]; then
    (cd "$REPO/bench/phases" && cargo build --release --quiet)
fi
[[ -x $FLOOR_BUILT ]] || { echo "floor.sh: $FLOOR_BUILT not found (build bench/phases)" >&2; exit 1; }
cp "$FLOOR_BUILT" "$FLOOR"

machine_lines
echo "ss:        $(ss -V 2>&1 | head -1)"
portscope_line "$PORTSCOPE" "$REPO"
echo "load:      $PAIRS pairs + $LISTENERS listeners over $PROCS procs; reps $REPS, warm-up $WARMUP"
echo

SAMPLES=$WORK/samples.jsonl
: >"$SAMPLES"
cat >"$WORK/timer.py" <<'PY'
import json, subprocess, sys, time
out, group, reps, warmup = sys.argv[1:5]
cmds = [json.loads(c) for c in sys.argv[5:]]
samples = [[] for _ in cmds]
for r in range(int(warmup) + int(reps)):
    for i, argv in enumerate(cmds):
        t0 = time.perf_counter_ns()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if r >= int(warmup):
            samples[i].append((time.perf_counter_ns() - t0) / 1e6)
with open(out, "a") as f:
    for argv, s in zip(cmds, samples):
        f.write(json.dumps({"group": group, "argv": argv, "ms": s}) + "\n")
PY
j() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }

for group in ls-all ls who exit; do
    start_loadgen_run "$PAIRS" "$LISTENERS" "$PROCS"
    PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe_port"])' "$WORK/lg/manifest.json")
    echo "$group: $(ss -tanH | wc -l) TCP sockets, probe port $PORT" >&2
    case $group in
        ls-all) cmds=("$(j "$PORTSCOPE" ls --all)" "$(j "$FLOOR" floor ls-all)" "$(j ss -tanp)") ;;
        ls)     cmds=("$(j "$PORTSCOPE" ls)" "$(j "$FLOOR" floor ls)" "$(j ss -tlnp)") ;;
        who)    cmds=("$(j "$PORTSCOPE" who "$PORT")" "$(j "$FLOOR" floor who "$PORT")"
                      "$(j fuser "$PORT/tcp")" "$(j lsof -nP "-iTCP:$PORT")") ;;
        exit)   cmds=("$(j "$FLOOR" floor exit)" "$(j "$PORTSCOPE" --version)" "$(j /bin/true)") ;;
    esac
    python3 "$WORK/timer.py" "$SAMPLES" "$group" "$REPS" "$WARMUP" "${cmds[@]}"
    stop_loadgen
done

echo "== results (median wall ms, min in brackets; ratio = median / the anchor's median)"
python3 - "$SAMPLES" "$WORK" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
work = sys.argv[2] + "/"
ANCHOR = {"ls-all": "ss", "ls": "ss", "who": "fuser", "exit": "true"}
print("| group | command | median ms (min) | ratio to anchor |")
print("|---|---|---:|---:|")
for group in ["ls-all", "ls", "who", "exit"]:
    g = [r for r in rows if r["group"] == group]
    anchor = next((r for r in g if r["argv"][0].rsplit("/", 1)[-1] == ANCHOR[group]), None)
    for r in g:
        med = statistics.median(r["ms"])
        ratio = med / statistics.median(anchor["ms"]) if anchor else float("nan")
        cmd = " ".join(r["argv"]).replace(work, "")
        print("| %s | `%s` | %.1f (%.1f) | %.3f |" % (group, cmd, med, min(r["ms"]), ratio))
PY
