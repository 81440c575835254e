#!/usr/bin/env bash
# Installs the .deb given as the argument on this machine (root), checks what a user gets —
# the binary on PATH, `man portscope-who`, bash completing `portscope k<TAB>` to `kill`, the
# systemd units installed but not enabled — then removes it and checks nothing is left.
# Used by .ci/run; refuses to replace a portscope package that was installed already.
set -euo pipefail
deb=${1:?usage: check-deb.sh PACKAGE.deb}
fail() { echo "check-deb: $*" >&2; exit 1; }

if dpkg-query -W -f '${Status}' portscope 2>/dev/null | grep -q 'install ok installed'; then
  fail "a portscope package is already installed here; not touching it"
fi
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Installed-Size\):/&/p'
# --path-include: minimal images exclude /usr/share/man; the check is about what we ship.
dpkg --path-include='/usr/share/man/*' -i "$deb" >/dev/null
trap 'dpkg -r portscope >/dev/null 2>&1 || true' EXIT

[ "$(command -v portscope)" = /usr/bin/portscope ] || fail "portscope is not /usr/bin/portscope"
portscope --version
page=$(man -w portscope-who) || fail "man -w portscope-who found nothing"
echo "man page: $page"
man -w portscope >/dev/null || fail "man -w portscope found nothing"

completion=/usr/share/bash-completion/completions/portscope
[ -f "$completion" ] || fail "no bash completion at $completion"
got=$(bash -c '
  source "$1"
  complete -p portscope >/dev/null || exit 1
  COMP_WORDS=(portscope k); COMP_CWORD=1; COMP_LINE="portscope k"; COMP_POINT=${#COMP_LINE}
  fn=$(complete -p portscope | sed -n "s/.*-F \([^ ]*\).*/\1/p")
  "$fn" portscope k portscope
  echo "${COMPREPLY[*]}"' _ "$completion") || fail "the bash completion did not load"
[ "$got" = kill ] || fail "bash completes 'portscope k' to '$got', not 'kill'"
echo "bash: portscope k<TAB> -> $got"
for f in /usr/share/zsh/vendor-completions/_portscope /usr/share/fish/vendor_completions.d/portscope.fish \
  /lib/systemd/system/portscope-daemon.service /lib/systemd/system/portscope-exporter.service \
  /usr/share/doc/portscope/copyright /usr/share/doc/portscope/LICENSE-APACHE \
  /usr/share/doc/portscope/LICENSE-iana-ports /usr/share/doc/portscope/examples/nagios/portscope.cfg; do
  [ -f "$f" ] || fail "missing $f"
done
grep -q '^ExecStart=/usr/bin/portscope ' /lib/systemd/system/portscope-daemon.service ||
  fail "the packaged daemon unit does not run /usr/bin/portscope"
[ ! -e /etc/systemd/system/multi-user.target.wants/portscope-daemon.service ] ||
  fail "the daemon unit was enabled by the package"

dpkg -r portscope >/dev/null
trap - EXIT
[ ! -e /usr/bin/portscope ] || fail "/usr/bin/portscope is still there after dpkg -r"
! man -w portscope-who >/dev/null 2>&1 || fail "portscope-who(1) is still there after dpkg -r"
left=$(dpkg -L portscope 2>/dev/null | grep -v '^/\.$' || true)
echo "removed cleanly${left:+ (dpkg still lists: $left)}"
