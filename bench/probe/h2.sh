# bench/probe/h2.sh - HTTP/2 and gRPC: nghttpd in clear text (prior knowledge) and over TLS,
# nginx with http2 on a TLS port, and a Python gRPC server (grpcio from PyPI: the interpreter
# in PORTSCOPE_PYPI_PYTHON, else target/ci-pypi's, else python3) with reflection, without, and
# over TLS; sourced by bench/probe.sh after start.sh (uses cert.pem/key.pem from base.sh).

if have nghttpd nghttpd nghttp2-server; then
    NGHV=$(re "$(upstream nghttp2-server)")
    mkdir -p htdocs && echo '<title>portscope h2 bench</title>' >htdocs/index.html
    read -r P P2 <<<"$(free_ports 2)"
    start nghttpd-h2c nghttpd -d "$WORK/htdocs" --address=127.0.0.1 "$P" --no-tls
    wait_port nghttpd-h2c 127.0.0.1 "$P"
    add nghttpd-h2c "127.0.0.1:$P" 4 "$P" tcp '^http2$|^h2c?$|http2' 'nghttpd|nghttp2' "$NGHV" n - 'nghttpd, HTTP/2 in clear text (prior knowledge)'
    start nghttpd-tls nghttpd -d "$WORK/htdocs" --address=127.0.0.1 "$P2" "$WORK/key.pem" "$WORK/cert.pem"
    wait_port nghttpd-tls 127.0.0.1 "$P2"
    add nghttpd-tls "127.0.0.1:$P2" 4 "$P2" tcp 'https|ssl/http|http2' 'nghttpd|nghttp2' "$NGHV" y - 'nghttpd over TLS (ALPN h2 only)'
fi

P=$(free_ports 1)
nginx_on nginx-h2 "$P" "ssl http2"
add nginx-h2 "127.0.0.1:$P" 4 "$P" tcp 'https|ssl/http' 'nginx' "$(re "$(upstream nginx)")" y - 'nginx with http2 on a TLS port'

GRPC_PY=""
for py in "${PORTSCOPE_PYPI_PYTHON:-}" "$REPO/target/ci-pypi/bin/python" python3; do
    [[ -n $py ]] || continue
    if "$py" -c 'import grpc, grpc_health.v1.health, grpc_reflection.v1alpha.reflection' 2>/dev/null; then
        GRPC_PY=$py; break
    fi
done
if [[ -n $GRPC_PY ]]; then
    cp "$REPO/tests/fixtures/servers/grpc_server.py" grpc_server.py  # the tests' server
    GRPCV=$(re "$("$GRPC_PY" -c 'import grpc; print(grpc.__version__)')")
    start grpc-reflection "$GRPC_PY" -u grpc_server.py reflection
    p=$(port_from grpc-reflection 's/^listening on port ([0-9]+).*/\1/p')
    add grpc-reflection "127.0.0.1:$p" 4 "$p" tcp 'grpc' - - n - 'a gRPC server (Python grpcio) with reflection'
    start grpc-plain "$GRPC_PY" -u grpc_server.py none
    p=$(port_from grpc-plain 's/^listening on port ([0-9]+).*/\1/p')
    add grpc-plain "127.0.0.1:$p" 4 "$p" tcp 'grpc' - - n - 'a gRPC server (Python grpcio) without reflection'
    start grpc-tls "$GRPC_PY" -u grpc_server.py reflection "$WORK/key.pem" "$WORK/cert.pem"
    p=$(port_from grpc-tls 's/^listening on port ([0-9]+).*/\1/p')
    add grpc-tls "127.0.0.1:$p" 4 "$p" tcp 'grpc' - - y - 'a gRPC server (Python grpcio) over TLS, with reflection'
else
    SKIPPED+=("grpc servers (needs grpcio, grpcio-health-checking, grpcio-reflection from PyPI)")
fi
