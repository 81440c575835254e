#!/usr/bin/env bash
# bench/probe.sh - `portscope probe` against `nmap -sV` on ~17 real services on loopback.
#
# Starts real servers from Debian packages, each on a port picked at run time (the same setups
# as tests/it/servers.rs): python http.server (127.0.0.1 and ::1 only), openssl s_server (TLS),
# a JVM with the JDWP agent, a debugger waiting for a JVM (JDWP, debugger side), two node
# inspectors (one in a process that also serves plain HTTP), redis without and with a
# password, memcached, mosquitto, sshd, postgres, nginx, and a listener that never speaks.
# Then, once each:
#   portscope probe <every target> --json
#   nmap -sV -Pn -n -p <the IPv4 ports> 127.0.0.1   and, at the same time,
#   nmap -6 -sV -Pn -n -p <the IPv6 ports> ::1        (nmap cannot mix families in one scan)
# and prints one row per port: what each identified, whether that is right (one regex per row,
# applied to both tools' words), the counts, the wall times and the ratio. Target: portscope
# identifies more, in <= 1/100 of nmap's time.
#
# "Identified" for nmap means a service found by probing (method="probed"), not a name guessed
# from the port number (method="table"); for portscope, an identification that is not unknown.
#
# Run as root (sshd needs it; postgres then runs as the postgres user):
#   bash bench/probe.sh
#   bash bench/probe.sh --no-build --json results.json
# Options (environment variable in brackets):
#   --no-build [NO_BUILD=1]   use target/release/portscope as it is
#   --no-nmap [NO_NMAP=1]     skip nmap (setup + portscope only)
#   --no-portscope [NO_PORTSCOPE=1]  skip portscope (setup + nmap only)
#   --json FILE [RESULTS_JSON]  write the rows, counts and times as JSON
#   --keep [KEEP=1]           start the servers, print the targets, wait for Enter, clean up
# Needs: cargo, python3, openssl, java, node, redis-server, memcached, mosquitto, sshd, postgres
# (/usr/lib/postgresql/*/bin), nginx; nmap (installed with apt-get when missing and root).
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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-probe-bench.XXXXXX")
chmod 755 "$WORK"
cd "$WORK"  # postgres, running as another user, cannot always enter the caller's cwd
PGIDS=()    # process groups we started (setsid: pid = pgid)

