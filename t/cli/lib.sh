# Helpers for the command-line tests; source it from a test-*.sh script.
#
# Each check prints "ok - NAME" or "not ok - NAME" (with the reason and
# the command's stderr indented below); run-all.sh counts those lines.
# Every script works in its own temporary directory $TMP, removed on exit.

if [ -z "$REFTABLE" ]; then
	echo "set REFTABLE to the tool's path" >&2
	exit 1
fi
TESTDIR=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$TESTDIR/../fixtures/git
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reftable-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# The sanitizer build reports leaks with its own exit code; keep stderr
# of each command for the report.
ERR=$TMP/.stderr
OUT=$TMP/.stdout
test_failed=0

# find_git [GIT]: print the path of a Git that can create a reftable
# repository: GIT if given ("none": no Git at all), else Git 2.55 of the
# shared tools beside the checkout, else a git on PATH; nothing if none
# can (Debian 12's 2.39 cannot).
find_git() {
	[ "$1" = none ] && return
	for g in "$1" "$TESTDIR/../../../shared/tools/git" git; do
		[ -n "$g" ] || continue
		if "$g" init -q --template= --ref-format=reftable \
			"$TMP/probe" >/dev/null 2>&1; then
			rm -rf "$TMP/probe"
			command -v "$g"
			return
		fi
		rm -rf "$TMP/probe"
	done
}

ok() {
	echo "ok - $1"
}

not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
	if [ -s "$ERR" ]; then
		sed 's/^/#   stderr: /' "$ERR" | head -20
	fi
	test_failed=$((test_failed + 1))
}

# run CMD...: run the tool with stdout in $OUT and stderr in $ERR; sets rc.
run() {
	"$REFTABLE" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

# run_in FILE CMD...: the same with stdin from FILE.
run_in() {
	_in=$1
	shift
	"$REFTABLE" "$@" <"$_in" >"$OUT" 2>"$ERR"
	rc=$?
}

# expect_rc NAME CODE: the last run exited with CODE.
expect_rc() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "exit code $rc, expected $2"
	fi
}

# expect_fail NAME CODE PATTERN: exit CODE and stderr matching PATTERN
# (a grep -E expression): every error must say what went wrong.
expect_fail() {
	if [ "$rc" -ne "$2" ]; then
		not_ok "$1" "exit code $rc, expected $2"
	elif ! grep -Eq -- "$3" "$ERR"; then
		not_ok "$1" "stderr does not match /$3/"
	elif grep -q 'Sanitizer' "$ERR"; then
		not_ok "$1" "sanitizer report"
	else
		ok "$1"
	fi
}

# expect_report NAME CODE PATTERN: like expect_fail, for commands whose
# findings are their output (verify): PATTERN must match stdout.
expect_report() {
	if [ "$rc" -ne "$2" ]; then
		not_ok "$1" "exit code $rc, expected $2" "$(head -5 "$OUT")"
	elif ! grep -Eq -- "$3" "$OUT"; then
		not_ok "$1" "stdout does not match /$3/" "$(head -5 "$OUT")"
	else
		ok "$1"
	fi
}

# expect_output NAME FILE: the last run succeeded and printed FILE.
expect_output() {
	if [ "$rc" -ne 0 ]; then
		not_ok "$1" "exit code $rc"
	elif ! cmp -s "$OUT" "$2"; then
		not_ok "$1" "output differs from $2:" \
			"$(diff "$2" "$OUT" | head -10)"
	else
		ok "$1"
	fi
}

# expect_same NAME A B: files A and B are byte for byte equal.
expect_same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(cmp "$2" "$3" 2>&1)"
	fi
}

# finish: exit non-zero if any check failed.
finish() {
	[ "$test_failed" -eq 0 ]
}
