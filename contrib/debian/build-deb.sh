#!/usr/bin/env bash
# Builds target/debian/portscope_<version>-1_<arch>.deb with cargo-deb (`cargo install
# cargo-deb`): the release binary; the man pages (portscope(1), portscope-who(1), …) and the
# bash, zsh and fish completions, which the binary generates from its own command-line
# definition; the systemd units from contrib/, pointed at /usr/bin/portscope (installed, not
# enabled); the fleet configuration from contrib/ as examples; the licences and the README. Arguments are passed on to `cargo deb`.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v cargo-deb >/dev/null || {
  echo "build-deb.sh: needs cargo-deb (cargo install cargo-deb)" >&2
  exit 2
}

cargo build --release --locked
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/portscope"

# Generated assets live at a fixed place in the checkout (Cargo.toml's asset list names it),
# whatever CARGO_TARGET_DIR says.
assets=target/deb-assets
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions" "$assets/systemd" "$assets/examples"
"$bin" man --dir "$assets/man" >/dev/null
"$bin" completions bash >"$assets/completions/portscope.bash"
"$bin" completions zsh >"$assets/completions/_portscope"
"$bin" completions fish >"$assets/completions/portscope.fish"
# The packaged binary is /usr/bin/portscope; the files in contrib/ assume /usr/local/bin.
packaged() { sed 's|/usr/local/bin/portscope|/usr/bin/portscope|g' "$1" >"$2"; }
for unit in contrib/*.service; do
  packaged "$unit" "$assets/systemd/$(basename "$unit")"
done
# The fleet configuration (Nagios, Icinga 2, Zabbix, Prometheus, Grafana) as examples.
for dir in nagios icinga2 zabbix prometheus grafana; do
  mkdir -p "$assets/examples/$dir"
  for f in contrib/"$dir"/*; do packaged "$f" "$assets/examples/$dir/$(basename "$f")"; done
done

cargo deb --no-build "$@"
