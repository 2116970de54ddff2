#!/bin/sh
# Install what building and testing need on a Debian machine, if missing.
# zlib is the library's only runtime dependency; Check runs the unit tests;
# libgit2 is used only by contrib/ and the tests; libfuse3 and fuse3 only
# by t/fs (a FUSE filesystem the tests mount; they skip where it cannot);
# abigail-tools (abidw, abidiff) by the ABI check of make test;
# python3 by t/interop's differential tester (which skips without it).
# With --fuzz, also clang and its runtime libraries (libFuzzer, on Debian
# 12 in libclang-rt-14-dev), which only `make fuzz` needs: make test
# replays the fuzz corpora with the normal compiler.
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
pkgs="build-essential pkg-config zlib1g-dev check libgit2-dev libfuse3-dev fuse3 abigail-tools python3"
[ "$1" = --fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
for p in $pkgs; do
	have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
