# bench/probe/services.sh - directory, file-sharing, queue and developer daemons (LDAP, SMB,
# memcached binary/SASL, ZooKeeper, rsync, beanstalkd, git daemon, epmd and an Erlang node,
# gdbserver, VNC); sourced by bench/probe.sh after start.sh. Each is skipped (and listed) when
# its package is missing.

if have slapd /usr/sbin/slapd slapd; then
    mkdir -p slapd/db
    P=$(free_ports 1)
    cat >slapd/slapd.conf <<CONF
include /etc/ldap/schema/core.schema
pidfile $WORK/slapd/slapd.pid
argsfile $WORK/slapd/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=portscope,dc=test"
rootdn "cn=admin,dc=portscope,dc=test"
directory $WORK/slapd/db
CONF
    start slapd /usr/sbin/slapd -h "ldap://127.0.0.1:$P/" -f "$WORK/slapd/slapd.conf" -d 0
    wait_port slapd 127.0.0.1 "$P"
    add slapd "127.0.0.1:$P" 4 "$P" tcp '^ldap$' 'openldap' - n - 'slapd (OpenLDAP), anonymous RootDSE'
fi

# smbd NAME SIGNING: a Samba server on 127.0.0.1 only, all its state in $WORK/NAME.
smbd_on() {
    local name=$1 signing=$2 d=$WORK/$1 sub P
    mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc}
    P=$(free_ports 1)
    {
        printf '[global]\n  smb ports = %s\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n' "$P"
        printf '  private dir = %s/private\n  lock directory = %s/lock\n  state directory = %s/state\n' "$d" "$d" "$d"
        printf '  cache directory = %s/cache\n  pid directory = %s/pid\n  ncalrpc dir = %s/ncalrpc\n' "$d" "$d" "$d"
        printf '  log file = %s/smbd-%%m.txt\n  load printers = no\n  printcap name = /dev/null\n  disable spoolss = yes\n' "$d"
        [[ $signing == y ]] && printf '  server signing = mandatory\n'
    } >"$d/smb.conf"
    start "$name" /usr/sbin/smbd --foreground --no-process-group --debug-stdout -s "$d/smb.conf"
    wait_port "$name" 127.0.0.1 "$P" 30
    add "$name" "127.0.0.1:$P" 4 "$P" tcp '^smb|microsoft-ds|netbios-ssn' 'samba' - n - "smbd (Samba)$([[ $signing == y ]] && echo ', signing mandatory')"
}
if [[ $IS_ROOT == 1 ]] && have smbd /usr/sbin/smbd samba; then
    smbd_on smbd n
    smbd_on smbd-signing y
elif [[ $IS_ROOT != 1 ]]; then
    SKIPPED+=("smbd (needs root)")
fi

if have memcached-binary memcached memcached; then
    read -r P P2 <<<"$(free_ports 2)"
    start memcached-binary memcached -l 127.0.0.1 -p "$P" -U 0 -B binary "${mc_user[@]}"
    wait_port memcached-binary 127.0.0.1 "$P"
    add memcached-binary "127.0.0.1:$P" 4 "$P" tcp 'memcache' 'memcache' "$MCV" n not_required 'memcached -B binary (no text protocol)'
    mkdir -p mc-sasl && chmod 755 mc-sasl
    printf 'mech_list: plain\nsasldb_path: %s/mc-sasl/sasldb2\n' "$WORK" >mc-sasl/memcached.conf
    start memcached-sasl env SASL_CONF_PATH="$WORK/mc-sasl" memcached -l 127.0.0.1 -p "$P2" -U 0 -S "${mc_user[@]}"
    wait_port memcached-sasl 127.0.0.1 "$P2"
    add memcached-sasl "127.0.0.1:$P2" 4 "$P2" tcp 'memcache' 'memcache' "$MCV" n required 'memcached -S (SASL: answers nothing in text)'
fi