cleanup() {
    local pid
    if [[ -f $WORK/pg/data/postmaster.pid ]]; then  # fast shutdown: frees its shared memory
        pid=$(head -1 "$WORK/pg/data/postmaster.pid")
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    for pid in "${PGIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Starting servers

# start NAME CMD...: CMD in a new session (its own process group), output to NAME.log; sets PID.
start() {
    local name=$1; shift
    setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    PID=$!
    PGIDS+=("$PID")
}

# show_log NAME: the end of a server's output, for failures.
show_log() { echo "--- $1.log:" >&2; tail -20 "$WORK/$1.log" >&2 || true; }

# port_from NAME SED_EXPR: wait (10 s) until sed -nE SED_EXPR prints a port from NAME.log.
port_from() {
    local name=$1 expr=$2 port=""
    for _ in $(seq 300); do
        port=$(sed -nE "$expr" "$WORK/$name.log" | head -1)
        [[ -n $port ]] && { echo "$port"; return; }
        kill -0 "$PID" 2>/dev/null || { show_log "$name"; die "$name exited before it was ready"; }
        sleep 0.05
    done
    show_log "$name"; die "$name did not print its port within 15 s"
}

# owns_port PORT: the listener on PORT belongs to $PID or one of its children (a port handed
# out by free_ports can meanwhile be taken by a server that bound port 0).
owns_port() {
    local p
    for p in $(ss -Htlnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        [[ $p == "$PID" || $(ps -o ppid= -p "$p" | tr -d ' ') == "$PID" ]] && return 0
    done
    return 1
}

# wait_port NAME HOST PORT: wait (15 s) until HOST:PORT accepts a connection, held by NAME.
wait_port() {
    local name=$1 host=$2 port=$3
    for _ in $(seq 300); do
        if owns_port "$port" && (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return; fi
        kill -0 "$PID" 2>/dev/null || { show_log "$name"; die "$name exited before it was ready"; }
        sleep 0.05
    done
    show_log "$name"; die "$name not listening on $host:$port within 15 s"
}

# free_ports N: N distinct ports free right now (held together, then released). The servers
# that get them cannot bind port 0 themselves; a lost race shows up as a failed start.
free_ports() {
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# The manifest: one line per target: name, target, family, port, regexes (all must match the
# tool's words, "|"-alternatives inside; "-" = nothing should be identified), what it is.
MANIFEST=$WORK/manifest.tsv
: >"$MANIFEST"
add() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MANIFEST"; }

echo "starting servers in $WORK ..." >&2
read -r P_JDWP P_REDIS P_REDIS_PW P_MC P_MQTT P_SSH P_PG P_NGINX <<<"$(free_ports 8)"

mkdir -p www && echo '<title>portscope bench</title>' >www/index.html
start http4 python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www"
p=$(port_from http4 's/^Serving HTTP on .* port ([0-9]+).*/\1/p')
add http4 "127.0.0.1:$p" 4 "$p" 'http;python|simplehttp' 'python3 -m http.server (127.0.0.1)'

start http6 python3 -u -m http.server 0 --bind ::1 --directory "$WORK/www"
p=$(port_from http6 's/^Serving HTTP on .* port ([0-9]+).*/\1/p')
add http6 "[::1]:$p" 6 "$p" 'http;python|simplehttp' 'python3 -m http.server (::1 only)'

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=portscope-test \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 \
    -keyout key.pem -out cert.pem >openssl-req.log 2>&1 || { show_log openssl-req; die "openssl req failed"; }
start tls openssl s_server -accept 127.0.0.1:0 -www -cert cert.pem -key key.pem
p=$(port_from tls 's/^ACCEPT 127\.0\.0\.1:([0-9]+).*/\1/p')
add tls "127.0.0.1:$p" 4 "$p" 'ssl|tls|https' 'openssl s_server -www (TLS, self-signed)'

printf 'public class Sleep {\n  public static void main(String[] a) throws Exception { Thread.sleep(3600_000); }\n}\n' >Sleep.java
# Not address=…:0: after each debugger session the agent listens anew on that address, so a
# JVM on port 0 moves to another port whenever someone connects.
start jdwp java -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:$P_JDWP Sleep.java
port_from jdwp 's/^Listening for transport dt_socket at address: ([0-9]+).*/\1/p' >/dev/null  # not wait_port: a connection is a session
add jdwp "127.0.0.1:$P_JDWP" 4 "$P_JDWP" 'jdwp|java debug' 'java -agentlib:jdwp (JVM side)'

start jdwp-debugger python3 -u -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("port", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"JDWP-Handshake"); c.settimeout(5); c.recv(64)
    except OSError:
        pass
    c.close()'
p=$(port_from jdwp-debugger 's/^port ([0-9]+).*/\1/p')
add jdwp-debugger "127.0.0.1:$p" 4 "$p" 'jdwp|java debug' 'debugger waiting for a JVM (JDWP-Handshake first)'

start node1 node --inspect=127.0.0.1:0 -e 'setInterval(() => {}, 1e6)'
p=$(port_from node1 's|^Debugger listening on ws://127\.0\.0\.1:([0-9]+)/.*|\1|p')
add node-inspector "127.0.0.1:$p" 4 "$p" 'inspector|devtools' 'node --inspect'

start node2 node --inspect=127.0.0.1:0 -e '
require("http").createServer((q, r) => r.end("hi\n"))
  .listen(0, "127.0.0.1", function () { console.log("HTTP " + this.address().port); });'
p=$(port_from node2 's|^Debugger listening on ws://127\.0\.0\.1:([0-9]+)/.*|\1|p')
add node-inspector-2 "127.0.0.1:$p" 4 "$p" 'inspector|devtools' 'node --inspect (a second one, in a web app)'
p=$(port_from node2 's/^HTTP ([0-9]+)$/\1/p')
add node-http "127.0.0.1:$p" 4 "$p" 'http' 'node http.createServer (the same process)'

start redis redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK"
wait_port redis 127.0.0.1 "$P_REDIS"
add redis "127.0.0.1:$P_REDIS" 4 "$P_REDIS" 'redis' 'redis-server (no password)'

mkdir -p redis-pw
start redis-pw redis-server --port "$P_REDIS_PW" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK/redis-pw" --requirepass bench-secret
wait_port redis-pw 127.0.0.1 "$P_REDIS_PW"
add redis-auth "127.0.0.1:$P_REDIS_PW" 4 "$P_REDIS_PW" 'redis' 'redis-server --requirepass'

mc_user=(); [[ $IS_ROOT == 1 ]] && mc_user=(-u nobody)
start memcached memcached -l 127.0.0.1 -p "$P_MC" -U 0 "${mc_user[@]}"
wait_port memcached 127.0.0.1 "$P_MC"
add memcached "127.0.0.1:$P_MC" 4 "$P_MC" 'memcache' 'memcached'

printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$P_MQTT" >mosquitto.conf
start mosquitto /usr/sbin/mosquitto -c "$WORK/mosquitto.conf"
wait_port mosquitto 127.0.0.1 "$P_MQTT"
add mosquitto "127.0.0.1:$P_MQTT" 4 "$P_MQTT" 'mqtt|mosquitto' 'mosquitto (MQTT)'

if [[ $IS_ROOT == 1 ]]; then
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
    mkdir -p /run/sshd
    start sshd /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress=127.0.0.1 -o "Port=$P_SSH" \
        -o "HostKey=$WORK/hostkey" -o PidFile=none
    wait_port sshd 127.0.0.1 "$P_SSH"
    add sshd "127.0.0.1:$P_SSH" 4 "$P_SSH" 'ssh;openssh' 'OpenSSH sshd'
else
    echo "probe.sh: not root: no sshd" >&2
fi

mkdir -p pg
as_pg=()
if [[ $IS_ROOT == 1 ]]; then chown postgres:postgres pg; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust --no-sync \
    --encoding=UTF8 --locale=C >initdb.log 2>&1 || { show_log initdb; die "initdb failed"; }
start postgres "${as_pg[@]}" "$PGBIN/postgres" -D "$WORK/pg/data" -h 127.0.0.1 -p "$P_PG" -k "$WORK/pg"
wait_port postgres 127.0.0.1 "$P_PG"
add postgres "127.0.0.1:$P_PG" 4 "$P_PG" 'postgres' 'PostgreSQL'

mkdir -p nginx
cat >nginx/nginx.conf <<EOF
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server { listen 127.0.0.1:$P_NGINX; location / { return 200 "hello\n"; } }
}
EOF
start nginx /usr/sbin/nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log"
wait_port nginx 127.0.0.1 "$P_NGINX"
add nginx "127.0.0.1:$P_NGINX" 4 "$P_NGINX" 'http;nginx' 'nginx'

start silent python3 -u -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print("port", s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])  # accept, hold, never speak'
p=$(port_from silent 's/^port ([0-9]+).*/\1/p')
add silent "127.0.0.1:$p" 4 "$p" '-' 'a listener that accepts and never speaks'

mapfile -t TARGETS < <(cut -f2 "$MANIFEST")
PORTS4=$(awk -F'\t' '$3 == 4 {print $4}' "$MANIFEST" | paste -sd,)
PORTS6=$(awk -F'\t' '$3 == 6 {print $4}' "$MANIFEST" | paste -sd,)
echo "${#TARGETS[@]} targets up: ${TARGETS[*]}" >&2

if [[ $KEEP == 1 ]]; then
    echo "servers are up (targets above); press Enter to stop them" >&2
    read -r _ || true
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# The two tools

# ms_since T0: milliseconds since T0 (an $EPOCHREALTIME); no subprocess inside the timing.
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
PS_MS=""; NMAP_MS=""; PS_NOTE=""; NMAP_NOTE=""

if [[ $NO_PORTSCOPE != 1 ]]; then
    if [[ $NO_BUILD != 1 ]]; then
        echo "building portscope (cargo build --release) ..." >&2
        (cd "$REPO" && cargo build --release --quiet)
    fi
    BUILT=$REPO/target/release/portscope
    [[ -x $BUILT ]] || die "$BUILT not found (build failed?)"
    cp "$BUILT" "$WORK/portscope"   # a private copy: a concurrent build cannot swap it mid-run
    if "$WORK/portscope" probe --help >/dev/null 2>&1; then
        echo "timing: portscope probe (${#TARGETS[@]} targets) ..." >&2
        t0=$EPOCHREALTIME
        "$WORK/portscope" probe "${TARGETS[@]}" --json >portscope.json 2>portscope.err || true
        PS_MS=$(ms_since "$t0")
        [[ -s portscope.err ]] && { echo "portscope stderr:" >&2; head -20 portscope.err >&2; }
    else
        PS_NOTE="this portscope has no 'probe' command yet"
    fi
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
    echo "timing: nmap -sV (IPv4 and IPv6 scans at once; takes minutes) ..." >&2
    t0=$EPOCHREALTIME
    nmap -sV -Pn -n -p "$PORTS4" -oX nmap4.xml 127.0.0.1 >nmap4.txt 2>&1 &
    n4=$!
    n6=""
    if [[ -n $PORTS6 ]]; then
        nmap -6 -sV -Pn -n -p "$PORTS6" -oX nmap6.xml ::1 >nmap6.txt 2>&1 &
        n6=$!
    fi
    wait "$n4" || NMAP_NOTE="nmap (IPv4) failed: $(tail -1 nmap4.txt)"
    [[ -z $n6 ]] || wait "$n6" || NMAP_NOTE="nmap (IPv6) failed: $(tail -1 nmap6.txt)"
    NMAP_MS=$(ms_since "$t0")
else
    NMAP_NOTE="skipped (--no-nmap)"
fi

# ---------------------------------------------------------------------------------------------
# The report

echo "== machine"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpus:      $(nproc) x $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:    $(uname -r); user $(id -un)"
if [[ -x $WORK/portscope ]]; then
    echo "portscope: $("$WORK/portscope" --version) (git $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo '+uncommitted'))"
fi
command -v nmap >/dev/null && echo "nmap:      $(nmap --version | head -1)"
echo "servers:   python $(python3 -c 'import platform; print(platform.python_version())'), $(openssl version | cut -d' ' -f1-2)," \
    "java $(java -version 2>&1 | head -1 | cut -d'"' -f2), node $(node --version)," \
    "redis $(redis-server --version | sed -nE 's/.* v=([^ ]+).*/\1/p'), $(memcached -V)," \
    "mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | sed -nE '1s/.*version ([^ ]+).*/\1/p')," \
    "$(/usr/sbin/sshd -V 2>&1 | head -1 | cut -d, -f1), postgres $("$PGBIN/postgres" --version | awk '{print $3}')," \
    "$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')"
echo

python3 - "$MANIFEST" "$WORK" "${PS_MS:-}" "${NMAP_MS:-}" "$PS_NOTE" "$NMAP_NOTE" "$RESULTS_JSON" <<'PY'
import json, os, re, sys
import xml.etree.ElementTree as ET

manifest, work, ps_ms, nmap_ms, ps_note, nmap_note, out_json = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(manifest) if l.strip()]

