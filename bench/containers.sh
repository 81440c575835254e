#!/usr/bin/env bash
# bench/containers.sh - what asking container engines adds to `portscope who` and `ls` (issue 20).
#
# What it measures: a private dockerd (vfs storage, its own data and exec roots, socket and
# bridge, no iptables rules: docker-proxy publishes, as in tests/it/engines.rs) runs CONTAINERS
# containers of an image built offline from busybox-static, each `httpd` publishing one port with
# `-p 127.0.0.1::80` (a docker-proxy per port). Then, with hyperfine (-N, --warmup WARMUP, RUNS
# runs each), wall-clock per command, XDG_RUNTIME_DIR unset in all of them:
#   who PORT, engine      DOCKER_HOST=this dockerd          PORT: a container's, held by docker-proxy
#   who PORT, no engine   DOCKER_HOST and CONTAINER_HOST name missing sockets ("today": portscope
#                         as it was before it asked engines, plus one note line)
#   docker ps --filter publish=PORT   the anchor: what a user runs by hand today
#   ls, engine / ls, no engine        every listener, the CONTAINERS docker-proxies among them
#   iptables-save -t nat, ip6tables-save -t nat   what `ls` (as root) runs on every call
# and again in a private mount namespace with an empty tmpfs over /usr/sbin (so portscope finds
# no iptables-save: `ls` as it was before it read DNAT rules):
#   ls, engine, no iptables-save / ls, no engine, no iptables-save
# Targets: who PORT, engine <= 50 ms above no engine; ls, engine <= 100 ms above no engine.
# With podman (skip with --no-podman): `podman system service` (own --root/--runroot/--tmpdir,
# vfs) in a network namespace of its own (its CNI bridge and rules go with the namespace), one
# container publishing 127.0.0.1:PORT (conmon holds it); who PORT, engine / no engine, timed
# inside that namespace.
#
# Run as root, from anywhere:
#   bash bench/containers.sh
#   CONTAINERS=20 RUNS=30 bash bench/containers.sh --no-podman
# Options (environment variable in brackets):
#   --containers N [CONTAINERS=50]  --runs N [RUNS=50]  --warmup N [WARMUP=3]
#   --parallel N [PARALLEL=4] containers started at a time
#   --no-build [NO_BUILD=1]         --no-podman [NO_PODMAN=1]
#   --json FILE [RESULTS_JSON] every hyperfine result (with each run's time) in one JSON array
# The binary is ${CARGO_TARGET_DIR:-REPO/target}/release/portscope (a private copy is timed).
# Needs: root, cargo, python3, hyperfine, docker.io (dockerd, docker), busybox-static, iproute2,
# util-linux (unshare, nsenter); podman optional.
set -euo pipefail
BENCH=containers.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTAINERS=${CONTAINERS:-50}
RUNS=${RUNS:-50}
WARMUP=${WARMUP:-3}
PARALLEL=${PARALLEL:-4}
NO_BUILD=${NO_BUILD:-0}
NO_PODMAN=${NO_PODMAN:-0}
RESULTS_JSON=${RESULTS_JSON:-}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --containers) CONTAINERS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --parallel) PARALLEL=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        --no-podman) NO_PODMAN=1; shift ;;
        --json) RESULTS_JSON=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "$BENCH: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
