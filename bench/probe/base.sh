# bench/probe/base.sh - the first 16 endpoints: web servers, debuggers, data stores, sshd; sourced
# by bench/probe.sh after start.sh.

read -r P_JDWP P_REDIS P_REDIS_PW P_MC P_MQTT P_SSH P_PG P_NGINX <<<"$(free_ports 8)"
PYV=$(re "$(python3 -c 'import platform; print(platform.python_version())')")

mkdir -p www && echo '<title>portscope bench</title>' >www/index.html
start http4 python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www"
p=$(port_from http4 's/^Serving HTTP on .* port ([0-9]+).*/\1/p')
add http4 "127.0.0.1:$p" 4 "$p" tcp '^http$' 'python|simplehttp' "$PYV|^0\\.6" n - 'python3 -m http.server (127.0.0.1)'

start http6 python3 -u -m http.server 0 --bind ::1 --directory "$WORK/www"
p=$(port_from http6 's/^Serving HTTP on .* port ([0-9]+).*/\1/p')
add http6 "[::1]:$p" 6 "$p" tcp '^http$' 'python|simplehttp' "$PYV|^0\\.6" n - 'python3 -m http.server (::1 only)'

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=portscope-test \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 \
    -keyout key.pem -out cert.pem >openssl-req.log 2>&1 || { show_log openssl-req; die "openssl req failed"; }
start tls openssl s_server -accept 127.0.0.1:0 -www -cert cert.pem -key key.pem
p=$(port_from tls 's/^ACCEPT 127\.0\.0\.1:([0-9]+).*/\1/p')
add tls "127.0.0.1:$p" 4 "$p" tcp 'https|ssl/http' 'openssl|s_server' - y - 'openssl s_server -www (TLS, self-signed)'

JAVAV=$(re "$(java -version 2>&1 | head -1 | cut -d'"' -f2 | cut -d. -f1)")
printf 'public class Sleep {\n  public static void main(String[] a) throws Exception { Thread.sleep(3600_000); }\n}\n' >Sleep.java
# Not address=…:0: after each debugger session the agent listens anew on that address, so a
# JVM on port 0 moves to another port whenever someone connects.
start jdwp java -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:$P_JDWP Sleep.java
port_from jdwp 's/^Listening for transport dt_socket at address: ([0-9]+).*/\1/p' >/dev/null  # not wait_port: a connection is a session
add jdwp "127.0.0.1:$P_JDWP" 4 "$P_JDWP" tcp 'jdwp' - - n - 'java -agentlib:jdwp (JVM side)'

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
add jdwp-debugger "127.0.0.1:$p" 4 "$p" tcp 'jdwp' - - n - 'debugger waiting for a JVM (JDWP-Handshake first)'

NODEV=$(re "$(node --version | tr -d v)")
start node1 node --inspect=127.0.0.1:0 -e 'setInterval(() => {}, 1e6)'
p=$(port_from node1 's|^Debugger listening on ws://127\.0\.0\.1:([0-9]+)/.*|\1|p')
add node-inspector "127.0.0.1:$p" 4 "$p" tcp 'inspector|devtools' 'node' "$NODEV" n not_required 'node --inspect'

start node2 node --inspect=127.0.0.1:0 -e '
require("http").createServer((q, r) => r.end("hi\n"))
  .listen(0, "127.0.0.1", function () { console.log("HTTP " + this.address().port); });'
p=$(port_from node2 's|^Debugger listening on ws://127\.0\.0\.1:([0-9]+)/.*|\1|p')
add node-inspector-2 "127.0.0.1:$p" 4 "$p" tcp 'inspector|devtools' 'node' "$NODEV" n not_required 'node --inspect (a second one, in a web app)'
p=$(port_from node2 's/^HTTP ([0-9]+)$/\1/p')
add node-http "127.0.0.1:$p" 4 "$p" tcp '^http$' - - n - 'node http.createServer (the same process)'

REDISV=$(re "$(upstream redis-server)")
start redis redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK"
wait_port redis 127.0.0.1 "$P_REDIS"
add redis "127.0.0.1:$P_REDIS" 4 "$P_REDIS" tcp '^redis$' '^redis' "$REDISV" n not_required 'redis-server (no password)'

mkdir -p redis-pw
start redis-pw redis-server --port "$P_REDIS_PW" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK/redis-pw" --requirepass bench-secret
wait_port redis-pw 127.0.0.1 "$P_REDIS_PW"
add redis-auth "127.0.0.1:$P_REDIS_PW" 4 "$P_REDIS_PW" tcp '^redis$' - - n required 'redis-server --requirepass'

mc_user=(); [[ $IS_ROOT == 1 ]] && mc_user=(-u nobody)
MCV=$(re "$(upstream memcached)")
start memcached memcached -l 127.0.0.1 -p "$P_MC" -U 0 "${mc_user[@]}"
wait_port memcached 127.0.0.1 "$P_MC"
add memcached "127.0.0.1:$P_MC" 4 "$P_MC" tcp 'memcache' 'memcache' "$MCV" n not_required 'memcached'

printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$P_MQTT" >mosquitto.conf
start mosquitto /usr/sbin/mosquitto -c "$WORK/mosquitto.conf"
wait_port mosquitto 127.0.0.1 "$P_MQTT"
add mosquitto "127.0.0.1:$P_MQTT" 4 "$P_MQTT" tcp 'mqtt' - - n not_required 'mosquitto (MQTT)'

if [[ $IS_ROOT == 1 ]]; then
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
    mkdir -p /run/sshd
    start sshd /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress=127.0.0.1 -o "Port=$P_SSH" \
        -o "HostKey=$WORK/hostkey" -o PidFile=none
    wait_port sshd 127.0.0.1 "$P_SSH"
    add sshd "127.0.0.1:$P_SSH" 4 "$P_SSH" tcp '^ssh$' 'openssh' "$(re "$(upstream openssh-server)")" n - 'OpenSSH sshd'
else
    SKIPPED+=("sshd (needs root)")
fi

mkdir -p pg
as_pg=()
if [[ $IS_ROOT == 1 ]]; then chown postgres:postgres pg; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust --no-sync \
    --encoding=UTF8 --locale=C >initdb.log 2>&1 || { show_log initdb; die "initdb failed"; }
start postgres "${as_pg[@]}" "$PGBIN/postgres" -D "$WORK/pg/data" -h 127.0.0.1 -p "$P_PG" -k "$WORK/pg"
wait_port postgres 127.0.0.1 "$P_PG"
add postgres "127.0.0.1:$P_PG" 4 "$P_PG" tcp 'postgres' - - n - 'PostgreSQL'

nginx_on nginx "$P_NGINX" ""
add nginx "127.0.0.1:$P_NGINX" 4 "$P_NGINX" tcp '^http$' 'nginx' "$(re "$(upstream nginx)")" n - 'nginx'

start silent python3 -u -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print("port", s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])  # accept, hold, never speak'
p=$(port_from silent 's/^port ([0-9]+).*/\1/p')
add silent "127.0.0.1:$p" 4 "$p" tcp - - - n - 'a listener that accepts and never speaks'
