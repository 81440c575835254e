# bench/probe/conf.sh - what tests confidence: a Redis-protocol server that is not Redis
# (fakeredis from PyPI), debug adapters and a language server (debugpy, pylsp), a proxy in
# front of a backend (Varnish before python's http.server), a /metrics that is not Prometheus
# (etcd), a websocket server; sourced by bench/probe.sh after start.sh and h2.sh (uses the
# PyPI interpreter h2.sh found, and www/ from base.sh).

FAKEREDIS_PY=""
for py in "${PORTSCOPE_PYPI_PYTHON:-}" "$REPO/target/ci-pypi/bin/python" python3; do
    [[ -n $py ]] || continue
    if "$py" -c 'from fakeredis import TcpFakeServer' 2>/dev/null; then FAKEREDIS_PY=$py; break; fi
done
if [[ -n $FAKEREDIS_PY ]]; then
    start fakeredis "$FAKEREDIS_PY" -u -c '
from fakeredis import TcpFakeServer
s = TcpFakeServer(("127.0.0.1", 0))
print("port", s.server_address[1], flush=True)
s.serve_forever()'
    p=$(port_from fakeredis 's/^port ([0-9]+).*/\1/p')
    # The truth: it speaks Redis's protocol and is not Redis: a product "Redis" is wrong.
    add fakeredis "127.0.0.1:$p" 4 "$p" tcp '^redis$' '^(?!redis)' - n not_required 'fakeredis (PyPI): the Redis protocol, not Redis'
else
    SKIPPED+=("fakeredis (needs fakeredis from PyPI)")
fi

if /usr/bin/python3 -c 'import debugpy' 2>/dev/null; then
    P=$(free_ports 1)
    start debugpy env PYDEVD_DISABLE_FILE_VALIDATION=1 /usr/bin/python3 -m debugpy --listen "127.0.0.1:$P" -c 'import time; time.sleep(3600)'
    wait_listener debugpy "$P"
    # Its adapter runs in a session of its own: killed by pid at the end (after nmap's
    # probes it was once left spinning when only the program it debugs was killed).
    DETACHED+=($(ss -Htlnp "sport = :$P" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u))
    add debugpy "127.0.0.1:$P" 4 "$P" tcp '^dap$' 'debugpy' - n - 'debugpy (Debug Adapter Protocol)'
else
    SKIPPED+=("debugpy (needs debugpy for /usr/bin/python3, package python3-debugpy)")
fi

if have pylsp pylsp python3-pylsp; then
    P=$(free_ports 1)
    mkdir -p pylsp-home
    start pylsp env HOME="$WORK/pylsp-home" pylsp --tcp --host 127.0.0.1 --port "$P"
    wait_port pylsp 127.0.0.1 "$P" 30
    add pylsp "127.0.0.1:$P" 4 "$P" tcp '^lsp$' - - n - 'pylsp (a language server over TCP)'
fi

if have varnish varnishd varnish; then
    start varnish-backend python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www"
    b=$(port_from varnish-backend 's/^Serving HTTP on .* port ([0-9]+).*/\1/p')
    P=$(free_ports 1)
    start varnish varnishd -F -n "$WORK/varnish" -b "127.0.0.1:$b" -s malloc,16m -a "127.0.0.1:$P"
    wait_port varnish 127.0.0.1 "$P" 30
    add varnish "127.0.0.1:$P" 4 "$P" tcp '^http$' 'varnish' "$(re "$(upstream varnish | cut -d. -f1-2)")" n - 'Varnish in front of python3 -m http.server'
fi

if have etcd etcd etcd-server; then
    read -r P PEER <<<"$(free_ports 2)"
    start etcd etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$P" \
        --advertise-client-urls "http://127.0.0.1:$P" --listen-peer-urls "http://127.0.0.1:$PEER" \
        --initial-advertise-peer-urls "http://127.0.0.1:$PEER" --initial-cluster "default=http://127.0.0.1:$PEER"
    wait_port etcd 127.0.0.1 "$P" 30
    # The truth: an HTTP API with a Prometheus-format /metrics; etcd is not Prometheus.
    add etcd "127.0.0.1:$P" 4 "$P" tcp '^http$|etcd' '^(?!prometheus)' - n - 'etcd (client port, with /metrics)'
fi

if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    start websockets /usr/bin/python3 -u -c '
import asyncio, websockets
async def echo(ws, path=None):
    async for m in ws: await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0) as s:
        print("port", s.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(3600)
asyncio.run(main())'
    p=$(port_from websockets 's/^port ([0-9]+).*/\1/p')
    add websockets "127.0.0.1:$p" 4 "$p" tcp '^http$|websocket' 'websockets' - n - 'a websocket server (python3-websockets)'
else
    SKIPPED+=("websockets (needs python3-websockets)")
fi
