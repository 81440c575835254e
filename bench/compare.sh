#!/usr/bin/env bash
# bench/compare.sh - wall-clock comparison of portscope against ss, fuser and lsof.
#
# What it measures (median and min wall-clock ms per command, alternating a,b,a,b,... in one run,
# so that machine drift hits both sides equally):
#   portscope ls --all          vs  ss -tanp                 target ratio <= 0.22 (issue 23)
#   portscope ls                vs  ss -tlnp                 target ratio <= 0.20 (issue 23)
#   portscope who PORT          vs  fuser PORT/tcp           target ratio <= 0.06 (issue 23)
#                               vs  lsof -nP -iTCP:PORT      target ratio <= 0.05
# twice: "idle" (one listener + one loopback pair in one process, to have a PORT to ask about) and
# "load" (bench/loadgen.py: PAIRS established loopback pairs + LISTENERS listeners over PROCS
# processes, about 2*PAIRS+LISTENERS TCP sockets). PORT is the manifest's probe_port.
# Every command's output goes to /dev/null and exit codes are ignored (`who` exits 0 when held).
# Each comparison group gets its own fresh loadgen (loadgen caps itself at 120 s); the run is
# declared invalid if the load ended before a group's timings did.
#
# With --floor, each group also times its floor: `portscope-phases floor` (bench/phases) does
# only the kernel's part of the command (the dumps and the fd walk it cannot do without,
# through the library) and exits. Its ratio to the anchor is the best any tool doing that work
# could reach here: a target below it is below the machine's floor.
#
# Run from anywhere, as root for complete process attribution by every tool:
#   bash bench/compare.sh                          # 10000 pairs, 10000 listeners, 50 procs, 15 reps
#   PAIRS=2000 LISTENERS=2000 PROCS=50 REPS=9 bash bench/compare.sh
#   bash bench/compare.sh --pairs 2000 --listeners 2000 --procs 500 --reps 9 --idle-reps 9
# Options (environment variable in brackets):
#   --pairs N [PAIRS=10000]  --listeners N [LISTENERS=10000]  --procs M [PROCS=50]
#   --reps K [REPS=15]       --idle-reps K [IDLE_REPS=9]       --warmup W [WARMUP=2]
#   --no-build [NO_BUILD=1]  --no-idle [NO_IDLE=1]             --json FILE [RESULTS_JSON] raw samples
#   --floor [FLOOR=1]
# Needs: cargo, python3 (stdlib), ss (iproute2), fuser (psmisc), lsof.
set -euo pipefail

PAIRS=${PAIRS:-10000}
LISTENERS=${LISTENERS:-10000}
PROCS=${PROCS:-50}
REPS=${REPS:-15}
IDLE_REPS=${IDLE_REPS:-9}
WARMUP=${WARMUP:-2}
NO_BUILD=${NO_BUILD:-0}
NO_IDLE=${NO_IDLE:-0}
FLOOR=${FLOOR:-0}
RESULTS_JSON=${RESULTS_JSON:-}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pairs) PAIRS=$2; shift 2 ;;
        --listeners) LISTENERS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --idle-reps) IDLE_REPS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        --no-idle) NO_IDLE=1; shift ;;
        --floor) FLOOR=1; shift ;;
        --json) RESULTS_JSON=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
for v in PAIRS LISTENERS PROCS REPS IDLE_REPS WARMUP; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "compare.sh: $v must be a non-negative integer, got '${!v}'" >&2; exit 2; }
done
(( PROCS >= 1 && REPS >= 1 && IDLE_REPS >= 1 )) || { echo "compare.sh: PROCS, REPS and IDLE_REPS must be >= 1" >&2; exit 2; }
for tool in python3 ss fuser lsof; do
    command -v "$tool" >/dev/null || { echo "compare.sh: '$tool' not found in PATH" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$REPO/bench/loadgen.py
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
BENCH=compare.sh
LG_PID=""
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

cleanup() {
    stop_loadgen
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_loadgen PAIRS LISTENERS PROCS: starts loadgen in $WORK/lg, waits for its manifest,
# sets PROBE_PORT and PROBE_PID.
start_loadgen() {
    local dir=$WORK/lg
    start_loadgen_run "$1" "$2" "$3"
    read -r PROBE_PORT PROBE_PID NERR < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["probe_port"], m["probe_pid"], len(m["errors"]))' "$dir/manifest.json")
    if (( NERR > 0 )); then
        echo "compare.sh: warning: $NERR loadgen children failed to open their sockets (ulimit -n? ephemeral ports used up by another load?)" >&2
    fi
}

# The timing helper: alternates the given commands round-robin, REPS times each after WARMUP
# rounds, with time.perf_counter_ns around subprocess.run; appends samples to a JSON-lines file.
cat >"$WORK/timer.py" <<'PY'
import json, os, subprocess, sys, time
out, case, group, reps, warmup, lg_pid = sys.argv[1:7]
cmds = [json.loads(c) for c in sys.argv[7:]]
reps, warmup, lg_pid = int(reps), int(warmup), int(lg_pid)
samples = [[] for _ in cmds]
def run(argv):
    t0 = time.perf_counter_ns()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter_ns() - t0) / 1e6