require_positive_ints CONTAINERS RUNS WARMUP PARALLEL
(( CONTAINERS <= 200 )) || { echo "$BENCH: CONTAINERS must be at most 200 (one /24)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "$BENCH: run as root (it starts dockerd)" >&2; exit 2; }
for tool in python3 hyperfine dockerd docker ip unshare nsenter busybox; do
    command -v "$tool" >/dev/null || { echo "$BENCH: '$tool' not found in PATH" >&2; exit 2; }
done
BUSYBOX=$(command -v busybox)
if grep -q /ld-linu "$BUSYBOX"; then
    echo "$BENCH: $BUSYBOX is not static (install busybox-static)" >&2; exit 2
fi
if [[ $NO_PODMAN != 1 ]] && ! command -v podman >/dev/null; then
    echo "$BENCH: podman not found: its part is skipped" >&2; NO_PODMAN=1
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILT=${CARGO_TARGET_DIR:-$REPO/target}/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-containers.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
IMAGE=local/bb:1
SOCK=$WORK/docker/docker.sock
DOCKER=(docker -H "unix://$SOCK")
BRIDGE=psbench$(( $$ % 100000000 ))
NETNS=psbench-pod-$$
PSOCK=$WORK/podman/podman.sock
PODMAN=(podman --root="$WORK/podman/root" --runroot="$WORK/podman/run" --tmpdir="$WORK/podman/tmp"
        --storage-driver=vfs --cgroup-manager=cgroupfs --events-backend=file)
DOCKERD_PID=""
PODMAN_PID=""
BRIDGE_MADE=0
NETNS_MADE=0

cleanup() {
    set +e
    if [[ -n $DOCKERD_PID ]]; then
        local ids
        ids=$("${DOCKER[@]}" ps -aq 2>/dev/null)
        # shellcheck disable=SC2086
        [[ -z $ids ]] || "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
        stop_pid_in DOCKERD_PID
    fi
    if [[ -n $PODMAN_PID ]]; then
        nsenter --net="/run/netns/$NETNS" "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
        stop_pid_in PODMAN_PID
    fi
    (( NETNS_MADE )) && ip netns del "$NETNS"
    (( BRIDGE_MADE )) && ip link del "$BRIDGE"
    # dockerd and podman leave mounts (network namespace, overlay of their own) under WORK.
    awk -v d="$WORK/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

copy_binary

machine_lines
echo "docker:    $(dockerd --version)"
echo "podman:    $([[ $NO_PODMAN == 1 ]] && echo skipped || podman --version)"
echo "iptables:  $(iptables-save --version 2>/dev/null || echo 'not installed')"
portscope_line "$PORTSCOPE" "$REPO"
echo

# The image: /bin/busybox, httpd and sh linked to it, a page in /www.
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/www" "$WORK/docker" "$WORK/podman"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
ln -s busybox "$WORK/rootfs/bin/httpd"; ln -s busybox "$WORK/rootfs/bin/sh"
echo portscope >"$WORK/rootfs/www/index.html"

# wait_api SOCKET LOG: until the engine answers GET /_ping there (60 s at most).
wait_api() {
    local i
    for ((i = 0; i < 600; i++)); do
        if python3 - "$1" 2>/dev/null <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: e\r\n\r\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.") and data.endswith(b"OK") else 1)
PY
        then return 0; fi
        sleep 0.1
    done
    echo "$BENCH: no engine answered on $1 within 60 s; its log ends:" >&2
    tail -15 "$2" >&2
    exit 1
}

# wait_http PORT [PREFIX...]: until httpd answers on 127.0.0.1:PORT (10 s at most), asked by a
# python3 run under PREFIX (nsenter into a network namespace) if given.
wait_http() {
    "${@:2}" python3 - "$1" <<'PY'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        if data.startswith(b"HTTP/1."):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit("nothing answered HTTP on 127.0.0.1:%s within 10 s" % sys.argv[1])
PY
}

# A bridge of its own, on a 10.203.X.0/24 no address of this machine is in (the tests use 10.201).
NET=""
used=$(ip -o -4 addr show)
for x in $(seq 0 250); do
    [[ $used == *" 10.203.$x."* ]] || { NET=10.203.$x; break; }
done
[[ -n $NET ]] || { echo "$BENCH: no free 10.203.X.0/24" >&2; exit 1; }
ip link add "$BRIDGE" type bridge && BRIDGE_MADE=1
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
echo '{}' >"$WORK/docker/daemon.json"
dockerd --host="unix://$SOCK" --config-file="$WORK/docker/daemon.json" \
    --data-root="$WORK/docker/data" --exec-root="$WORK/docker/exec" \
    --pidfile="$WORK/docker/dockerd.pid" --storage-driver=vfs --bridge="$BRIDGE" \
    --iptables=false --ip-forward=false --ip-masq=false >"$WORK/docker/dockerd.log" 2>&1 </dev/null &
DOCKERD_PID=$!
wait_api "$SOCK" "$WORK/docker/dockerd.log"
tar -C "$WORK/rootfs" -c . | "${DOCKER[@]}" import - "$IMAGE" >/dev/null

echo "starting $CONTAINERS containers ($PARALLEL at a time) ..." >&2
t0=$(date +%s)
seq 0 $((CONTAINERS - 1)) | xargs -P "$PARALLEL" -I{} "${DOCKER[@]}" run -d --name psbench-{} \
    -p 127.0.0.1::80 "$IMAGE" /bin/httpd -f -p 80 -h /www >/dev/null
RUNNING=$("${DOCKER[@]}" ps -q | wc -l)
(( RUNNING == CONTAINERS )) || { echo "$BENCH: $RUNNING of $CONTAINERS containers run" >&2; exit 1; }
PORT=$("${DOCKER[@]}" port psbench-0 80/tcp | head -1); PORT=${PORT##*:}
LAST=$("${DOCKER[@]}" port "psbench-$((CONTAINERS - 1))" 80/tcp | head -1); LAST=${LAST##*:}
wait_http "$PORT"; wait_http "$LAST"
PROXIES=$(pgrep -c -P "$DOCKERD_PID" docker-proxy || true)
echo "containers: $CONTAINERS running ($(( $(date +%s) - t0 )) s to start), $PROXIES docker-proxy children of the dockerd; bridge $BRIDGE $NET.1/24"
echo "port:      $PORT (container psbench-0)"

ENGINE="env -u XDG_RUNTIME_DIR DOCKER_HOST=unix://$SOCK CONTAINER_HOST=unix:///nonexistent2.sock"
NONE="env -u XDG_RUNTIME_DIR DOCKER_HOST=unix:///nonexistent.sock CONTAINER_HOST=unix:///nonexistent2.sock"
echo
echo "== who $PORT, engine (what it prints)"
$ENGINE "$PORTSCOPE" who "$PORT" || true
echo "== who $PORT, no engine"
$NONE "$PORTSCOPE" who "$PORT" || true
echo "== ls, engine: $($ENGINE "$PORTSCOPE" ls | grep -c 'psbench-') rows name a psbench container; ls, no engine: $($NONE "$PORTSCOPE" ls | grep -c 'psbench-')"
echo

HF=(hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --ignore-failure --style basic)
echo "timing (docker, $CONTAINERS containers) ..." >&2
"${HF[@]}" --export-json "$WORK/docker.json" \
    --command-name "who PORT, engine" "$ENGINE $PORTSCOPE who $PORT" \
    --command-name "who PORT, no engine" "$NONE $PORTSCOPE who $PORT" \
    --command-name "docker ps --filter publish=PORT" "$ENGINE docker -H unix://$SOCK ps --filter publish=$PORT" \
    --command-name "ls, engine" "$ENGINE $PORTSCOPE ls" \
    --command-name "ls, no engine" "$NONE $PORTSCOPE ls" \
    --command-name "iptables-save -t nat" "$NONE /usr/sbin/iptables-save -t nat" \
    --command-name "ip6tables-save -t nat" "$NONE /usr/sbin/ip6tables-save -t nat" >&2

echo "timing ls without iptables-save (tmpfs over /usr/sbin, private mount namespace) ..." >&2
# shellcheck disable=SC2016
unshare --mount --propagation private sh -c 'mount -t tmpfs none /usr/sbin && exec "$@"' hide-sbin \
    "${HF[@]}" --export-json "$WORK/nosave.json" \
    --command-name "ls, engine, no iptables-save" "$ENGINE $PORTSCOPE ls" \
    --command-name "ls, no engine, no iptables-save" "$NONE $PORTSCOPE ls" >&2

: >"$WORK/podman.json"
if [[ $NO_PODMAN != 1 ]]; then
    echo "starting podman in network namespace $NETNS ..." >&2
    ip netns add "$NETNS" && NETNS_MADE=1
    ip -n "$NETNS" link set lo up
    mkdir -p "$WORK/podman/root" "$WORK/podman/run" "$WORK/podman/tmp"
    nsenter --net="/run/netns/$NETNS" "${PODMAN[@]}" system service --time=0 "unix://$PSOCK" \
        >"$WORK/podman/podman.log" 2>&1 </dev/null &
    PODMAN_PID=$!
    wait_api "$PSOCK" "$WORK/podman/podman.log"
    IN_NS=(nsenter --net="/run/netns/$NETNS")
    tar -C "$WORK/rootfs" -c . | "${IN_NS[@]}" "${PODMAN[@]}" import - "$IMAGE" >/dev/null
    PPORT=18080
    "${IN_NS[@]}" "${PODMAN[@]}" run -d --name psbench-pod --ulimit nofile=1024:1024 \
        --ulimit nproc=1024:1024 -p "127.0.0.1:$PPORT:80" "$IMAGE" /bin/httpd -f -p 80 -h /www >/dev/null
    wait_http "$PPORT" "${IN_NS[@]}"
    PENGINE="env -u XDG_RUNTIME_DIR DOCKER_HOST=unix:///nonexistent.sock CONTAINER_HOST=unix://$PSOCK"
    echo "== podman: who $PPORT, engine (in network namespace $NETNS)"
    "${IN_NS[@]}" $PENGINE "$PORTSCOPE" who "$PPORT" || true
    echo
    echo "timing (podman, 1 container) ..." >&2
    "${IN_NS[@]}" "${HF[@]}" --export-json "$WORK/podman.json" \
        --command-name "podman: who PORT, engine" "$PENGINE $PORTSCOPE who $PPORT" \
        --command-name "podman: who PORT, no engine" "$NONE $PORTSCOPE who $PPORT" >&2
fi

python3 - "$WORK/docker.json" "$WORK/nosave.json" "$WORK/podman.json" "$RUNS" "$WARMUP" "$RESULTS_JSON" <<'PY'
import json, sys
res = []
for f in sys.argv[1:4]:
    text = open(f).read()
    if text.strip():
        res += json.loads(text)["results"]
if sys.argv[6]:
    json.dump(res, open(sys.argv[6], "w"), indent=1)
ms = {r["command"]: r for r in res}
print("| command | mean ms | ± sd | min | median | max |")
print("|---|---:|---:|---:|---:|---:|")
for r in res:
    t = [x * 1000 for x in r["times"]]
    print("| `%s` | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
        r["command"], r["mean"] * 1000, r["stddev"] * 1000, min(t), r["median"] * 1000, max(t)))
print()
def diff(a, b, target=None):
    if a not in ms or b not in ms:
        return
    dm = (ms[a]["mean"] - ms[b]["mean"]) * 1000
    dmed = (ms[a]["median"] - ms[b]["median"]) * 1000
    line = "%s - %s: %+.1f ms (mean), %+.1f ms (median)" % (a, b, dm, dmed)
    if target is not None:
        line += " (target <= %d ms: %s)" % (target, "PASS" if max(dm, dmed) <= target else "MISS")
    print(line)
diff("who PORT, engine", "who PORT, no engine", 50)
diff("ls, engine", "ls, no engine", 100)
diff("ls, engine", "ls, no engine, no iptables-save")
diff("ls, no engine", "ls, no engine, no iptables-save")
diff("ls, engine, no iptables-save", "ls, no engine, no iptables-save")
diff("podman: who PORT, engine", "podman: who PORT, no engine", 50)
a, b = ms["who PORT, engine"], ms["docker ps --filter publish=PORT"]
print("anchor: docker ps --filter publish=PORT %.1f ms; ratio portscope who (engine)/docker ps = %.2f"
      % (b["mean"] * 1000, a["mean"] / b["mean"]))
print("(n = %s runs each after %s warm-up runs; hyperfine -N, no shell; every command run through env)"
      % (sys.argv[4], sys.argv[5]))
PY
