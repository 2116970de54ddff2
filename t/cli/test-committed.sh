#!/bin/sh
# A failure after the publishing rename (here the directory fsync, failed
# by a preloaded shim) leaves the update visible: the tool must say it is
# committed and must never say "nothing was changed", so that nobody
# applies it twice.
. "$(dirname "$0")/lib.sh"

A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE

if [ -z "$REFTABLE_FAIL_SHIM" ] || [ ! -f "$REFTABLE_FAIL_SHIM" ]; then
	echo "# skipped: no fsync shim (REFTABLE_FAIL_SHIM; make cli-test builds it)"
	exit 0
fi

S=$TMP/s
run init "$S"
run -C "$S" update --no-compact refs/heads/main "$A"
expect_rc "a first update" 0

# The sanitizer runtime wants to be first; the shim only forwards fsync.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# The second directory fsync: the one after the list is published.
REFTABLE_TEST_FAIL_DIR_FSYNC=2
LD_PRELOAD=$REFTABLE_FAIL_SHIM
export ASAN_OPTIONS REFTABLE_TEST_FAIL_DIR_FSYNC LD_PRELOAD
run -C "$S" update --no-compact refs/heads/main "$B" "$A"
unset REFTABLE_TEST_FAIL_DIR_FSYNC LD_PRELOAD
expect_fail "a failed directory fsync after the publish says committed" \
	2 "committed, but"
if grep -q "nothing was changed" "$ERR"; then
	not_ok "a committed update never says nothing was changed"
else
	ok "a committed update never says nothing was changed"
fi
run -C "$S" show refs/heads/main
echo "$B" >"$TMP/want.txt"
expect_output "the committed update is visible" "$TMP/want.txt"

# Retrying it, as a caller told "failed" would, is refused by its own
# compare-and-swap: the old value is gone.
run -C "$S" update --no-compact refs/heads/main "$B" "$A"
expect_fail "a retry of the committed update fails its check" 3 ""

finish
