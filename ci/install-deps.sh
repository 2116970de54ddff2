#!/bin/sh
# Install what building and testing need on a Debian machine, if missing.
# zlib is the library's only runtime dependency; Check runs the unit tests;
# libgit2 is used only by contrib/ and the tests; clang and its runtime
# libraries (libFuzzer, on Debian 12 in libclang-rt-14-dev) only by
# `make fuzz` (make test replays the fuzz corpora with the normal compiler).
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in build-essential pkg-config zlib1g-dev check libgit2-dev clang \
	 libclang-rt-14-dev; do
	have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
