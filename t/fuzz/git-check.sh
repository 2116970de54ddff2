#!/bin/sh
# A table our reader accepts, Git's reader accepts too, with the same
# records: for each table input of the fuzz corpora that `reftable dump
# --records` reads without error, git-reftable-records must read it and
# print the same lines. Skips (with a message) when Git's tool is absent.
#
# Usage: REFTABLE=build/bin/reftable sh t/fuzz/git-check.sh [DIR|FILE...]
# Without arguments: the committed table corpus and crashes, and what
# `make fuzz` added in build-fuzz/fuzz-corpus/table.
git_records=${GIT_RECORDS:-$(dirname "$0")/../../../shared/tools/git-reftable-records}
if [ ! -x "$git_records" ]; then
	echo "git-check.sh: skipped: $git_records not found"
	exit 0
fi
if [ $# -eq 0 ]; then
	set -- t/fuzz/corpus/table t/fuzz/crashes/table
	[ -d build-fuzz/fuzz-corpus/table ] &&
		set -- "$@" build-fuzz/fuzz-corpus/table
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checked=0 ours_refused=0 bad=0
for arg in "$@"; do
	[ -e "$arg" ] || continue
	for f in $(find "$arg" -type f | sort); do
		if ! "$REFTABLE" dump --records "$f" >"$tmp/ours" 2>/dev/null
		then
			ours_refused=$((ours_refused + 1))
			continue
		fi
		checked=$((checked + 1))
		if ! "$git_records" table "$f" >"$tmp/git" 2>"$tmp/err"; then
			echo "not ok - Git refuses what we read: $f ($(head -n 1 "$tmp/err"))"
			bad=$((bad + 1))
		elif ! cmp -s "$tmp/ours" "$tmp/git"; then
			echo "not ok - Git reads other records: $f"
			diff "$tmp/ours" "$tmp/git" | head -n 5
			bad=$((bad + 1))
		fi
	done
done
echo "git-check.sh: $checked tables read alike by Git, $bad differ;" \
	"$ours_refused refused by our reader (not compared)"
[ $bad -eq 0 ]
