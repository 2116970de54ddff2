#!/bin/sh
# Run every t/cli/test-*.sh against the tool named by $REFTABLE and sum
# their results. Each script prints "ok - NAME" or "not ok - NAME" per
# check; a script that exits non-zero without a failed check counts as
# one failure (it died early).
#
# Usage: REFTABLE=path/to/reftable sh t/cli/run-all.sh [test-NAME.sh...]

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$REFTABLE" ] || [ ! -x "$REFTABLE" ]; then
	echo "run-all.sh: set REFTABLE to the tool's path" >&2
	exit 1
fi
case $REFTABLE in
/*) ;;
*) REFTABLE=$(pwd)/$REFTABLE ;;
esac
export REFTABLE

out=$(mktemp "${TMPDIR:-/tmp}/reftable-cli-run.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

passed=0
failed=0
if [ $# -gt 0 ]; then
	scripts=$*
else
	scripts=$(ls "$here"/test-*.sh)
fi
for t in $scripts; do
	case $t in
	/*) ;;
	*) [ -f "$t" ] || t=$here/$t ;;
	esac
	echo "== $(basename "$t")"
	sh "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $(basename "$t") exited with $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