try:
    for r in range(warmup + reps):
        for i, argv in enumerate(cmds):
            ms = run(argv)
            if r >= warmup:
                samples[i].append(ms)
except KeyboardInterrupt:
    sys.exit(130)
alive = True
if lg_pid > 0:  # loadgen exits by itself at its deadline; a zombie (not yet reaped) counts as gone
    try:
        with open("/proc/%d/stat" % lg_pid) as f:
            alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        alive = False
with open(out, "a") as f:
    for argv, s in zip(cmds, samples):
        f.write(json.dumps({"case": case, "group": group, "argv": argv, "ms": s,
                            "load_alive": alive}) + "\n")
if not alive:
    sys.exit("compare.sh: the load generator ended before the %s/%s timings finished" % (case, group))
PY

# The report: one row per comparison: portscope median (min), anchor median (min), ratio, verdict.
cat >"$WORK/report.py" <<'PY'
import json, statistics, sys
samples, portscope = sys.argv[1:3]
TARGETS = [("ls-all", "ss", 0.22), ("ls", "ss", 0.20), ("who", "fuser", 0.06), ("who", "lsof", 0.05)]
stats, cases = {}, []
for line in open(samples):
    r = json.loads(line)
    tool = r["argv"][0].rsplit("/", 1)[-1]
    cmd = " ".join(r["argv"]).replace(portscope, "portscope")
    stats[(r["case"], r["group"], tool)] = (cmd, statistics.median(r["ms"]), min(r["ms"]), len(r["ms"]))
    if r["case"] not in cases:
        cases.append(r["case"])
print("| case | portscope command | median ms (min) | anchor | anchor median ms (min) | ratio | target | result |")
print("|---|---|---:|---|---:|---:|---:|---|")
for case in cases:
    for group, anchor, target in TARGETS:
        if (case, group, "portscope") not in stats or (case, group, anchor) not in stats:
            continue
        p, a = stats[(case, group, "portscope")], stats[(case, group, anchor)]
        ratio = p[1] / a[1]
        print("| %s | `%s` | %.1f (%.1f) | `%s` | %.1f (%.1f) | %.3f | <= %.2f | %s |" % (
            case, p[0], p[1], p[2], a[0], a[1], a[2], ratio, target,
            "PASS" if ratio <= target else "MISS"))
        f = stats.get((case, group, "portscope-phases"))
        if f:
            print("| %s | floor: `%s` | %.1f (%.1f) | `%s` | %.1f (%.1f) | %.3f | | floor |" % (
                case, f[0].rsplit("/", 1)[-1], f[1], f[2], a[0], a[1], a[2], f[1] / a[1]))
n = {k[0]: v[3] for k, v in stats.items()}
print("\nn per command: " + ", ".join("%s %d" % kv for kv in n.items()) + " (after warm-up)")
PY

# ---------------------------------------------------------------------------------------------
if [[ $NO_BUILD != 1 ]]; then
    echo "building portscope (cargo build --release) ..." >&2
    (cd "$REPO" && cargo build --release --quiet)
fi
[[ -x $BUILT ]] || { echo "compare.sh: $BUILT not found (build failed?)" >&2; exit 1; }
cp "$BUILT" "$PORTSCOPE"
FLOOR_BIN=$WORK/portscope-phases
if [[ $FLOOR == 1 ]]; then
    if [[ $NO_BUILD != 1 ]]; then
        (cd "$REPO/bench/phases" && cargo build --release --quiet)
    fi
    [[ -x $REPO/bench/phases/target/release/portscope-phases ]] ||
        { echo "compare.sh: bench/phases is not built (cargo build --release in bench/phases)" >&2; exit 1; }
    cp "$REPO/bench/phases/target/release/portscope-phases" "$FLOOR_BIN"
fi

echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpus:      $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:    $(uname -r)"
echo "memory:    $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "user:      $(id -un) (uid $(id -u)); load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo "ss:        $(ss -V 2>&1 | head -1)"
echo "lsof:      $(lsof -v 2>&1 | awk '/revision:/ {print $2; exit}')"
echo "fuser:     $(fuser -V 2>&1 | head -1)"
echo "portscope: $("$PORTSCOPE" --version) (git $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo '+uncommitted'))"
echo "load:      $PAIRS pairs + $LISTENERS listeners over $PROCS procs; reps: load $REPS, idle $IDLE_REPS, warm-up $WARMUP"
echo

SAMPLES=$WORK/samples.jsonl
: >"$SAMPLES"
j() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }

