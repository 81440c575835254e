#!/usr/bin/env bash
# bench/scale.sh - portscope at scale: 100,000 TCP sockets over 1,000 processes (issue 23).
#
# One load for the whole run (bench/loadgen.py --listen-ports): PAIRS established loopback pairs
# + LISTENERS listeners + one pair server per process, about SOCKETS TCP sockets over PROCS
# processes. The listeners and pair servers bind explicit ports PORTS on 127.0.0.2, .3, ...:
# ports bound with bind() are never handed to connect(), so at this size listeners on port 0
# would take the ephemeral ports the pairs' clients need (no sysctl is changed).
# What it measures, each group alternating a, b, a, b, ... in one run (WARMUP rounds, then REPS
# timed: wall-clock median and min, median CPU time user+sys from wait4), then RSS_REPS more
# runs of each under GNU time for the peak RSS (`/usr/bin/time -f %M`, apart from the timed
# runs; a Python parent cannot tell it: a child's ru_maxrss starts at its parent's RSS):
#   portscope ls --all     vs  ss -tanp         target ratio <= 0.25, portscope peak RSS <= 64 MiB
#   portscope ls           vs  ss -tlnp         portscope peak RSS <= 64 MiB
#   portscope who PORT     vs  fuser PORT/tcp   portscope peak RSS <= 64 MiB
# (PORT: the first process's pair server, with its pairs; other addresses may use the same port
# number.) Then bench/listeners (a Cargo project of its own) on the same load: portscope's
# all-listeners query against the listeners crate's get_all(), in one process; target <= 0.30.
# A sanity check first: socket counts of portscope against ss, and owners found.
# Every command's output goes to /dev/null and exit codes are ignored (`who` exits 0 when held).
#
# Run as root, so that every tool sees every process:
#   bash bench/scale.sh                          # 100000 sockets over 1000 processes, 11 reps
#   bash bench/scale.sh --sockets 5000 --procs 100 --reps 5 --no-build
# Options (environment variable in brackets):
#   --sockets N [SOCKETS=100000]  --procs M [PROCS=1000]  PAIRS = (N - M) / 3, LISTENERS = the rest
#   --reps K [REPS=11]            --warmup W [WARMUP=2]   --rss-reps K [RSS_REPS=3]
#   --listeners-reps K [LISTENERS_REPS=REPS]
#   --ports LO-HI [PORTS=20000-29999]  the load's listening ports, outside the ephemeral range
#   --no-listeners [NO_LISTENERS=1]    skip the listeners-crate comparison
#   --no-build [NO_BUILD=1]            --json FILE [RESULTS_JSON] raw samples (JSON lines)
# The binaries are ${CARGO_TARGET_DIR:-REPO/target}/release/portscope and
# ${CARGO_TARGET_DIR:-REPO/bench/listeners/target}/release/portscope-bench-listeners (private
# copies are run). Needs: cargo, python3 (stdlib), ss (iproute2), fuser (psmisc), GNU time
# (package time; without it the RSS columns say n/a).
set -euo pipefail
BENCH=scale.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOCKETS=${SOCKETS:-100000}
PROCS=${PROCS:-1000}
REPS=${REPS:-11}
WARMUP=${WARMUP:-2}
RSS_REPS=${RSS_REPS:-3}
LISTENERS_REPS=${LISTENERS_REPS:-}
PORTS=${PORTS:-20000-29999}
NO_LISTENERS=${NO_LISTENERS:-0}
NO_BUILD=${NO_BUILD:-0}
RESULTS_JSON=${RESULTS_JSON:-}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sockets) SOCKETS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --rss-reps) RSS_REPS=$2; shift 2 ;;
        --listeners-reps) LISTENERS_REPS=$2; shift 2 ;;
        --ports) PORTS=$2; shift 2 ;;
        --no-listeners) NO_LISTENERS=1; shift ;;
        --no-build) NO_BUILD=1; shift ;;
        --json) RESULTS_JSON=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "$BENCH: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
