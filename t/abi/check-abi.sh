#!/bin/sh
# Compare the shared library's ABI (abidw of its DWARF, the types of the
# public headers only) with the committed baseline of the current release.
#   check-abi.sh check BASELINE LIBRARY HEADER...   fail on an incompatible
#                                                    change
#   check-abi.sh write BASELINE LIBRARY HEADER...   (re)write the baseline
# An incompatible change (a changed public struct or signature, a removed
# function) fails until it is made deliberate: either the soname's major
# is bumped (then the check passes and says the baseline is the old
# release's) or the baseline is rewritten (make abi-baseline). Added
# functions are compatible and pass. Skips where abigail-tools is missing.
set -e
mode=$1
baseline=$2
lib=$3
shift 3
if ! command -v abidiff > /dev/null || ! command -v abidw > /dev/null; then
	echo "== abi-check: skipped, abidw/abidiff not found (Debian abigail-tools; sh ci/install-deps.sh)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Types are public when a public header defines them; the internals that
# opaque handles point to are then left out of the comparison.
mkdir "$tmp/include"
cp "$@" "$tmp/include/"
dump() {
	abidw --no-corpus-path --no-show-locs --no-comp-dir-path \
		--headers-dir "$tmp/include" --drop-private-types \
		--out-file "$2" "$1"
}

if [ "$mode" = write ]; then
	dump "$lib" "$baseline"
	echo "wrote $baseline ($(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$baseline" | head -1))"
	exit 0
fi

echo "== abi-check: $lib against $baseline"
dump "$lib" "$tmp/current.abi"
old_soname=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$baseline" | head -1)
new_soname=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$tmp/current.abi" | head -1)
rc=0
abidiff --no-show-locs "$baseline" "$tmp/current.abi" > "$tmp/report" || rc=$?
if [ "$old_soname" != "$new_soname" ]; then
	echo "soname $old_soname -> $new_soname: incompatible changes are allowed;"
	echo "record the new release's ABI with: make abi-baseline"
	exit 0
fi
# abidiff's status is a bit mask: 1 error, 2 usage, 4 some change,
# 8 a change known to be incompatible.
if [ $((rc & 3)) != 0 ]; then
	cat "$tmp/report"; echo "abi-check: abidiff failed (status $rc)"; exit 1
fi
if [ "$rc" = 0 ]; then
	echo "ok: the ABI of $new_soname is the baseline's"
	exit 0
fi
# A change (status 4) that only adds functions or variables is compatible.
only_added=$(awk '
	/changes summary:/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(Removed|Changed)/ && $(i - 1) + 0 > 0) bad = 1
	}
	END { print bad ? "no" : "yes" }' "$tmp/report")
if [ "$rc" = 4 ] && [ "$only_added" = yes ]; then
	sed 's/^/  /' "$tmp/report"
	echo "ok: compatible additions only (give them a new version node)"
	exit 0
fi
sed 's/^/  /' "$tmp/report"
echo "abi-check: FAILED: an incompatible change to the ABI of $new_soname."
echo "Undo it, or make it deliberate: bump SOVERSION (README, \"Library ABI\")"
echo "or, for a change you have shown to be compatible, run make abi-baseline."
exit 1