if have zookeeper /usr/share/zookeeper/bin/zkServer.sh zookeeper; then
    P=$(free_ports 1)
    mkdir -p zk
    printf 'tickTime=2000\ndataDir=%s/zk/data\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n' "$WORK" "$P" >zk/zoo.cfg
    start zookeeper java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
        org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk/zoo.cfg"
    wait_port zookeeper 127.0.0.1 "$P" 60
    # Listening is not serving: it answers "not currently serving" until its database is loaded.
    for _ in $(seq 200); do
        [[ $(python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.sendall(b"srvr"); print(s.recv(4096).decode(errors="replace"))' "$P" 2>/dev/null) == Zookeeper* ]] && break
        sleep 0.1
    done
    add zookeeper "127.0.0.1:$P" 4 "$P" tcp 'zookeeper' 'zookeeper' "$(re "$(upstream zookeeper)")" n - 'ZooKeeper (standalone)'
fi

if have rsyncd rsync rsync; then
    P=$(free_ports 1)
    mkdir -p rsync/module
    printf 'use chroot = no\n[portscope]\n  path = %s/rsync/module\n  read only = yes\n' "$WORK" >rsync/rsyncd.conf
    start rsyncd rsync --daemon --no-detach --address 127.0.0.1 --port "$P" --config "$WORK/rsync/rsyncd.conf"
    wait_port rsyncd 127.0.0.1 "$P"
    add rsyncd "127.0.0.1:$P" 4 "$P" tcp '^rsync' - - n - 'rsync --daemon'
fi

if have beanstalkd beanstalkd beanstalkd; then
    P=$(free_ports 1)
    start beanstalkd beanstalkd -l 127.0.0.1 -p "$P"
    wait_port beanstalkd 127.0.0.1 "$P"
    add beanstalkd "127.0.0.1:$P" 4 "$P" tcp 'beanstalk' 'beanstalk' "$(re "$(upstream beanstalkd)")" n not_required 'beanstalkd'
fi

if have git-daemon git git; then
    P=$(free_ports 1)
    mkdir -p git-base
    start git-daemon git daemon --export-all --reuseaddr --listen=127.0.0.1 --port="$P" --base-path="$WORK/git-base"
    wait_port git-daemon 127.0.0.1 "$P"
    add git-daemon "127.0.0.1:$P" 4 "$P" tcp '^git' - - n - 'git daemon'
fi

if have epmd epmd erlang-base && have erlang-node erl erlang-base; then
    P=$(free_ports 1)
    start epmd epmd -port "$P" -address 127.0.0.1
    wait_port epmd 127.0.0.1 "$P"
    add epmd "127.0.0.1:$P" 4 "$P" tcp 'epmd' - - n - 'epmd (Erlang port mapper), one node registered'
    mkdir -p erl-home
    start erlang-node env ERL_EPMD_PORT="$P" HOME="$WORK/erl-home" \
        erl -sname portscope_bench -setcookie portscope-bench -noshell -start_epmd false \
        -kernel inet_dist_use_interface '{127,0,0,1}' -eval 'timer:sleep(3600000)'
    node_port=""
    for _ in $(seq 300); do
        node_port=$(ERL_EPMD_PORT=$P epmd -names 2>/dev/null | sed -nE 's/^name portscope_bench at port ([0-9]+).*/\1/p')
        [[ -n $node_port ]] && break
        sleep 0.05
    done
    [[ -n $node_port ]] || { show_log erlang-node; die "the Erlang node did not register with epmd"; }
    add erlang-dist "127.0.0.1:$node_port" 4 "$node_port" tcp 'erlang|epmd-dist|distribution' - - n - 'an Erlang node (distribution port)'
fi

if have gdbserver gdbserver gdbserver; then
    P=$(free_ports 1)
    start gdbserver gdbserver "127.0.0.1:$P" /bin/sleep 3600
    wait_port gdbserver 127.0.0.1 "$P"
    add gdbserver "127.0.0.1:$P" 4 "$P" tcp 'gdb' - - n - 'gdbserver (multi-session) debugging sleep'
fi

if have xvnc Xvnc tigervnc-standalone-server; then
    P=$(free_ports 1)
    display=""
    for n in $(seq 150 250); do
        [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] || { display=$n; break; }
    done
    start xvnc Xvnc ":$display" -rfbport "$P" -interface 127.0.0.1 -SecurityTypes None -nolisten tcp
    wait_port xvnc 127.0.0.1 "$P"
    add xvnc "127.0.0.1:$P" 4 "$P" tcp 'vnc' - - n not_required 'Xvnc (TigerVNC), no authentication'
fi

start late-vnc python3 -u -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("port", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    try:
        time.sleep(0.2); c.sendall(b"RFB 003.008\n"); c.settimeout(1.0); c.recv(4096)
    except OSError:
        pass
    c.close()'
p=$(port_from late-vnc 's/^port ([0-9]+).*/\1/p')
add late-vnc "127.0.0.1:$p" 4 "$p" tcp 'vnc' - - n - 'a VNC server that greets 200 ms after the accept (python)'