LISTENERS_REPS=${LISTENERS_REPS:-$REPS}
require_positive_ints SOCKETS PROCS REPS RSS_REPS LISTENERS_REPS
[[ $WARMUP =~ ^[0-9]+$ ]] || { echo "$BENCH: WARMUP must be a non-negative integer, got '$WARMUP'" >&2; exit 2; }
(( SOCKETS >= 4 * PROCS )) || { echo "$BENCH: SOCKETS must be at least 4 x PROCS (a pair server and a pair per process)" >&2; exit 2; }
PAIRS=$(( (SOCKETS - PROCS) / 3 ))
LISTENERS=$(( SOCKETS - PROCS - 2 * PAIRS ))
[[ $PORTS =~ ^([0-9]+)-([0-9]+)$ ]] || { echo "$BENCH: PORTS must be LO-HI, got '$PORTS'" >&2; exit 2; }
PLO=${BASH_REMATCH[1]} PHI=${BASH_REMATCH[2]}
read -r ELO EHI </proc/sys/net/ipv4/ip_local_port_range
if (( PLO < 1 || PHI > 65535 || PLO > PHI || (PLO <= EHI && PHI >= ELO) )); then
    echo "$BENCH: PORTS $PORTS must lie within 1-65535 and outside the ephemeral range $ELO-$EHI" >&2; exit 2
fi
(( (LISTENERS + PROCS - 1) / (PHI - PLO + 1) <= 250 )) || { echo "$BENCH: PORTS $PORTS is too narrow for $((LISTENERS + PROCS)) listeners (250 addresses at most)" >&2; exit 2; }
for tool in python3 ss fuser; do
    command -v "$tool" >/dev/null || { echo "$BENCH: '$tool' not found in PATH" >&2; exit 2; }
done
TIME_BIN=/usr/bin/time
if ! "$TIME_BIN" --version 2>&1 | grep -q GNU; then
    echo "$BENCH: warning: no GNU time at $TIME_BIN (package time): peak RSS is not measured" >&2
    TIME_BIN=""
fi
[[ $(id -u) == 0 ]] || echo "$BENCH: warning: not root: the tools see only your own processes' sockets" >&2

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$REPO/bench/loadgen.py
BUILT=${CARGO_TARGET_DIR:-$REPO/target}/release/portscope
LBUILT=${CARGO_TARGET_DIR:-$REPO/bench/listeners/target}/release/portscope-bench-listeners
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-scale.XXXXXX")
PORTSCOPE=$WORK/portscope   # private copies: a concurrent cargo build cannot swap them mid-run
LBENCH=$WORK/portscope-bench-listeners
LG_PID=""

cleanup() {
    stop_loadgen
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

copy_binary
if [[ $NO_LISTENERS != 1 ]]; then
    if [[ $NO_BUILD != 1 ]]; then
        echo "building bench/listeners (cargo build --release) ..." >&2
        cargo build --release --quiet --manifest-path "$REPO/bench/listeners/Cargo.toml"
    fi
    [[ -x $LBUILT ]] || { echo "$BENCH: $LBUILT not found (build failed? --no-listeners skips it)" >&2; exit 1; }
    cp "$LBUILT" "$LBENCH"
fi

echo "== machine"
echo "machine:   $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "user:      $(id -un) (uid $(id -u)); load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo "ss:        $(ss -V 2>&1 | head -1)"
echo "fuser:     $(fuser -V 2>&1 | head -1)"
portscope_line "$PORTSCOPE" "$REPO"
echo "load:      $PAIRS pairs + $LISTENERS listeners + $PROCS pair servers = $SOCKETS TCP sockets over $PROCS processes (listening ports $PORTS on 127.0.0.2+)"
echo "runs:      $REPS per command after $WARMUP warm-up rounds, $RSS_REPS more for RSS; listeners crate: $( [[ $NO_LISTENERS == 1 ]] && echo skipped || echo "$LISTENERS_REPS" )"
echo

# --- the load: kept for the whole run (the loadgen ends by itself after 900 s at the most)
t0=$SECONDS
LG_READY_TIMEOUT=600 start_loadgen_run "$PAIRS" "$LISTENERS" "$PROCS" --duration 900 --listen-ports "$PORTS"
read -r PROBE_PORT PROBE_PID NERR NFALL < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["probe_port"], m["probe_pid"], len(m["errors"]),
      sum((c or {}).get("fallbacks", 0) for c in m["children"].values()))' "$WORK/lg/manifest.json")
echo "load ready in $((SECONDS - t0)) s: $(ss -tanH | wc -l) TCP sockets on the machine, probe port $PROBE_PORT (pid $PROBE_PID)"
if (( NERR > 0 )); then
    echo "$BENCH: warning: $NERR loadgen children failed to open their sockets; the first: $(python3 -c '
