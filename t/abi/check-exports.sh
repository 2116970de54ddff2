#!/bin/sh
# The shared library exports exactly the functions that the public headers
# declare, each marked REFTABLE_API and under a version node of the map,
# and nothing else: an internal (buf_add, list_read...) in the dynamic symbol
# table would bind to an embedding program's function of the same name.
# Usage: check-exports.sh LIBRARY MAP HEADER...
set -e
lib=$1
map=$2
shift 2
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sh "$here/public-names.sh" "$@" > "$tmp/declared"
# Version nodes: the map's "NAME {" lines; nm lists them as absolute symbols.
sed -n 's/^\(REFTABLE_[0-9.]*\) *{.*/\1/p' "$map" | sort > "$tmp/nodes"
nm -D --defined-only "$lib" | awk '{ print $3 }' > "$tmp/dynsyms"
grep -vxFf "$tmp/nodes" "$tmp/dynsyms" > "$tmp/exported" || true

bad=0
unmarked=$(sh "$here/unmarked.sh" "$@")
if [ -n "$unmarked" ]; then
	echo "declared in a public header without REFTABLE_API (hidden):"
	echo "$unmarked" | sed 's/^/  /'
	bad=1
fi
# Each export carries a node of the map (name@@REFTABLE_x.y).
unversioned=$(grep -v '@@REFTABLE_[0-9.]*$' "$tmp/exported" || true)
if [ -n "$unversioned" ]; then
	echo "exported without a version node:"; echo "$unversioned" | sed 's/^/  /'
	bad=1
fi
sed 's/@.*//' "$tmp/exported" | sort > "$tmp/names"
extra=$(comm -23 "$tmp/names" "$tmp/declared")
missing=$(comm -13 "$tmp/names" "$tmp/declared")
if [ -n "$extra" ]; then
	echo "exported but not declared REFTABLE_API in a public header:"
	echo "$extra" | sed 's/^/  /'
	bad=1
fi
if [ -n "$missing" ]; then
	echo "declared REFTABLE_API but not exported (add to $map under a new node):"
	echo "$missing" | sed 's/^/  /'
	bad=1
fi
[ "$bad" = 0 ] || { echo "export-check: FAILED ($lib)"; exit 1; }
echo "ok: $lib exports the $(wc -l < "$tmp/names") public functions, versioned ($(tr '\n' ' ' < "$tmp/nodes" | sed 's/ $//'))"
