#!/bin/sh
# Several reftable.exe processes on one stack under Wine, which enforces
# Windows' sharing rules: writers, a compactor and readers at once, and
# nothing lost. No process is killed: the loops stop when the writers
# are done.
#
# Usage: REFTABLE=CMD sh t/win/concurrency.sh [WRITERS [COMMITS]]
# (CMD runs reftable.exe, e.g. a wrapper calling wine.)
#
# Writers add refs (one transaction each, auto-compaction on), retrying
# only when the tool says a lock was held (exit 3): an I/O error there
# would be a sharing violation that got through. The compactor compacts
# the whole stack in a loop (a lock held is fine), the readers list the
# refs in a loop and must never fail. At the end every ref is there with
# its value, verify finds nothing wrong, and no lock or temporary file
# is left.

writers=${1:-3}
commits=${2:-12}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reftable-win-conc.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
S=$TMP/stack
failed=0

fail() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

oid() { # writer, commit: a distinct 40-hex id
	printf '%08x%032x\n' "$1" "$2"
}

$REFTABLE init "$S" >/dev/null || { echo "not ok - init"; exit 1; }

writer() {
	w=$1
	i=1
	while [ "$i" -le "$commits" ]; do
		$REFTABLE -C "$S" update -m "w$w $i" "refs/heads/w$w-$i" \
			"$(oid "$w" "$i")" >"$TMP/w$w.out" 2>"$TMP/w$w.err"
		rc=$?
		if [ "$rc" -eq 3 ]; then
			echo busy >>"$TMP/w$w.retries"
			continue
		fi
		if [ "$rc" -ne 0 ]; then
			echo "writer $w commit $i: exit $rc: $(cat "$TMP/w$w.err")" \
				>>"$TMP/errors"
		fi
		i=$((i + 1))
	done
}

compactor() {
	n=0
	while [ ! -f "$TMP/stop" ]; do
		$REFTABLE -C "$S" compact >/dev/null 2>"$TMP/c.err"
		rc=$?
		[ "$rc" -eq 0 ] && n=$((n + 1))
		[ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] &&
			echo "compactor: exit $rc: $(cat "$TMP/c.err")" >>"$TMP/errors"
	done
	echo "$n" >"$TMP/compactions"
}

reader() {
	r=$1
	n=0
	while [ ! -f "$TMP/stop" ]; do
		if ! $REFTABLE -C "$S" list >"$TMP/r$r.out" 2>"$TMP/r$r.err"; then
			echo "reader $r: $(cat "$TMP/r$r.err")" >>"$TMP/errors"
		fi
		n=$((n + 1))
	done
	echo "$n" >"$TMP/reads$r"
}

compactor &
cpid=$!
reader 1 &
r1=$!
reader 2 &
r2=$!
wpids=""
w=1
while [ "$w" -le "$writers" ]; do
	writer "$w" &
	wpids="$wpids $!"
	w=$((w + 1))
done
for p in $wpids; do
	wait "$p"
done
touch "$TMP/stop"
wait "$cpid" "$r1" "$r2"

if [ -s "$TMP/errors" ]; then
	fail "no process failed"
	sed 's/^/#   /' "$TMP/errors" | head -20
else
	echo "ok - no process failed ($writers writers, 1 compactor, 2 readers)"
fi

$REFTABLE -C "$S" list >"$TMP/final" 2>"$TMP/final.err" ||
	fail "final list: $(cat "$TMP/final.err")"
missing=0
w=1
while [ "$w" -le "$writers" ]; do
	i=1
	while [ "$i" -le "$commits" ]; do
		grep -q "^$(oid "$w" "$i") refs/heads/w$w-$i\$" \
			"$TMP/final" || missing=$((missing + 1))
		i=$((i + 1))
	done
	w=$((w + 1))
done
total=$((writers * commits))
if [ "$missing" -eq 0 ] && [ "$(wc -l <"$TMP/final")" -eq "$total" ]; then
	echo "ok - all $total refs there with their values"
else
	fail "all $total refs there ($missing missing; list has $(wc -l <"$TMP/final"))"
fi
if $REFTABLE verify "$S" >"$TMP/v.out" 2>&1; then
	echo "ok - verify finds nothing wrong"
else
	fail "verify: $(head -5 "$TMP/v.out")"
fi
left=$(ls "$S" | grep -E '\.lock$|\.tmp$|\.gone$' || true)
if [ -z "$left" ]; then
	echo "ok - no lock or temporary file left"
else
	fail "leftovers: $left"
fi
retries=$(cat "$TMP"/w*.retries 2>/dev/null | wc -l)
echo "# compactions $(cat "$TMP/compactions"), reads $(cat "$TMP/reads1") + $(cat "$TMP/reads2"), writer retries on a held lock $retries"
[ "$failed" -eq 0 ]
