#!/usr/bin/env bash
# bench/probe.sh - `portscope probe` against `nmap -sV -sU` on every family portscope probes.
#
# Starts real servers from Debian packages, each on a port picked at run time (the same setups
# as the end-to-end tests in tests/it/): web servers, TLS, debuggers (JDWP both ways, node
# inspectors), data stores (redis with and without a password, memcached text/binary/SASL,
# PostgreSQL, ZooKeeper), sshd, nginx, mosquitto, LDAP, SMB, rsync, beanstalkd, git daemon,
# epmd and an Erlang node, gdbserver, VNC (Xvnc and a late greeter), DNS over UDP and TCP, SNMP,
# NTP, STUN, CoAP, a silent listener and a closed UDP port; inside TLS, IMAPS, POP3S, SMTPS,
# FTPS, LDAPS, memcached -Z, and nginx and Apache on TLS ports that get a plain request; HTTP/2
# (nghttpd clear and over TLS, nginx http2) and gRPC (grpcio with and without reflection);
# fakeredis, debugpy, pylsp, Varnish before a backend, etcd and a websocket server. The
# server sets are in bench/probe/ (base.sh, services.sh, udp.sh, tls.sh, and the further sets
# listed in SETS below); an endpoint whose package is missing is skipped and listed. Then, once
# each:
#   portscope probe <every endpoint> --json
#   nmap -sV -sS -sU -Pn -n -p T:<tcp ports>,U:<udp ports> 127.0.0.1   and, at the same time,
#   nmap -6 -sV -Pn -n -p <the IPv6 ports> ::1   (nmap cannot mix address families in one scan)
# and scores each tool per endpoint: protocol, product, version, TLS and auth against what the
# setup knows is true (bench/probe/report.py). Targets: protocol named for >= 95 % of the
# endpoints and wherever nmap names one; zero confident wrong claims; wall time <= 1/50 of
# nmap's; portscope's peak RSS <= 32 MiB.
#
# "Named" for nmap means a service found by probing (method="probed"), not a name guessed from
# the port number (method="table"); for portscope, an identification that is not unknown.
#
# Run as root (sshd, smbd and nmap's UDP scan need it; postgres then runs as postgres):
#   bash bench/probe.sh
#   bash bench/probe.sh --no-build --json results.json
# Options (environment variable in brackets):
#   --no-build [NO_BUILD=1]   use target/release/portscope as it is
#   --no-nmap [NO_NMAP=1]     skip nmap (setup + portscope only)
#   --no-portscope [NO_PORTSCOPE=1]  skip portscope (setup + nmap only)
#   --json FILE [RESULTS_JSON]  write the rows, scores, times and verdicts as JSON
#   --keep [KEEP=1]           start the servers, print the targets, wait for Enter, clean up
# Needs: cargo, python3, openssl, java, node, redis-server, memcached, mosquitto, sshd, postgres
# (/usr/lib/postgresql/*/bin), nginx; nmap (installed with apt-get when missing and root); the
# packages of the other sets (see .ci/run) for their endpoints.
set -euo pipefail

NO_BUILD=${NO_BUILD:-0}
NO_NMAP=${NO_NMAP:-0}
NO_PORTSCOPE=${NO_PORTSCOPE:-0}
RESULTS_JSON=${RESULTS_JSON:-}
KEEP=${KEEP:-0}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) NO_BUILD=1; shift ;;
        --no-nmap) NO_NMAP=1; shift ;;
        --no-portscope) NO_PORTSCOPE=1; shift ;;
        --json) RESULTS_JSON=$(realpath -m "$2"); shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "probe.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

die() { echo "probe.sh: $*" >&2; exit 1; }
IS_ROOT=0; [[ $(id -u) == 0 ]] && IS_ROOT=1
for tool in python3 openssl java node redis-server memcached; do
    command -v "$tool" >/dev/null || die "'$tool' not found in PATH (see .ci/run for the packages)"
done
for tool in /usr/sbin/mosquitto /usr/sbin/nginx /usr/sbin/sshd; do
    [[ -x $tool ]] || die "$tool not found (see .ci/run for the packages)"
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $PGBIN/postgres ]] || die "no /usr/lib/postgresql/*/bin/postgres (apt-get install postgresql)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$REPO/bench/probe
SETS=(base services udp tls h2 conf)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-probe-bench.XXXXXX")
chmod 755 "$WORK"
cd "$WORK"  # postgres, running as another user, cannot always enter the caller's cwd
PGIDS=()    # process groups we started (setsid: pid = pgid)
SKIPPED=()  # endpoints whose package is missing
DETACHED=() # servers that left our process groups (debugpy's adapter)

