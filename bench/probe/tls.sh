# bench/probe/tls.sh - protocols inside TLS: dovecot IMAPS and POP3S, Exim SMTPS, vsftpd
# implicit FTPS, slapd LDAPS, memcached -Z, and nginx and Apache with TLS on a port that gets
# a plain request first; sourced by bench/probe.sh after start.sh (uses cert.pem/key.pem from
# base.sh). Mail and FTP daemons need root.

chmod 644 key.pem
if [[ $IS_ROOT == 1 ]] && have dovecot-imaps dovecot dovecot-core && have dovecot-imaps /usr/lib/dovecot/imap-login dovecot-imapd; then
    # dovecot_on NAME PROTOCOL LISTENER
    dovecot_on() {
        local d=$WORK/$1 P
        mkdir -p "$d" && : >"$d/passwd"
        P=$(free_ports 1)
        cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = $2
listen = 127.0.0.1
ssl = required
ssl_cert = <$WORK/cert.pem
ssl_key = <$WORK/key.pem
passdb {
  driver = passwd-file
  args = $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home
}
mail_location = maildir:$d/home/mail
service $2-login {
  inet_listener $2 {
    port = 0
  }
  inet_listener $3 {
    port = $P
    ssl = yes
  }
}
CONF
        start "$1" dovecot -F -c "$d/dovecot.conf"
        wait_port "$1" 127.0.0.1 "$P"
        add "$1" "127.0.0.1:$P" 4 "$P" tcp "$3" 'dovecot' - y - "dovecot $3 (TLS from the first byte)"
    }
    dovecot_on dovecot-imaps imap imaps
    [[ -x /usr/lib/dovecot/pop3-login ]] && dovecot_on dovecot-pop3s pop3 pop3s
fi

if [[ $IS_ROOT == 1 ]] && have exim-smtps exim4 exim4-daemon-light; then
    P=$(free_ports 1)
    mkdir -p exim/spool
    cat >exim/exim.conf <<CONF
primary_hostname = portscope.test
spool_directory = $WORK/exim/spool
log_file_path = $WORK/exim/exim-%s.log
pid_file_path = $WORK/exim/exim.pid
daemon_smtp_ports = $P
local_interfaces = 127.0.0.1
tls_on_connect_ports = $P
tls_certificate = $WORK/cert.pem
tls_privatekey = $WORK/key.pem
tls_advertise_hosts = *
rfc1413_query_timeout = 0s
host_lookup =
exim_user = root
exim_group = root
acl_smtp_rcpt = refuse
begin acl
refuse:
  deny
CONF
    start exim-smtps exim4 -C "$WORK/exim/exim.conf" -bdf
    wait_port exim-smtps 127.0.0.1 "$P"
    add exim-smtps "127.0.0.1:$P" 4 "$P" tcp 'smtps|ssl/smtp' 'exim' "$(re "$(upstream exim4-daemon-light)")" y - 'Exim SMTPS (TLS on connect)'
fi

if [[ $IS_ROOT == 1 ]] && have vsftpd-ftps vsftpd vsftpd; then
    P=$(free_ports 1)
    mkdir -p vsftpd/empty vsftpd/anon
    cat >vsftpd/vsftpd.conf <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$P
background=NO
anonymous_enable=YES
anon_root=$WORK/vsftpd/anon
no_anon_password=YES
local_enable=NO
write_enable=NO
ssl_enable=YES
implicit_ssl=YES
allow_anon_ssl=YES
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
secure_chroot_dir=$WORK/vsftpd/empty
xferlog_enable=NO
vsftpd_log_file=$WORK/vsftpd/vsftpd.log
CONF
    start vsftpd-ftps vsftpd "$WORK/vsftpd/vsftpd.conf"
    wait_port vsftpd-ftps 127.0.0.1 "$P"
    add vsftpd-ftps "127.0.0.1:$P" 4 "$P" tcp 'ftps|ssl/ftp' 'vsftpd' "$(re "$(upstream vsftpd)")" y - 'vsftpd (implicit FTPS)'
fi

if have slapd-ldaps /usr/sbin/slapd slapd; then
    mkdir -p slapd-tls/db
    P=$(free_ports 1)
    cat >slapd-tls/slapd.conf <<CONF
include /etc/ldap/schema/core.schema
pidfile $WORK/slapd-tls/slapd.pid
argsfile $WORK/slapd-tls/slapd.args
TLSCertificateFile $WORK/cert.pem
TLSCertificateKeyFile $WORK/key.pem
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=portscope,dc=test"
rootdn "cn=admin,dc=portscope,dc=test"
directory $WORK/slapd-tls/db
CONF
    start slapd-ldaps /usr/sbin/slapd -h "ldaps://127.0.0.1:$P/" -f "$WORK/slapd-tls/slapd.conf" -d 0
    wait_port slapd-ldaps 127.0.0.1 "$P"
    add slapd-ldaps "127.0.0.1:$P" 4 "$P" tcp 'ldaps|ssl/ldap' 'openldap' - y - 'slapd on ldaps:// (TLS from the first byte)'
fi

P=$(free_ports 1)
start memcached-tls memcached -l 127.0.0.1 -p "$P" -U 0 -Z -o "ssl_chain_cert=$WORK/cert.pem,ssl_key=$WORK/key.pem" "${mc_user[@]}"
wait_port memcached-tls 127.0.0.1 "$P"
add memcached-tls "127.0.0.1:$P" 4 "$P" tcp 'memcache' 'memcache' "$MCV" y - 'memcached -Z (TLS on every connection)'

P=$(free_ports 1)
nginx_on nginx-tls "$P" ssl
add nginx-tls "127.0.0.1:$P" 4 "$P" tcp 'https|ssl/http' 'nginx' "$(re "$(upstream nginx)")" y - 'nginx with TLS on a run-time port (plain HTTP gets 400)'

if have apache-tls apache2 apache2; then
    P=$(free_ports 1)
    mkdir -p apache/www && echo hello >apache/www/index.html
    apache_user=""; [[ $IS_ROOT == 1 ]] && apache_user=$'User www-data\nGroup www-data'
    {
        printf 'ServerRoot %s/apache\nPidFile %s/apache/httpd.pid\nErrorLog %s/apache/error.log\n' "$WORK" "$WORK" "$WORK"
        printf 'Listen 127.0.0.1:%s\nServerName localhost\n%s\nDocumentRoot %s/apache/www\n' "$P" "$apache_user" "$WORK"
        printf 'SSLEngine on\nSSLCertificateFile %s/cert.pem\nSSLCertificateKeyFile %s/key.pem\nSSLSessionCache none\n' "$WORK" "$WORK"
        printf '<Directory %s/apache/www>\n  Require all granted\n</Directory>\n' "$WORK"
        for m in mpm_event authz_core dir socache_shmcb ssl; do
            printf 'LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' "$m" "$m"
        done
    } >apache/httpd.conf
    start apache-tls apache2 -f "$WORK/apache/httpd.conf" -DFOREGROUND
    wait_port apache-tls 127.0.0.1 "$P"
    add apache-tls "127.0.0.1:$P" 4 "$P" tcp 'https|ssl/http' 'apache' "$(re "$(upstream apache2)")" y - 'Apache httpd with mod_ssl (plain HTTP gets 400)'
fi
