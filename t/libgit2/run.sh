#!/bin/sh
# Import repositories made by libgit2 into reftable stacks and check that
# the stacks say what libgit2 says (t/libgit2/compare.c), that they pass
# "reftable verify", and that the importer refuses and replaces as
# documented.
#
# Environment: MKFIXTURE, IMPORT, COMPARE (the three programs), REFTABLE
# (the tool; verify is skipped if it is missing or has no verify
# command), LIBGIT2_BIG=1 to add the case of 100,000 refs and 5,000
# reflog entries.
#
# Prints "ok - NAME" or "not ok - NAME" per check; exits 1 if any failed.

for v in MKFIXTURE IMPORT COMPARE; do
	eval "p=\${$v:-}"
	if [ -z "$p" ] || [ ! -x "$p" ]; then
		echo "run.sh: set $v to the program's path" >&2
		exit 1
	fi
done
REFTABLE=${REFTABLE:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reftable-libgit2.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/.out
ERR=$TMP/.err
passed=0
failed=0

ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
	for f in "$OUT" "$ERR"; do
		[ -s "$f" ] && sed 's/^/#   | /' "$f" | head -30
	done
	failed=$((failed + 1))
}

# run CMD...: stdout in $OUT, stderr in $ERR, exit code in $rc.
run() {
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
}