# portscope: port -> (identified?, words); port -> its own elapsed_ms
ps, ps_elapsed = {}, {}
ps_file = os.path.join(work, "portscope.json")
if ps_ms and os.path.exists(ps_file):
    try:
        doc = json.load(open(ps_file))
        for r in doc.get("results", []):
            ident = r.get("identification")
            tls = r.get("tls") or {}
            if ident and ident.get("confidence") != "unknown":
                words = [ident.get("protocol"), ident.get("product"), ident.get("version")]
                if ident.get("auth"):
                    words.append("auth " + ident["auth"].replace("_", " "))
                words = " ".join(w for w in words if w)
                if tls.get("version"):
                    words += " [%s]" % tls["version"]
                ps[str(r.get("port"))] = (True, words)
            else:
                ps[str(r.get("port"))] = (False, "%s, unidentified" % r.get("state"))
            ps_elapsed[str(r.get("port"))] = r.get("elapsed_ms")
    except ValueError as e:
        ps_note = "bad JSON from portscope: %s" % e

# nmap: (family, port) -> (identified?, words)
nm = {}
for fam in ("4", "6"):
    path = os.path.join(work, "nmap%s.xml" % fam)
    if not (nmap_ms and os.path.exists(path)):
        continue
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        continue
    for port in root.iter("port"):
        state = port.find("state").get("state")
        svc = port.find("service")
        if svc is None:
            nm[(fam, port.get("portid"))] = (False, state)
            continue
        name = svc.get("name", "")
        if svc.get("tunnel"):
            name = svc.get("tunnel") + "/" + name
        words = " ".join(x for x in (name, svc.get("product"), svc.get("version"),
                                     svc.get("extrainfo")) if x)
        probed = svc.get("method") == "probed" and name not in ("unknown", "tcpwrapped")
        nm[(fam, port.get("portid"))] = (probed, words if probed else "%s (guess: %s)" % (state, words))