import json, sys; print(json.load(open(sys.argv[1]))["errors"][0])' "$WORK/lg/manifest.json")" >&2
fi
(( NFALL == 0 )) || echo "$BENCH: note: $NFALL listening ports of $PORTS were taken already; those listeners took port 0" >&2

# --- sanity: does portscope see as many sockets as ss, and find their owners?
sanity_check() {
    "$PORTSCOPE" ls --all --json >"$WORK/ls-all.json" || true
    local ss_all; ss_all=$(ss -tanH | wc -l)
    "$PORTSCOPE" ls --json >"$WORK/ls.json" || true
    local ss_listen; ss_listen=$(ss -tlnH | wc -l)
    "$PORTSCOPE" who "$PROBE_PORT" --json >"$WORK/who.json" || true
    local ss_local; ss_local=$(ss -tanH "( sport = :$PROBE_PORT )" | wc -l)
    python3 - "$WORK" "$ss_all" "$ss_listen" "$ss_local" "$PROBE_PID" <<'PY'
import json, sys
work, ss_all, ss_listen, ss_local, probe_pid = sys.argv[1:6]
d, l, w, m = (json.load(open("%s/%s" % (work, f)))
              for f in ("ls-all.json", "ls.json", "who.json", "lg/manifest.json"))
agree = lambda a, b: "agree" if a == int(b) else "differ by %+d" % (a - int(b))
tcp = [s for s in d["sockets"] if s.get("proto") == "tcp"]
ltcp = [s for s in l["sockets"] if s.get("proto") == "tcp"]
print("sanity: portscope ls --all --json: %d tcp sockets  |  ss -tanH: %s lines  (%s)"
      % (len(tcp), ss_all, agree(len(tcp), ss_all)))
print("sanity: portscope ls --json: %d tcp sockets  |  ss -tlnH: %s lines  (%s)"
      % (len(ltcp), ss_listen, agree(len(ltcp), ss_listen)))
lg = {int(p) for p in m["children"]}
owned = sum(1 for s in tcp if set(s.get("pids") or []) & lg)
expect = 2 * m["pairs"] + m["listeners"] + sum(1 for c in m["children"].values() if c and c["pair_server_port"])
none = [s for s in tcp if not s.get("pids")]
print("sanity: tcp sockets attributed to loadgen pids: %d (loadgen holds %d); no owner shown: %d (%d of them time_wait)"
      % (owned, expect, len(none), sum(1 for s in none if s.get("state") == "time_wait")))
ws = w.get("sockets", [])
wp = sorted({p for s in ws for p in (s.get("pids") or [])})
print("sanity: who %s: held=%s, %d sockets, %d pids  |  ss sport = :%s: %s sockets; probe pid %s %s"
      % (w.get("target", {}).get("port"), w.get("held"), len(ws), len(wp), w.get("target", {}).get("port"),
         ss_local, probe_pid, "found" if int(probe_pid) in wp else "MISSING"))
PY
}
sanity_check
echo

# --- the timer: alternates the commands of one group, wait4 gives each run's rusage.
cat >"$WORK/timer.py" <<'PY'
import json, os, subprocess, sys, time
out, group, reps, warmup, rss_reps, time_bin, lg_pid = sys.argv[1:8]
cmds = [json.loads(c) for c in sys.argv[8:]]
reps, warmup, rss_reps, lg_pid = int(reps), int(warmup), int(rss_reps), int(lg_pid)
runs = [{"ms": [], "cpu_ms": [], "rss_kib": []} for _ in cmds]
rss_file = os.path.join(os.path.dirname(out), "rss.txt")
def run(argv):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    p.returncode = os.waitstatus_to_exitcode(status)
    return ms, (ru.ru_utime + ru.ru_stime) * 1e3
try:
    for r in range(warmup + reps):
        for i, argv in enumerate(cmds):
            ms, cpu = run(argv)
            if r >= warmup:
                runs[i]["ms"].append(ms); runs[i]["cpu_ms"].append(cpu)
    for r in range(rss_reps if time_bin else 0):
        for i, argv in enumerate(cmds):
            run([time_bin, "-f", "%M", "-o", rss_file] + argv)
            with open(rss_file) as f:  # the last line: GNU time may note a signal above it
                runs[i]["rss_kib"].append(int(f.read().split()[-1]))
except KeyboardInterrupt:
    sys.exit(130)
try:  # the loadgen ends by itself at its deadline; a zombie counts as gone
    with open("/proc/%d/stat" % lg_pid) as f:
        alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
except OSError:
    alive = False
