# bench/lib.sh - shell functions shared by the bench scripts; sourced, never run.
#
# require_positive_ints VAR...: exits 2, naming $BENCH, unless every VAR holds a positive integer.
require_positive_ints() {
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "$BENCH: $v must be a positive integer, got '${!v}'" >&2; exit 2; }
    done
}

# portscope_line BIN REPO: "portscope: <version> (git <commit>[+uncommitted])".
portscope_line() {
    echo "portscope: $("$1" --version) (git $(git -C "$2" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$2" diff --quiet HEAD 2>/dev/null || echo '+uncommitted'))"
}

# The sourcing script sets, before calling the loadgen functions:
#   BENCH    its name for messages (`compare.sh`)
#   WORK     its scratch dir (loadgen runs in $WORK/lg)
#   LOADGEN  the path of bench/loadgen.py
#   LG_PID   "" (the running loadgen's pid, kept here)

# start_loadgen_run PAIRS LISTENERS PROCS [LOADGEN OPTION...]: starts bench/loadgen.py in
# $WORK/lg (for 120 s at the most, unless the options give another --duration), sets LG_PID and
# waits for its manifest; exits 1 with loadgen's log if it does not get ready within
# LG_READY_TIMEOUT seconds (default 60).
start_loadgen_run() {
    local dir=$WORK/lg
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && exec python3 "$LOADGEN" --pairs "$1" --listeners "$2" --procs "$3" \
        --duration 120 --manifest manifest.json --pidfile loadgen.pid "${@:4}" >loadgen.log 2>&1) &
    LG_PID=$!
    local waited=0
    until [[ -f $dir/manifest.json ]]; do
        if ! kill -0 "$LG_PID" 2>/dev/null || (( waited >= ${LG_READY_TIMEOUT:-60} * 10 )); then
            echo "$BENCH: loadgen did not become ready; its log:" >&2
            cat "$dir/loadgen.log" >&2 || true
            exit 1
        fi
        sleep 0.1; waited=$((waited + 1))
    done
}

# stop_pid_in NAME: SIGTERMs the process whose pid the variable NAME holds (if any), reaps it
# and empties NAME.
stop_pid_in() {
    local pid=${!1}
    if [[ -n $pid ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        printf -v "$1" '%s' ""
    fi
}

# stop_loadgen: stops the running loadgen (SIGTERM), if any, and reaps it.
stop_loadgen() { stop_pid_in LG_PID; }

# cpu_ticks PID: utime + stime (fields 14 and 15 of /proc/PID/stat, after the "(comm)").
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# copy_binary: unless NO_BUILD=1, `cargo build --release` in $REPO; then copies $BUILT to
# $PORTSCOPE (a private copy: a concurrent cargo build cannot swap it mid-run). Exits 1, naming
# $BENCH, when there is no binary.
copy_binary() {
    if [[ $NO_BUILD != 1 ]]; then
        echo "building portscope (cargo build --release) ..." >&2
        (cd "$REPO" && cargo build --release --quiet)
    fi
    [[ -x $BUILT ]] || { echo "$BENCH: $BUILT not found (build failed?)" >&2; exit 1; }
    cp "$BUILT" "$PORTSCOPE"
}

# machine_lines: "== machine" and the lines every script prints under it (date, cpus, kernel,
# user and load average, hyperfine); the caller adds its own.
machine_lines() {
    echo "== machine"
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "cpus:      $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel:    $(uname -r)"
    echo "user:      $(id -un); load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
    echo "hyperfine: $(hyperfine --version)"
}