def right(expect, found):
    ok, words = found
    if expect == "-":
        return not ok
    return ok and all(re.search(alt, words, re.I) for alt in expect.split(";"))

table, counts = [], {"portscope": [0, 0], "nmap": [0, 0]}
ran = {"portscope": bool(ps_ms), "nmap": bool(nmap_ms)}
for name, target, fam, port, expect, what in rows:
    found = {"portscope": ps.get(port, (False, "no result")),
             "nmap": nm.get((fam, port), (False, "no result"))}
    entry = {"name": name, "target": target, "what": what}
    for tool in ("portscope", "nmap"):
        if not ran[tool]:
            entry[tool] = None
            continue
        ok, said = found[tool]
        entry[tool] = {"identified": ok, "said": said, "right": right(expect, found[tool])}
        if tool == "portscope" and ps_elapsed.get(port) is not None:
            entry[tool]["ms"] = ps_elapsed[port]
        counts[tool][0] += ok
        counts[tool][1] += entry[tool]["right"]
    table.append(entry)

def cell(e):
    if e is None:
        return "n/a"
    mark = "ok" if e["right"] else "WRONG" if e["identified"] else "-"
    ms = " (%.0f ms)" % e["ms"] if "ms" in e else ""
    return "%s %s%s" % (mark, e["said"], ms)

