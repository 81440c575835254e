# bench/probe/udp.sh - UDP services (DNS, SNMP, NTP, STUN, CoAP) and a closed UDP port; sourced
# by bench/probe.sh after start.sh. nmap scans these with -sU.

if have dnsmasq dnsmasq dnsmasq-base; then
    P=$(free_ports 1)
    dns_user=(); [[ $IS_ROOT == 1 ]] && dns_user=(--user=root)
    start dnsmasq dnsmasq -k -p "$P" --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
        --no-hosts -C /dev/null --pid-file "${dns_user[@]}"
    wait_udp dnsmasq "$P"
    wait_port dnsmasq 127.0.0.1 "$P"
    DNSV=$(re "$(upstream dnsmasq-base)")
    add dnsmasq-udp "127.0.0.1:$P/udp" 4 "$P" udp '^dns|domain' 'dnsmasq' "$DNSV" n - 'dnsmasq (DNS over UDP)'
    add dnsmasq-tcp "127.0.0.1:$P" 4 "$P" tcp '^dns|domain' 'dnsmasq' "$DNSV" n - 'dnsmasq (DNS over TCP, the same port)'
fi

if have snmpd snmpd snmpd; then
    P=$(free_ports 1 udp)
    mkdir -p snmpd
    echo 'rocommunity public 127.0.0.1' >snmpd/snmpd.conf
    start snmpd env SNMP_PERSISTENT_DIR="$WORK/snmpd" MIBS= snmpd -f -Lo -C -c "$WORK/snmpd/snmpd.conf" \
        -p "$WORK/snmpd/snmpd.pid" "udp:127.0.0.1:$P"
    wait_udp snmpd "$P"
    add snmpd "127.0.0.1:$P/udp" 4 "$P" udp '^snmp' 'net-snmp' - n not_required 'snmpd (Net-SNMP), community public'
fi

if have chronyd chronyd chrony; then
    P=$(free_ports 1 udp)
    mkdir -p chrony
    printf 'port %s\nbindaddress 127.0.0.1\nallow 127.0.0.1\ncmdport 0\npidfile %s/chrony/chronyd.pid\n' "$P" "$WORK" >chrony/chrony.conf
    start chronyd chronyd -d -x -f "$WORK/chrony/chrony.conf"
    wait_udp chronyd "$P"
    add chronyd "127.0.0.1:$P/udp" 4 "$P" udp '^ntp' - '^4' n - 'chronyd (NTP server, no sources)'
fi

if have coturn turnserver coturn; then
    P=$(free_ports 1 udp)
    mkdir -p coturn
    start coturn turnserver -n --listening-ip 127.0.0.1 --listening-port "$P" --no-tls --no-dtls \
        --no-cli --log-file stdout --pidfile "$WORK/coturn/turnserver.pid" --db "$WORK/coturn/turndb"
    wait_udp coturn "$P"
    add coturn "127.0.0.1:$P/udp" 4 "$P" udp 'stun|turn' 'coturn' "$(re "$(upstream coturn)")" n - 'coturn (STUN/TURN over UDP)'
fi

if have coap coap-server-notls libcoap3-bin; then
    P=$(free_ports 1 udp)
    start coap coap-server-notls -A 127.0.0.1 -p "$P"
    wait_udp coap "$P"
    add coap "127.0.0.1:$P/udp" 4 "$P" udp '^coap' - - n - 'coap-server (libcoap example server)'
fi

P=$(free_ports 1 udp)
add udp-closed "127.0.0.1:$P/udp" 4 "$P" udp - - - n - 'a UDP port nobody has bound (closed)'
