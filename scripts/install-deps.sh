#!/bin/sh
# Installs the Debian 12 packages iotdns needs to build and test, and only
# those that are missing. Run as root (make demo / make test call it).
# Usage: scripts/install-deps.sh [--fuzz]
set -eu

PKGS="gcc libc6-dev make pkg-config meson ninja-build python3 perl
libpcap-dev libldns-dev libmaxminddb-dev libsqlite3-dev
libmaxmind-db-writer-perl tshark
libpsl-dev publicsuffix ieee-data libssl-dev"
[ "${1:-}" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "iotdns: installing missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "iotdns: not root; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