# run_case CASE REPS PAIRS LISTENERS PROCS: times each group against its own fresh loadgen.
run_case() {
    local case=$1 reps=$2 pairs=$3 listeners=$4 procs=$5 group
    local -a cmds
    local -a floor
    for group in ls-all ls who; do
        start_loadgen "$pairs" "$listeners" "$procs"
        echo "[$case] $group: $(ss -tanH | wc -l) TCP sockets, probe port $PROBE_PORT (pid $PROBE_PID)" >&2
        case $group in
            ls-all) cmds=("$(j "$PORTSCOPE" ls --all)" "$(j ss -tanp)") ;;
            ls)     cmds=("$(j "$PORTSCOPE" ls)" "$(j ss -tlnp)") ;;
            who)    cmds=("$(j "$PORTSCOPE" who "$PROBE_PORT")" "$(j fuser "$PROBE_PORT/tcp")"
                          "$(j lsof -nP "-iTCP:$PROBE_PORT")") ;;
        esac
        if [[ $FLOOR == 1 ]]; then
            case $group in
                ls-all) floor=(ls-all) ;;
                ls)     floor=(ls) ;;
                who)    floor=(who "$PROBE_PORT") ;;
            esac
            cmds=("${cmds[0]}" "$(j "$FLOOR_BIN" floor "${floor[@]}")" "${cmds[@]:1}")
        fi
        python3 "$WORK/timer.py" "$SAMPLES" "$case" "$group" "$reps" "$WARMUP" "$LG_PID" "${cmds[@]}"
        if [[ $case == load && $group == ls-all ]]; then sanity_check; fi
        stop_loadgen
    done
}

# Under load: does portscope see as many sockets as ss, and attribute them to the right processes?
sanity_check() {
    local all_json=$WORK/ls-all.json ls_json=$WORK/ls.json who_json=$WORK/who.json
    "$PORTSCOPE" ls --all --json >"$all_json" || true
    local ss_all; ss_all=$(ss -tanH | wc -l)
    "$PORTSCOPE" ls --json >"$ls_json" || true
    local ss_listen; ss_listen=$(ss -tlnH | wc -l)
    "$PORTSCOPE" who "$PROBE_PORT" --json >"$who_json" || true
    local ss_local ss_remote
    ss_local=$(ss -tanH "( sport = :$PROBE_PORT )" | wc -l)
    ss_remote=$(ss -tanH "( dport = :$PROBE_PORT )" | wc -l)
    python3 - "$all_json" "$ls_json" "$who_json" "$ss_all" "$ss_listen" "$ss_local" "$ss_remote" \
        "$PROBE_PID" "$WORK/lg/manifest.json" <<'PY'
import json, sys
f_all, f_ls, f_who, ss_all, ss_listen, ss_local, ss_remote, probe_pid, f_man = sys.argv[1:10]
d, l, w, m = (json.load(open(f)) for f in (f_all, f_ls, f_who, f_man))
tcp = [s for s in d["sockets"] if s.get("proto") == "tcp"]
lg = {int(p) for p in m["children"]}
owned = sum(1 for s in tcp if set(s.get("pids") or []) & lg)
expect = 2 * m["pairs"] + m["listeners"] + sum(1 for c in m["children"].values() if c and c["pair_server_port"])
ltcp = [s for s in l["sockets"] if s.get("proto") == "tcp"]
print("sanity: portscope ls --all --json: %d sockets (%d tcp)  |  ss -tanH: %s lines"
      % (len(d["sockets"]), len(tcp), ss_all))
print("sanity: portscope ls --json: %d sockets (%d tcp)  |  ss -tlnH: %s lines"
      % (len(l["sockets"]), len(ltcp), ss_listen))
print("sanity: tcp sockets attributed to loadgen pids: %d (loadgen holds %d)" % (owned, expect))
ws = w.get("sockets", [])
wp = sorted({p for s in ws for p in (s.get("pids") or [])})
peers = sum(1 for s in ws if s.get("peer"))
print("sanity: who %s: held=%s, %d sockets (%d with the other end shown), pids %s  |  ss: %s local, %s remote;"
      " probe pid %s%s" % (w.get("target", {}).get("port"), w.get("held"), len(ws), peers, wp[:5],
                           ss_local, ss_remote, probe_pid,
                           "" if int(probe_pid) in wp else "  <-- probe pid missing"))
PY
}

if [[ $NO_IDLE != 1 ]]; then
    run_case idle "$IDLE_REPS" 1 1 1
fi
run_case load "$REPS" "$PAIRS" "$LISTENERS" "$PROCS"

echo
echo "== results (wall-clock ms; idle = 1 listener + 1 pair in 1 process; load = $PAIRS pairs + $LISTENERS listeners / $PROCS procs)"
python3 "$WORK/report.py" "$SAMPLES" "$PORTSCOPE"
if [[ -n $RESULTS_JSON ]]; then
    cp "$SAMPLES" "$RESULTS_JSON"
    echo "raw samples: $RESULTS_JSON" >&2
fi
