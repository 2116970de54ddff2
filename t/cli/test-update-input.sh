#!/bin/sh
# update --stdin refuses input it would misread: a NUL byte (which used
# to cut a line before its old id, dropping the compare-and-swap) and
# CRLF line endings; and update warns when a reflog message is cut.
. "$(dirname "$0")/lib.sh"

A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
C=3333333333333333333333333333333333333333
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
S=$TMP/s

"$REFTABLE" init "$S" >/dev/null 2>&1
"$REFTABLE" -C "$S" update --no-compact refs/heads/main "$A" >/dev/null 2>&1

# main_is NAME ID: refs/heads/main is still at ID.
main_is() {
	if [ "$("$REFTABLE" -C "$S" show refs/heads/main 2>&1)" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "refs/heads/main is at $("$REFTABLE" -C "$S" show refs/heads/main 2>&1)"
	fi
}

# --- NUL bytes --------------------------------------------------------------
printf 'update refs/heads/main %s\000%s\n' "$B" "$C" >"$TMP/nul-update.txt"
run_in "$TMP/nul-update.txt" -C "$S" update --stdin --no-compact
expect_fail "update with a NUL before a wrong old id is refused" 1 \
	"<stdin>:1: NUL byte"
main_is "a NUL in update changes nothing" "$A"

printf 'start\ndelete refs/heads/main\000%s\n' "$C" \
	>"$TMP/nul-delete.txt"
run_in "$TMP/nul-delete.txt" -C "$S" update --stdin --no-compact
expect_fail "delete with a NUL before a wrong old id is refused" 1 \
	"<stdin>:2: NUL byte"
main_is "a NUL in delete changes nothing" "$A"

# --- CRLF -------------------------------------------------------------------
printf 'update refs/heads/main %s %s\r\n' "$B" "$A" >"$TMP/crlf.txt"
run_in "$TMP/crlf.txt" -C "$S" update --stdin --no-compact
expect_fail "CRLF input is named as such" 1 "<stdin>:1: .*CRLF line endings"
main_is "CRLF input changes nothing" "$A"

printf 'update refs/heads/main %s %s\n' "$B" "$A" >"$TMP/lf.txt"
run_in "$TMP/lf.txt" -C "$S" update --stdin --no-compact
expect_rc "the same line with LF is applied" 0
main_is "LF input is applied" "$B"
# --- reflog messages cut to half a block -----------------------------------
long=$(awk 'BEGIN { while (n++ < 3000) printf "x" }')
run -C "$S" update --no-compact -m "$long" refs/heads/main "$C"
expect_fail "a message over half a block warns" 0 \
	"warning: the reflog message is 3000 bytes; only the first 2048"
"$REFTABLE" dump --records "$S" >"$TMP/records.txt"
kept=$(awk '/^log refs\/heads\/main / { print length($NF); exit }' \
	"$TMP/records.txt")
if [ "$kept" = 2050 ]; then # 2048 bytes, then the escaped newline
	ok "the stored message is the first 2048 bytes"
else
	not_ok "the stored message is the first 2048 bytes" "length $kept"
fi
# Whitespace runs count as one space, as the library stores them.
spaced=$(awk 'BEGIN { printf "a"; while (n++ < 3000) printf " "; printf "b" }')
for m in "$(awk 'BEGIN { while (n++ < 2048) printf "y" }')" "$spaced"; do
	run -C "$S" update --no-compact -m "$m" refs/heads/main "$A"
	if [ "$rc" -eq 0 ] && [ ! -s "$ERR" ]; then
		ok "a message that fits (${#m} bytes given) gives no warning"
	else
		not_ok "a message that fits (${#m} bytes given) gives no warning"
	fi
done
run -C "$S" update --no-compact --no-reflog -m "$long" refs/heads/main "$B"
if [ "$rc" -eq 0 ] && [ ! -s "$ERR" ]; then
	ok "no warning with --no-reflog"
else
	not_ok "no warning with --no-reflog"
fi
finish
