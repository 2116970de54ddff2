#!/bin/sh
# Install what building and testing need on a Debian machine, if missing.
# zlib is the library's only runtime dependency; Check runs the unit tests;
# libgit2 is used only by contrib/ and the tests; libfuse3 and fuse3 only
# by t/fs (a FUSE filesystem the tests mount; they skip where it cannot);
# abigail-tools (abidw, abidiff) by the ABI check of make test;
# python3 by t/interop's differential tester (which skips without it);
# xz-utils and perl: make git-suite unpacks Git's source and runs Git's
# test scripts (some of them use perl).
# spin checks the protocol model (Documentation/model, make model-test).
# mingw-w64, libz-mingw-w64-dev and wine (wine64) cross-compile the
# library, the tool and the tests for Windows and run them under Wine
# (make windows, make test-windows; Documentation/windows.md); --no-windows
# leaves them out (make test-windows then skips, saying so).
# With --fuzz, also clang and its runtime libraries (libFuzzer, on Debian
# 12 in libclang-rt-14-dev), which only `make fuzz` needs: make test
# replays the fuzz corpora with the normal compiler.
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
pkgs="build-essential pkg-config zlib1g-dev check libgit2-dev libfuse3-dev fuse3 abigail-tools python3 xz-utils perl spin"
windows="mingw-w64 libz-mingw-w64-dev wine wine64"
for a in "$@"; do
	case $a in
	--fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
	--no-windows) windows="" ;;
	--windows) ;; # the default; kept for the documentation's command
	esac
done
pkgs="$pkgs $windows"
for p in $pkgs; do
	have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