# expect NAME CODE [PATTERN]: the last run exited with CODE, printed
# nothing from a sanitizer and, if given, PATTERN (grep -E) on stdout or
# stderr.
expect() {
	if [ "$rc" -ne "$2" ]; then
		not_ok "$1" "exit code $rc, expected $2"
	elif grep -q 'Sanitizer' "$ERR"; then
		not_ok "$1" "sanitizer report"
	elif [ $# -ge 3 ] && ! cat "$OUT" "$ERR" | grep -Eq -- "$3"; then
		not_ok "$1" "output does not match /$3/"
	else
		ok "$1"
	fi
}

have_verify() {
	[ -n "$REFTABLE" ] && [ -x "$REFTABLE" ] &&
		"$REFTABLE" verify --help >/dev/null 2>&1
}

verify_stack() {
	if have_verify; then
		run "$REFTABLE" verify "$2"
		expect "$1" 0
	else
		echo "ok - $1 # skip: no 'reftable verify' yet"
		passed=$((passed + 1))
	fi
}

# roundtrip NAME SEED REFS LOGS: build, import, compare, verify.
roundtrip() {
	name=$1
	repo=$TMP/$name
	stack=$TMP/$name.stack
	run "$MKFIXTURE" "$2" "$repo" --refs "$3" --reflog-entries "$4"
	expect "$name: mkfixture" 0
	if command -v git >/dev/null 2>&1; then
		# the one complaint allowed: the dangling symref, on purpose
		git -C "$repo" fsck --no-dangling 2>&1 |
			grep -v 'refs/remotes/upstream/HEAD: invalid sha1' >"$OUT"
		if [ -s "$OUT" ]; then
			not_ok "$name: git fsck accepts the fixture"
		else
			ok "$name: git fsck accepts the fixture"
		fi
	fi
	want=$3
	[ "$want" -lt 19 ] && want=19 # every fixture has 19 special refs
	run "$IMPORT" "$repo/.git" "$stack"
	expect "$name: import" 0 "^imported $want refs .* and $4 reflog entries"
	run "$COMPARE" "$repo" "$stack"
	expect "$name: the stack agrees with libgit2" 0 "^same: "
	verify_stack "$name: reftable verify" "$stack"
}

echo "# fixtures are deterministic"
run "$MKFIXTURE" 3 "$TMP/det-a" --refs 300 --reflog-entries 300
expect "mkfixture seed 3" 0
run "$MKFIXTURE" 3 "$TMP/det-b" --refs 300 --reflog-entries 300
expect "mkfixture seed 3 again" 0
if diff -r "$TMP/det-a" "$TMP/det-b" >"$OUT" 2>&1; then
	ok "the same seed gives the same repository, byte for byte"
else
	not_ok "the same seed gives the same repository, byte for byte"
fi
run "$MKFIXTURE" 4 "$TMP/det-c" --refs 300 --reflog-entries 300
if cmp -s "$TMP/det-a/.git/packed-refs" "$TMP/det-c/.git/packed-refs"; then
	not_ok "another seed gives other refs"
else
	ok "another seed gives other refs"
fi
run "$MKFIXTURE" 3 "$TMP/det-a"
expect "mkfixture refuses an existing directory" 2 "already exists"

echo "# round trips"
roundtrip few 1 0 60
roundtrip nologs 11 30 0
roundtrip medium 2 3000 2000
if [ "${LIBGIT2_BIG:-0}" = 1 ]; then
	roundtrip big 7 100000 5000
else
	echo "# (the 100,000-ref case runs with LIBGIT2_BIG=1)"
fi

echo "# the importer's counts"
run "$IMPORT" "$TMP/few/.git" "$TMP/few-again.stack"
expect "summary counts the special refs" 0 \
	"imported 19 refs \(4 symrefs, 5 tags peeled\) and 60 reflog entries of 8 reflogs"

echo "# refusing and replacing"
cp "$TMP/medium.stack/tables.list" "$TMP/list-before"
run "$IMPORT" "$TMP/few/.git" "$TMP/medium.stack"
expect "an existing stack is not overwritten without --force" 1 \
	"already holds a reftable stack"
if cmp -s "$TMP/list-before" "$TMP/medium.stack/tables.list"; then
	ok "the refused stack is unchanged"
else
	not_ok "the refused stack is unchanged"
fi
mkdir "$TMP/notastack" && echo x >"$TMP/notastack/file"
run "$IMPORT" --force "$TMP/few/.git" "$TMP/notastack"
expect "a non-empty directory that is not a stack is refused" 1 \
	"not empty"
run "$IMPORT" --force "$TMP/few/.git" "$TMP/medium.stack"
expect "--force replaces the stack's contents" 0 "replaced [0-9]+ refs"
run "$COMPARE" "$TMP/few" "$TMP/medium.stack"
expect "the replaced stack agrees with the new repository" 0 "^same: "
verify_stack "the replaced stack verifies" "$TMP/medium.stack"
n=$(grep -c . "$TMP/medium.stack/tables.list")
if [ "$n" -eq 1 ]; then
	ok "the replaced stack is compacted to one table"
else
	not_ok "the replaced stack is compacted to one table" "$n tables"
fi
run "$IMPORT" --nope "$TMP/few/.git" "$TMP/x"
expect "an unknown option is a usage error" 1 "usage"

echo "# the comparison sees differences"
cp -r "$TMP/few" "$TMP/changed"
other=$(grep -v '^[#^]' "$TMP/few/.git/packed-refs" | head -1 | cut -c1-40)
echo "$other" >"$TMP/changed/.git/refs/heads/main"
run "$COMPARE" "$TMP/changed" "$TMP/few.stack"
expect "a changed branch is named" 1 "DIFF refs/heads/main: value"
cp -r "$TMP/few" "$TMP/changed-log"
log="$TMP/changed-log/.git/logs/refs/heads/zweig-grün"
sed '$ s/ [-+][0-9]\{4\}\t/ +0100\t/' "$log" >"$log.new" && mv "$log.new" "$log"
run "$COMPARE" "$TMP/changed-log" "$TMP/few.stack"
expect "a changed reflog entry is named" 1 \
	"DIFF refs/heads/zweig-grün: log entry 0: zone"
rm "$TMP/changed-log/.git/logs/refs/heads/deleted/old-topic"
run "$COMPARE" "$TMP/changed-log" "$TMP/few.stack"
expect "an extra reflog in the stack is named" 1 \
	"DIFF refs/heads/deleted/old-topic: stack has"

echo "libgit2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
