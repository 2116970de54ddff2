#!/bin/sh
# Build contrib/examples/refs-example.c as an embedder would, against a
# library installed with `make install PREFIX=...` and found through that
# prefix's pkg-config file only, linked shared and static; run both and
# read the stack each wrote back with the installed tool.
# Usage: example-test.sh PREFIX WORKDIR
# EXAMPLE_CFLAGS and EXAMPLE_LDFLAGS (the build's warnings and sanitizer
# flags) are added to what pkg-config gives.
set -e
prefix=$1
work=$2
src=contrib/examples/refs-example.c
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset PKG_CONFIG_LIBDIR

fail() { echo "example-test: $*" >&2; exit 1; }

cflags=$(pkg-config --cflags reftable) || fail "no reftable.pc under $prefix"
libdir=$(pkg-config --variable=libdir reftable)
[ "$libdir" = "$prefix/lib" ] || fail "libdir $libdir is not under $prefix"
# The shared build links -lreftable and finds the library through rpath;
# the static build names the archive and takes Libs.private from --static.
shared_libs="$(pkg-config --libs reftable) -Wl,-rpath,$libdir"
static_libs=$(pkg-config --static --libs reftable |
	sed 's/-lreftable/-l:libreftable.a/')

run_one() { # KIND LIBS
	bin=$work/refs-example-$1
	# shellcheck disable=SC2086
	${CC:-cc} $EXAMPLE_CFLAGS $cflags -o "$bin" $src $EXAMPLE_LDFLAGS $2
	needs=$(readelf -d "$bin" | grep -c 'NEEDED.*libreftable' || true)
	case $1 in
	shared) [ "$needs" = 1 ] || fail "$bin does not load libreftable.so"
		# Its references carry the library's version node.
		objdump -T "$bin" | grep -q '(REFTABLE_1\.0) *reftable_refdb_open$' ||
			fail "$bin: reftable_refdb_open is not versioned" ;;
	static) [ "$needs" = 0 ] || fail "$bin loads libreftable.so" ;;
	esac
	rm -rf "$work/stack-$1"
	"$bin" "$work/stack-$1" > "$work/out-$1" ||
		fail "$1 build: refs-example failed (output in $work/out-$1)"
	# The tool, installed beside the library, reads what it wrote.
	main=$("$prefix/bin/reftable" -C "$work/stack-$1" list |
		awk '$NF == "refs/heads/main" { print $1 }')
	want=$(awk '$2 == "refs/heads/main" { print $3 }' "$work/out-$1")
	[ -n "$main" ] && [ "$main" = "$want" ] ||
		fail "$1 build: the tool reads main as '$main', the example '$want'"
	"$prefix/bin/reftable" -C "$work/stack-$1" verify > /dev/null ||
		fail "$1 build: reftable verify fails on the example's stack"
	echo "ok: $1 build of refs-example ($(grep -c '^log ' "$work/out-$1") reflog entries, stale CAS refused)"
}

echo "== contrib/examples against $prefix (pkg-config)"
run_one shared "$shared_libs"
run_one static "$static_libs"
