#!/usr/bin/env bash
# Write every command's --help and -h (and `portscope --help`) of a portscope binary into DIR,
# one file per command, so two builds can be compared byte for byte:
#   contrib/dev/help-dump.sh OLD_BINARY /tmp/help-old
#   contrib/dev/help-dump.sh target/debug/portscope /tmp/help-new
#   diff -r /tmp/help-old /tmp/help-new && echo identical
# Subcommands are found by reading each "Commands:" section, so nested ones (check listen) are
# included. The width is pinned so the terminal does not change the wrapping.
set -euo pipefail
bin=${1:?usage: help-dump.sh BINARY DIR}
dir=${2:?usage: help-dump.sh BINARY DIR}
mkdir -p "$dir"
export COLUMNS=100 NO_COLOR=1 TERM=dumb
subcommands() {
    # Lines after "Commands:" up to the next blank line: "  name  description".
    "$bin" "$@" --help | awk '/^Commands:/{on=1; next} on && /^$/{on=0} on && /^  [a-z]/{print $1}' |
        grep -vx help || true
}
dump() {
    local name=${*:-portscope}
    name=${name// /-}
    "$bin" "$@" --help >"$dir/$name.long" 2>&1 || echo "exit $?" >>"$dir/$name.long"
    "$bin" "$@" -h >"$dir/$name.short" 2>&1 || echo "exit $?" >>"$dir/$name.short"
    local sub
    for sub in $(subcommands "$@"); do
        dump "$@" "$sub"
    done
}
dump
echo "$(ls "$dir" | wc -l) help texts in $dir"