w1 = max(len(e["target"]) for e in table)
w2 = max(len(e["what"]) for e in table)
w3 = max(12, max(len(cell(e["portscope"])) for e in table))
print("%-*s  %-*s  %-*s  %s" % (w1, "TARGET", w2, "WHAT RUNS THERE", w3, "PORTSCOPE PROBE", "NMAP -sV"))
for e in table:
    print("%-*s  %-*s  %-*s  %s" % (w1, e["target"], w2, e["what"], w3, cell(e["portscope"]), cell(e["nmap"])))
print()
n = len(table)
print("(ok = right, WRONG = identified as something else, - = not identified; right = every")
print(" regex of the row matches the tool's words; the silent listener is right when unidentified)")
for tool in ("portscope", "nmap"):
    if ran[tool]:
        print("%-9s identified %2d/%d, right %2d/%d" % (tool, counts[tool][0], n, counts[tool][1], n))
fmt = lambda ms: "%.1f ms" % float(ms) if ms else "n/a"
print("wall time: portscope %s, nmap %s" % (fmt(ps_ms), fmt(nmap_ms)))
ratio = None
if ps_ms and nmap_ms:
    ratio = float(ps_ms) / float(nmap_ms)
    more = counts["portscope"][1] > counts["nmap"][1]
    print("ratio portscope/nmap: %.4f (target <= 0.01: %s); portscope right on more ports: %s" % (
        ratio, "PASS" if ratio <= 0.01 else "MISS", "yes" if more else "NO"))
for note in (ps_note, nmap_note):
    if note:
        print("note: " + note)
if out_json:
    json.dump({"rows": table, "counts": counts, "portscope_ms": float(ps_ms) if ps_ms else None,
               "nmap_ms": float(nmap_ms) if nmap_ms else None, "ratio": ratio}, open(out_json, "w"), indent=1)
PY
