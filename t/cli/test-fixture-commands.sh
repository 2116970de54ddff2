#!/bin/sh
# list, show, log, verify and compact on a copy of every Git fixture
# stack must agree with what Git's own reader saw (expected-stack.txt).
. "$(dirname "$0")/lib.sh"

for fdir in "$FIXTURES"/*/; do
	fixture=$(basename "$fdir")
	s=$TMP/$fixture
	rm -rf "$s"
	cp -r "${fdir}reftable" "$s"
	expected=${fdir}expected-stack.txt

	grep '^ref ' "$expected" >"$TMP/refs.txt"
	run -C "$s" list --format='%(record)'
	expect_output "$fixture: list --format=%(record) is the merged refs" \
		"$TMP/refs.txt"

	# show: every symref and the first 40 other refs (a process each;
	# REFTABLE_TEST_SHOW_MAX lowers that where a process is slow to start,
	# as under Wine).
	{ grep ' symref ' "$TMP/refs.txt"; grep -v ' symref ' "$TMP/refs.txt" |
		head -"${REFTABLE_TEST_SHOW_MAX:-40}"; } >"$TMP/some.txt"
	bad=""
	while read -r _ name _ type val _; do
		want=$val
		# a symref shows the id of what it leads to (one level here)
		if [ "$type" = symref ]; then
			want=$(awk -v n="$val" '$2 == n { print $5 }' "$TMP/refs.txt")
		fi
		if [ -z "$want" ]; then
			# a symref to a missing ref (an unborn HEAD) is an error
			"$REFTABLE" -C "$s" show "$name" >/dev/null 2>"$ERR"
			[ $? -eq 1 ] && grep -q "does not exist" "$ERR" ||
				bad="$bad $name(dangling: not refused)"
			continue
		fi
		got=$("$REFTABLE" -C "$s" show "$name" 2>&1)
		[ "$got" = "$want" ] || bad="$bad $name($got!=$want)"
	done <"$TMP/some.txt"
	if [ -z "$bad" ]; then
		ok "$fixture: show resolves refs like Git"
	else
		not_ok "$fixture: show resolves refs like Git" "$bad"
	fi

	# log: each ref's reflog, newest first, equals Git's (for at most
	# 25 refs: a process and a grep each; dump covers all of them).
	# Git's "reflog exists" markers (two null ids) are not entries.
	zero=$(grep '^log ' "$expected" | head -1 | awk '{ print $5 }' | tr 0-9a-f 0)
	bad=""
	for name in $(grep '^log ' "$expected" | cut -d' ' -f2 | uniq | head -25); do
		grep "^log $name " "$expected" |
			grep -v " update $zero $zero " >"$TMP/want.txt"
		"$REFTABLE" -C "$s" log --format='%(record)' "$name" \
			>"$TMP/got.txt" 2>"$ERR" || bad="$bad $name(exit)"
		cmp -s "$TMP/got.txt" "$TMP/want.txt" || bad="$bad $name"
	done
	if [ -z "$bad" ]; then
		ok "$fixture: log of every ref equals Git's reflog"
	else
		not_ok "$fixture: log of every ref equals Git's reflog" "$bad"
	fi

	run -C "$s" verify
	expect_rc "$fixture: verify passes" 0

	# update: one new table holding exactly the new records
	last=$(tail -1 "$s/tables.list")
	u=$(( $("$REFTABLE" dump --records "$s/$last" | head -1 | cut -d' ' -f4) + 1 ))
	zero=$(grep '^ref .* val1 ' "$expected" | head -1 | awk '{ print $5 }' | tr 0-9a-f 0)
	id=$(echo "$zero" | tr 0 7)
	GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com \
		GIT_COMMITTER_DATE="1700000000 +0000" \
		"$REFTABLE" -C "$s" update --no-compact -m "cli test" \
		refs/heads/cli-test "$id" "$zero" >"$OUT" 2>"$ERR"
	rc=$?
	expect_rc "$fixture: update" 0
	newest=$(tail -1 "$s/tables.list")
	{
		printf '%s\n' "table $newest $u $u" \
			"ref refs/heads/cli-test $u val1 $id" \
			"log refs/heads/cli-test $u update $zero $id Tester <t@example.com> 1700000000 0 cli test\\n"
	} >"$TMP/want.txt"
	run dump --records "$s/$newest"
	expect_output "$fixture: update then dump --records shows the new records" \
		"$TMP/want.txt"
	grep -v '^table ' "$TMP/want.txt" >"$TMP/new.txt"
	{ cat "$expected" "$TMP/new.txt"; } | sort >"$TMP/want-stack.txt"
	"$REFTABLE" dump --records "$s" | sort >"$TMP/got-stack.txt"
	expect_same "$fixture: the merged view gained just those records" \
		"$TMP/got-stack.txt" "$TMP/want-stack.txt"
	expected=$TMP/merged-now.txt
	"$REFTABLE" dump --records "$s" >"$expected"

	run -C "$s" compact
	expect_rc "$fixture: compact" 0
	n=$(grep -c . "$s/tables.list")
	if [ "$n" -eq 1 ]; then
		ok "$fixture: compact leaves one table"
	else
		not_ok "$fixture: compact leaves one table" "$n tables"
	fi
	run dump --records "$s"
	expect_output "$fixture: compact keeps the merged view" "$expected"
	run -C "$s" verify
	expect_rc "$fixture: verify passes after compact" 0
done
finish