with open(out, "a") as f:
    for argv, r in zip(cmds, runs):
        f.write(json.dumps(dict(group=group, argv=argv, load_alive=alive, **r)) + "\n")
if not alive:
    sys.exit("scale.sh: the load generator ended before the %s timings finished" % group)
PY

# --- the report: one row per comparison, then peak RSS against its target.
cat >"$WORK/report.py" <<'PY'
import json, statistics, sys
samples, portscope = sys.argv[1:3]
TARGETS = {"ls-all": 0.25}
RSS_TARGET_MIB = 64
rows = {}
for line in open(samples):
    r = json.loads(line)
    cmd = " ".join(r["argv"]).replace(portscope, "portscope")
    rows.setdefault(r["group"], []).append((cmd, r))
def peak(r):
    return "%.1f" % (max(r["rss_kib"]) / 1024) if r["rss_kib"] else "n/a"
def cols(cmd, r):
    return "`%s` | %.1f (%.1f) | %.0f | %s" % (
        cmd, statistics.median(r["ms"]), min(r["ms"]), statistics.median(r["cpu_ms"]), peak(r))
print("| portscope command | median ms (min) | CPU ms | peak RSS MiB | anchor | median ms (min) | CPU ms | peak RSS MiB | ratio | target | result |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
for group, ((pc, p), (ac, a)) in rows.items():
    ratio = statistics.median(p["ms"]) / statistics.median(a["ms"])
    t = TARGETS.get(group)
    print("| %s | %s | %.3f | %s | %s |" % (cols(pc, p), cols(ac, a), ratio,
          "<= %.2f" % t if t else "-", ("PASS" if ratio <= t else "MISS") if t else "-"))
print()
print("| command | peak RSS MiB, median (max) | target | result |")
print("|---|---:|---:|---|")
for group, pair in rows.items():
    for i, (cmd, r) in enumerate(pair):
        if not r["rss_kib"]:
            print("| `%s` | n/a | | |" % cmd)
            continue
        mx = max(r["rss_kib"]) / 1024
        print("| `%s` | %.1f (%.1f) | %s | %s |" % (cmd, statistics.median(r["rss_kib"]) / 1024, mx,
              "<= %d" % RSS_TARGET_MIB if i == 0 else "-",
              ("PASS" if mx <= RSS_TARGET_MIB else "MISS") if i == 0 else "-"))
n = {cmd.split()[0]: (len(r["ms"]), len(r["rss_kib"])) for pair in rows.values() for cmd, r in pair}
print("\nn per command (timed, RSS): " + ", ".join("%s %d, %d" % (k, *v) for k, v in n.items())
      + "; CPU ms = median user+sys of the timed runs; peak RSS = the largest of the RSS runs")
PY

SAMPLES=$WORK/samples.jsonl
: >"$SAMPLES"
j() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
for group in ls-all ls who; do
    echo "[$group] timing ..." >&2
    case $group in
        ls-all) cmds=("$(j "$PORTSCOPE" ls --all)" "$(j ss -tanp)") ;;
        ls)     cmds=("$(j "$PORTSCOPE" ls)" "$(j ss -tlnp)") ;;
        who)    cmds=("$(j "$PORTSCOPE" who "$PROBE_PORT")" "$(j fuser "$PROBE_PORT/tcp")") ;;
    esac
    python3 "$WORK/timer.py" "$SAMPLES" "$group" "$REPS" "$WARMUP" "$RSS_REPS" "$TIME_BIN" "$LG_PID" "${cmds[@]}"
done

echo "== results (wall-clock ms; $(ss -tanH | wc -l) TCP sockets on the machine at the end of the timings)"
python3 "$WORK/report.py" "$SAMPLES" "$PORTSCOPE"

if [[ $NO_LISTENERS != 1 ]]; then
    echo
    echo "== the listeners crate, same load (bench/listeners, in one process)"
    "$LBENCH" --reps "$LISTENERS_REPS" --warmup 1
    # a loadgen that reached its deadline stays a zombie until reaped: that counts as gone
    [[ $(sed 's/^.*) //' "/proc/$LG_PID/stat" 2>/dev/null | cut -d' ' -f1) == [^Z] ]] ||
        { echo "$BENCH: the load generator ended before the listeners comparison finished" >&2; exit 1; }
fi
if [[ -n $RESULTS_JSON ]]; then
    cp "$SAMPLES" "$RESULTS_JSON"
    echo "raw samples: $RESULTS_JSON" >&2
fi