cleanup() {
    local pid
    if [[ -f $WORK/pg/data/postmaster.pid ]]; then  # fast shutdown: frees its shared memory
        pid=$(head -1 "$WORK/pg/data/postmaster.pid")
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    for pid in "${PGIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${DETACHED[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MANIFEST=$WORK/manifest.tsv
: >"$MANIFEST"
# shellcheck source=probe/start.sh
source "$HERE/start.sh"

echo "starting servers in $WORK ..." >&2
for set in "${SETS[@]}"; do
    # shellcheck disable=SC1090
    source "$HERE/$set.sh"
done

mapfile -t TARGETS < <(cut -f2 "$MANIFEST")
ports_of() { awk -F'\t' -v fam="$1" -v l4="$2" '$3 == fam && $5 == l4 {print $4}' "$MANIFEST" | sort -un | paste -sd,; }
TCP4=$(ports_of 4 tcp); UDP4=$(ports_of 4 udp); TCP6=$(ports_of 6 tcp)
echo "${#TARGETS[@]} endpoints up: ${TARGETS[*]}" >&2
(( ${#SKIPPED[@]} == 0 )) || printf 'skipped: %s\n' "${SKIPPED[@]}" >&2

if [[ $KEEP == 1 ]]; then
    echo "servers are up (targets above); press Enter to stop them" >&2
    read -r _ || true
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# The two tools

PS_MS=""; PS_RSS=""; NMAP_MS=""; NMAP_RSS=""; PS_NOTE=""; NMAP_NOTE=""

if [[ $NO_PORTSCOPE != 1 ]]; then
    if [[ $NO_BUILD != 1 ]]; then
        echo "building portscope (cargo build --release) ..." >&2
        (cd "$REPO" && cargo build --release --quiet)
    fi
    BUILT=$REPO/target/release/portscope
    [[ -x $BUILT ]] || die "$BUILT not found (build failed?)"
    cp "$BUILT" "$WORK/portscope"   # a private copy: a concurrent build cannot swap it mid-run
    echo "timing: portscope probe (${#TARGETS[@]} endpoints) ..." >&2
    read -r PS_MS PS_RSS < <(python3 "$HERE/measure.py" portscope.json portscope.err \
        "$WORK/portscope" probe "${TARGETS[@]}" --json)
    [[ -s portscope.err ]] && { echo "portscope stderr:" >&2; head -20 portscope.err >&2; }
else
    PS_NOTE="skipped (--no-portscope)"
fi

if [[ $NO_NMAP != 1 ]]; then
    if ! command -v nmap >/dev/null; then
        [[ $IS_ROOT == 1 ]] || die "nmap not installed (apt-get install nmap), or run with --no-nmap"
        echo "installing nmap ..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nmap >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nmap >/dev/null; }
    fi
    spec="T:$TCP4"; scans=(-sS)
    if [[ -n $UDP4 ]]; then
        if [[ $IS_ROOT == 1 ]]; then spec+=",U:$UDP4"; scans+=(-sU); else NMAP_NOTE="not root: nmap scanned no UDP port"; fi
    fi
    [[ $IS_ROOT == 1 ]] || scans=(-sT)
    echo "timing: nmap -sV ${scans[*]} (IPv4 and IPv6 scans at once; takes minutes) ..." >&2
    t0=$EPOCHREALTIME
    python3 "$HERE/measure.py" nmap4.txt nmap4.err nmap -sV "${scans[@]}" -Pn -n -p "$spec" -oX nmap4.xml 127.0.0.1 >nmap4.measure &
    n4=$!
    n6=""
    if [[ -n $TCP6 ]]; then
        python3 "$HERE/measure.py" nmap6.txt nmap6.err nmap -6 -sV -Pn -n -p "$TCP6" -oX nmap6.xml ::1 >nmap6.measure &
        n6=$!
    fi
    wait "$n4"; [[ -z $n6 ]] || wait "$n6"
    NMAP_MS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
    NMAP_RSS=$(cat nmap4.measure nmap6.measure 2>/dev/null | awk '$2 > m { m = $2 } END { print m }')
    [[ -s nmap4.xml ]] || NMAP_NOTE="nmap (IPv4) failed: $(tail -1 nmap4.err nmap4.txt 2>/dev/null | tail -1)"
else
    NMAP_NOTE="skipped (--no-nmap)"
fi

# ---------------------------------------------------------------------------------------------
# The report

echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpus:      $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:    $(uname -r); user $(id -un); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -x $WORK/portscope ]]; then
    echo "portscope: $("$WORK/portscope" --version) (git $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo '+uncommitted'))"
fi
command -v nmap >/dev/null && echo "nmap:      $(nmap --version | head -1)"
echo "endpoints: ${#TARGETS[@]} ($(cut -f5 "$MANIFEST" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}'))"
(( ${#SKIPPED[@]} == 0 )) || echo "skipped:   ${SKIPPED[*]}"
echo

python3 "$HERE/report.py" "$MANIFEST" "$WORK" "$PS_MS" "$PS_RSS" "$NMAP_MS" "$NMAP_RSS" \
    "$PS_NOTE" "$NMAP_NOTE" "$RESULTS_JSON"
