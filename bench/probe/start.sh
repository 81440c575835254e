# bench/probe/start.sh - starting servers for bench/probe.sh; sourced, never run.
#
# The sourcing script sets WORK (scratch dir, the cwd), PGIDS=() and defines die().

# start NAME CMD...: CMD in a new session (its own process group), output to NAME.log; sets PID.
start() {
    local name=$1; shift
    setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    PID=$!
    PGIDS+=("$PID")
}

# show_log NAME: the end of a server's output, for failures.
show_log() { echo "--- $1.log:" >&2; tail -20 "$WORK/$1.log" >&2 || true; }

# port_from NAME SED_EXPR: wait (15 s) until sed -nE SED_EXPR prints a port from NAME.log.
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

# group_pids: the pids of $PID's process group (setsid: pgid = $PID).
group_pids() { ps -o pid= -g "$PID" 2>/dev/null | tr -d ' '; }

# owns_port L4 PORT: the socket on PORT (tcp: listening; udp: bound) belongs to $PID's process
# group (a port handed out by free_ports can meanwhile be taken by a server that bound port 0).
owns_port() {
    local flag=-Htlnp p
    [[ $1 == udp ]] && flag=-Hulnp
    local mine; mine=" $(group_pids | tr '\n' ' ') "
    for p in $(ss "$flag" "sport = :$2" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        [[ $mine == *" $p "* ]] && return 0
    done
    return 1
}

# wait_port NAME HOST PORT [SECONDS]: wait until HOST:PORT accepts a connection, held by NAME.
wait_port() {
    local name=$1 host=$2 port=$3 tries=$(( ${4:-15} * 20 ))
    for _ in $(seq "$tries"); do
        if owns_port tcp "$port" && (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return; fi
        kill -0 "$PID" 2>/dev/null || { show_log "$name"; die "$name exited before it was ready"; }
        sleep 0.05
    done
    show_log "$name"; die "$name not listening on $host:$port within ${4:-15} s"
}

# wait_listener NAME PORT: wait (30 s) until anything listens on 127.0.0.1:PORT, without
# connecting (debugpy's adapter listens in a session of its own; a connection would be a
# debug session).
wait_listener() {
    local name=$1 port=$2
    for _ in $(seq 600); do
        [[ -n $(ss -Htln "sport = :$port") ]] && return
        kill -0 "$PID" 2>/dev/null || { show_log "$name"; die "$name exited before it was ready"; }
        sleep 0.05
    done
    show_log "$name"; die "$name not listening on 127.0.0.1:$port within 30 s"
}

# wait_udp NAME PORT: wait (15 s) until NAME has bound PORT/udp.
wait_udp() {
    local name=$1 port=$2
    for _ in $(seq 300); do
        owns_port udp "$port" && return
        kill -0 "$PID" 2>/dev/null || { show_log "$name"; die "$name exited before it was ready"; }
        sleep 0.05
    done
    show_log "$name"; die "$name did not bind 127.0.0.1:$port/udp within 15 s"
}

# free_ports N [udp]: N distinct ports free right now (held together, then released). The
# servers that get them cannot bind port 0 themselves; a lost race shows up as a failed start.
free_ports() {
    python3 -c '
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[2] == "udp" else socket.SOCK_STREAM
socks = [socket.socket(socket.AF_INET, kind) for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1" "${2:-tcp}"
}

# nginx_on NAME PORT OPTIONS: nginx answering `hello` on / at 127.0.0.1:PORT (OPTIONS after
# the listen address: "" or "ssl" or "ssl http2"; with ssl, $WORK/cert.pem and key.pem), all
# its files in $WORK/NAME; waits for its port.
nginx_on() {
    local name=$1 port=$2 options=$3 d=$WORK/$1 certificate=""
    mkdir -p "$d"
    [[ $options == *ssl* ]] && certificate="ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;"
    cat >"$d/nginx.conf" <<CONF
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  server {
    listen 127.0.0.1:$port $options;
    $certificate
    location / { return 200 "hello\n"; }
  }
}
CONF
    start "$name" /usr/sbin/nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log"
    wait_port "$name" 127.0.0.1 "$port"
}

# have NAME TOOL PACKAGE: true when TOOL is installed (a path or a command); else records
# "NAME (needs TOOL, package PACKAGE)" in SKIPPED and is false.
have() {
    if [[ $2 == /* ]] && [[ -x $2 ]]; then return 0; fi
    if [[ $2 != /* ]] && command -v "$2" >/dev/null; then return 0; fi
    SKIPPED+=("$1 (needs $2, package $3)")
    return 1
}

# upstream PACKAGE: the package's upstream version (no epoch, no Debian revision), for the
# expected-version column.
upstream() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[-~+][^.]*$//; s/\+.*$//; s/-[^-]*$//'; }

# re VERSION: VERSION as a regex anchored at the start (dots escaped).
re() { [[ -n $1 ]] && printf '^%s' "${1//./\\.}"; }

# The manifest: one line per endpoint:
#   name target family(4|6) port l4(tcp|udp) protocol-regex product-regex version-regex
#   tls(y|n) auth(required|not_required|-) what
# An empty regex (written "-") means "not scored"; protocol "-" means nothing should be
# identified (a silent listener).
add() {
    local f
    for f in "$@"; do [[ $f == *$'\t'* ]] && die "manifest field with a tab: $f"; done
    (( $# == 11 )) || die "add: 11 fields expected, got $#: $*"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MANIFEST"
}
