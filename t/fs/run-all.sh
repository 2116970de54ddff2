#!/bin/sh
# The two-host reproducers of issue 20 (twohost.c says what each case
# does), run through two lyingfs mounts in each mode. Skips, saying why,
# where FUSE cannot mount.
#
# The caches are kept for TIMEOUT seconds, far longer than the run, so
# that every cached answer the cases rely on is still cached: nothing
# here depends on timing.
set -u
: "${LYINGFS:?}" "${TWOHOST:?}"
TIMEOUT=600

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/self-check.sh"

why=$(fs_unavailable)
if [ -n "$why" ]; then
	echo "== t/fs: skipped: FUSE cannot mount here ($why)"
	exit 0
fi

failed=0
run_case() { # MODE CASE
	root="$FS_TMP/$1"
	out=$(TWOHOST_MODE=$1 "$TWOHOST" "$2" "$root/back/$2" "$root/A/$2" "$root/B/$2" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/	/'
	if [ $rc = 0 ]; then
		echo "   ok $1 $2"
	else
		echo "   FAIL $1 $2 (exit $rc)"
		failed=1
	fi
}

for mode in cto nocto; do
	echo "== t/fs: two hosts, $mode mode, caches kept ${TIMEOUT}s"
	if ! fs_hosts $mode $TIMEOUT; then
		echo "   FAIL: cannot mount lyingfs in $mode mode"
		exit 1
	fi
	fs_self_check $mode
	for c in lost-update compacted-reader reload-estale-list \
		 reload-estale-table; do
		run_case $mode $c
	done
done
exit $failed
